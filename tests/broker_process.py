"""Real conveyor brokers started through the CLI, for the end-to-end tests.

A broker is `conveyor broker --override listeners=PLAINTEXT://127.0.0.1:0
--override log.dirs=DIR [...]`; it prints `conveyor broker listening on HOST:PORT` on stdout
when ready and exits 0 on SIGTERM (docs/internal/contracts.md, "CLI ready line").

Which CLI: $CONVEYOR_CLI (a command line, split on spaces) if set, else the `conveyor`
script installed beside this Python, else `conveyor` on PATH, else `python -m conveyor`.
$CONVEYOR_TEST_BOOTSTRAP=host:port points the interop tests at an already running broker
(for example Apache Kafka) instead; tests that need conveyor's own broker still start one.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kafka_wire  # noqa: E402

READY_RE = re.compile(rb"^conveyor broker listening on (\S+):(\d+)\s*$")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0


def conveyor_cli() -> list[str]:
    if os.environ.get("CONVEYOR_CLI"):
        return shlex.split(os.environ["CONVEYOR_CLI"])
    script = Path(sysconfig.get_path("scripts")) / "conveyor"
    if script.exists():
        return [str(script)]
    found = shutil.which("conveyor")
    if found:
        return [found]
    return [sys.executable, "-m", "conveyor"]


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class BrokerProcess:
    """One `conveyor broker` process with its own data dir. Use start()/stop()/kill()."""

    def __init__(self, data_dir: Path, overrides: dict[str, str] | None = None,
                 name: str = "broker", env: dict[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.env = dict(env or {})  # extra environment variables of the broker process
        self.overrides = dict(overrides or {})
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.host = ""
        self.port = 0
        self.stderr_path = self.data_dir.parent / f"{self.data_dir.name}.{name}.stderr.log"
        self._stdout_lines: list[bytes] = []
        self._pump: threading.Thread | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        cmd = conveyor_cli() + ["broker"]
        settings = {"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": str(self.data_dir)}
        settings.update(self.overrides)
        for k, v in settings.items():
            cmd += ["--override", f"{k}={v}"]
        return cmd

    def start(self, timeout: float = START_TIMEOUT_S) -> "BrokerProcess":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stdout_lines = []
        stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=stderr,
                                     start_new_session=True,
                                     env={**os.environ, **self.env} if self.env else None)
        stderr.close()
        ready = threading.Event()
        result: dict[str, bytes] = {}

        def pump() -> None:  # reads stdout for the whole life of the process
            assert self.proc and self.proc.stdout
            for line in self.proc.stdout:
                self._stdout_lines.append(line)
                m = READY_RE.match(line)
                if m and "addr" not in result:
                    result["addr"] = line
                    self.host, self.port = m.group(1).decode(), int(m.group(2))
                    ready.set()
            ready.set()

        self._pump = threading.Thread(target=pump, daemon=True, name=f"{self.name}-stdout")
        self._pump.start()
        if not ready.wait(timeout) or "addr" not in result:
            rc = self.proc.poll()
            self._force_kill()
            raise RuntimeError(
                f"{self.name} not ready within {timeout}s (exit {rc}); command: "
                f"{shlex.join(self.command())}\nstdout: {b''.join(self._stdout_lines)!r}\n"
                f"stderr tail:\n{self.stderr_tail()}")
        return self

    def stderr_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    @property
    def stdout_lines(self) -> list[bytes]:
        return list(self._stdout_lines)

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def pids(self) -> list[int]:
        """The broker process and its descendants (the CLI may exec or spawn the server)."""
        todo, seen = [self.pid], []
        while todo:
            p = todo.pop()
            seen.append(p)
            todo += _children(p)
        return seen

    def rss_kb(self) -> int:
        return sum(_status_kb(p, "VmRSS") for p in self.pids())

    def peak_rss_kb(self) -> int:
        """High-water mark of resident memory (VmHWM), summed over the process tree."""
        return sum(_status_kb(p, "VmHWM") for p in self.pids())

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM, wait, return the exit code (the contract says 0)."""
        assert self.proc
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._force_kill()
                raise RuntimeError(f"{self.name} did not stop within {timeout}s of SIGTERM\n"
                                   f"{self.stderr_tail()}")
        self._reap_group()
        self._pump.join(5)  # every stdout line the broker wrote is in stdout_lines now
        return self.proc.returncode

    def kill(self) -> None:
        """kill -9 of the whole process group, as a power cut would."""
        self._force_kill()

    def _force_kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def _reap_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # leftovers of the group, if any
        except (ProcessLookupError, PermissionError):
            pass


def wait_serving(bootstrap: str, timeout: float = 10.0) -> None:
    """A new connection gets a valid ApiVersions v0 response (error 0, the core keys)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with kafka_wire.Connection.to(bootstrap, timeout=5) as c:
                err, keys = kafka_wire.api_versions(c, 0)
                assert err == kafka_wire.NONE, f"ApiVersions error {err}"
                for k in (kafka_wire.PRODUCE, kafka_wire.FETCH, kafka_wire.METADATA,
                          kafka_wire.API_VERSIONS):
                    assert k in keys, f"ApiVersions lacks key {k}: {keys}"
                return
        except (OSError, kafka_wire.WireError) as e:
            last = e
            time.sleep(0.1)
    raise AssertionError(f"broker at {bootstrap} not serving: {last}")


def wait_for_topic(conn: kafka_wire.Connection, name: str, partitions: int | None,
                   timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        _, topics = kafka_wire.metadata(conn, [name], version=4, allow_auto_topic_creation=False)
        t = topics.get(name)
        if t and t.error == 0 and t.partitions and partitions in (None, len(t.partitions)) and all(
                err == 0 and leader >= 0 for err, leader in t.partitions.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"topic {name} not ready: {t}")
        time.sleep(0.05)
