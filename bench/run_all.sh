#!/usr/bin/env bash
# Runs every benchmark of docs/benchmarks.md in one session and keeps the outputs.
#
#   ninja -C build-bench conveyor_bench && bench/run_all.sh [OUT_DIR]
#
# Steps (each output in OUT_DIR/<step>.txt, default /tmp/conveyor-bench-results-<time>):
#   micro        conveyor_micro_bench (crc32c, validate_batch, decode_batch, builder)
#   footprint    bench/broker_footprint.py (start-to-ready, idle RSS; CLI and C++ main)
#   kcat         bench/kcat_vs_mock.sh (kcat into conveyor vs into librdkafka's mock)
#   throughput_{embedded,process,mock}  conveyor_produce_consume_bench with the broker in the
#                same process, in its own process (conveyor_bench_broker), and librdkafka's
#                mock cluster (a kcat process hosting it) as the ceiling for the same client
#   latency_{embedded,process,mock}     conveyor_latency_bench, same three brokers
#   latency_rdkafka_{mock,process}      conveyor_rdkafka_latency_bench: librdkafka's producer
#                against its mock in the same process (the latency ceiling) and against a
#                conveyor broker process (bench/latency_matrix.py alternates all five)
# STEPS="kcat latency_mock" bench/run_all.sh runs a subset.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$REPO/build-bench}
B=$BUILD/bench
OUT=${1:-/tmp/conveyor-bench-results-$(date -u +%Y%m%dT%H%M%SZ)}
STEPS=${STEPS:-"micro footprint kcat throughput_embedded throughput_process throughput_mock latency_embedded latency_process latency_mock latency_rdkafka_mock latency_rdkafka_process"}
RECORDS=${RECORDS:-1000000}
RUNS=${RUNS:-3}
mkdir -p "$OUT"
PIDS=()
DIRS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for d in "${DIRS[@]}"; do rm -rf "$d" "$d.out"; done
}
trap cleanup EXIT

note() {
  echo "== $1  $(date -u +%H:%M:%SZ)  load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/log.txt"
}

# CPU seconds (user+system) a process has used: /proc/PID/stat fields 14 and 15, in ticks.
proc_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# Starts librdkafka's mock cluster inside an idle kcat consumer; sets MOCK to its address.
start_mock() {
  local err=$OUT/mock.err
  kcat -C -b 127.0.0.1:1 -X test.mock.num.brokers=1 -t mock-idle -o end >/dev/null 2>"$err" &
  PIDS+=($!)
  for _ in $(seq 100); do
    MOCK=$(grep -o 'replaced with [0-9.]*:[0-9]*' "$err" | sed 's/replaced with //' | head -1)
    [[ -n "$MOCK" ]] && return 0
    sleep 0.05
  done
  echo "mock cluster did not start" >&2
  return 1
}

# Starts conveyor_bench_broker in its own process; sets CONVEYOR to its address.
start_broker() {
  local dir
  dir=$(mktemp -d /tmp/conveyor-bench-broker-XXXXXX)
  DIRS+=("$dir")
  "$B/conveyor_bench_broker" listeners=PLAINTEXT://127.0.0.1:0 "log.dirs=$dir" \
    >"$dir.out" 2>"$OUT/broker.err" &
  PIDS+=($!)
  for _ in $(seq 100); do
    CONVEYOR=$(sed -n 's/^conveyor broker listening on //p' "$dir.out" | head -1)
    [[ -n "$CONVEYOR" ]] && return 0
    sleep 0.05
  done
  echo "broker did not start" >&2
  return 1
}

echo "results in $OUT"
{ uname -a; nproc; grep -m1 'model name' /proc/cpuinfo; free -m | head -2; } >"$OUT/machine.txt"
for step in $STEPS; do
  note "$step"
  # Brokers start here, outside the pipeline below, so cleanup() sees their pids.
  case $step in
    latency_rdkafka_mock) ;;  # librdkafka starts its mock inside the bench process
    *_process) start_broker || continue ;;
    *_mock) start_mock || continue ;;
  esac
  CPU0=""
  if [[ ${#PIDS[@]} -gt 0 ]]; then CPU0=$(proc_cpu "${PIDS[0]}"); fi
  case $step in
    micro) "$B/conveyor_micro_bench" --benchmark_min_time=0.5 ;;
    footprint) python3 "$REPO/bench/broker_footprint.py" --runs 5 --build "$BUILD" ;;
    kcat) BUILD=$BUILD RUNS=5 "$REPO/bench/kcat_vs_mock.sh" ;;
    throughput_embedded) "$B/conveyor_produce_consume_bench" --records="$RECORDS" --runs="$RUNS" ;;
    throughput_process) "$B/conveyor_produce_consume_bench" --records="$RECORDS" --runs="$RUNS" --bootstrap="$CONVEYOR" ;;
    throughput_mock) "$B/conveyor_produce_consume_bench" --records="$RECORDS" --runs="$RUNS" --bootstrap="$MOCK" --create-topic=0 ;;
    latency_embedded) "$B/conveyor_latency_bench" --rate=10000 --seconds=10 ;;
    latency_process) "$B/conveyor_latency_bench" --rate=10000 --seconds=10 --bootstrap="$CONVEYOR" ;;
    latency_mock) "$B/conveyor_latency_bench" --rate=10000 --seconds=10 --bootstrap="$MOCK" --create-topic=0 ;;
    latency_rdkafka_mock) "$B/conveyor_rdkafka_latency_bench" --rate=10000 --seconds=10 ;;
    latency_rdkafka_process) "$B/conveyor_rdkafka_latency_bench" --rate=10000 --seconds=10 --bootstrap="$CONVEYOR" ;;
    *) echo "unknown step $step" ;;
  esac 2>&1 | tee "$OUT/$step.txt"
  if [[ -n "$CPU0" ]]; then
    echo "broker process CPU during the step: $(python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f} s')" "$CPU0" "$(proc_cpu "${PIDS[0]}")")" \
      | tee -a "$OUT/$step.txt"
  fi
  cleanup
  PIDS=()
  DIRS=()
done
note done
