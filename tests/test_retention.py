"""Retention end to end (issue 5 "Retention and segments") against a conveyor broker process
whose retention task runs every 200 ms: retention.ms and retention.bytes delete whole closed
segments and advance the log start offset; consumers below it are reset (earliest) or told
OFFSET_OUT_OF_RANGE (auto.offset.reset=none/error), with conveyor's own client and with
confluent-kafka; the log start offset survives a restart.

Conveyor only: Apache Kafka checks retention every log.retention.check.interval.ms (5 minutes)
and refuses segment.bytes below 1 MiB, so the DeleteRecords half lives in tests/interop.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

ck = pytest.importorskip("confluent_kafka", reason="confluent-kafka is not installed (scripts/install-deps.sh)")
from confluent_kafka import KafkaError, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

import conveyor  # noqa: E402
from ck_client import read_offsets, watermarks  # noqa: E402

RETENTION_CHECK = {"log.retention.check.interval.ms": "200"}
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def broker(broker_factory):
    return broker_factory(RETENTION_CHECK, name="retention")


def create(bootstrap: str, topic: str, config: dict[str, str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the future
    fs = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1, config=config)],
                             operation_timeout=30)
    fs[topic].result(timeout=60)


def produce(bootstrap: str, topic: str, count: int, timestamp_ms: int | None = None, size: int = 100) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 10})
    for i in range(count):
        value = f"{i:08d}".encode().ljust(size, b".")
        if timestamp_ms is None:
            p.produce(topic, value=value, partition=0)
        else:
            p.produce(topic, value=value, partition=0, timestamp=timestamp_ms + i)
        p.poll(0)
    assert p.flush(60) == 0


def wait_low_watermark_above(bootstrap: str, topic: str, floor: int, timeout_s: float = 30) -> tuple[int, int]:
    deadline = time.monotonic() + timeout_s
    while True:
        low, high = watermarks(bootstrap, topic)
        if low > floor or time.monotonic() > deadline:
            return low, high
        time.sleep(0.2)


def segment_files(data_dir: Path, topic: str) -> list[Path]:
    return sorted((data_dir / f"{topic}-0").glob("*.log"))


def test_retention_ms_deletes_old_segments_and_consumers_reset(broker):
    topic = f"ret-ms-{time.monotonic_ns()}"
    create(broker.bootstrap, topic, {"retention.ms": "60000", "segment.bytes": "4096"})
    old, records = 400, 420
    produce(broker.bootstrap, topic, old, timestamp_ms=int(time.time() * 1000) - HOUR_MS)
    produce(broker.bootstrap, topic, records - old)  # current timestamps: retained
    low, high = wait_low_watermark_above(broker.bootstrap, topic, 0)
    assert high == records
    assert 0 < low <= old, "retention.ms deleted nothing, or deleted records inside the retention"
    # Whole segments go: the first one kept starts at the new log start offset.
    files = segment_files(broker.data_dir, topic)
    assert files and int(files[0].stem) == low, files

    # confluent-kafka: earliest resets below-start positions to the log start; error reports.
    got, errors = read_offsets(broker.bootstrap, topic, 0, 0, "earliest", records - low)
    assert not errors and got == list(range(low, records)), (errors, got[:3])
    got, errors = read_offsets(broker.bootstrap, topic, 0, 0, "error", 1)
    assert got == [] and errors and errors[0].code() == KafkaError._AUTO_OFFSET_RESET, errors

    # conveyor's own consumer: earliest resets; none raises OFFSET_OUT_OF_RANGE.
    with conveyor.Consumer({"bootstrap.servers": broker.bootstrap, "auto.offset.reset": "earliest"}) as c:
        c.assign([conveyor.TopicPartition(topic, 0, 0)])
        first = None
        deadline = time.monotonic() + 30
        while first is None and time.monotonic() < deadline:
            first = c.poll(0.5)
        assert first is not None and first.offset == low
    with conveyor.Consumer({"bootstrap.servers": broker.bootstrap, "auto.offset.reset": "none"}) as c:
        c.assign([conveyor.TopicPartition(topic, 0, 0)])
        with pytest.raises(conveyor.OffsetOutOfRangeError):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                c.poll(0.5)

    # The records with current timestamps stay through later retention checks.
    time.sleep(1.0)  # five retention checks
    assert watermarks(broker.bootstrap, topic) == (low, high)


def test_retention_bytes_bounds_the_log(broker):
    topic = f"ret-bytes-{time.monotonic_ns()}"
    create(broker.bootstrap, topic, {"retention.bytes": "20000", "segment.bytes": "4096"})
    records = 2000
    produce(broker.bootstrap, topic, records)
    deadline = time.monotonic() + 30
    while True:
        size = sum(f.stat().st_size for f in segment_files(broker.data_dir, topic))
        if size <= 20000 + 4096 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert size <= 20000 + 4096, f"{size} bytes of log kept with retention.bytes=20000"
    low, high = watermarks(broker.bootstrap, topic)
    assert high == records and low > 0
    got, errors = read_offsets(broker.bootstrap, topic, 0, ck.OFFSET_BEGINNING, "earliest", records - low)
    assert not errors and got == list(range(low, records))


def test_log_start_offset_survives_restart(broker_factory, tmp_path):
    b = broker_factory(RETENTION_CHECK, name="retention-restart", data_dir=tmp_path / "data")
    topic = "ret-restart"
    create(b.bootstrap, topic, {"retention.ms": "60000", "segment.bytes": "4096"})
    produce(b.bootstrap, topic, 300, timestamp_ms=int(time.time() * 1000) - HOUR_MS)
    produce(b.bootstrap, topic, 10)
    low, high = wait_low_watermark_above(b.bootstrap, topic, 0)
    assert 0 < low <= 300 and high == 310
    assert b.stop() == 0
    b.start()
    assert watermarks(b.bootstrap, topic) == (low, high)
    got, errors = read_offsets(b.bootstrap, topic, 0, ck.OFFSET_BEGINNING, "earliest", high - low)
    assert not errors and got == list(range(low, high))
