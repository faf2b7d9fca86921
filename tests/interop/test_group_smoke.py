"""A confluent-kafka consumer group of two against a conveyor broker: the six partitions are
split between the members, every record is consumed exactly once, and the committed offsets
come back from the group coordinator."""
from __future__ import annotations

import time
from collections import Counter

import pytest

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed (scripts/install-deps.sh)")

RECORDS = 600
PARTITIONS = 6


def consumer(bootstrap: str, group: str, name: str):
    return ck.Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.id": name,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
        "partition.assignment.strategy": "range",
    })


def test_two_consumers_split_partitions_and_commit(bootstrap, new_topic):
    topic = new_topic(PARTITIONS, prefix="group-smoke")
    group = f"smoke-{topic}"
    members = [consumer(bootstrap, group, f"member-{i}") for i in range(2)]
    try:
        for c in members:
            c.subscribe([topic])
        # Both members joined and the partitions are split before anything is produced, so
        # no record can be read twice across a rebalance.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for c in members:
                msg = c.poll(0.1)
                assert msg is None or msg.error(), "nothing was produced yet"
            owned = [{tp.partition for tp in c.assignment()} for c in members]
            if all(owned) and sum(map(len, owned)) == PARTITIONS:
                break
        owned = [{tp.partition for tp in c.assignment()} for c in members]
        assert owned[0] and owned[1], f"both members own partitions: {owned}"
        assert owned[0].isdisjoint(owned[1])
        assert owned[0] | owned[1] == set(range(PARTITIONS))

        producer = ck.Producer({"bootstrap.servers": bootstrap})
        for i in range(RECORDS):
            producer.produce(topic, key=str(i).encode(), value=f"v{i}".encode(), partition=i % PARTITIONS)
        assert producer.flush(30) == 0

        seen: Counter = Counter()
        by_member = [set(), set()]
        deadline = time.monotonic() + 60
        while sum(seen.values()) < RECORDS and time.monotonic() < deadline:
            for i, c in enumerate(members):
                msg = c.poll(0.1)
                if msg is None or msg.error():
                    continue
                seen[(msg.partition(), msg.offset())] += 1
                by_member[i].add(msg.partition())
        assert sum(seen.values()) == RECORDS
        assert all(n == 1 for n in seen.values()), "every record exactly once"
        assert by_member[0] <= owned[0] and by_member[1] <= owned[1]

        for c in members:
            c.commit(asynchronous=False)
        committed = members[0].committed([ck.TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=30)
        assert sorted((tp.partition, tp.offset) for tp in committed) == [
            (p, RECORDS // PARTITIONS) for p in range(PARTITIONS)]
    finally:
        for c in members:
            c.close()
