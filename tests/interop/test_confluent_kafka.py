"""confluent-kafka (librdkafka bundled in the wheel) against a conveyor broker: an idempotent
producer with lz4 and zstd, every delivery report succeeded, a consumer by assignment reads
everything back identical and in per-key order."""
from __future__ import annotations

import time
from collections import defaultdict

import pytest

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed (scripts/install-deps.sh)")

from confluent_kafka.admin import AdminClient  # noqa: E402

RECORDS = 30_000
PARTITIONS = 3


def expected_records(n: int):
    for i in range(n):
        key = f"sym-{i % 53:02d}".encode()
        value = (f'{{"seq":{i},"side":"{"BUY" if i % 2 else "SELL"}","qty":{i % 1000}}}'
                 + "x" * (i % 300)).encode()
        yield i, key, value


def consume_all(bootstrap: str, topic: str, partitions, total: int,
                timeout: float = 60.0) -> dict[int, dict[int, tuple]]:
    """{partition: {offset: (key, value, headers)}} via assign() from the beginning."""
    c = ck.Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "conveyor-interop-assign",  # required by librdkafka; no group is joined
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "check.crcs": True,
        "enable.partition.eof": False,
    })
    got: dict[int, dict[int, tuple]] = defaultdict(dict)
    count = 0
    try:
        c.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout
        while count < total and time.monotonic() < deadline:
            for m in c.consume(num_messages=1000, timeout=0.5):
                if m.error():
                    raise AssertionError(f"consumer error: {m.error()}")
                assert m.offset() not in got[m.partition()], f"offset {m.offset()} twice"
                got[m.partition()][m.offset()] = (m.key(), m.value(), m.headers())
                count += 1
    finally:
        c.close()
    assert count == total, f"consumed {count} of {total} records"
    return got


@pytest.mark.parametrize("codec", ["lz4", "zstd"])
def test_idempotent_producer_and_assign_consumer(bootstrap, new_topic, codec):
    topic = new_topic(PARTITIONS, prefix=f"ck-{codec}")
    p = ck.Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "compression.type": codec,
        "linger.ms": 5,
        "batch.num.messages": 2000,
    })
    reports = []

    def on_delivery(err, msg):
        reports.append((err, msg.partition(), msg.offset(), msg.key(), msg.value()))

    for i, key, value in expected_records(RECORDS):
        while True:
            try:
                p.produce(topic, key=key, value=value, headers=[("seq", str(i).encode())],
                          on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.1)
        if i % 1000 == 0:
            p.poll(0)
    left = p.flush(60)
    assert left == 0, f"{left} records not delivered within 60 s"

    failed = [r for r in reports if r[0] is not None]
    assert not failed, f"{len(failed)} failed delivery reports, first: {failed[0][0]}"
    assert len(reports) == RECORDS

    # Delivery reports: each partition's offsets are exactly 0..n-1 (no duplicates, no gaps).
    produced: dict[int, dict[int, tuple]] = defaultdict(dict)
    for _, part, off, key, value in reports:
        assert off not in produced[part], f"offset {part}/{off} reported twice"
        produced[part][off] = (key, value)
    for part, offs in produced.items():
        assert sorted(offs) == list(range(len(offs))), f"partition {part} offsets not dense"

    got = consume_all(bootstrap, topic, sorted(set(range(PARTITIONS)) | set(produced)), RECORDS)
    assert {p: {o: kv[:2] for o, kv in d.items()} for p, d in got.items()} == produced

    # Per-key order: within a partition, a key's sequence numbers rise with the offset.
    for part, recs in got.items():
        last_seq: dict[bytes, int] = {}
        for off in sorted(recs):
            key, value, headers = recs[off]
            seq = int(dict(headers)["seq"])
            assert seq > last_seq.get(key, -1), f"key {key} out of order at {part}/{off}"
            last_seq[key] = seq


def test_list_topics_shows_partitions(bootstrap, new_topic):
    topic = new_topic(PARTITIONS, prefix="ck-md")
    admin = AdminClient({"bootstrap.servers": bootstrap})
    md = admin.list_topics(topic=topic, timeout=10)
    assert topic in md.topics and md.topics[topic].error is None
    assert sorted(md.topics[topic].partitions) == list(range(PARTITIONS))
