"""Consumer-group requests over the raw wire, for the group fault tests: the classic
(non-flexible) versions FindCoordinator v2, JoinGroup v5, SyncGroup v3, Heartbeat v3,
LeaveGroup v3, OffsetCommit v7 and OffsetFetch v5 (protocol guide), plus the consumer
protocol's Subscription/Assignment v0. Built on kafka_wire's Writer/Reader/Connection."""
from __future__ import annotations

from dataclasses import dataclass

from kafka_wire import Connection, Reader, Writer

FIND_COORDINATOR = 10
JOIN_GROUP = 11
HEARTBEAT = 12
LEAVE_GROUP = 13
SYNC_GROUP = 14
OFFSET_COMMIT = 8
OFFSET_FETCH = 9

# Error codes the group protocol answers with.
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
UNKNOWN_MEMBER_ID = 25
INVALID_SESSION_TIMEOUT = 26
REBALANCE_IN_PROGRESS = 27
MEMBER_ID_REQUIRED = 79


def subscription(topics: list[str]) -> bytes:
    """ConsumerProtocolSubscription v0: version, topics, user_data."""
    return Writer().int16(0).array(topics, lambda w, t: w.string(t)).bytes_(None).getvalue()


def assignment(parts: dict[str, list[int]]) -> bytes:
    """ConsumerProtocolAssignment v0: version, [(topic, [partition])], user_data."""
    def topic(w, item):
        name, ps = item
        w.string(name).array(ps, lambda ww, p: ww.int32(p))
    return Writer().int16(0).array(sorted(parts.items()), topic).bytes_(None).getvalue()


def parse_assignment(blob: bytes | None) -> dict[str, list[int]]:
    if not blob:
        return {}
    r = Reader(blob)
    r.int16()
    out = r.array(lambda rr: (rr.string(), rr.array(lambda x: x.int32())))
    return {t: ps for t, ps in out or []}


def find_coordinator(conn: Connection, group: str) -> tuple[int, int, str, int]:
    """(error, node_id, host, port)."""
    r = conn.call(FIND_COORDINATOR, 2, Writer().string(group).int8(0).getvalue())
    r.int32()  # throttle
    err = r.int16()
    r.string()  # error message
    return err, r.int32(), r.string(), r.int32()


@dataclass
class JoinResult:
    error: int
    generation: int
    protocol: str | None
    leader: str
    member_id: str
    members: list[tuple[str, bytes]]  # (member id, subscription) — the leader gets them all


def join_group(conn: Connection, group: str, member_id: str = "", *, topics: list[str] = ("t",),
               session_timeout_ms: int = 1000, rebalance_timeout_ms: int = 5000,
               instance_id: str | None = None) -> JoinResult:
    w = (Writer().string(group).int32(session_timeout_ms).int32(rebalance_timeout_ms)
         .string(member_id).string(instance_id).string("consumer"))
    w.array([("range", subscription(list(topics)))], lambda ww, p: ww.string(p[0]).bytes_(p[1]))
    r = conn.call(JOIN_GROUP, 5, w.getvalue())
    r.int32()  # throttle
    err, gen, proto, leader, mid = r.int16(), r.int32(), r.string(), r.string(), r.string()
    members = r.array(lambda rr: (rr.string(), rr.string(), rr.bytes_())) or []
    return JoinResult(err, gen, proto, leader, mid, [(m, meta) for m, _inst, meta in members])


def sync_group(conn: Connection, group: str, generation: int, member_id: str,
               assignments: dict[str, bytes] | None = None) -> tuple[int, dict[str, list[int]]]:
    """(error, this member's assignment)."""
    w = Writer().string(group).int32(generation).string(member_id).string(None)
    w.array(sorted((assignments or {}).items()), lambda ww, a: ww.string(a[0]).bytes_(a[1]))
    r = conn.call(SYNC_GROUP, 3, w.getvalue())
    r.int32()
    err = r.int16()
    return err, parse_assignment(r.bytes_())


def heartbeat(conn: Connection, group: str, generation: int, member_id: str) -> int:
    r = conn.call(HEARTBEAT, 3, Writer().string(group).int32(generation).string(member_id)
                  .string(None).getvalue())
    r.int32()
    return r.int16()


def leave_group(conn: Connection, group: str, member_id: str) -> int:
    w = Writer().string(group).array([member_id], lambda ww, m: ww.string(m).string(None))
    r = conn.call(LEAVE_GROUP, 3, w.getvalue())
    r.int32()
    return r.int16()


def offset_commit(conn: Connection, group: str, generation: int, member_id: str,
                  offsets: dict[tuple[str, int], int], metadata: str | None = "") -> dict[tuple[str, int], int]:
    """{(topic, partition): error}. generation -1 with member "" commits for a group without
    members (what admin tools do)."""
    by_topic: dict[str, list[tuple[int, int]]] = {}
    for (t, p), off in offsets.items():
        by_topic.setdefault(t, []).append((p, off))

    def topic(w, item):
        name, parts = item
        w.string(name).array(parts, lambda ww, po: ww.int32(po[0]).int64(po[1]).int32(-1).string(metadata))
    w = Writer().string(group).int32(generation).string(member_id).string(None)
    w.array(sorted(by_topic.items()), topic)
    r = conn.call(OFFSET_COMMIT, 7, w.getvalue())
    r.int32()
    out = {}
    for name, parts in r.array(lambda rr: (rr.string(), rr.array(lambda x: (x.int32(), x.int16())))) or []:
        for p, err in parts or []:
            out[(name, p)] = err
    return out


def offset_fetch(conn: Connection, group: str, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """{(topic, partition): committed offset (-1 = none)}; raises on an error code."""
    by_topic: dict[str, list[int]] = {}
    for t, p in partitions:
        by_topic.setdefault(t, []).append(p)
    w = Writer().string(group).array(sorted(by_topic.items()),
                                     lambda ww, it: ww.string(it[0]).array(it[1], lambda x, p: x.int32(p)))
    r = conn.call(OFFSET_FETCH, 5, w.getvalue())
    r.int32()
    out = {}
    errors = []
    for name, parts in r.array(lambda rr: (rr.string(), rr.array(
            lambda x: (x.int32(), x.int64(), x.int32(), x.string(), x.int16())))) or []:
        for p, off, _epoch, _meta, err in parts or []:
            if err:
                errors.append(((name, p), err))
            out[(name, p)] = off
    top = r.int16()
    if top or errors:
        raise AssertionError(f"OffsetFetch error {top}, partitions {errors}")
    return out
