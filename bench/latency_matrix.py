"""Produce→acknowledgement latency at a fixed rate for both clients against both brokers, run
alternately so that every variant sees the same machine (docs/benchmarks.md, target 4).

    python3 bench/latency_matrix.py [--build build-bench] [--rounds 5] [--seconds 10] [--rate 10000]
                                    [--variants cv-emb,cv-proc,cv-mock,rd-mock,rd-conv]

Variants (client → broker):
  cv-emb   conveyor's C++ producer → a conveyor broker embedded in the same process (the
           issue's figure: conveyor_latency_bench with no --bootstrap)
  cv-proc  conveyor's C++ producer → conveyor_bench_broker in its own process
  cv-mock  conveyor's C++ producer → librdkafka's in-memory mock broker in its own process
  rd-mock  librdkafka's producer → its mock inside the same process (the ceiling the issue
           names: the best a mature client reaches against a broker that only keeps records
           in memory)
  rd-conv  librdkafka's producer → conveyor_bench_broker in its own process

Each round runs every variant once, in order; the table shows each run and the medians. The
"CPU s" / "wait s" columns are the bench process's threads on a CPU / runnable but waiting
(from /proc/self/task/*/schedstat; brokers in their own process are not counted).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LINE = re.compile(r"p50=(\d+) us\s+p90=(\d+) us\s+p99=(\d+) us\s+p99\.9=(\d+) us")
SCHED = re.compile(r"([0-9.]+) s on a CPU, ([0-9.]+) s runnable")


def start_broker(bench_dir, data_dir):
    proc = subprocess.Popen([os.path.join(bench_dir, "conveyor_bench_broker"), "listeners=PLAINTEXT://127.0.0.1:0",
                             f"log.dirs={data_dir}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        m = re.search(r"listening on (\S+)", line)
        if m:
            return proc, m.group(1)
    sys.exit("conveyor_bench_broker did not print its ready line")


def start_mock():
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "librdkafka_mock.py"), "86400"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = proc.stdout.readline().strip()
    if not address:
        sys.exit("librdkafka_mock.py did not print an address (is confluent-kafka installed?)")
    return proc, address


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build-bench"), help="CMake build dir with bench/")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--variants", default="cv-emb,cv-proc,cv-mock,rd-mock,rd-conv")
    args = ap.parse_args()
    bench = os.path.join(args.build, "bench")
    variants = args.variants.split(",")
    common = [f"--rate={args.rate}", f"--seconds={args.seconds:g}"]

    procs = []
    conveyor = mock = None
    data_dir = tempfile.mkdtemp(prefix="conveyor-latency-matrix-")
    try:
        if any(v in ("cv-proc", "rd-conv") for v in variants):
            broker, conveyor = start_broker(bench, data_dir)
            procs.append(broker)
        if "cv-mock" in variants:
            m, mock = start_mock()
            procs.append(m)
        cv = os.path.join(bench, "conveyor_latency_bench")
        rd = os.path.join(bench, "conveyor_rdkafka_latency_bench")
        commands = {
            "cv-emb": [cv],
            "cv-proc": [cv, f"--bootstrap={conveyor}"],
            "cv-mock": [cv, f"--bootstrap={mock}", "--create-topic=0"],
            "rd-mock": [rd],
            "rd-conv": [rd, f"--bootstrap={conveyor}"],
        }
        results = {v: [] for v in variants}
        print(f"{'variant':8} {'round':>5} {'p50':>6} {'p90':>6} {'p99':>6} {'p99.9':>7} {'CPU s':>6} {'wait s':>7}  load")
        for r in range(1, args.rounds + 1):
            for v in variants:
                load = open("/proc/loadavg").read().split()[0]
                out = subprocess.run(commands[v] + common, capture_output=True, text=True)
                m, s = LINE.search(out.stdout), SCHED.search(out.stdout)
                if out.returncode != 0 or not m:
                    print(f"{v:8} {r:>5} failed (exit {out.returncode}): {out.stderr.strip()[-200:]}")
                    continue
                row = [int(x) for x in m.groups()] + ([float(x) for x in s.groups()] if s else [0.0, 0.0])
                results[v].append(row)
                print(f"{v:8} {r:>5} {row[0]:>6} {row[1]:>6} {row[2]:>6} {row[3]:>7} {row[4]:>6.2f} {row[5]:>7.2f}  {load}",
                      flush=True)
        print("\nmedians over rounds (µs):")
        for v in variants:
            rows = results[v]
            if not rows:
                continue
            med = [statistics.median(c) for c in zip(*rows)]
            p99s = sorted(row[2] for row in rows)
            print(f"{v:8} p50 {med[0]:>5.0f}  p90 {med[1]:>5.0f}  p99 {med[2]:>5.0f}  p99.9 {med[3]:>5.0f}  "
                  f"(p99 of each run: {', '.join(map(str, p99s))})")
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
