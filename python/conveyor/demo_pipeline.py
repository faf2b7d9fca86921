"""The trading pipeline of `conveyor demo`: consumer groups as pub/sub and as a queue.

After the demo has produced its orders, four consumer groups read the `orders` topic:

- ``risk``, ``position`` and ``audit`` have one member each. Each group receives every order:
  several groups on one topic are publish/subscribe.
- ``matching`` has three members sharing the topic's six partitions: one group is a queue,
  each order goes to one member. Midway, one member is killed with SIGKILL (no LeaveGroup, no
  last commit); after ``session.timeout.ms`` the coordinator removes it and its partitions move
  to the two survivors, which resume from the last committed offsets.

Every member is a separate process (``python -m conveyor.demo_pipeline worker ...``) that
commits after processing each batch (at-least-once) and reports on stdout, as JSON lines, its
assignments and the offset ranges it processed *before* committing them. The parent counts,
per group and per partition, how often each offset was seen: records received, duplicates
(offsets seen more than once: the killed member's processed-but-uncommitted records, delivered
again to its successor) and records lost (offsets never seen), which must be zero.

The matching members pace themselves so their share takes about ``--pipeline-seconds``; that
gives the kill a "midway" to happen in whatever ``--records`` is.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from array import array
from typing import Callable, Dict, List, Optional, Tuple

PUBSUB_GROUPS = ("risk", "position", "audit")
QUEUE_GROUP = "matching"
QUEUE_MEMBERS = 3
SESSION_TIMEOUT_MS = 6000     # the smallest Kafka's group.min.session.timeout.ms allows
HEARTBEAT_INTERVAL_MS = 1000
MAX_POLL_RECORDS = 1000
# How long the parent waits for everything after the kill before declaring records lost.
FINISH_TIMEOUT_S = 120.0


# ---- worker (one group member, its own process) ------------------------------------------------

def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def worker_main(args: argparse.Namespace) -> int:
    import conveyor

    stop = threading.Event()

    def watch_stdin() -> None:  # the parent closes our stdin to say "stop"
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    conf = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "client.id": args.name,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": args.session_timeout_ms,
        "heartbeat.interval.ms": HEARTBEAT_INTERVAL_MS,
        "partition.assignment.strategy": "range",
        "max.poll.records": MAX_POLL_RECORDS,
    }

    def parts(tps) -> List[int]:
        return sorted(tp.partition for tp in tps)

    consumer = conveyor.Consumer(conf)
    consumer.subscribe([args.topic],
                       on_assign=lambda *a: _emit({"ev": "assigned", "partitions": parts(a[-1])}),
                       on_revoke=lambda *a: _emit({"ev": "revoked", "partitions": parts(a[-1])}),
                       on_lost=lambda *a: _emit({"ev": "lost", "partitions": parts(a[-1])}))
    _emit({"ev": "started", "pid": os.getpid()})
    rate = args.rate  # records/s this member allows itself; 0 = as fast as it can
    started = time.monotonic()
    handled = 0
    try:
        while not stop.is_set():
            batch = consumer.consume(MAX_POLL_RECORDS, timeout=0.2)
            if not batch:
                continue
            ranges: Dict[int, List[int]] = {}
            for r in batch:  # "processing": a partition's records arrive in offset order
                lo_hi = ranges.get(r.partition)
                if lo_hi is None:
                    ranges[r.partition] = [r.offset, r.offset]
                else:
                    lo_hi[1] = r.offset
            _emit({"ev": "processed", "ranges": [[p, lo, hi] for p, (lo, hi) in ranges.items()]})
            consumer.commit(asynchronous=False)  # at-least-once: commit after processing
            handled += len(batch)
            if rate > 0:  # pace: the matching engine is slower than the log
                ahead = handled / rate - (time.monotonic() - started)
                if ahead > 0:
                    stop.wait(ahead)
    finally:
        consumer.close()
    return 0


# ---- parent -------------------------------------------------------------------------------------

class GroupTally:
    """Per partition, how many times each offset was processed by the group's members."""

    def __init__(self, name: str, end_offsets: Dict[int, int]) -> None:
        self.name = name
        self.seen = {p: array("H", bytes(2 * end)) for p, end in end_offsets.items()}
        self.received = 0
        self.distinct = 0
        self.expected = sum(end_offsets.values())

    def add(self, partition: int, lo: int, hi: int) -> None:
        counts = self.seen.get(partition)
        if counts is None or lo < 0 or hi >= len(counts) or lo > hi:
            return
        for off in range(lo, hi + 1):
            if counts[off] == 0:
                self.distinct += 1
            if counts[off] < 65535:
                counts[off] += 1
        self.received += hi - lo + 1

    @property
    def duplicates(self) -> int:
        return self.received - self.distinct

    @property
    def lost(self) -> int:
        return self.expected - self.distinct


class Member:
    def __init__(self, group: str, name: str, proc: subprocess.Popen) -> None:
        self.group = group
        self.name = name
        self.proc = proc
        self.assigned: List[int] = []
        self.killed = False
        self.errors: List[str] = []


