#!/usr/bin/env bash
# bench/java/run.sh [RECORDS] [RUNS]: the C++ producer (conveyor_produce_consume_bench
# --mode=produce, from BENCH_BUILD_DIR, default build-bench) and then, in the same session,
# the Java binding (byte[] and direct ByteBuffer) and kafka-clients against an embedded
# conveyor broker. Needs `mvn -f java/pom.xml package` (the jar) and kafka-clients in ~/.m2.
set -euo pipefail
cd "$(dirname "$0")/../.."
records="${1:-1000000}"
runs="${2:-3}"
jar=java/target/conveyor-0.1.0.jar
m2="$HOME/.m2/repository"
kafka_cp="$m2/org/apache/kafka/kafka-clients/4.1.1/kafka-clients-4.1.1.jar"
for dep in org/slf4j/slf4j-api/1.7.36/slf4j-api-1.7.36.jar org/slf4j/slf4j-nop/1.7.36/slf4j-nop-1.7.36.jar; do
  [ -f "$m2/$dep" ] && kafka_cp="$kafka_cp:$m2/$dep"
done
echo "== $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) nproc $(nproc) load $(cut -d' ' -f1-3 /proc/loadavg)"
bench="${BENCH_BUILD_DIR:-build-bench}/bench/conveyor_produce_consume_bench"
if [ -x "$bench" ]; then
  "$bench" --mode=produce --records="$records" --runs="$runs" 2>/dev/null
else
  echo "(no $bench: build it with -DCONVEYOR_BUILD_BENCH=ON for the C++ baseline)"
fi
for client in conveyor conveyor-direct; do
  java -cp "$jar:$kafka_cp" bench/java/ProduceBench.java --client "$client" --records "$records" --runs "$runs" 2>/dev/null
done
java -cp "$jar:$kafka_cp" bench/java/ProduceBench.java --client kafka --records "$records" --runs "$runs" 2>/dev/null
