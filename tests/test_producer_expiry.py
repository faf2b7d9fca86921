"""Idempotent producer state expiry end to end (KIP-854 producer.id.expiration.ms, KIP-360):
a conveyor broker process with producer.id.expiration.ms=2000 and a check every 200 ms, and an
idempotent producer — confluent-kafka (librdkafka), then conveyor's own — that produces, idles
until the broker has dropped its state, then produces again with the same producer id. The
broker must accept the continuing (non-zero) sequence of a producer id it no longer knows;
every record is then delivered exactly once and in order, which is checked by reading the
partition back over the wire (batch producer ids and sequences included).

Conveyor only: Apache Kafka's expiry check runs every 10 minutes unless its internal
producer.id.expiration.check.interval.ms is changed, so the reference pass would take too long.
"""
from __future__ import annotations

import time

import pytest

ck = pytest.importorskip("confluent_kafka", reason="confluent-kafka is not installed (scripts/install-deps.sh)")
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

import conveyor  # noqa: E402
import kafka_wire  # noqa: E402

EXPIRATION_MS = 2000
EXPIRY = {"producer.id.expiration.ms": str(EXPIRATION_MS), "producer.id.expiration.check.interval.ms": "200"}
EXPIRED_LINE = "expired the idempotent state of"
PER_PHASE = 300


def produce_phase(p: Producer, topic: str, values: list[bytes]) -> list[tuple[int, object]]:
    """Produces `values` to partition 0 and waits for every delivery report: (offset, error)."""
    reports: list[tuple[int, object]] = []

    def on_delivery(err, msg) -> None:
        reports.append((msg.offset() if err is None else -1, err))

    for v in values:
        p.produce(topic, value=v, partition=0, on_delivery=on_delivery)
        p.poll(0)
    assert p.flush(60) == 0, "deliveries still outstanding after 60 s"
    return reports


def expired_lines(broker) -> int:
    try:
        return broker.stderr_path.read_text(errors="replace").count(EXPIRED_LINE)
    except OSError:
        return 0


@pytest.fixture(scope="module")
def broker(broker_factory):
    b = broker_factory(EXPIRY, name="pidexpiry")
    yield b
    assert b.stop() == 0, b.stderr_tail()


def create_topic(bootstrap: str) -> str:
    topic = f"pid-expiry-{time.monotonic_ns()}"
    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the future
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)],
                        operation_timeout=30)[topic].result(timeout=60)
    return topic


def wait_expired(broker, before: int, produce_started: float) -> None:
    """Idles until the broker logged a further expiry. That cannot happen before the
    expiration has passed since the producer's first record (`produce_started`, monotonic,
    taken before it): every batch's timestamp is at least that late."""
    deadline = time.monotonic() + 60
    while expired_lines(broker) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert expired_lines(broker) > before, f"the producer state never expired\n{broker.stderr_tail()}"
    assert time.monotonic() - produce_started >= EXPIRATION_MS / 1000 - 0.2


def check_read_back(bootstrap: str, topic: str, first: list[bytes], second: list[bytes]) -> None:
    """Every value exactly once, in produce order, one producer id, and sequences that continue
    across the idle time (the broker accepted a non-zero first sequence from a producer id it
    no longer had state for)."""
    with kafka_wire.Connection.to(bootstrap) as c:
        batches = kafka_wire.fetch_all(c, topic, 0)
    values = [r.value for b in batches for r in b.records]
    assert values == first + second
    assert len({b.producer_id for b in batches}) == 1 and batches[0].producer_id >= 0
    seq = 0
    for b in batches:
        assert b.base_sequence == seq, (b.base_offset, b.base_sequence, seq)
        seq += b.record_count
    resumed = next(b for b in batches if b.records[0].value == second[0])
    assert resumed.base_sequence == len(first)


def test_confluent_idempotent_producer_continues_after_its_state_expired(broker):
    topic = create_topic(broker.bootstrap)
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "acks": "all",
                  "linger.ms": 5, "batch.num.messages": 50, "compression.type": "none"})
    first = [f"a-{i:05d}".encode() for i in range(PER_PHASE)]
    second = [f"b-{i:05d}".encode() for i in range(PER_PHASE)]

    before = expired_lines(broker)
    started = time.monotonic()
    reports = produce_phase(p, topic, first)
    assert [e for _, e in reports if e is not None] == []
    wait_expired(broker, before, started)
    reports += produce_phase(p, topic, second)
    errors = [e for _, e in reports if e is not None]
    assert errors == [], errors
    assert [o for o, _ in reports] == list(range(2 * PER_PHASE)), "delivered offsets not 0..n-1 in order"
    check_read_back(broker.bootstrap, topic, first, second)


def test_conveyor_idempotent_producer_continues_after_its_state_expired(broker):
    topic = create_topic(broker.bootstrap)
    first = [f"c-{i:05d}".encode() for i in range(PER_PHASE)]
    second = [f"d-{i:05d}".encode() for i in range(PER_PHASE)]
    reports: list[tuple[int, object]] = []

    def on_delivery(err, msg) -> None:
        reports.append((msg.offset if err is None else -1, err))

    before = expired_lines(broker)
    started = time.monotonic()
    # Idempotence and acks=all are conveyor's defaults; no compression so the wire read decodes.
    with conveyor.Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5,
                            "compression.type": "none"}) as p:
        for v in first:
            p.produce(topic, value=v, partition=0, on_delivery=on_delivery)
        assert p.flush(60) == 0
        wait_expired(broker, before, started)
        for v in second:
            p.produce(topic, value=v, partition=0, on_delivery=on_delivery)
        assert p.flush(60) == 0
    errors = [e for _, e in reports if e is not None]
    assert errors == [], errors
    assert sorted(o for o, _ in reports) == list(range(2 * PER_PHASE))
    check_read_back(broker.bootstrap, topic, first, second)
