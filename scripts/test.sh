#!/usr/bin/env bash
# Builds conveyor once and runs every test suite: the C++ GoogleTest suites (ctest), the
# Python package's tests and the end-to-end tests (real clients, bad input, kill -9).
#
#   bash scripts/test.sh            # from a fresh clone: installs what is missing first
#
# One CMake build directory ($CONVEYOR_BUILD_DIR, default build/) serves ctest and the wheel:
# `pip install .` reuses it, so nothing compiles twice; ccache makes re-runs fast.
# Environment: PYTHON (python3), CONVEYOR_BUILD_DIR (build), CONVEYOR_JOBS (nproc),
# CONVEYOR_SKIP_DEPS=1 to skip scripts/install-deps.sh, CONVEYOR_SKIP_REFERENCE_KAFKA=1 to skip the
# interop pass against Apache Kafka (tests/reference_kafka.py), PYTEST_ARGS (extra pytest flags).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$CONVEYOR_ROOT"

BUILD_DIR="${CONVEYOR_BUILD_DIR:-build}"
JOBS="${CONVEYOR_JOBS:-$(nproc)}"
CTEST_TIMEOUT="${CONVEYOR_CTEST_TIMEOUT:-300}"    # seconds per ctest test
PYTEST_TIMEOUT="${CONVEYOR_PYTEST_TIMEOUT:-600}"  # seconds per pytest test
start=$(date +%s)
declare -a summary=()
failed=0

step() {  # step NAME COMMAND...: runs, times and records one stage
  local name="$1"; shift
  local t0=$(date +%s)
  log "$name"
  if "$@"; then
    summary+=("PASS  $name ($(( $(date +%s) - t0 ))s)")
  else
    local rc=$?
    summary+=("FAIL  $name (exit $rc, $(( $(date +%s) - t0 ))s)")
    failed=1
    return $rc
  fi
}

finish() {
  echo
  log "summary ($(( $(date +%s) - start ))s)"
  printf '  %s\n' "${summary[@]}"
  if ((failed)); then
    echo "scripts/test.sh: FAILED" >&2
    exit 1
  fi
  echo "scripts/test.sh: all passed"
  exit 0
}

if [ "${CONVEYOR_SKIP_DEPS:-0}" != 1 ]; then
  step "install dependencies" bash scripts/install-deps.sh || finish
fi

PY_EXE="$("$PYTHON" -c 'import sys; print(sys.executable)')"
PYBIND11_DIR="$("$PYTHON" -m pybind11 --cmakedir)"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_NOHASHDIR=1   # same objects whatever the checkout path
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"  # paths relative to the checkout, so clones share the cache

# Release to match pyproject.toml's cmake.build-type, so the wheel build reuses every object.
configure() {
  cmake -S . -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCONVEYOR_BUILD_TESTS=ON -DCONVEYOR_BUILD_PYTHON=ON -DCONVEYOR_BUILD_BENCH=OFF \
    -DCONVEYOR_BUILD_JAVA=ON \
    -DPython_EXECUTABLE="$PY_EXE" -Dpybind11_DIR="$PYBIND11_DIR"
}
step "cmake configure ($BUILD_DIR)" configure || finish
step "cmake build (-j$JOBS)" cmake --build "$BUILD_DIR" -j "$JOBS" || finish

# C++ suites; the python.pytest ctest entry is skipped here because pytest below runs
# python/tests against the installed wheel.
step "ctest" ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout "$CTEST_TIMEOUT" \
  -LE '^python$'

# The wheel, built from the same build directory (only the install step is new work).
# Go: the SWIG-generated cgo layer is current, vet is clean, the package's tests (race
# detector on), franz-go against an embedded broker, and examples/go-embedded built for the
# pytest interop run. All link the libconveyor.so of this build.
go_tests() {
  bash scripts/go-generate.sh --check || return 1
  local build; build="$(cd "$BUILD_DIR" && pwd)"
  local lib="$build/capi"
  export CGO_LDFLAGS="-L$lib -Wl,-rpath,$lib"
  (cd go && go vet ./... && go test -race -count=1 ./...) || return 1
  (cd go/interop && go vet ./... && go test -race -count=1 ./...) || return 1
  (cd examples/go-embedded && go vet ./... && go build -o "$build/go-embedded" .)
}
step "go vet + go test -race (go/, go/interop, examples/go-embedded)" go_tests

# Java: the JUnit 5 suite (java/, including kafka-clients 4.x and 3.9.x against an embedded
# conveyor broker) on the JNI layer and libconveyor_jni.so this build made (Maven compiles only
# Java), then examples/java-service run from the packaged jar (it loads its own native libraries).
java_tests() {
  local build; build="$(cd "$BUILD_DIR" && pwd)"
  mvn -f java/pom.xml -B -q -Dconveyor.build.dir="$build" verify || return 1
  java -cp java/target/conveyor-0.1.0.jar examples/java-service/OrderService.java --orders 200
}
step "mvn verify (java/) + examples/java-service" java_tests

install_wheel() {
  CONVEYOR_BUILD_TESTS=ON "$PYTHON" -m pip install "${pip_flags[@]}" --no-build-isolation \
    --force-reinstall --no-deps -C build-dir="$BUILD_DIR" -C cmake.build-type=Release .
}
if step "pip install . (reusing $BUILD_DIR)" install_wheel; then
  # Run pytest outside the source tree's python/ so `import conveyor` is the installed wheel.
  # One pytest run per suite: python/tests and tests each have a conftest.py whose helpers
  # their modules import by name, and one run would let one conftest shadow the other.
  for d in python/tests tests; do
    if compgen -G "$d/**/test_*.py" >/dev/null || compgen -G "$d/test_*.py" >/dev/null; then
      # shellcheck disable=SC2086
      step "pytest $d" "$PYTHON" -m pytest -q -p no:cacheprovider \
        --timeout "$PYTEST_TIMEOUT" -o faulthandler_timeout=$((PYTEST_TIMEOUT - 30)) \
        -rfEs ${PYTEST_ARGS:-} "$d"
    fi
  done
  # The same interop tests against Apache Kafka (KRaft, from Maven Central), so conveyor's
  # clients are shown to work with the real broker too, not only with conveyor.
  if [ "${CONVEYOR_SKIP_REFERENCE_KAFKA:-0}" != 1 ]; then
    step "pytest tests/interop against Apache Kafka" "$PYTHON" tests/reference_kafka.py -- \
      "$PYTHON" -m pytest -q -p no:cacheprovider --timeout "$PYTEST_TIMEOUT" -rfEs \
      ${PYTEST_ARGS:-} tests/interop
  fi
fi
finish
