#!/usr/bin/env python3
"""Consumer-group figures (issue 3, "Speed"): rebalance time and commit speed.

For each client — conveyor's Python consumer and confluent-kafka (librdkafka) — against the
same broker in the same run:

  stable-from-nothing  3 members subscribe to a 6-partition topic at once; time until every
                       member holds a non-empty assignment and together they hold all 6
                       partitions (the group is Stable and every member has been told).
  stable-after-leave   one member closes (LeaveGroup); time until the other two hold all 6.
  commit               one member commits its position synchronously N times: commits/s and
                       per-commit latency p50/p99 (the commit is answered after the record is in
                       __consumer_offsets).

Both clients get the same settings: range assignor, heartbeat.interval.ms=100 (so a rebalance
is noticed by the survivors within 100 ms rather than the 3 s default), session.timeout.ms=6000.
The broker runs with group.initial.rebalance.delay.ms=0 (otherwise the first rebalance waits
3 s by design).

  python3 bench/group_bench.py [--bootstrap HOST:PORT] [--runs 5] [--commits 2000]

Without --bootstrap a conveyor broker is started with the `conveyor` CLI (from the Python that
runs this script). Prints a table; record figures with their command in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Callable, Dict, List, Optional, Set, Tuple

PARTITIONS = 6
MEMBERS = 3
READY_RE = re.compile(r"^conveyor broker listening on (\S+):(\d+)\s*$")


def start_conveyor_broker(data_dir: str) -> Tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "conveyor", "broker",
           "--override", "listeners=PLAINTEXT://127.0.0.1:0",
           "--override", f"log.dirs={data_dir}",
           "--override", "group.initial.rebalance.delay.ms=0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = READY_RE.match(line.strip())
    if not m:
        proc.kill()
        raise SystemExit(f"broker did not start: {line!r}")
    return proc, f"{m.group(1)}:{m.group(2)}"


class Member:
    """One consumer polling on its own thread; `assigned` is its current partition set."""

    def __init__(self, make: Callable[["Member"], object], name: str) -> None:
        self.name = name
        self.assigned: Set[int] = set()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.consumer = make(self)
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def on_assign(self, parts) -> None:
        with self.lock:
            self.assigned = {tp.partition for tp in parts}

    def on_revoke(self, parts) -> None:
        with self.lock:
            self.assigned -= {tp.partition for tp in parts}

    def loop(self) -> None:
        while not self.stop.is_set():
            self.consumer.poll(0.05)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.consumer.close()


def conveyor_member(bootstrap: str, group: str, topic: str, name: str) -> Member:
    import conveyor

    def make(m: Member):
        c = conveyor.Consumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
                               "partition.assignment.strategy": "range", "heartbeat.interval.ms": 100,
                               "session.timeout.ms": 6000, "enable.auto.commit": False,
                               "auto.offset.reset": "earliest"})
        c.subscribe([topic], on_assign=lambda *a: m.on_assign(a[-1]), on_revoke=lambda *a: m.on_revoke(a[-1]),
                    on_lost=lambda *a: m.on_revoke(a[-1]))
        return c
    return Member(make, name)


def confluent_member(bootstrap: str, group: str, topic: str, name: str) -> Member:
    import confluent_kafka

    def make(m: Member):
        c = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
                                      "partition.assignment.strategy": "range", "heartbeat.interval.ms": 100,
                                      "session.timeout.ms": 6000, "enable.auto.commit": False,
                                      "auto.offset.reset": "earliest"})
        c.subscribe([topic], on_assign=lambda c_, parts: m.on_assign(parts),
                    on_revoke=lambda c_, parts: m.on_revoke(parts),
                    on_lost=lambda c_, parts: m.on_revoke(parts))
        return c
    return Member(make, name)


def covered(members: List[Member], need_each: bool) -> bool:
    sets = []
    for m in members:
        with m.lock:
            sets.append(set(m.assigned))
    union: Set[int] = set().union(*sets)
    total = sum(len(s) for s in sets)
    return union == set(range(PARTITIONS)) and total == PARTITIONS and (not need_each or all(sets))


def wait_until(pred: Callable[[], bool], timeout_s: float) -> Optional[float]:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        if pred():
            return time.perf_counter() - t0
        time.sleep(0.001)
    return None


def rebalance_run(factory, bootstrap: str, topic: str) -> Tuple[Optional[float], Optional[float]]:
    group = f"bench-{uuid.uuid4().hex[:8]}"
    members = [factory(bootstrap, group, topic, f"m{i}") for i in range(MEMBERS)]
    t0 = time.perf_counter()
    for m in members:
        m.thread.start()
    stable = wait_until(lambda: covered(members, True), 60)
    if stable is not None:
        stable = time.perf_counter() - t0
    leaver = members.pop()
    t1 = time.perf_counter()
    leaver.close()
    after = wait_until(lambda: covered(members, True), 60)
    if after is not None:
        after = time.perf_counter() - t1
    for m in members:
        m.close()
    return stable, after


def commit_run(client: str, bootstrap: str, topic: str, n: int) -> Tuple[float, float, float]:
    group = f"bench-commit-{uuid.uuid4().hex[:8]}"
    lat: List[float] = []
    if client == "conveyor":
        import conveyor
        c = conveyor.Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
        c.assign([conveyor.TopicPartition(topic, 0, 0)])
        t0 = time.perf_counter()
        for i in range(n):
            s = time.perf_counter()
            c.commit(offsets=[conveyor.TopicPartition(topic, 0, i + 1)], asynchronous=False)
            lat.append(time.perf_counter() - s)
        total = time.perf_counter() - t0
        c.close()
    else:
        import confluent_kafka
        c = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
        c.assign([confluent_kafka.TopicPartition(topic, 0, 0)])
        t0 = time.perf_counter()
        for i in range(n):
            s = time.perf_counter()
            c.commit(offsets=[confluent_kafka.TopicPartition(topic, 0, i + 1)], asynchronous=False)
            lat.append(time.perf_counter() - s)
        total = time.perf_counter() - t0
        c.close()
    lat.sort()
    return n / total, lat[len(lat) // 2] * 1e6, lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", help="an already running broker (default: start conveyor)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--commits", type=int, default=2000)
    ap.add_argument("--clients", default="conveyor,confluent")
    args = ap.parse_args()

    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="conveyor-group-bench-")
    bootstrap = args.bootstrap
    if not bootstrap:
        proc, bootstrap = start_conveyor_broker(tmp.name)
    try:
        import confluent_kafka.admin as cka
        topic = f"group-bench-{uuid.uuid4().hex[:6]}"
        admin = cka.AdminClient({"bootstrap.servers": bootstrap})
        for f in admin.create_topics([cka.NewTopic(topic, PARTITIONS, 1)]).values():
            f.result(30)
        print(f"broker {bootstrap}  topic {topic} ({PARTITIONS} partitions)  load {os.getloadavg()[0]:.2f}")
        factories = {"conveyor": conveyor_member, "confluent": confluent_member}
        rows: Dict[str, Dict[str, str]] = {}
        for client in args.clients.split(","):
            stable, after = [], []
            for _ in range(args.runs):
                s, a = rebalance_run(factories[client], bootstrap, topic)
                if s is not None:
                    stable.append(s)
                if a is not None:
                    after.append(a)
            rate, p50, p99 = commit_run(client, bootstrap, topic, args.commits)
            rows[client] = {
                "stable (median ms)": f"{statistics.median(stable) * 1e3:.0f}" if stable else "timeout",
                "after leave (median ms)": f"{statistics.median(after) * 1e3:.0f}" if after else "timeout",
                "commits/s": f"{rate:,.0f}",
                "commit p50 µs": f"{p50:.0f}",
                "commit p99 µs": f"{p99:.0f}",
            }
        cols = list(next(iter(rows.values())).keys())
        print("| client | " + " | ".join(cols) + " |")
        print("|---|" + "---|" * len(cols))
        for client, r in rows.items():
            print(f"| {client} | " + " | ".join(r[c] for c in cols) + " |")
        print(f"(runs={args.runs}, commits={args.commits}, load after {os.getloadavg()[0]:.2f})")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
