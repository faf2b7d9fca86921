"""Consumer groups when members die or outnumber partitions (issue 3, "Real clients"):

- a member process of a confluent-kafka group (and of a group mixing confluent-kafka and
  conveyor consumers, both with the range assignor) is killed with SIGKILL; after
  session.timeout.ms its partitions are reassigned and consumption resumes from the offsets
  it committed: nothing is lost, and what is read twice is only what it had read but not yet
  committed;
- more consumers than partitions: the extra members get nothing and stay members; when an
  assigned member leaves, an idle one takes its partition over from the committed offset.

Written against any broker (`bootstrap`), so the Apache Kafka pass of scripts/test.sh runs
them too; session.timeout.ms is 6000 (Kafka's group.min.session.timeout.ms default)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ck = pytest.importorskip("confluent_kafka", reason="confluent-kafka is not installed (scripts/install-deps.sh)")
import conveyor  # noqa: E402  (part of this repository: a missing package is a failure)

MEMBER = Path(__file__).with_name("group_member.py")
PARTITIONS = 6
RECORDS = 1800


class Member:
    """One group_member.py process and what it printed."""

    def __init__(self, client: str, bootstrap: str, group: str, topic: str) -> None:
        self.client = client
        self.proc = subprocess.Popen([sys.executable, str(MEMBER), client, bootstrap, group, topic],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        self.records: list[tuple[int, int]] = []
        self.committed: dict[int, int] = {}
        self.assigned: list[list[int]] = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            kind, _, rest = line.strip().partition(" ")
            with self.lock:
                if kind == "rec":
                    p, o = map(int, rest.split())
                    self.records.append((p, o))
                elif kind == "committed":
                    p, o = map(int, rest.split())
                    self.committed[p] = o
                elif kind == "assigned":
                    self.assigned.append([int(x) for x in rest.split(",") if x])

    def current_assignment(self) -> list[int]:
        with self.lock:
            return self.assigned[-1] if self.assigned else []

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.reader.join(5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def produce_all(bootstrap: str, topic: str) -> None:
    with conveyor.Producer({"bootstrap.servers": bootstrap, "linger.ms": 5}) as p:
        for i in range(RECORDS):
            p.produce(topic, value=str(i).encode(), partition=i % PARTITIONS)
        assert p.flush(60) == 0


def wait_until(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.mark.parametrize("clients", [("confluent", "confluent", "confluent"),
                                     ("confluent", "conveyor", "confluent")],
                         ids=["confluent", "mixed"])
def test_killed_member_partitions_move_and_resume_from_commits(bootstrap, new_topic, clients):
    topic = new_topic(PARTITIONS, prefix="failover")
    group = f"failover-{'-'.join(clients)}-{time.time_ns() % 10**9}"
    members = [Member(c, bootstrap, group, topic) for c in clients]
    try:
        # Everyone owns two partitions; then the records arrive and everyone makes progress.
        wait_until(lambda: all(len(m.current_assignment()) == 2 for m in members), 90,
                   "three members with two partitions each")
        produce_all(bootstrap, topic)
        wait_until(lambda: all(m.committed for m in members), 60, "every member to commit")
        victim = members[0]
        victim.kill()
        owned = victim.current_assignment()
        with victim.lock:
            victim_committed = dict(victim.committed)
            victim_seen = Counter(victim.records)
        last_read = {p: max((o for q, o in victim_seen if q == p), default=-1) for p in owned}
        # What the group has committed for the victim's partitions (nobody else may commit
        # them until they are reassigned): its last printed commits, or one still in flight.
        with conveyor.Admin({"bootstrap.servers": bootstrap}) as admin:
            final = {g.partition: g.offset or 0 for g in admin.list_group_offsets(
                group, [conveyor.TopicPartition(topic, p) for p in owned])}
        for p in owned:
            assert victim_committed.get(p, 0) <= final[p] <= last_read[p] + 1, (p, final, victim_committed)

        survivors = members[1:]
        mark = {}  # what each survivor had read when the victim died
        for m in survivors:
            with m.lock:
                mark[m] = len(m.records)
        seen = lambda: {r for m in members for r in m.records}  # noqa: E731
        wait_until(lambda: len(seen()) == RECORDS and all(
            any(p in m.current_assignment() for m in survivors) for p in owned), 120,
            "the victim's partitions reassigned and every record processed")

        # Nothing lost: every offset of every partition was processed by someone.
        per_partition = defaultdict(set)
        for p, o in seen():
            per_partition[p].add(o)
        assert all(per_partition[p] == set(range(RECORDS // PARTITIONS)) for p in range(PARTITIONS))

        # The victim's partitions went to the survivors, who started at its committed offsets.
        for p in owned:
            takers = [m for m in survivors if p in m.current_assignment()]
            assert len(takers) == 1, f"partition {p} owned by {len(takers)} survivors"
            with takers[0].lock:
                resumed = min((o for q, o in takers[0].records[mark[takers[0]]:] if q == p), default=None)
            if resumed is None:  # the victim had finished it
                assert final[p] == RECORDS // PARTITIONS
                continue
            start = final[p]
            assert resumed == start, (f"partition {p}: survivor resumed at {resumed}, not at the committed "
                                      f"{start} (victim read up to {last_read[p]})")

        # After the kill, read again only what the victim had read beyond its last commit.
        # (Reads before it may repeat too: while the group formed, a partition could move
        # between a member's read and its commit.)
        before = Counter(victim.records)
        for m in survivors:
            before.update(m.records[:mark[m]])
        for m in survivors:
            for p, o in m.records[mark[m]:]:
                if (p, o) in before:
                    assert p in owned and o >= final[p], f"record {p}:{o} read twice after the kill"
    finally:
        for m in members:
            if m.proc.poll() is None:
                m.stop()


def test_more_consumers_than_partitions(bootstrap, new_topic):
    topic = new_topic(2, prefix="idle")
    group = f"idle-{time.time_ns() % 10**9}"
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 300,
            "partition.assignment.strategy": "range"}
    assigned: dict[int, list[int]] = {}
    received: dict[int, list[tuple[int, int]]] = defaultdict(list)

    def tracker(i):
        def on_assign(_c, parts):
            assigned[i] = sorted(p.partition for p in parts)

        def on_revoke(_c, parts):
            assigned[i] = []
        return on_assign, on_revoke

    members = []
    for i in range(4):  # two of each client
        on_assign, on_revoke = tracker(i)
        if i % 2 == 0:
            c = ck.Consumer(conf)
            c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
        else:
            c = conveyor.Consumer(conf)
            c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
        members.append(c)

    def pump(active):
        for i in active:
            c = members[i]
            if isinstance(c, ck.Consumer):
                for m in c.consume(50, timeout=0.05):
                    assert not m.error(), m.error()
                    received[i].append((m.partition(), m.offset()))
            else:
                for r in c.consume(50, timeout=0.05):
                    received[i].append((r.partition, r.offset))

    active = [0, 1, 2, 3]
    try:
        def stable():
            pump(active)
            return (len(assigned) == 4 and sorted(p for a in assigned.values() for p in a) == [0, 1]
                    and sum(1 for a in assigned.values() if not a) == 2)
        wait_until(stable, 90, "two members with a partition each and two idle members")
        with conveyor.Admin({"bootstrap.servers": bootstrap}) as admin:
            desc = admin.describe_group(group)
        assert desc.state == "Stable" and len(desc.members) == 4, desc
        assert sum(1 for m in desc.members if not m.assignment) == 2, "the extra members stay members with nothing"

        # Records for both partitions; commit what was read.
        with conveyor.Producer({"bootstrap.servers": bootstrap}) as p:
            for i in range(40):
                p.produce(topic, value=b"x", partition=i % 2)
            assert p.flush(30) == 0
        wait_until(lambda: (pump(active), sum(len(v) for v in received.values()) >= 40)[1], 60, "the first 40 records")
        owners = [i for i in active if assigned.get(i)]
        idle = [i for i in active if not assigned.get(i)]
        for i in owners:  # both owners commit what they read (offset 20 in each partition)
            c = members[i]
            if isinstance(c, ck.Consumer):
                c.commit(asynchronous=False)
            else:
                c.commit()
        leaver = owners[0]
        members[leaver].close()  # leaves the group
        active.remove(leaver)

        def taken_over():
            pump(active)
            return (sorted(p for i in active for p in assigned.get(i, [])) == [0, 1]
                    and any(assigned.get(i) for i in idle))
        wait_until(taken_over, 60, "an idle member to take over a partition")
        assert sum(1 for i in active if not assigned.get(i)) == 1
        before = {i: len(received[i]) for i in active}
        with conveyor.Producer({"bootstrap.servers": bootstrap}) as p:
            for i in range(20):
                p.produce(topic, value=b"y", partition=i % 2)
            assert p.flush(30) == 0
        after = lambda: [r for i in active for r in received[i][before[i]:]]  # noqa: E731
        wait_until(lambda: (pump(active), len(after()) >= 20)[1], 60, "the 20 new records")
        # Each partition continues from its committed offset 20, whoever owns it now.
        for part in (0, 1):
            offsets = sorted(o for q, o in after() if q == part)
            assert offsets == list(range(20, 30)), f"partition {part}: read {offsets} after the leave"
    finally:
        for i in active:
            members[i].close()
