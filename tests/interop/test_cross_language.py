"""The cross-language story of issue 4: a Go program embeds the broker
(examples/go-embedded), conveyor's Python client produces, and a Java consumer group
(conveyor's Java binding) and a Go consumer group (conveyor's Go binding) each receive every
record. scripts/test.sh builds go-embedded and the Java jar before pytest runs."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / os.environ.get("CONVEYOR_BUILD_DIR", "build")
CROSS = Path(__file__).resolve().parent / "cross"
RECORDS = 2000


def require(path: Path, how: str) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: {how}")
    return path


@pytest.fixture
def go_broker(tmp_path):
    binary = require(BUILD / "go-embedded", "scripts/test.sh builds it (cd examples/go-embedded && go build)")
    proc = subprocess.Popen([str(binary), "-data", str(tmp_path / "data"), "-topics", "trades:4"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    line = proc.stdout.readline().strip()
    m = re.match(r"^go-embedded broker listening on (\S+)$", line)
    if not m:
        proc.kill()
        pytest.fail(f"go-embedded printed {line!r}")
    yield m.group(1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0


def test_go_broker_python_producer_java_and_go_groups(go_broker, tmp_path):
    import conveyor

    jar = require(ROOT / "java" / "target" / "conveyor-0.1.0.jar", "scripts/test.sh builds it (mvn -f java/pom.xml package)")
    env = dict(os.environ, CGO_LDFLAGS=f"-L{BUILD / 'capi'} -Wl,-rpath,{BUILD / 'capi'}")
    gobin = tmp_path / "gogroup"
    subprocess.run(["go", "build", "-o", str(gobin), "."], cwd=CROSS / "gogroup", env=env, check=True, timeout=300)

    with conveyor.Producer({"bootstrap.servers": go_broker}) as p:
        for i in range(RECORDS):
            p.produce("trades", key=f"sym{i % 13}".encode(), value=str(i).encode())
        assert p.flush(60) == 0

    java = subprocess.Popen(["java", "-cp", str(jar), str(CROSS / "JavaGroup.java"), go_broker, "java-group", "trades",
                             str(RECORDS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    gogroup = subprocess.Popen([str(gobin), go_broker, "go-group", "trades", str(RECORDS)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    java_out, java_err = java.communicate(timeout=180)
    go_out, go_err = gogroup.communicate(timeout=180)
    assert java.returncode == 0, f"Java group exited {java.returncode}\n{java_err[-2000:]}"
    assert gogroup.returncode == 0, f"Go group exited {gogroup.returncode}\n{go_err[-2000:]}"
    for lang, out in (("java", java_out), ("go", go_out)):
        values = Counter(int(line.split()[1]) for line in out.splitlines() if line.startswith(lang + " "))
        assert set(values) == set(range(RECORDS)), f"{lang} group missed {RECORDS - len(values)} records"
        assert all(n == 1 for n in values.values()), f"{lang} group read records twice"
    # Both groups committed everything: the Go embedded broker's Admin view agrees.
    with conveyor.Admin({"bootstrap.servers": go_broker}) as admin:
        for group in ("java-group", "go-group"):
            lag = admin.group_lag(group)
            assert lag.total_lag == 0 and sum(r.current_offset or 0 for r in lag) == RECORDS, (group, lag)