def run_pipeline(bootstrap: str, topic: str, end_offsets: Dict[int, int], seconds: float,
                 out: Callable[[str], None]) -> Tuple[List[Tuple[str, bool, str]], Dict[str, GroupTally]]:
    """Runs the four groups against `topic` (whose partitions end at `end_offsets`) and returns
    (checks, tallies). Each check is (name, ok, detail)."""
    total = sum(end_offsets.values())
    lock = threading.Lock()
    t0 = time.monotonic()
    tallies = {g: GroupTally(g, end_offsets) for g in PUBSUB_GROUPS + (QUEUE_GROUP,)}
    members: List[Member] = []
    moves: List[str] = []
    per_member_rate = max(1.0, total / QUEUE_MEMBERS / max(seconds, 0.1))

    def spawn(group: str, name: str, rate: float) -> Member:
        cmd = [sys.executable, "-m", "conveyor.demo_pipeline", "worker", "--bootstrap", bootstrap,
               "--group", group, "--name", name, "--topic", topic,
               "--session-timeout-ms", str(SESSION_TIMEOUT_MS), "--rate", f"{rate:.3f}"]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        m = Member(group, name, proc)
        threading.Thread(target=read_events, args=(m,), daemon=True).start()
        threading.Thread(target=read_errors, args=(m,), daemon=True).start()
        return m

    def read_errors(m: Member) -> None:
        assert m.proc.stderr is not None
        for line in m.proc.stderr:
            text = line.decode(errors="replace").rstrip()
            if "Traceback" in text or "Error" in text:
                with lock:
                    if len(m.errors) < 20:
                        m.errors.append(text)

    def read_events(m: Member) -> None:
        assert m.proc.stdout is not None
        tally = tallies[m.group]
        for line in m.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with lock:
                kind = ev.get("ev")
                if kind == "processed":
                    for p, lo, hi in ev["ranges"]:
                        tally.add(int(p), int(lo), int(hi))
                elif kind in ("assigned", "revoked", "lost"):
                    if kind == "assigned":
                        m.assigned = list(ev["partitions"])
                    else:
                        m.assigned = [p for p in m.assigned if p not in ev["partitions"]]
                    if m.group == QUEUE_GROUP:
                        moves.append(f"t+{time.monotonic() - t0:5.1f}s  {m.name} {kind} "
                                     f"{topic}{ev['partitions']}")

    out(f"consumer groups on '{topic}': {', '.join(PUBSUB_GROUPS)} (pub/sub, one member each), "
        f"{QUEUE_GROUP} (a queue of {QUEUE_MEMBERS} members)")
    for g in PUBSUB_GROUPS:
        members.append(spawn(g, f"{g}-1", 0.0))
    for i in range(QUEUE_MEMBERS):
        members.append(spawn(QUEUE_GROUP, f"{QUEUE_GROUP}-{i + 1}", per_member_rate))
    victim: Optional[Member] = None
    checks: List[Tuple[str, bool, str]] = []
    deadline = time.monotonic() + FINISH_TIMEOUT_S + seconds
    try:
        while time.monotonic() < deadline:
            time.sleep(0.05)
            with lock:
                done = all(t.distinct >= t.expected for t in tallies.values())
                matching = tallies[QUEUE_GROUP]
                if victim is None and matching.distinct * 2 >= matching.expected:
                    queue = [m for m in members if m.group == QUEUE_GROUP and m.assigned]
                    if len(queue) == QUEUE_MEMBERS or matching.distinct >= matching.expected:
                        victim = queue[-1] if queue else None
                        if victim is not None:
                            victim.killed = True
                            victim.proc.send_signal(signal.SIGKILL)
                            moves.append(f"t+{time.monotonic() - t0:5.1f}s  {victim.name} KILLED (SIGKILL) "
                                         f"holding {topic}{victim.assigned}, "
                                         f"{matching.distinct:,} of {matching.expected:,} orders matched")
                if done:
                    break
            if any(m.proc.poll() is not None and not m.killed for m in members):
                break
    finally:
        for m in members:
            if m.proc.poll() is None and m.proc.stdin:
                try:
                    m.proc.stdin.close()
                except OSError:
                    pass
        for m in members:
            try:
                m.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                m.proc.kill()
                m.proc.wait()

    for line in moves:
        out("  " + line)
    for g, t in tallies.items():
        out(f"  group {g:<9} received {t.received:>10,}  duplicates {t.duplicates:>7,}  lost {t.lost:>7,}"
            f"  ({len([m for m in members if m.group == g])} member(s))")
    crashed = [m for m in members if not m.killed and m.proc.returncode not in (0, None)]
    checks.append(("consumer group members exited cleanly", not crashed,
                   "; ".join(f"{m.name}: exit {m.proc.returncode} {' | '.join(m.errors[-3:])}" for m in crashed)))
    for g in PUBSUB_GROUPS:
        t = tallies[g]
        checks.append((f"group {g}: every order once (pub/sub)", t.lost == 0 and t.duplicates == 0,
                       f"{t.received:,} received, {t.duplicates} duplicates, {t.lost} lost"))
    t = tallies[QUEUE_GROUP]
    checks.append((f"group {QUEUE_GROUP}: a member killed midway, its partitions moved, zero orders lost",
                   victim is not None and t.lost == 0,
                   f"{t.received:,} received, {t.duplicates} duplicates (at-least-once), {t.lost} lost"
                   + ("" if victim is not None else "; no member was killed")))
    return checks, tallies


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conveyor.demo_pipeline",
                                     description="A member of conveyor demo's consumer-group pipeline.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("worker", help="run one group member until stdin closes")
    w.add_argument("--bootstrap", required=True)
    w.add_argument("--group", required=True)
    w.add_argument("--name", required=True)
    w.add_argument("--topic", required=True)
    w.add_argument("--session-timeout-ms", type=int, default=SESSION_TIMEOUT_MS)
    w.add_argument("--rate", type=float, default=0.0, help="records/s to allow itself (0 = unpaced)")
    args = parser.parse_args(argv)
    return worker_main(args)


if __name__ == "__main__":
    sys.exit(main())
