"""Compaction end to end: confluent-kafka produces keyed records and tombstones to a
cleanup.policy=compact topic on a broker process whose cleaner runs every 100 ms; once the
cleaner has removed superseded records, confluent-kafka and kcat read the partition back from
the beginning: offsets increase with gaps, every record sits at its original offset with its
original timestamp, and the last value per key is the model's (tombstones still inside
delete.retention.ms are there). A keyless record is refused (INVALID_RECORD), and a restart keeps
the compacted log."""
from __future__ import annotations

import random
import shutil
import subprocess
import time

import pytest

ck = pytest.importorskip("confluent_kafka")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

KCAT = shutil.which("kcat")
KEYS = 25
ROUNDS = 40
T0 = 1_700_000_000_000


@pytest.fixture(scope="module")
def compacting_broker(broker_factory):
    b = broker_factory({"num.partitions": "1", "log.cleaner.backoff.ms": "100",
                        "log.cleaner.min.cleanable.ratio": "0.01"}, name="compaction")
    yield b
    if b.alive():
        assert b.stop() == 0, b.stderr_tail()


def create_compacted(bootstrap: str, name: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, 1, 1, config={
        "cleanup.policy": "compact", "segment.bytes": "4096",
        "delete.retention.ms": "3600000", "min.cleanable.dirty.ratio": "0.01"})])
    futures[name].result(timeout=30)


def produce_model(bootstrap: str, topic: str, seed: int):
    """Produces ROUNDS values of each key (some tombstones); returns {offset: (key, value, ts)}."""
    rng = random.Random(seed)
    produced: dict[int, tuple[bytes, bytes | None, int]] = {}
    errors = []

    p = ck.Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                     "compression.type": "lz4", "linger.ms": 5, "batch.num.messages": 7})

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
            return
        produced[msg.offset()] = (msg.key(), msg.value(), msg.timestamp()[1])

    n = 0
    for r in range(ROUNDS):
        for k in rng.sample(range(KEYS), KEYS):
            key = f"key-{k:02d}".encode()
            value = None if (r > ROUNDS - 5 and k % 5 == 0) else f"{k}:{r}:{'x' * rng.randint(0, 40)}".encode()
            n += 1
            p.produce(topic, key=key, value=value, partition=0, timestamp=T0 + n, on_delivery=on_delivery)
        p.poll(0)
    assert p.flush(60) == 0
    assert not errors, errors
    assert len(produced) == KEYS * ROUNDS
    return produced


def consume_all_confluent(bootstrap: str, topic: str):
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": f"compaction-{time.time_ns()}",
                     "enable.auto.commit": False, "enable.partition.eof": True,
                     "auto.offset.reset": "earliest", "check.crcs": True})
    c.assign([ck.TopicPartition(topic, 0, ck.OFFSET_BEGINNING)])
    out = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            m = c.poll(1.0)
            if m is None:
                continue
            if m.error():
                if m.error().code() == ck.KafkaError._PARTITION_EOF:
                    break
                raise AssertionError(m.error())
            out.append((m.offset(), m.key(), m.value(), m.timestamp()[1]))
        else:
            raise AssertionError("no end of partition within 60 s")
    finally:
        c.close()
    return out


def check_against_model(records, produced, where: str) -> None:
    offsets = [r[0] for r in records]
    assert offsets == sorted(set(offsets)), f"{where}: offsets not strictly increasing"
    for offset, key, value, ts in records:
        assert offset in produced, f"{where}: offset {offset} was never produced"
        assert produced[offset] == (key, value, ts), f"{where}: offset {offset} changed"
    latest: dict[bytes, int] = {}
    for offset, (key, _, _) in produced.items():
        latest[key] = max(latest.get(key, -1), offset)
    last_read: dict[bytes, int] = {}
    for offset, key, _, _ in records:
        last_read[key] = offset
    # delete.retention.ms is an hour: tombstones are all still there.
    assert last_read == latest, f"{where}: the last record per key differs from the model"


