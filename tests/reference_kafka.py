"""An Apache Kafka broker from Maven Central, for running conveyor's interop tests against
the real thing (issue 2: "nothing in the client may assume conveyor").

The broker is Kafka in KRaft combined mode (one process is broker and controller, node.id 1),
resolved by Maven from tests/reference_kafka/pom.xml (kafka_2.13, version
$CONVEYOR_REFERENCE_KAFKA_VERSION or the pom's default) and run as `java kafka.Kafka` on two
free loopback ports, with a fresh data dir formatted by `kafka.tools.StorageTool`. Needs `java`
(17+) and `mvn` on PATH; the first run downloads ~45 MB into ~/.m2.

Use:
    python tests/reference_kafka.py -- pytest tests/interop
        starts Kafka, runs the command with CONVEYOR_TEST_BOOTSTRAP=host:port, stops Kafka and
        exits with the command's status (tests/conftest.py points the interop tests there).
    python tests/reference_kafka.py
        starts Kafka, prints `apache kafka listening on HOST:PORT`, serves until Ctrl-C.
"""
from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from broker_process import wait_serving  # noqa: E402

POM = Path(__file__).resolve().parent / "reference_kafka" / "pom.xml"
DEFAULT_VERSION = "4.1.1"
START_TIMEOUT_S = 120.0  # a cold JVM on a loaded 2-core machine
# A cluster id is 16 bytes in unpadded base64url (22 characters); fixed, for readable logs.
CLUSTER_ID = base64.urlsafe_b64encode(b"conveyor-refkafk").decode().rstrip("=")


def kafka_version() -> str:
    return os.environ.get("CONVEYOR_REFERENCE_KAFKA_VERSION", DEFAULT_VERSION)


def classpath(version: str) -> str:
    """The broker's runtime classpath, resolved by Maven once and cached per version."""
    cache = Path.home() / ".cache" / "conveyor" / f"reference-kafka-{version}.classpath"
    if cache.exists():
        cp = cache.read_text().strip()
        if cp and all(Path(j).exists() for j in cp.split(os.pathsep)):
            return cp
    for tool in ("mvn", "java"):
        if not shutil.which(tool):
            raise RuntimeError(f"`{tool}` is not on PATH; the Apache Kafka reference broker "
                               "needs a JDK 17+ and Maven (scripts/install-deps.sh installs them)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    proc = subprocess.run(
        ["mvn", "-q", "-B", "-f", str(POM), f"-Dkafka.version={version}",
         "dependency:build-classpath", f"-Dmdep.outputFile={tmp}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    if proc.returncode != 0 or not tmp.exists():
        raise RuntimeError(f"Maven could not resolve org.apache.kafka:kafka_2.13:{version}:\n"
                           f"{proc.stdout[-4000:]}")
    tmp.replace(cache)
    return cache.read_text().strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApacheKafka:
    """One Apache Kafka broker+controller process with its own data dir; start()/stop()."""

    def __init__(self, work_dir: Path, version: str | None = None,
                 overrides: dict[str, str] | None = None) -> None:
        self.work_dir = Path(work_dir)
        self.version = version or kafka_version()
        self.overrides = dict(overrides or {})
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_path = self.work_dir / "kafka.log"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, cp: str, main: str, *args: str) -> list[str]:
        return ["java", "-Xms128m", "-Xmx768m", "-XX:+UseSerialGC",
                "-Dlog4j2.level=WARN", "-cp", cp, main, *args]

    def start(self, timeout: float = START_TIMEOUT_S) -> "ApacheKafka":
        cp = classpath(self.version)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        data = self.work_dir / "data"
        self.port, controller_port = free_port(), free_port()
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(data),
            "num.partitions": "1",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
        }
        props.update(self.overrides)
        config = self.work_dir / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        fmt = subprocess.run(self._java(cp, "kafka.tools.StorageTool", "format", "-t", CLUSTER_ID,
                                        "-c", str(config)),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=timeout)
        if fmt.returncode != 0:
            raise RuntimeError(f"kafka-storage format failed:\n{fmt.stdout[-4000:]}")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self._java(cp, "kafka.Kafka", str(config)),
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Apache Kafka exited {self.proc.returncode} while starting:\n"
                                   f"{self.log_tail()}")
            try:
                wait_serving(self.bootstrap, timeout=2.0)
                return self
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"Apache Kafka not serving within {timeout}s:\n"
                                       f"{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    with tempfile.TemporaryDirectory(prefix="conveyor-reference-kafka-") as tmp:
        t0 = time.monotonic()
        kafka = ApacheKafka(Path(tmp)).start()
        print(f"apache kafka {kafka.version} listening on {kafka.bootstrap} "
              f"(ready in {time.monotonic() - t0:.1f}s)", flush=True)
        try:
            if not command:
                _serve()
                return 0
            env = dict(os.environ, CONVEYOR_TEST_BOOTSTRAP=kafka.bootstrap)
            return subprocess.call(command, env=env)
        finally:
            kafka.stop()


def _serve() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
