"""Scaffolding shared by the delivery-semantics examples (docs/delivery-semantics.md): an
embedded broker (or --bootstrap-server), an `orders` topic with RECORDS records, a worker
process that is run, crashed on purpose with os._exit() (no cleanup, like kill -9), and run
again, and the tally of what the "processing" side effect saw.

The processing side effect of every example is a line appended (and flushed) to a results
file: "PARTITION OFFSET". Counting the lines per offset gives duplicates and losses."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import conveyor

RECORDS = 200
PARTITIONS = 2
MAX_POLL_RECORDS = 20  # small batches, so a crash lands in the middle of one


def parse_args(doc: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap-server", help="use this broker instead of an embedded one")
    ap.add_argument("--crash-after", type=int, default=55,
                    help="the first worker crashes after processing this many records (default 55)")
    ap.add_argument("--worker", nargs=3, metavar=("BOOTSTRAP", "RESULTS", "CRASH_AFTER"),
                    help=argparse.SUPPRESS)
    return ap.parse_args()


def consumer_config(bootstrap: str, group: str) -> dict:
    # group.instance.id makes the worker a static member (KIP-345): the restarted worker takes
    # the crashed one's place at once instead of waiting for its session.timeout.ms to expire.
    return {"bootstrap.servers": bootstrap, "group.id": group, "group.instance.id": f"{group}-worker",
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "max.poll.records": MAX_POLL_RECORDS, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


class Results:
    """The processing side effect: one flushed line per processed record."""

    def __init__(self, path: str) -> None:
        self.file = open(path, "a", buffering=1)
        self.count = 0

    def record(self, rec: conveyor.Record) -> None:
        self.file.write(f"{rec.partition} {rec.offset}\n")
        self.file.flush()
        self.count += 1

    def maybe_crash(self, crash_after: int) -> None:
        if crash_after and self.count == crash_after:
            os._exit(3)  # a crash: no commit, no close, nothing flushed by conveyor


def tally(name: str, seen: Counter) -> None:
    expected = {(i % PARTITIONS, i // PARTITIONS) for i in range(RECORDS)}
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    lost = len(expected - set(seen))
    print(f"{name}: records={RECORDS} processed={sum(seen.values())} distinct={len(seen)} "
          f"duplicates={duplicates} lost={lost}")


def run(script: str, topic_prefix: str, doc: str, worker, effects=None) -> None:
    """Runs the example: `worker(target, results_path, crash_after)` is the code under study.
    `effects(results_path)`, if given, returns a Counter of (partition, offset) of the effects
    the processing applied (the idempotent example keeps them in SQLite)."""
    args = parse_args(doc)
    if args.worker:
        bootstrap, results, crash_after = args.worker
        worker(bootstrap, results, int(crash_after))
        return
    broker = None
    if args.bootstrap_server:
        bootstrap = args.bootstrap_server
    else:
        broker = conveyor.Broker({"group.initial.rebalance.delay.ms": 0})
        bootstrap = broker.bootstrap_servers
    try:
        topic = f"{topic_prefix}-{os.getpid()}"
        conveyor.Admin({"bootstrap.servers": bootstrap}).create_topic(topic, partitions=PARTITIONS)
        with conveyor.Producer({"bootstrap.servers": bootstrap}) as p:
            for i in range(RECORDS):
                p.produce(topic, key=f"order-{i}".encode(), value=f"order {i}".encode(),
                          partition=i % PARTITIONS)
            assert p.flush(30) == 0
        with tempfile.TemporaryDirectory() as tmp:
            results = str(Path(tmp) / "results.txt")
            for crash_after in (args.crash_after, 0):  # crash once, then run to the end
                rc = subprocess.call([sys.executable, script, "--worker", f"{bootstrap}|{topic}", results,
                                      str(crash_after)])
                print(f"worker exited {rc}" + (" (crashed on purpose)" if rc == 3 else ""))
            lines = Path(results).read_text().split()
            delivered = Counter(zip(map(int, lines[0::2]), map(int, lines[1::2])))
            tally("delivered" if effects else "processed", delivered)
            if effects:
                tally("effects", effects(results))
    finally:
        if broker is not None:
            broker.stop()


def split(target: str) -> tuple[str, str]:
    bootstrap, topic = target.split("|")
    return bootstrap, topic
