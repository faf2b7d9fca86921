#!/usr/bin/env bash
# Installs what conveyor's build, demo and tests need on Debian 12 (apt + pip). Idempotent:
# when everything is present it checks and returns in a second or two, without apt-get update.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

APT_PACKAGES=(
  # toolchain
  cmake ninja-build g++ ccache pkg-config git
  # compression codecs, networking, test and bench frameworks, formatting, CLI parsing
  libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev libasio-dev
  libgtest-dev libgmock-dev libbenchmark-dev libfmt-dev libcli11-dev
  # Python headers and pip for the extension module
  python3-dev python3-pip python3-venv
  # real Kafka client for the interop tests and demo; zstd/procps for tests and scripts
  kcat zstd procps
  # benchmark timing (bench/kcat_vs_mock.sh; falls back to /usr/bin/time without it)
  hyperfine
  librdkafka-dev  # bench/rdkafka_latency_bench.c: librdkafka's producer as the latency ceiling
  swig            # the Go binding's cgo layer and the Java binding's JNI layer (bindings/*/conveyor.i)
  openjdk-17-jdk-headless maven   # the Java binding (java/) and the Apache Kafka reference broker
)
# Python modules the build and tests import (PyPI names in the table below).
PIP_MODULES=(pybind11 scikit_build_core pytest pytest_timeout confluent_kafka kafka)

missing=()
while read -r pkg status; do
  [ "$status" = "installed" ] || missing+=("$pkg")
done < <(for p in "${APT_PACKAGES[@]}"; do
           printf '%s %s\n' "$p" "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || echo missing)"
         done)
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "apt packages present"
fi

if ! command -v "$PYTHON" >/dev/null; then
  echo "install-deps: $PYTHON not found" >&2
  exit 1
fi
# find_spec looks modules up without importing them (fast re-runs).
mapfile -t need < <("$PYTHON" - "${PIP_MODULES[@]}" <<'PY'
import importlib.util, sys
packages = {"pybind11": "pybind11", "scikit_build_core": "scikit-build-core", "pytest": "pytest",
            "pytest_timeout": "pytest-timeout", "confluent_kafka": "confluent-kafka",
            "kafka": "kafka-python"}
for module in sys.argv[1:]:
    if importlib.util.find_spec(module) is None:
        print(packages[module])
PY
)
if ((${#need[@]})); then
  log "pip install ${need[*]}"
  "$PYTHON" -m pip install "${pip_flags[@]}" "${need[@]}"
else
  log "Python packages present ($("$PYTHON" --version))"
fi

# Maven artifacts of the Java binding (JUnit 5, kafka-clients 4.x and 3.9.x, build plugins) into
# ~/.m2, so `mvn -f java/pom.xml verify` later works offline. Skipped when already there.
if [ ! -f "$HOME/.m2/repository/org/apache/kafka/kafka-clients/3.9.1/kafka-clients-3.9.1.jar" ] ||
   [ ! -d "$HOME/.m2/repository/org/junit/jupiter/junit-jupiter" ] ||
   [ ! -d "$HOME/.m2/repository/org/codehaus/mojo/build-helper-maven-plugin" ]; then
  log "mvn: fetching the Java binding's dependencies into ~/.m2"
  mvn -f "$CONVEYOR_ROOT/java/pom.xml" -B -q dependency:resolve dependency:resolve-plugins
  mvn -B -q dependency:get -Dartifact=org.apache.kafka:kafka-clients:3.9.1
else
  log "Maven artifacts present"
fi
