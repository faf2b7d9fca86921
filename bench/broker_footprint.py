#!/usr/bin/env python3
"""Broker start-to-ready time and idle memory (issue 2 "Speed": start to ready <= 100 ms,
idle resident memory <= 50 MB).

    bench/broker_footprint.py [--runs 5] [--idle 2] [--variant cli] [--variant cpp]

For each run: exec the broker with a fresh data directory and port 0, time from just before
exec to the moment its ready line (`conveyor broker listening on HOST:PORT`) arrives on the
pipe, wait --idle seconds, read VmRSS / VmHWM / Threads from /proc/PID/status, send SIGTERM
and time the clean stop. Prints each run and the median per variant.

Variants:
  cli  the `conveyor broker` command of the Python package (what a user runs; includes the
       Python interpreter's start-up and memory); $CONVEYOR_CLI overrides the command line
  cpp  build-bench/bench/conveyor_bench_broker (the same embedded Broker in a bare C++ main)
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def command(variant, data_dir, build):
    if variant == "cli":
        if os.environ.get("CONVEYOR_CLI"):
            cli = os.environ["CONVEYOR_CLI"].split()
        elif shutil.which("conveyor"):
            cli = [shutil.which("conveyor")]
        else:
            return None
        return cli + ["broker", "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                      "--override", f"log.dirs={data_dir}"]
    exe = os.path.join(build, "bench", "conveyor_bench_broker")
    if not os.path.exists(exe):
        return None
    return [exe, "listeners=PLAINTEXT://127.0.0.1:0", f"log.dirs={data_dir}"]


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[key] = int(value.split()[0])
    return out


def one_run(cmd, idle):
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline()
    ready = time.perf_counter() - t0
    if not line.startswith(b"conveyor broker listening on "):
        proc.kill()
        _, err = proc.communicate()
        raise RuntimeError(f"no ready line from {cmd}: {line!r} {err[-2000:]!r}")
    time.sleep(idle)
    status = proc_status(proc.pid)
    t1 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    stop = time.perf_counter() - t1
    return {"ready_ms": ready * 1000, "stop_ms": stop * 1000, "rc": proc.returncode,
            "rss_mb": status["VmRSS"] / 1024, "hwm_mb": status["VmHWM"] / 1024,
            "anon_mb": status.get("RssAnon", 0) / 1024, "file_mb": status.get("RssFile", 0) / 1024,
            "threads": status["Threads"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--idle", type=float, default=2.0)
    ap.add_argument("--variant", action="append", choices=["cli", "cpp"])
    ap.add_argument("--build", default=os.path.join(REPO, "build-bench"))
    args = ap.parse_args()
    variants = args.variant or ["cli", "cpp"]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    failed = False
    for variant in variants:
        results = []
        for i in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="conveyor-footprint-") as tmp:
                cmd = command(variant, os.path.join(tmp, "data"), args.build)
                if cmd is None:
                    print(f"{variant}: not available, skipped")
                    break
                if i == 0:
                    print(f"{variant}: {' '.join(cmd)}")
                r = one_run(cmd, args.idle)
                results.append(r)
                print(f"  run {i}: ready {r['ready_ms']:.1f} ms, idle VmRSS {r['rss_mb']:.1f} MB "
                      f"(anon {r['anon_mb']:.1f}, file {r['file_mb']:.1f}, peak {r['hwm_mb']:.1f}), "
                      f"{r['threads']} threads, SIGTERM->exit {r['stop_ms']:.1f} ms rc={r['rc']}")
                failed |= r["rc"] != 0
        if results:
            med = lambda k: statistics.median(x[k] for x in results)
            print(f"{variant} median of {len(results)}: ready {med('ready_ms'):.1f} ms (target <= 100), "
                  f"idle VmRSS {med('rss_mb'):.1f} MB (target <= 50), stop {med('stop_ms'):.1f} ms")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
