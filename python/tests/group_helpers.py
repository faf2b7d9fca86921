"""Shared pieces of the consumer-group admin tests (test_admin_groups.py, test_cli_group.py).

The tests need a broker with a group coordinator: an embedded conveyor broker, or the broker
named by CONVEYOR_TEST_BOOTSTRAP (for example Apache Kafka, to check that conveyor's admin
client works against it unchanged). Group members are real Kafka clients (confluent-kafka),
never fakes.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import time
import uuid
from typing import Dict, Iterator, List, Optional

import pytest

import conveyor

_names = itertools.count()

# What a broker without a group coordinator answers FindCoordinator with.
NO_COORDINATOR = "COORDINATOR_NOT_AVAILABLE"


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def group_bootstrap() -> Iterator[str]:
    """bootstrap.servers of a broker with a group coordinator; skips the module when the
    broker answers group lookups with COORDINATOR_NOT_AVAILABLE (no coordinator yet)."""
    external = os.environ.get("CONVEYOR_TEST_BOOTSTRAP")
    broker = None
    if external:
        servers = external
    else:
        try:
            broker = conveyor.Broker({"num.partitions": 1, "group.initial.rebalance.delay.ms": 0})
        except conveyor.InvalidConfigError:  # a broker without group configs yet
            broker = conveyor.Broker({"num.partitions": 1})
        servers = broker.bootstrap_servers
    try:
        with conveyor.Admin({"bootstrap.servers": servers}) as admin:
            try:
                admin.describe_group(unique("probe"), timeout=10)
            except conveyor.KafkaTimeoutError as e:
                if NO_COORDINATOR in str(e):
                    pytest.skip(f"the broker has no group coordinator: {e}")
                raise
        yield servers
    finally:
        if broker is not None:
            broker.stop()


def make_topic(servers: str, partitions: int = 3, records_per_partition: int = 10,
               timestamps: Optional[List[int]] = None) -> str:
    """A fresh topic with `records_per_partition` records in every partition (values
    b"p<P>-<i>"); timestamps[i] (epoch ms) for record i when given."""
    name = unique("grp-topic")
    conf = {"bootstrap.servers": servers}
    with conveyor.Admin(conf) as admin:
        admin.create_topic(name, partitions=partitions)
    if records_per_partition:
        with conveyor.Producer(conf) as p:
            for part in range(partitions):
                for i in range(records_per_partition):
                    p.produce(name, value=f"p{part}-{i}".encode(), partition=part,
                              timestamp=timestamps[i] if timestamps else 0)
            assert p.flush(30) == 0
    return name


@contextlib.contextmanager
def confluent_member(servers: str, group: str, topics: List[str], client_id: str = "admin-test-member",
                     timeout: float = 60.0):
    """A confluent-kafka consumer that has joined `group` and received its assignment."""
    ck = pytest.importorskip("confluent_kafka")
    consumer = ck.Consumer({
        "bootstrap.servers": servers, "group.id": group, "client.id": client_id,
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "session.timeout.ms": 10000, "partition.assignment.strategy": "range",
    })
    try:
        consumer.subscribe(topics)
        deadline = time.monotonic() + timeout
        while not consumer.assignment():
            assert time.monotonic() < deadline, f"no assignment for group {group} within {timeout}s"
            consumer.poll(0.2)
        yield consumer
    finally:
        consumer.close()


def wait_for_state(admin: conveyor.Admin, group: str, states: List[str], timeout: float = 30.0) -> conveyor.GroupDescription:
    deadline = time.monotonic() + timeout
    while True:
        d = admin.describe_group(group)
        if d.state in states:
            return d
        assert time.monotonic() < deadline, f"group {group} stayed {d.state}, wanted {states}"
        time.sleep(0.2)


def committed(admin: conveyor.Admin, group: str) -> Dict[tuple, Optional[int]]:
    return {(o.topic, o.partition): o.offset for o in admin.list_group_offsets(group)}
