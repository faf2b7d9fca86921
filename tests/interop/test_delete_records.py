"""DeleteRecords (issue 5) through real clients' admin APIs — confluent-kafka (librdkafka) and
kafka-python — and what consumers see afterwards: the low watermark moves, a consumer from the
beginning starts there, and one positioned below it gets OFFSET_OUT_OF_RANGE, which
auto.offset.reset resolves or reports. Runs against conveyor and, in CI, against Apache Kafka.
"""
from __future__ import annotations

import time

import pytest

ck = pytest.importorskip("confluent_kafka", reason="confluent-kafka is not installed (scripts/install-deps.sh)")
from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

from ck_client import read_offsets as consume_from, watermarks  # noqa: E402

RECORDS = 300


def produce(bootstrap: str, topic: str, partitions: int) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    for i in range(RECORDS):
        p.produce(topic, value=f"v{i}".encode(), partition=i % partitions)
    assert p.flush(60) == 0


def test_confluent_delete_records_moves_the_low_watermark(bootstrap, new_topic):
    topic = new_topic(2, prefix="dr-ck")
    produce(bootstrap, topic, 2)
    per_partition = RECORDS // 2
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.delete_records([TopicPartition(topic, 0, 100), TopicPartition(topic, 1, -1)],
                                   request_timeout=30, operation_timeout=30)
    results = {tp.partition: f.result(timeout=60) for tp, f in futures.items()}
    # confluent-kafka answers each partition with its new low watermark (DeletedRecords).
    assert results[0].low_watermark == 100
    assert results[1].low_watermark == per_partition  # -1: up to the high watermark
    assert watermarks(bootstrap, topic, 0) == (100, per_partition)
    assert watermarks(bootstrap, topic, 1) == (per_partition, per_partition)

    # From the beginning: the first record read is at the new low watermark.
    got, errors = consume_from(bootstrap, topic, 0, ck.OFFSET_BEGINNING, "earliest", per_partition - 100)
    assert not errors, errors
    assert got == list(range(100, per_partition))

    # Positioned below the log start: auto.offset.reset=earliest moves it to the log start...
    got, errors = consume_from(bootstrap, topic, 0, 10, "earliest", per_partition - 100)
    assert not errors, errors
    assert got[0] == 100 and got == list(range(100, per_partition))
    # ... and auto.offset.reset=error reports the out-of-range offset instead of reading.
    got, errors = consume_from(bootstrap, topic, 0, 10, "error", 1)
    assert got == []
    assert errors and errors[0].code() == KafkaError._AUTO_OFFSET_RESET, errors

    # Deleting below the current low watermark changes nothing; above the high watermark fails.
    again = admin.delete_records([TopicPartition(topic, 0, 50)], request_timeout=30, operation_timeout=30)
    assert list(again.values())[0].result(timeout=60).low_watermark == 100
    beyond = admin.delete_records([TopicPartition(topic, 0, per_partition + 10)], request_timeout=30,
                                  operation_timeout=30)
    with pytest.raises(KafkaException) as e:
        list(beyond.values())[0].result(timeout=60)
    assert e.value.args[0].code() == KafkaError.OFFSET_OUT_OF_RANGE


def test_kafka_python_delete_records(bootstrap, new_topic):
    kafka = pytest.importorskip("kafka", reason="kafka-python is not installed (scripts/install-deps.sh)")
    topic = new_topic(1, prefix="dr-kp")
    produce(bootstrap, topic, 1)
    admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        result = admin.delete_records({kafka.TopicPartition(topic, 0): 123}, timeout_ms=30_000)
    finally:
        admin.close()
    (tp, info), = result.items()
    assert tp == kafka.TopicPartition(topic, 0)
    assert info["low_watermark"] == 123, info  # errors raise instead
    consumer = kafka.KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                   auto_offset_reset="earliest")
    try:
        tp = kafka.TopicPartition(topic, 0)
        assert consumer.beginning_offsets([tp])[tp] == 123
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        got: list[int] = []
        deadline = time.monotonic() + 30
        while len(got) < RECORDS - 123 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                got.extend(r.offset for r in records)
    finally:
        consumer.close()
    assert got == list(range(123, RECORDS))
