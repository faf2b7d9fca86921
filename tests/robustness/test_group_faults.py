"""Consumer-group faults over the raw wire against a real `conveyor broker` process: members
that stop heartbeating, stale generations, unknown members, invalid session timeouts, the
v4+ member-id handshake, committed offsets that only move by accepted commits or an explicit
reset, and commits that survive `kill -9` of the broker (issue 3, "Faults and bad input")."""
from __future__ import annotations

import random
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kafka_wire  # noqa: E402
from broker_process import wait_for_topic  # noqa: E402
from group_wire import (ILLEGAL_GENERATION, INVALID_SESSION_TIMEOUT, MEMBER_ID_REQUIRED,  # noqa: E402
                        REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID, assignment, find_coordinator,
                        heartbeat, join_group, leave_group, offset_commit, offset_fetch,
                        sync_group)

SESSION_MS = 1000
GROUP_SETTINGS = {
    "group.min.session.timeout.ms": "500",
    "group.max.session.timeout.ms": "60000",
    "group.initial.rebalance.delay.ms": "0",
    "offsets.topic.num.partitions": "1",
    "auto.create.topics.enable": "true",
}


@pytest.fixture(scope="module")
def gbroker(broker_factory):
    b = broker_factory(GROUP_SETTINGS, name="groups")
    with kafka_wire.Connection.to(b.bootstrap) as c:
        assert kafka_wire.create_topics(c, [("t", 2)])["t"][0] == kafka_wire.NONE
        wait_for_topic(c, "t", 2)
    yield b


_n = 0


def new_group() -> str:
    global _n
    _n += 1
    return f"faults-{_n}-{time.time_ns() % 10**9}"


def conn(b) -> kafka_wire.Connection:
    """A connection to the group's coordinator (the single node answers for every group)."""
    c = kafka_wire.Connection.to(b.bootstrap, timeout=30)
    err, node, host, port = find_coordinator(c, "any")
    assert err == 0 and port == b.port, (err, node, host, port)
    return c


def join_two_step(c, group, **kw):
    """KIP-394: an empty member id gets MEMBER_ID_REQUIRED and an id, then joins with it."""
    first = join_group(c, group, "", **kw)
    assert first.error == MEMBER_ID_REQUIRED, first
    assert first.member_id, "MEMBER_ID_REQUIRED carries the member id to use"
    second = join_group(c, group, first.member_id, **kw)
    assert second.error == 0, second
    assert second.member_id == first.member_id
    return second


def leader_sync(c, group, joined, plan: dict[str, dict[str, list[int]]]):
    err, mine = sync_group(c, group, joined.generation, joined.member_id,
                           {m: assignment(p) for m, p in plan.items()})
    assert err == 0, err
    return mine


def sync_both(group, a, ja, b, jb, plan):
    """SyncGroup for both members of one generation: the follower's call waits in a thread
    until the leader's (in this thread) hands the broker the assignment."""
    (lc, lj), (fc, fj) = ((a, ja), (b, jb)) if ja.leader == ja.member_id else ((b, jb), (a, ja))
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("f", sync_group(fc, group, fj.generation, fj.member_id)))
    t.start()
    leader_sync(lc, group, lj, plan)
    t.join(15)
    assert out["f"][0] == 0, out
    return out["f"][1]


def rebalance_in_b(group, a, ja, b):
    """B joins a group where A is the only member: A sees REBALANCE_IN_PROGRESS on its
    heartbeat and rejoins; returns both join results of the new generation."""
    result = {}
    tb = threading.Thread(target=lambda: result.setdefault("b", join_two_step(b, group, session_timeout_ms=SESSION_MS)))
    tb.start()
    deadline = time.monotonic() + 10
    while heartbeat(a, group, ja.generation, ja.member_id) != REBALANCE_IN_PROGRESS:
        assert time.monotonic() < deadline, "A never saw REBALANCE_IN_PROGRESS"
        time.sleep(0.05)
    ja2 = join_group(a, group, ja.member_id, session_timeout_ms=SESSION_MS)
    tb.join(15)
    jb = result["b"]
    assert ja2.error == 0 and jb.generation == ja2.generation == ja.generation + 1, (ja2, jb)
    return ja2, jb


