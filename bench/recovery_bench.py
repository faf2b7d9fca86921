#!/usr/bin/env python3
"""Recovery time of a 1 GB partition after kill -9 (issue 5, docs/benchmarks.md "Recovery").

    python3 bench/recovery_bench.py [--dir DIR] [--gb 1.0] [--tail-mb 8] [--runs 3]

A `conveyor broker` (the installed CLI, as in tests/broker_process.py) with
log.flush.interval.ms=1000 gets --gb GB of 1 KB records in one partition (1 MiB produce
requests, acks=1) in a data dir on a real disk (--dir, default $CONVEYOR_BENCH_DIR or /tmp),
waits until the periodic flush has moved the recovery point past them, appends --tail-mb MB
more (not flushed) and is killed with SIGKILL. Then, per run, in the same session:
  recovery  restart after kill -9: spawn → ready line (recovery reads only the tail after the
            recovery point checkpoint), then the served log end is checked;
  empty     start of a broker on an empty data dir (the start-up cost without any log);
  full      restart after kill -9 with recovery-point-offset-checkpoint removed: every byte
            rescanned (what recovery costs when it is not bounded by the checkpoint);
  read      reading the segment file once (cat > /dev/null), the page cache's own rate.
The page cache is warm in every case (a process kill does not empty it). Prints one line per
measurement and the medians; the target is recovery < 2 s.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import kafka_wire as kw  # noqa: E402
from broker_process import BrokerProcess, wait_for_topic  # noqa: E402

TOPIC = "recovery"


def start_timed(data: Path, overrides: dict, name: str) -> tuple[BrokerProcess, float]:
    b = BrokerProcess(data, overrides, name=name)
    t0 = time.monotonic()
    b.start(timeout=600)
    return b, time.monotonic() - t0


def produce_bytes(bootstrap: str, total: int, batch: bytes) -> int:
    sent = 0
    with kw.Connection.to(bootstrap, timeout=60) as c:
        while sent < total:
            res = kw.produce(c, TOPIC, 0, batch, acks=1)
            assert res.error == kw.NONE, res.error
            sent += len(batch)
    return sent


def log_end(bootstrap: str) -> int:
    with kw.Connection.to(bootstrap, timeout=60) as c:
        err, end = kw.list_offset(c, TOPIC, 0, kw.LATEST)
        assert err == kw.NONE, err
        return end


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.environ.get("CONVEYOR_BENCH_DIR", "/tmp"))
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--tail-mb", type=float, default=8.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="conveyor-recovery-bench-", dir=args.dir))
    data = work / "data"
    overrides = {"log.flush.interval.ms": "1000", "num.partitions": "1",
                 "auto.create.topics.enable": "false"}
    batch = kw.encode_batch([(None, b"v" * 1000) for _ in range(1000)])  # ~1 MiB, 1 KB records
    try:
        b = BrokerProcess(data, overrides, name="fill").start(timeout=60)
        with kw.Connection.to(b.bootstrap) as c:
            assert kw.create_topics(c, [(TOPIC, 1)])[TOPIC][0] == kw.NONE
            wait_for_topic(c, TOPIC, 1)
        t0 = time.monotonic()
        sent = produce_bytes(b.bootstrap, int(args.gb * 1e9), batch)
        fill_s = time.monotonic() - t0
        time.sleep(3.0)  # two flush ticks: the recovery point and its checkpoint pass the data
        produce_bytes(b.bootstrap, int(args.tail_mb * 1e6), batch)  # the unflushed tail
        expected_end = log_end(b.bootstrap)
        b.kill()
        seg = max((data / f"{TOPIC}-0").glob("*.log"), key=lambda p: p.stat().st_size)
        print(f"filled {sent / 1e9:.2f} GB in {fill_s:.1f} s; log end {expected_end}; "
              f"largest segment {seg.name} {seg.stat().st_size / 1e9:.2f} GB; tail {args.tail_mb} MB unflushed")

        results: dict[str, list[float]] = {"recovery": [], "empty": [], "full": [], "read": []}
        for run in range(args.runs):
            # recovery (bounded by the tail after the checkpoint)
            b, secs = start_timed(data, overrides, f"recover{run}")
            assert log_end(b.bootstrap) == expected_end
            # more tail for the next run, then kill again
            produce_bytes(b.bootstrap, int(args.tail_mb * 1e6), batch)
            time.sleep(2.5)  # the periodic flush checkpoints everything but the next tail
            produce_bytes(b.bootstrap, int(args.tail_mb * 1e6), batch)
            expected_end = log_end(b.bootstrap)
            b.kill()
            results["recovery"].append(secs)
            # empty
            empty_dir = work / f"empty{run}"
            e, esecs = start_timed(empty_dir, overrides, f"empty{run}")
            e.stop()
            shutil.rmtree(empty_dir, ignore_errors=True)
            results["empty"].append(esecs)
            # full rescan: same crash image without the recovery point checkpoint
            (data / "recovery-point-offset-checkpoint").unlink(missing_ok=True)
            f, fsecs = start_timed(data, overrides, f"full{run}")
            assert log_end(f.bootstrap) == expected_end
            produce_bytes(f.bootstrap, int(args.tail_mb * 1e6), batch)
            time.sleep(2.5)
            produce_bytes(f.bootstrap, int(args.tail_mb * 1e6), batch)
            expected_end = log_end(f.bootstrap)
            f.kill()
            results["full"].append(fsecs)
            # raw read of the segments
            t0 = time.monotonic()
            for p in sorted((data / f"{TOPIC}-0").glob("*.log")):
                subprocess.run(["cat", str(p)], stdout=subprocess.DEVNULL, check=True)
            results["read"].append(time.monotonic() - t0)
            print(f"run {run}: recovery {secs:.3f} s, empty start {esecs:.3f} s, "
                  f"full rescan {fsecs:.3f} s, cat segments {results['read'][-1]:.3f} s")
        med = {k: statistics.median(v) for k, v in results.items()}
        print(f"median: recovery {med['recovery']:.3f} s (target < 2 s), empty start {med['empty']:.3f} s, "
              f"recovery minus start-up {med['recovery'] - med['empty']:.3f} s, "
              f"full rescan {med['full']:.3f} s ({med['full'] / med['recovery']:.1f}x the bounded recovery), "
              f"cat {med['read']:.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
