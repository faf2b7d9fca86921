#!/usr/bin/env bash
# kcat producing 1,000,000 100-byte records from a file: into a conveyor broker vs into
# librdkafka's in-process mock cluster (-X test.mock.num.brokers=1, which ignores -b), in the
# same session. Issue 2 "Speed": conveyor's time must be at most 1.5x the mock's.
#
#   bench/kcat_vs_mock.sh                  # broker: `conveyor broker` CLI if on PATH, else the
#                                          # C++ bench broker from build-bench
#   BROKER=cpp bench/kcat_vs_mock.sh       # force build-bench/bench/conveyor_bench_broker
#   BROKER=cli bench/kcat_vs_mock.sh       # force the Python CLI
#   BOOTSTRAP=host:port bench/kcat_vs_mock.sh   # use a broker that is already running
#   RECORDS=1000000 SIZE=100 RUNS=5 PARTITION=0 bench/kcat_vs_mock.sh
#
# Both commands are identical except for the broker: kcat -P -t bench -p 0 -X acks=1 -l FILE.
# `-p 0` makes both write one partition (the mock would otherwise auto-create 4 and spread
# records over them; the conveyor broker is started with num.partitions=1). Uses hyperfine
# (Debian package hyperfine) if installed, else /usr/bin/time in a loop. Prints the ratio of
# the mean times and verifies that the conveyor topic holds RUNS x RECORDS records.
set -euo pipefail

RECORDS=${RECORDS:-1000000}
SIZE=${SIZE:-100}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
PARTITION=${PARTITION:-0}
BROKER=${BROKER:-auto}
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$REPO/build-bench}
WORK=$(mktemp -d /tmp/conveyor-kcat-bench-XXXXXX)
BROKER_PID=""

