#!/usr/bin/env python3
"""Durable-mode produce throughput against the disk's fsync'd sequential write rate
(issue 5, docs/benchmarks.md "Durable mode").

    python3 bench/durable_bench.py [--dir DIR] [--seconds 10] [--producers 8] [--request-kb 256] [--runs 3]

In one session, on one file system (--dir, default $CONVEYOR_BENCH_DIR or /tmp):
  fio       fio --rw=write --bs=1M --fdatasync=1 --ioengine=sync --size=512M: the disk's own
            sequential write rate with an fdatasync after every 1 MiB (fio is a Debian
            package; installed with apt-get when missing);
  durable   a `conveyor broker` with conveyor.log.fsync.before.ack=true; --producers
            connections each send --request-kb produce requests (one batch of 1 KB records,
            acks=1) back to back for --seconds; every answer comes after the group-commit
            fsync, so MB/s counts acknowledged, fsync'd bytes;
  page      the same against the default page-cache policy (the cost of durability).
Prints per-run figures, the medians and durable/fio (target >= 0.6).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import kafka_wire as kw  # noqa: E402
from broker_process import BrokerProcess, wait_for_topic  # noqa: E402

TOPIC = "durable"


def ensure_fio() -> str:
    fio = shutil.which("fio")
    if fio:
        return fio
    print("fio missing: apt-get install -y fio", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "fio"], check=False, stdout=subprocess.DEVNULL)
    fio = shutil.which("fio")
    if not fio:
        subprocess.run(["apt-get", "update", "-q"], check=False, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", "fio"], check=True, stdout=subprocess.DEVNULL)
        fio = shutil.which("fio")
    return fio


def fio_mb_s(fio: str, directory: Path) -> float:
    out = subprocess.run([fio, "--name=seqfsync", "--rw=write", "--bs=1M", "--size=512M", "--fdatasync=1",
                          "--ioengine=sync", f"--directory={directory}", "--output-format=json"],
                         check=True, capture_output=True, text=True).stdout
    job = json.loads(out)["jobs"][0]["write"]
    for f in directory.glob("seqfsync*"):
        f.unlink()
    return job["bw_bytes"] / 1e6


def produce_mb_s(data: Path, overrides: dict, seconds: float, producers: int, request_kb: int) -> float:
    b = BrokerProcess(data, overrides, name=data.name).start()
    try:
        with kw.Connection.to(b.bootstrap) as c:
            assert kw.create_topics(c, [(TOPIC, 1)])[TOPIC][0] == kw.NONE
            wait_for_topic(c, TOPIC, 1)
        batch = kw.encode_batch([(None, b"v" * 1000) for _ in range(request_kb)])
        acked = [0] * producers
        errors: list[str] = []
        stop = time.monotonic() + seconds

        def run(i: int) -> None:
            try:
                with kw.Connection.to(b.bootstrap, timeout=60) as c:
                    while time.monotonic() < stop:
                        res = kw.produce(c, TOPIC, 0, batch, acks=1)
                        if res.error != kw.NONE:
                            errors.append(f"error {res.error}")
                            return
                        acked[i] += len(batch)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        t0 = time.monotonic()
        threads = [threading.Thread(target=run, args=(i,)) for i in range(producers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        assert not errors, errors
        return sum(acked) / elapsed / 1e6
    finally:
        b.stop()
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.environ.get("CONVEYOR_BENCH_DIR", "/tmp"))
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--producers", type=int, default=8)
    ap.add_argument("--request-kb", type=int, default=256)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    fio = ensure_fio()
    work = Path(tempfile.mkdtemp(prefix="conveyor-durable-bench-", dir=args.dir))
    common = {"num.partitions": "1", "auto.create.topics.enable": "false"}
    res: dict[str, list[float]] = {"fio": [], "durable": [], "page": []}
    try:
        for run in range(args.runs):
            res["fio"].append(fio_mb_s(fio, work))
            res["durable"].append(produce_mb_s(work / f"durable{run}", {**common, "conveyor.log.fsync.before.ack": "true"},
                                               args.seconds, args.producers, args.request_kb))
            res["page"].append(produce_mb_s(work / f"page{run}", common, args.seconds, args.producers, args.request_kb))
            print(f"run {run}: fio {res['fio'][-1]:.1f} MB/s, durable {res['durable'][-1]:.1f} MB/s "
                  f"({res['durable'][-1] / res['fio'][-1]:.2f}x fio), page cache {res['page'][-1]:.1f} MB/s", flush=True)
        med = {k: statistics.median(v) for k, v in res.items()}
        ratios = [d / f for d, f in zip(res["durable"], res["fio"])]
        print(f"median: fio {med['fio']:.1f} MB/s, durable {med['durable']:.1f} MB/s "
              f"({med['durable'] * 1e6 / 1000 / 1e3:.0f}k records/s of 1 KB), page cache {med['page']:.1f} MB/s; "
              f"durable/fio per run {', '.join(f'{r:.2f}' for r in ratios)} (median {statistics.median(ratios):.2f}, "
              f"target >= 0.60); durable/page {med['durable'] / med['page']:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