def test_member_id_required_then_join_and_sync(gbroker):
    group = new_group()
    with conn(gbroker) as c:
        j = join_two_step(c, group, session_timeout_ms=SESSION_MS)
        assert j.generation == 1 and j.leader == j.member_id and j.protocol == "range"
        assert [m for m, _ in j.members] == [j.member_id]
        mine = leader_sync(c, group, j, {j.member_id: {"t": [0, 1]}})
        assert mine == {"t": [0, 1]}
        assert heartbeat(c, group, j.generation, j.member_id) == 0


def test_invalid_session_timeout(gbroker):
    group = new_group()
    with conn(gbroker) as c:
        for bad in (100, 499, 60001, 10**9):
            res = join_group(c, group, "", session_timeout_ms=bad)
            assert res.error == INVALID_SESSION_TIMEOUT, (bad, res)
        # The bounds themselves are valid.
        assert join_group(c, group, "", session_timeout_ms=500).error == MEMBER_ID_REQUIRED


def test_unknown_member_id_everywhere(gbroker):
    group = new_group()
    with conn(gbroker) as c:
        j = join_two_step(c, group, session_timeout_ms=SESSION_MS)
        leader_sync(c, group, j, {j.member_id: {"t": [0, 1]}})
        assert heartbeat(c, group, j.generation, "nobody") == UNKNOWN_MEMBER_ID
        assert sync_group(c, group, j.generation, "nobody")[0] == UNKNOWN_MEMBER_ID
        res = offset_commit(c, group, j.generation, "nobody", {("t", 0): 7})
        assert res == {("t", 0): UNKNOWN_MEMBER_ID}
        assert offset_fetch(c, group, [("t", 0)]) == {("t", 0): -1}  # nothing changed
        assert join_group(c, group, "nobody", session_timeout_ms=SESSION_MS).error == UNKNOWN_MEMBER_ID
        assert leave_group(c, group, j.member_id) == 0
        assert heartbeat(c, group, j.generation, j.member_id) == UNKNOWN_MEMBER_ID


def test_stale_generation_commit_changes_nothing(gbroker):
    group = new_group()
    with conn(gbroker) as a, conn(gbroker) as b:
        ja = join_two_step(a, group, session_timeout_ms=SESSION_MS)
        leader_sync(a, group, ja, {ja.member_id: {"t": [0, 1]}})
        assert offset_commit(a, group, ja.generation, ja.member_id, {("t", 0): 5}) == {("t", 0): 0}

        # B joins: the group rebalances to generation 2 once A rejoins.
        ja2, jb = rebalance_in_b(group, a, ja, b)

        # A commits with the old generation: ILLEGAL_GENERATION, and the offset stays 5.
        assert offset_commit(a, group, ja.generation, ja.member_id, {("t", 0): 9}) == {("t", 0): ILLEGAL_GENERATION}
        assert offset_fetch(a, group, [("t", 0)]) == {("t", 0): 5}
        # A heartbeat with the old generation is refused the same way.
        assert heartbeat(a, group, ja.generation, ja.member_id) == ILLEGAL_GENERATION

        # After the sync, the current generation's commit is accepted.
        sync_both(group, a, ja2, b, jb, {ja2.member_id: {"t": [0]}, jb.member_id: {"t": [1]}})
        assert offset_commit(a, group, ja2.generation, ja2.member_id, {("t", 0): 11}) == {("t", 0): 0}
        assert offset_fetch(a, group, [("t", 0)]) == {("t", 0): 11}


def test_member_that_stops_heartbeating_is_removed(gbroker):
    group = new_group()
    with conn(gbroker) as a, conn(gbroker) as b:
        ja = join_two_step(a, group, session_timeout_ms=SESSION_MS)
        leader_sync(a, group, ja, {ja.member_id: {"t": [0, 1]}})
        ja2, jb = rebalance_in_b(group, a, ja, b)
        sync_both(group, a, ja2, b, jb, {ja2.member_id: {"t": [0]}, jb.member_id: {"t": [1]}})

        # A goes silent; B keeps heartbeating and is told to rebalance once A's session ends.
        silent_since = time.monotonic()
        while True:
            err = heartbeat(b, group, jb.generation, jb.member_id)
            if err == REBALANCE_IN_PROGRESS:
                break
            assert err == 0, err
            assert time.monotonic() - silent_since < 10 * SESSION_MS / 1000, "A was never removed"
            time.sleep(0.1)
        elapsed = time.monotonic() - silent_since
        assert elapsed >= SESSION_MS / 1000 * 0.8, f"removed after {elapsed:.2f}s, before session.timeout.ms"
        jb3 = join_group(b, group, jb.member_id, session_timeout_ms=SESSION_MS)
        assert jb3.error == 0 and jb3.leader == jb.member_id
        assert [m for m, _ in jb3.members] == [jb.member_id], "A is gone from the group"
        assert leader_sync(b, group, jb3, {jb.member_id: {"t": [0, 1]}}) == {"t": [0, 1]}
        assert heartbeat(a, group, ja2.generation, ja2.member_id) == UNKNOWN_MEMBER_ID


