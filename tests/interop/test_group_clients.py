"""Consumer groups with two more real clients against a conveyor broker: kafka-python's
KafkaConsumer(group_id=...) and kcat's balanced consumer (`kcat -G`). Each reads every record
once through the group coordinator and its commits come back from OffsetFetch."""
from __future__ import annotations

import shutil
import subprocess
import time

import pytest

ck = pytest.importorskip("confluent_kafka", reason="confluent-kafka is not installed (scripts/install-deps.sh)")

PARTITIONS = 3
RECORDS = 90


def produce(bootstrap: str, topic: str) -> None:
    producer = ck.Producer({"bootstrap.servers": bootstrap})
    for i in range(RECORDS):
        producer.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % PARTITIONS)
    assert producer.flush(30) == 0


def committed_offsets(bootstrap: str, group: str, topic: str) -> dict:
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        tps = c.committed([ck.TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=30)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        c.close()


def test_kafka_python_group_consumer_reads_everything_and_commits(bootstrap, new_topic):
    kafka = pytest.importorskip("kafka", reason="kafka-python is not installed (scripts/install-deps.sh)")
    topic = new_topic(PARTITIONS, prefix="kp-group")
    group = f"kp-{topic}"
    produce(bootstrap, topic)
    consumer = kafka.KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                   auto_offset_reset="earliest", enable_auto_commit=False,
                                   consumer_timeout_ms=1000)
    seen = set()
    try:
        deadline = time.monotonic() + 60
        while len(seen) < RECORDS and time.monotonic() < deadline:
            for msg in consumer:
                key = (msg.partition, msg.offset)
                assert key not in seen, f"{key} read twice"
                seen.add(key)
        assert len(seen) == RECORDS
        assert {tp.partition for tp in consumer.assignment()} == set(range(PARTITIONS))
        consumer.commit()
    finally:
        consumer.close()
    assert committed_offsets(bootstrap, group, topic) == {p: RECORDS // PARTITIONS for p in range(PARTITIONS)}


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is not installed (scripts/install-deps.sh)")
def test_kcat_balanced_consumer_reads_everything_and_commits(bootstrap, new_topic):
    topic = new_topic(PARTITIONS, prefix="kcat-group")
    group = f"kcat-{topic}"
    produce(bootstrap, topic)
    proc = subprocess.run(["kcat", "-b", bootstrap, "-G", group, "-o", "beginning", "-c", str(RECORDS),
                           "-q", "-f", "%p %o %s\\n", "-X", "auto.commit.interval.ms=100", topic],
                          capture_output=True, timeout=90)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    lines = proc.stdout.decode().splitlines()
    records = {(int(p), int(o)): v for p, o, v in (line.split(" ", 2) for line in lines)}
    assert len(lines) == RECORDS and len(records) == RECORDS, "every record exactly once"
    assert sorted(records.values()) == sorted(f"v{i}" for i in range(RECORDS))
    # kcat commits what it consumed (auto commit, and on close)
    assert committed_offsets(bootstrap, group, topic) == {p: RECORDS // PARTITIONS for p in range(PARTITIONS)}
