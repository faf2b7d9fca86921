"""Shared fixtures for conveyor's end-to-end tests (brokers: see broker_process.py).

$CONVEYOR_TEST_BOOTSTRAP=host:port points the interop tests at an already running broker
(for example Apache Kafka) instead of the session's conveyor broker.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kafka_wire  # noqa: E402
from broker_process import BrokerProcess, wait_for_topic  # noqa: E402


@pytest.fixture(scope="session")
def broker_factory(tmp_path_factory):
    """Starts extra brokers (own data dir, own overrides); all stopped at session end."""
    started: list[BrokerProcess] = []

    def make(overrides: dict[str, str] | None = None, name: str = "broker",
             data_dir: Path | None = None, start: bool = True) -> BrokerProcess:
        d = data_dir or tmp_path_factory.mktemp(name) / "data"
        b = BrokerProcess(d, overrides, name)
        started.append(b)
        return b.start() if start else b

    yield make
    for b in started:
        if b.alive():
            b.kill()


@pytest.fixture(scope="session")
def conveyor_broker(broker_factory):
    """The session's default conveyor broker (auto-creation on, 1 partition per new topic)."""
    b = broker_factory({"num.partitions": "1", "auto.create.topics.enable": "true"},
                       name="session")
    yield b
    rc = b.stop()
    assert rc == 0, f"broker exited {rc} on SIGTERM\n{b.stderr_tail()}"


@pytest.fixture(scope="session")
def bootstrap(request) -> str:
    """bootstrap.servers for the interop tests: $CONVEYOR_TEST_BOOTSTRAP or the session broker."""
    external = os.environ.get("CONVEYOR_TEST_BOOTSTRAP")
    if external:
        return external
    return request.getfixturevalue("conveyor_broker").bootstrap


_topic_counter = 0


@pytest.fixture
def new_topic(bootstrap):
    """new_topic(partitions=1) creates a uniquely named topic and returns its name."""

    def make(partitions: int = 1, prefix: str = "t") -> str:
        global _topic_counter
        _topic_counter += 1
        name = f"{prefix}-{os.getpid()}-{_topic_counter}-{int(time.time() * 1000) % 100000}"
        with kafka_wire.Connection.to(bootstrap) as c:
            _, keys = kafka_wire.api_versions(c, 0)
            if kafka_wire.CREATE_TOPICS not in keys:
                # An external broker without CreateTopics (e.g. librdkafka's mock cluster):
                # auto-create through Metadata and take its default partition count.
                kafka_wire.metadata(c, [name], version=4, allow_auto_topic_creation=True)
                wait_for_topic(c, name, None)
                return name
            res = kafka_wire.create_topics(c, [(name, partitions)])
            assert res[name][0] == kafka_wire.NONE, f"CreateTopics {name}: {res[name]}"
            wait_for_topic(c, name, partitions)
        return name

    return make