def test_offsets_move_only_by_accepted_commits_or_a_reset(gbroker):
    """Refused commits (stale generation, unknown member, a member's commit after it left)
    never move a committed offset; an explicit reset (admin commit into the empty group, what
    `conveyor group reset-offsets` sends) moves it, backwards too."""
    import conveyor

    group = new_group()
    with conn(gbroker) as c:
        j = join_two_step(c, group, session_timeout_ms=SESSION_MS)
        leader_sync(c, group, j, {j.member_id: {"t": [0, 1]}})
        history = []
        for off in (3, 8, 20):
            assert offset_commit(c, group, j.generation, j.member_id, {("t", 0): off}) == {("t", 0): 0}
            history.append(offset_fetch(c, group, [("t", 0)])[("t", 0)])
        assert history == [3, 8, 20]
        for gen, member in ((j.generation - 1, j.member_id), (j.generation + 5, j.member_id),
                            (j.generation, "stranger")):
            assert offset_commit(c, group, gen, member, {("t", 0): 1}) != {("t", 0): 0}
            assert offset_fetch(c, group, [("t", 0)]) == {("t", 0): 20}
        assert leave_group(c, group, j.member_id) == 0
        assert offset_commit(c, group, j.generation, j.member_id, {("t", 0): 2}) != {("t", 0): 0}
        assert offset_fetch(c, group, [("t", 0)]) == {("t", 0): 20}
        # The explicit reset, through conveyor's Admin (the CLI's path).
        with conveyor.Admin({"bootstrap.servers": gbroker.bootstrap}) as admin:
            admin.alter_group_offsets(group, [conveyor.TopicPartition("t", 0, 4)])
        assert offset_fetch(c, group, [("t", 0)]) == {("t", 0): 4}


def test_acknowledged_commits_survive_kill_9(broker_factory, tmp_path):
    """Commits acknowledged before `kill -9` are all there after a restart on the same data
    dir (the __consumer_offsets append is answered only after it is written)."""
    data = tmp_path / "data"
    settings = {**GROUP_SETTINGS, "log.flush.interval.messages": "1"}
    b = broker_factory(settings, name="kill9-groups", data_dir=data)
    with kafka_wire.Connection.to(b.bootstrap) as c:
        assert kafka_wire.create_topics(c, [("k", 4)])["k"][0] == kafka_wire.NONE
        wait_for_topic(c, "k", 4)
    acked: dict[tuple[str, int], int] = {}
    stop = threading.Event()
    errors = []

    def committer(group: str, seed: int):
        rnd = random.Random(seed)
        try:
            with kafka_wire.Connection.to(b.bootstrap, timeout=5) as c:
                n = 0
                while not stop.is_set():
                    n += 1
                    p = rnd.randrange(4)
                    res = offset_commit(c, group, -1, "", {("k", p): n}, metadata=f"n={n}")
                    if res == {("k", p): 0}:
                        acked[(group, p)] = n
        except (OSError, kafka_wire.WireError):
            pass  # the broker died under us: what was acknowledged before is what counts
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=committer, args=(f"kill9-{i}", i)) for i in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3 + random.random() * 0.5)
    b.kill()
    stop.set()
    for t in threads:
        t.join(10)
    assert not errors, errors
    assert len(acked) >= 12, f"only {len(acked)} partitions acknowledged before the kill"
    snapshot = dict(acked)

    b2 = broker_factory(settings, name="kill9-groups-restarted", data_dir=data)
    with kafka_wire.Connection.to(b2.bootstrap, timeout=30) as c:
        for (group, p), n in sorted(snapshot.items()):
            got = offset_fetch(c, group, [("k", p)])[("k", p)]
            # The commit in flight at the kill may have landed too: never less than acknowledged.
            assert got >= n, f"{group} k-{p}: committed {got} after restart, {n} was acknowledged"
            assert got <= n + 200, f"{group} k-{p}: {got} is beyond anything sent"
