"""conveyor's own Python client and confluent-kafka on the same broker, both directions:
conveyor produces and confluent-kafka consumes, confluent-kafka produces and conveyor consumes.
Keys, values, headers, partitions and offsets must agree."""
from __future__ import annotations

import time
from collections import defaultdict

import pytest

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed (scripts/install-deps.sh)")

RECORDS = 10_000
PARTITIONS = 3


@pytest.fixture(scope="module")
def conveyor():
    # conveyor's own package is part of this repository: missing it is a failure, not a skip.
    try:
        import conveyor as mod
    except ImportError as e:
        pytest.fail(f"the conveyor Python package is not importable ({e}); "
                    "run `pip install .` (scripts/test.sh does)")
    return mod


def records():
    for i in range(RECORDS):
        key = None if i % 10 == 0 else f"key-{i % 31}".encode()
        value = f"value-{i}-".encode() + bytes(range(256))[: i % 256]
        yield i, key, value, [("i", str(i).encode()), ("kind", b"interop")]


def test_conveyor_produces_confluent_consumes(bootstrap, new_topic, conveyor):
    topic = new_topic(PARTITIONS, prefix="cv2ck")
    reports = []

    def on_delivery(err, record):
        reports.append((err, record))

    with conveyor.Producer({"bootstrap.servers": bootstrap, "linger.ms": 5,
                            "compression.type": "lz4"}) as p:
        for i, key, value, headers in records():
            p.produce(topic, key=key, value=value, headers=headers,
                      partition=i % PARTITIONS, on_delivery=on_delivery)
            if i % 1000 == 0:
                p.poll(0)
        p.flush()
    assert len(reports) == RECORDS
    failed = [r for r in reports if r[0] is not None]
    assert not failed, f"{len(failed)} failed deliveries, first: {failed[0][0]}"

    want = defaultdict(list)
    for i, key, value, headers in records():
        want[i % PARTITIONS].append((key, value, headers))

    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "conveyor-interop-assign",
                     "enable.auto.commit": False, "check.crcs": True})
    got = defaultdict(list)
    try:
        c.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(PARTITIONS)])
        deadline = time.monotonic() + 60
        while sum(map(len, got.values())) < RECORDS and time.monotonic() < deadline:
            for m in c.consume(num_messages=1000, timeout=0.5):
                assert m.error() is None, m.error()
                assert m.offset() == len(got[m.partition()]), "offsets not dense"
                got[m.partition()].append((m.key(), m.value(), m.headers() or []))
    finally:
        c.close()
    for part in range(PARTITIONS):
        assert got[part] == want[part], f"partition {part} differs"


def test_confluent_produces_conveyor_consumes(bootstrap, new_topic, conveyor):
    topic = new_topic(PARTITIONS, prefix="ck2cv")
    p = ck.Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                     "compression.type": "zstd", "linger.ms": 5})
    delivered = []
    for i, key, value, headers in records():
        p.produce(topic, key=key, value=value, headers=headers, partition=i % PARTITIONS,
                  on_delivery=lambda err, msg: delivered.append(err))
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(60) == 0
    assert delivered == [None] * RECORDS

    want = defaultdict(list)
    for i, key, value, headers in records():
        want[i % PARTITIONS].append((key, value, headers))

    got = defaultdict(list)
    with conveyor.Consumer({"bootstrap.servers": bootstrap}) as c:
        c.assign([conveyor.TopicPartition(topic, part, offset=0) for part in range(PARTITIONS)])
        deadline = time.monotonic() + 60
        while sum(map(len, got.values())) < RECORDS and time.monotonic() < deadline:
            for r in c.consume(max_records=1000, timeout=0.5):
                assert r.topic == topic
                assert r.offset == len(got[r.partition]), "offsets not dense"
                got[r.partition].append((r.key, r.value, [tuple(h) for h in r.headers or []]))
    for part in range(PARTITIONS):
        assert got[part] == want[part], f"partition {part} differs"
