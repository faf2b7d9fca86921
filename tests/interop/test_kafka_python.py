"""kafka-python (pure Python, its own protocol code) against a conveyor broker: KafkaProducer
and KafkaConsumer with assign(), round trip identical."""
from __future__ import annotations

import time

import pytest

kafka = pytest.importorskip(
    "kafka", reason="kafka-python is not installed (scripts/install-deps.sh)")

RECORDS = 5_000


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_producer_consumer_assign_roundtrip(bootstrap, new_topic, compression):
    topic = new_topic(2, prefix=f"kp-{compression or 'none'}")
    producer = kafka.KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=5,
                                   compression_type=compression, retries=0)
    futures = []
    want: dict[int, list[tuple[bytes, bytes]]] = {0: [], 1: []}
    try:
        for i in range(RECORDS):
            part = i % 2
            key, value = f"k{i % 7}".encode(), f"value-{i}-".encode() + b"v" * (i % 200)
            want[part].append((key, value))
            futures.append((part, producer.send(topic, key=key, value=value, partition=part,
                                                headers=[("i", str(i).encode())])))
        producer.flush(timeout=60)
        offsets: dict[int, list[int]] = {0: [], 1: []}
        for part, f in futures:
            md = f.get(timeout=30)  # raises if the broker refused the record
            assert md.topic == topic and md.partition == part
            offsets[part].append(md.offset)
    finally:
        producer.close(timeout=10)
    for part in (0, 1):
        assert offsets[part] == list(range(len(want[part]))), f"partition {part} offsets"

    consumer = kafka.KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                   enable_auto_commit=False, auto_offset_reset="earliest",
                                   check_crcs=True)
    got: dict[int, list[tuple[int, bytes, bytes]]] = {0: [], 1: []}
    try:
        tps = [kafka.TopicPartition(topic, p) for p in (0, 1)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + 60
        while sum(map(len, got.values())) < RECORDS and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500, max_records=2000).items():
                for r in records:
                    got[tp.partition].append((r.offset, r.key, r.value))
        end = consumer.end_offsets(tps)
    finally:
        consumer.close()
    for part in (0, 1):
        assert [o for o, _, _ in got[part]] == list(range(len(want[part]))), f"partition {part}"
        assert [(k, v) for _, k, v in got[part]] == want[part]
        assert end[kafka.TopicPartition(topic, part)] == len(want[part])
