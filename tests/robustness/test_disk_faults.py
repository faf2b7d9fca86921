"""Disk faults in a broker process, injected through the io layer's rules file
($CONVEYOR_FAULT_INJECTION_FILE, core/io/include/conveyor/io/file_faults.h), with a real client.

A broker with two log dirs (flush.messages=1, so every append is fsync'd before the answer):
 - fsync fails with EIO in the dir of partition 0: confluent-kafka's produce to partition 0 is
   never acknowledged, the dir goes offline (Fetch, ListOffsets, Metadata answer
   KAFKA_STORAGE_ERROR for partition 0 and keep answering it after the fault is gone), while
   partition 1 in the other dir keeps accepting and serving records;
 - the disk of partition 1 is full (ENOSPC on write): produces fail with KAFKA_STORAGE_ERROR,
   the broker log names the dir and "no space", the data already there stays readable, and
   once space is back (rules file emptied) the next produce is accepted at the next offset.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kafka_wire as kw  # noqa: E402
from broker_process import BrokerProcess, wait_for_topic, wait_serving  # noqa: E402

confluent_kafka = pytest.importorskip("confluent_kafka")

KAFKA_STORAGE_ERROR = 56
TOPIC = "faults"


def set_rules(path: Path, text: str) -> None:
    """Replaces the rules file atomically; the broker re-reads it within ~20 ms."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    time.sleep(0.2)


def deliver(bootstrap: str, partition: int, values: list[bytes], timeout_ms: int = 3000) -> list:
    """Produces with confluent-kafka; returns the delivery errors (None = acknowledged)."""
    p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "acks": "all",
                                  "message.timeout.ms": timeout_ms, "retry.backoff.ms": 100,
                                  "enable.idempotence": False})
    results: list = []
    for v in values:
        p.produce(TOPIC, value=v, partition=partition,
                  on_delivery=lambda err, msg: results.append(err))
    p.flush(timeout_ms / 1000 + 10)
    assert len(results) == len(values)
    return results


def test_failed_fsync_and_full_disk_in_a_broker_process(tmp_path):
    rules = tmp_path / "faults.rules"
    rules.write_text("")
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    broker = BrokerProcess(tmp_path / "data", {
        "log.dirs": f"{d1},{d2}", "num.partitions": "2", "auto.create.topics.enable": "false",
        "log.flush.interval.messages": "1",
    }, name="faults", env={"CONVEYOR_FAULT_INJECTION_FILE": str(rules)})
    broker.start()
    try:
        wait_serving(broker.bootstrap)
        with kw.Connection.to(broker.bootstrap) as c:
            assert kw.create_topics(c, [(TOPIC, 2)])[TOPIC][0] == kw.NONE
            wait_for_topic(c, TOPIC, 2)
        assert deliver(broker.bootstrap, 0, [b"a0", b"a1"]) == [None, None]
        assert deliver(broker.bootstrap, 1, [b"b0", b"b1"]) == [None, None]
        dir0 = d1 if (d1 / f"{TOPIC}-0").exists() else d2
        dir1 = d2 if dir0 == d1 else d1
        assert (dir1 / f"{TOPIC}-1").exists()

        # fsync fails in partition 0's dir: never acknowledged.
        set_rules(rules, f"fsync EIO {dir0}/\n")
        errs = deliver(broker.bootstrap, 0, [b"lost0", b"lost1"])
        assert all(e is not None for e in errs), errs
        set_rules(rules, "")  # the disk "recovers"; the dir stays offline until a restart
        with kw.Connection.to(broker.bootstrap) as c:
            assert kw.fetch(c, TOPIC, 0, 0).error == KAFKA_STORAGE_ERROR
            assert kw.list_offset(c, TOPIC, 0, kw.LATEST)[0] == KAFKA_STORAGE_ERROR
            _, topics = kw.metadata(c, [TOPIC], version=4, allow_auto_topic_creation=False)
            assert topics[TOPIC].partitions[0][0] == KAFKA_STORAGE_ERROR
            assert topics[TOPIC].partitions[1][0] == kw.NONE
            res = kw.produce(c, TOPIC, 0, kw.encode_batch([(None, b"late")]), acks=-1)
            assert res.error == KAFKA_STORAGE_ERROR
        # The other dir keeps working.
        assert deliver(broker.bootstrap, 1, [b"b2"]) == [None]
        with kw.Connection.to(broker.bootstrap) as c:
            values = [r.value for b in kw.fetch_all(c, TOPIC, 1) for r in b.records]
        assert values == [b"b0", b"b1", b"b2"]
        log = broker.stderr_tail(200)
        assert "offline" in log and str(dir0) in log, log

        # Partition 1's disk is full: refused with a retriable error, data kept, then resumes.
        set_rules(rules, f"write ENOSPC {dir1}/ partial=5\n")
        with kw.Connection.to(broker.bootstrap) as c:
            res = kw.produce(c, TOPIC, 1, kw.encode_batch([(None, b"nospace")]), acks=-1)
            assert res.error == KAFKA_STORAGE_ERROR
            values = [r.value for b in kw.fetch_all(c, TOPIC, 1) for r in b.records]
            assert values == [b"b0", b"b1", b"b2"]
        log = broker.stderr_tail(200)
        assert "no space" in log and str(dir1) in log, log
        set_rules(rules, "")
        assert deliver(broker.bootstrap, 1, [b"b3"]) == [None]
        with kw.Connection.to(broker.bootstrap) as c:
            batches = kw.fetch_all(c, TOPIC, 1)
        assert [r.value for b in batches for r in b.records] == [b"b0", b"b1", b"b2", b"b3"]
        assert [r.offset for b in batches for r in b.records] == [0, 1, 2, 3]
    finally:
        if broker.alive():
            broker.stop()

    # A restart brings partition 0 back with its acknowledged records.
    broker = BrokerProcess(tmp_path / "data", {
        "log.dirs": f"{d1},{d2}", "auto.create.topics.enable": "false"}, name="faults-restart")
    broker.start()
    try:
        with kw.Connection.to(broker.bootstrap) as c:
            values = [r.value for b in kw.fetch_all(c, TOPIC, 0) for r in b.records]
        assert values[:2] == [b"a0", b"a1"]
        assert set(values[2:]) <= {b"lost0", b"lost1"}  # written, never acknowledged
        assert broker.stop() == 0
    finally:
        if broker.alive():
            broker.kill()
