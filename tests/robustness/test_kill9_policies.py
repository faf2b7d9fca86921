"""kill -9 loops during produce under each flush policy, with a real client (confluent-kafka).

Policies: flush.messages=1, a small flush.ms, the default (page cache only; fsync at segment
rolls and shutdown) and conveyor's durable mode (conveyor.log.fsync.before.ack, group commit).
Each policy runs three rounds of: start the broker on the same data dir, produce with
librdkafka (acks=all) from a background thread, SIGKILL the broker mid-run, restart it and
read every partition back over the wire (CRC-checked by kafka_wire). After each restart:
every acknowledged record is at the offset it was acknowledged at, with its value (so in
order); offsets are dense from 0 and continue after the recovered end; every served record
is one the test sent (unacknowledged in-flight records may be there, whole; never a torn or
corrupt batch); ListOffsets latest equals the served end.

A process kill leaves the page cache intact, so every policy must keep every acknowledged
record; what the policies change is how much recovery rescans (and, for durable mode, power
failures, which a test cannot cause).
"""
from __future__ import annotations

import random
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kafka_wire as kw  # noqa: E402
from broker_process import BrokerProcess, wait_for_topic, wait_serving  # noqa: E402

confluent_kafka = pytest.importorskip("confluent_kafka")

TOPIC = "kill9p"
PARTITIONS = 2
ROUNDS = 3
COMMON = {
    "auto.create.topics.enable": "false",
    "log.segment.bytes": str(128 * 1024),  # several segments, so rounds cross rolls
}
POLICIES = {
    "flush-messages-1": {"log.flush.interval.messages": "1"},
    "flush-ms-50": {"log.flush.interval.ms": "50"},
    "page-cache": {},
    "durable": {"conveyor.log.fsync.before.ack": "true"},
}


def produce_round(bootstrap: str, round_no: int, rnd: random.Random, acked: dict, sent: set,
                  stop: threading.Event, errors: list) -> None:
    """Produces until `stop`; records (partition, offset) -> value for every delivered record."""
    p = confluent_kafka.Producer({
        "bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2,
        "enable.idempotence": False, "compression.type": "none",
        "message.timeout.ms": 2500, "socket.timeout.ms": 1500,
        "reconnect.backoff.max.ms": 200, "retry.backoff.ms": 50,
    })

    def on_delivery(err, msg):
        if err is None:
            acked[(msg.partition(), msg.offset())] = msg.value()

    i = 0
    try:
        while not stop.is_set():
            value = f"r{round_no}-{i}-".encode() + b"x" * rnd.randint(0, 600)
            sent.add(value)
            try:
                p.produce(TOPIC, value=value, partition=i % PARTITIONS, on_delivery=on_delivery)
            except BufferError:
                p.poll(0.05)
                continue
            i += 1
            if i % 50 == 0:
                p.poll(0)
                time.sleep(0.002)
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(repr(e))
    finally:
        p.flush(10)  # the broker is dead: what was not delivered times out (not acknowledged)


def read_back(bootstrap: str, partition: int) -> tuple[list[kw.Record], int]:
    with kw.Connection.to(bootstrap, timeout=30) as c:
        err, end = kw.list_offset(c, TOPIC, partition, kw.LATEST)
        assert err == kw.NONE, err
        batches = kw.fetch_all(c, TOPIC, partition, 0)  # raises on a bad CRC
    records = [r for b in batches for r in b.records]
    return records, end


@pytest.mark.parametrize("policy", list(POLICIES))
def test_kill9_loop_keeps_acknowledged_records(policy, tmp_path):
    overrides = {**COMMON, **POLICIES[policy]}
    data_dir = tmp_path / "data"
    broker = BrokerProcess(data_dir, overrides, name=f"kill9-{policy}").start()
    brokers = [broker]
    try:
        with kw.Connection.to(broker.bootstrap) as c:
            res = kw.create_topics(c, [(TOPIC, PARTITIONS)])
            assert res[TOPIC][0] == kw.NONE, res
            wait_for_topic(c, TOPIC, PARTITIONS)
        acked: dict[tuple[int, int], bytes] = {}
        sent: set[bytes] = set()
        ends = {p: 0 for p in range(PARTITIONS)}
        rnd = random.Random(f"kill9-{policy}")
        for round_no in range(ROUNDS):
            round_acked: dict[tuple[int, int], bytes] = {}
            stop = threading.Event()
            errors: list[str] = []
            t = threading.Thread(target=produce_round,
                                 args=(broker.bootstrap, round_no, rnd, round_acked, sent, stop, errors))
            t.start()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and len(round_acked) < 400 and t.is_alive():
                time.sleep(0.02)
            broker.kill()  # SIGKILL while the producer is still sending
            stop.set()
            t.join(30)
            assert not t.is_alive(), "producer thread stuck after the broker died"
            assert not errors, errors
            assert round_acked, f"{policy} round {round_no}: nothing acknowledged"
            for (p, off) in round_acked:
                assert off >= ends[p], (policy, round_no, p, off, ends[p])  # offsets continue
            acked.update(round_acked)

            broker = BrokerProcess(data_dir, overrides, name=f"kill9-{policy}-r{round_no}").start()
            brokers.append(broker)
            wait_serving(broker.bootstrap)
            for p in range(PARTITIONS):
                records, end = read_back(broker.bootstrap, p)
                offsets = [r.offset for r in records]
                assert offsets == list(range(len(records))), f"{policy}: partition {p} offsets not dense"
                assert end == len(records), (policy, p, end, len(records))
                by_offset = {r.offset: r.value for r in records}
                for (ap, off), value in acked.items():
                    if ap == p:
                        assert by_offset.get(off) == value, (
                            f"{policy} round {round_no}: acknowledged record {p}@{off} lost or changed")
                for r in records:
                    assert r.value in sent, f"{policy}: {p}@{r.offset} holds a value never sent"
                ends[p] = end
        assert broker.stop() == 0, broker.stderr_tail()
    finally:
        for b in brokers:
            if b.alive():
                b.kill()