cleanup() {
  if [[ -n "$BROKER_PID" ]]; then
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v kcat >/dev/null || { echo "kcat not found" >&2; exit 1; }

# Input file: RECORDS lines of SIZE bytes each (plus the newline delimiter), cached in /tmp.
INPUT=/tmp/conveyor-bench-${RECORDS}x${SIZE}.txt
if [[ ! -s "$INPUT" ]]; then
  python3 - "$INPUT" "$RECORDS" "$SIZE" <<'EOF'
import sys
path, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
line = (b"0123456789abcdefghijklmnopqrstuvwxyz" * (size // 36 + 1))[:size] + b"\n"
with open(path, "wb") as f:
    for _ in range(n // 10000):
        f.write(line * 10000)
    f.write(line * (n % 10000))
EOF
fi

if [[ -z "${BOOTSTRAP:-}" ]]; then
  if [[ "$BROKER" == auto ]]; then
    if [[ -n "${CONVEYOR_CLI:-}" ]] || command -v conveyor >/dev/null; then BROKER=cli; else BROKER=cpp; fi
  fi
  if [[ "$BROKER" == cli ]]; then
    ${CONVEYOR_CLI:-conveyor} broker --override "log.dirs=$WORK/data" \
      --override listeners=PLAINTEXT://127.0.0.1:0 \
      --override num.partitions=1 --override auto.create.topics.enable=true \
      >"$WORK/broker.out" 2>"$WORK/broker.err" &
  else
    "$BUILD/bench/conveyor_bench_broker" listeners=PLAINTEXT://127.0.0.1:0 \
      "log.dirs=$WORK/data" num.partitions=1 auto.create.topics.enable=true \
      >"$WORK/broker.out" 2>"$WORK/broker.err" &
  fi
  BROKER_PID=$!
  for _ in $(seq 200); do
    if grep -q "listening on" "$WORK/broker.out" 2>/dev/null; then break; fi
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then cat "$WORK/broker.err" >&2; exit 1; fi
    sleep 0.05
  done
  BOOTSTRAP=$(sed -n 's/^conveyor broker listening on //p' "$WORK/broker.out" | head -1)
  [[ -n "$BOOTSTRAP" ]] || { echo "broker did not print its ready line" >&2; cat "$WORK/broker.err" >&2; exit 1; }
  echo "broker ($BROKER, pid $BROKER_PID) at $BOOTSTRAP"
fi

TOPIC=bench-kcat-$$
CONVEYOR_CMD="kcat -P -b $BOOTSTRAP -t $TOPIC -p $PARTITION -X acks=1 -l $INPUT"
MOCK_CMD="kcat -P -b 127.0.0.1:1 -X test.mock.num.brokers=1 -t $TOPIC -p $PARTITION -X acks=1 -l $INPUT"
echo "machine: $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $INPUT ($RECORDS records x $SIZE B)"
echo "conveyor: $CONVEYOR_CMD"
echo "mock:     $MOCK_CMD"

# CPU seconds (user+system) a process has used: /proc/PID/stat fields 14 and 15, in ticks.
proc_cpu() {
  [[ -n "$1" && -r /proc/$1/stat ]] || { echo 0; return; }
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}
BROKER_CPU0=$(proc_cpu "$BROKER_PID")

if command -v hyperfine >/dev/null; then
  hyperfine --style basic --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORK/hf.json" \
    -n conveyor "$CONVEYOR_CMD 2>$WORK/kcat-conveyor.err" \
    -n mock "$MOCK_CMD 2>/dev/null"
  python3 - "$WORK/hf.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
c, m = r["conveyor"], r["mock"]
print(f"conveyor mean {c['mean']:.3f} s (median {c['median']:.3f}, user {c['user']:.3f}, sys {c['system']:.3f})")
print(f"mock     mean {m['mean']:.3f} s (median {m['median']:.3f}, user {m['user']:.3f}, sys {m['system']:.3f})")
print(f"ratio conveyor/mock: mean {c['mean']/m['mean']:.2f}x, median {c['median']/m['median']:.2f}x (target <= 1.5x)")
EOF
  TOTAL_RUNS=$((RUNS + WARMUP))
else
  for name in conveyor mock; do
    if [[ $name == conveyor ]]; then cmd=$CONVEYOR_CMD; else cmd=$MOCK_CMD; fi
    for i in $(seq "$RUNS"); do
      /usr/bin/time -f "%e" -a -o "$WORK/$name.times" $cmd 2>/dev/null
    done
  done
  python3 - "$WORK/conveyor.times" "$WORK/mock.times" <<'EOF'
import statistics, sys
c = [float(x) for x in open(sys.argv[1])]
m = [float(x) for x in open(sys.argv[2])]
print(f"conveyor median {statistics.median(c):.3f} s  runs {c}")
print(f"mock     median {statistics.median(m):.3f} s  runs {m}")
print(f"ratio conveyor/mock (median): {statistics.median(c)/statistics.median(m):.2f}x (target <= 1.5x)")
EOF
  TOTAL_RUNS=$RUNS
fi

# kcat's own CPU (hyperfine's user/sys) excludes a separate conveyor broker but includes the
# mock, which runs inside kcat; the broker's share is added here for a like-for-like figure.
if [[ -n "$BROKER_PID" ]]; then
  python3 -c "import sys; c=(float(sys.argv[2])-float(sys.argv[1]))/int(sys.argv[3]); print(f'conveyor broker process CPU per run: {c:.3f} s (add to kcat user+sys above; the mock runs inside kcat)')" \
    "$BROKER_CPU0" "$(proc_cpu "$BROKER_PID")" "$TOTAL_RUNS"
fi

# Every run must have landed: the next offset of the conveyor partition is runs x records.
LAST=$(kcat -C -b "$BOOTSTRAP" -t "$TOPIC" -p "$PARTITION" -o -1 -c 1 -e -f '%o\n' 2>/dev/null || true)
EXPECTED=$((TOTAL_RUNS * RECORDS - 1))
if [[ "$LAST" == "$EXPECTED" ]]; then
  echo "verified: last offset $LAST = $TOTAL_RUNS runs x $RECORDS records - 1"
else
  echo "VERIFY FAILED: last offset '$LAST', expected $EXPECTED" >&2
  exit 1
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