def wait_cleaned(bootstrap: str, topic: str, produced_count: int):
    deadline = time.monotonic() + 90
    while True:
        records = consume_all_confluent(bootstrap, topic)
        if len(records) < produced_count // 2:
            return records
        assert time.monotonic() < deadline, f"the cleaner did not run: {len(records)} records"
        time.sleep(0.5)


def test_compacted_topic_end_to_end(compacting_broker):
    bootstrap = compacting_broker.bootstrap
    topic = f"compacted-{int(time.time() * 1000) % 100000}"
    create_compacted(bootstrap, topic)
    produced = produce_model(bootstrap, topic, seed=5)
    records = wait_cleaned(bootstrap, topic, len(produced))
    check_against_model(records, produced, "confluent-kafka")
    gaps = sum(1 for a, b in zip(records, records[1:]) if b[0] != a[0] + 1)
    assert gaps > 0, "no offset gap: nothing was compacted"
    assert any(r[2] is None for r in records), "tombstones inside delete.retention.ms must stay"

    if KCAT:
        res = subprocess.run([KCAT, "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", "beginning", "-e",
                              "-q", "-Z", "-f", "%o\t%k\t%S\n", "-X", "check.crcs=true"],
                             capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        assert res.returncode == 0, res.stderr.decode(errors="replace")[-2000:]
        kcat_records = []
        for line in res.stdout.decode().splitlines():
            offset, key, size = line.split("\t")
            kcat_records.append((int(offset), key.encode(), int(size)))
        assert [r[0] for r in kcat_records] == [r[0] for r in records]
        for (o, k, size), (o2, k2, v2, _) in zip(kcat_records, records):
            assert (o, k) == (o2, k2)
            assert size == (-1 if v2 is None else len(v2)), f"kcat offset {o}"

    # A record without a key is refused by a compacted topic.
    p = ck.Producer({"bootstrap.servers": bootstrap, "message.send.max.retries": 0})
    errs = []
    p.produce(topic, value=b"no key", partition=0, on_delivery=lambda err, msg: errs.append(err))
    p.flush(30)
    assert len(errs) == 1 and errs[0] is not None
    assert errs[0].code() in (ck.KafkaError.INVALID_RECORD, ck.KafkaError.INVALID_MSG), errs[0]

    # The compacted log survives a restart unchanged.
    assert compacting_broker.stop() == 0, compacting_broker.stderr_tail()
    compacting_broker.start()
    again = consume_all_confluent(compacting_broker.bootstrap, topic)
    assert again == records


def test_conveyor_clients_read_a_compacted_topic():
    """conveyor's own producer and consumer (embedded broker) across the gaps of a compacted log."""
    conveyor = pytest.importorskip("conveyor")
    with conveyor.Broker({"log.cleaner.backoff.ms": "50", "log.cleaner.min.cleanable.ratio": "0.01"}) as b:
        conf = {"bootstrap.servers": b.bootstrap_servers}
        conveyor.Admin(conf).create_topic("kv", 1, config={"cleanup.policy": "compact", "segment.bytes": "2048"})
        with conveyor.Producer({**conf, "compression.type": "lz4"}) as p:
            for r in range(50):
                for k in range(10):
                    value = None if (r == 49 and k == 0) else f"{r}".encode()
                    p.produce("kv", key=f"k{k}".encode(), value=value, partition=0)
                p.flush()
        deadline = time.monotonic() + 60
        while True:
            with conveyor.Consumer(conf) as c:
                c.assign([conveyor.TopicPartition("kv", 0, offset=0)])
                out = []
                read_deadline = time.monotonic() + 30
                while time.monotonic() < read_deadline and not (out and out[-1].offset == 499):
                    out += c.consume(max_records=1000, timeout=0.5)
            assert out and out[-1].offset == 499
            if len(out) < 250:
                break
            assert time.monotonic() < deadline, "the cleaner did not run"
            time.sleep(0.5)
    offsets = [r.offset for r in out]
    assert offsets == sorted(set(offsets))
    latest = {r.key: r.value for r in out}
    assert latest == {b"k0": None, **{f"k{k}".encode(): b"49" for k in range(1, 10)}}
    for r in out:
        assert r.value is None or int(r.value) == r.offset // 10, r
