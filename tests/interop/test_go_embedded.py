"""examples/go-embedded: a Go program that embeds a conveyor broker (through the Go binding)
and serves it on a port; kcat and conveyor's Python client use it like any Kafka broker.

scripts/test.sh builds the program to $CONVEYOR_BUILD_DIR/go-embedded (default build/)
before pytest runs; $CONVEYOR_GO_EMBEDDED names another binary."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"^go-embedded broker listening on (\S+)$")


def binary() -> Path:
    explicit = os.environ.get("CONVEYOR_GO_EMBEDDED")
    path = Path(explicit) if explicit else ROOT / os.environ.get("CONVEYOR_BUILD_DIR", "build") / "go-embedded"
    if not path.exists():
        pytest.fail(f"{path} is missing: scripts/test.sh builds it (cd examples/go-embedded && go build)")
    return path


@pytest.fixture
def go_broker(tmp_path):
    proc = subprocess.Popen([str(binary()), "-data", str(tmp_path / "data"), "-topics", "orders:3,logs:1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    bootstrap = None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = READY.match(line.strip())
        if m:
            bootstrap = m.group(1)
            break
    if bootstrap is None:
        proc.kill()
        pytest.fail(f"go-embedded did not print its ready line (exit {proc.poll()})")
    yield bootstrap
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, "go-embedded did not exit 0 on SIGTERM"
    assert "go-embedded broker stopped" in proc.stdout.read()
    assert (tmp_path / "data" / "orders-0").is_dir()  # Kafka's layout in the Go program's data dir


def test_kcat_and_python_use_the_go_embedded_broker(go_broker, tmp_path):
    import conveyor

    # kcat sees the topics the Go program created.
    if shutil.which("kcat"):
        meta = subprocess.run(["kcat", "-b", go_broker, "-L"], capture_output=True, text=True,
                              timeout=30, check=True).stdout
        assert 'topic "orders" with 3 partitions' in meta
        src = tmp_path / "lines.txt"
        src.write_text("".join(f"line {i}\n" for i in range(1000)))
        subprocess.run(["kcat", "-b", go_broker, "-P", "-t", "logs", "-p", "0", "-z", "lz4", "-l", str(src)],
                       check=True, timeout=60)
        out = subprocess.run(["kcat", "-b", go_broker, "-C", "-t", "logs", "-p", "0", "-o", "beginning",
                              "-e", "-q"], capture_output=True, text=True, timeout=60, check=True).stdout
        assert out.splitlines() == [f"line {i}" for i in range(1000)]

    # conveyor's Python client produces by key and a group of one reads every record.
    with conveyor.Producer({"bootstrap.servers": go_broker}) as p:
        for i in range(3000):
            p.produce("orders", key=f"sym{i % 11}".encode(), value=str(i).encode())
        assert p.flush(60) == 0
    got = []
    with conveyor.Consumer({"bootstrap.servers": go_broker, "group.id": "py-on-go",
                            "auto.offset.reset": "earliest"}) as c:
        c.subscribe(["orders"])
        deadline = time.monotonic() + 60
        while len(got) < 3000 and time.monotonic() < deadline:
            got += [int(r.value) for r in c.consume(500, timeout=0.2)]
        c.commit()
    assert sorted(got) == list(range(3000))
