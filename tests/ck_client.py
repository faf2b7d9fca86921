"""Small helpers over confluent-kafka (librdkafka) shared by the end-to-end tests: watermarks
and reading one partition from an offset with a given auto.offset.reset."""
from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaError, TopicPartition


def watermarks(bootstrap: str, topic: str, partition: int = 0) -> tuple[int, int]:
    """(low, high) watermark of one partition, asked of the broker (not cached)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermark-probe", "enable.auto.commit": False})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=30, cached=False)
    finally:
        c.close()


def read_offsets(bootstrap: str, topic: str, partition: int, offset: int, reset: str, want: int,
                 timeout_s: float = 30) -> tuple[list[int], list[KafkaError]]:
    """Assigns `topic`-`partition` at `offset` with auto.offset.reset=`reset` and polls until
    `want` records, the first error or the timeout. Returns (offsets read, errors)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{time.monotonic_ns()}",
                  "enable.auto.commit": False, "auto.offset.reset": reset})
    offsets: list[int] = []
    errors: list[KafkaError] = []
    try:
        c.assign([TopicPartition(topic, partition, offset)])
        deadline = time.monotonic() + timeout_s
        while len(offsets) < want and not errors and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                errors.append(m.error())
            else:
                offsets.append(m.offset())
    finally:
        c.close()
    return offsets, errors
