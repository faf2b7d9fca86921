import threading
import time

import pytest

import conveyor
from conftest import read_all


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_round_trip_with_each_codec(conf, topic, codec):
    values = [(f"key-{i % 13}".encode(), (f"value-{i}-" + "x" * (i % 50)).encode()) for i in range(3000)]
    with conveyor.Producer({**conf, "compression.type": codec, "linger.ms": 5}) as p:
        for k, v in values:
            p.produce(topic, value=v, key=k)
        assert p.flush(30) == 0
        assert p.delivery_counts() == (len(values), 0)
    with conveyor.Consumer(conf) as c:
        c.assign([conveyor.TopicPartition(topic, p, conveyor.OFFSET_BEGINNING) for p in range(3)])
        records = read_all(c, len(values))
    assert sorted((r.key, r.value) for r in records) == sorted(values)
    # Per-key order is preserved and each key stays on one partition.
    by_key = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_key.setdefault(r.key, []).append(r)
    for k, rs in by_key.items():
        assert len({r.partition for r in rs}) == 1
        assert [r.value for r in rs] == [v for kk, v in values if kk == k]


def test_headers_null_keys_values_and_timestamps(conf, topic):
    delivered = []
    with conveyor.Producer(conf) as p:
        p.produce(topic, value=b"with-headers", key=b"k", partition=1,
                  headers=[("a", b"1"), ("b", None), ("c", "text")], timestamp=1_700_000_000_123,
                  on_delivery=lambda err, rec: delivered.append((err, rec)))
        p.produce(topic, value=None, key=None, partition=1, headers={"x": b"y"}, timestamp=1_700_000_000_456)
        p.produce(topic, value=b"", key=b"", partition=1)
        assert p.flush(10) == 0
    assert len(delivered) == 1
    err, rec = delivered[0]
    assert err is None
    assert (rec.topic, rec.partition, rec.offset, rec.key, rec.value) == (topic, 1, 0, b"k", b"with-headers")
    with conveyor.Consumer(conf) as c:
        c.assign([conveyor.TopicPartition(topic, 1, conveyor.OFFSET_BEGINNING)])
        r0, r1, r2 = read_all(c, 3)
    assert r0.headers == [("a", b"1"), ("b", None), ("c", b"text")]
    assert r0.timestamp == 1_700_000_000_123 and r0.offset == 0 and r0.partition == 1
    assert r1.key is None and r1.value is None and r1.headers == [("x", b"y")]
    assert r1.timestamp == 1_700_000_000_456
    assert r2.key == b"" and r2.value == b""
    assert abs(r2.timestamp - time.time() * 1000) < 60_000, "timestamp 0 means now"


def test_delivery_errors_carry_code(conf):
    """A record for a partition that does not exist fails with LOCAL_UNKNOWN_PARTITION, either
    at produce() (metadata already known) or in its delivery report."""
    reports = []
    with conveyor.Producer({**conf, "delivery.timeout.ms": 3000, "request.timeout.ms": 1000}) as p:
        try:
            p.produce("one-partition-topic", value=b"x", partition=7,
                      on_delivery=lambda err, rec: reports.append((err, rec)))
        except conveyor.KafkaError as e:
            reports.append((e, None))
        p.flush(10)
    assert len(reports) == 1
    err, rec = reports[0]
    assert isinstance(err, conveyor.UnknownPartitionError)
    assert err.code == -190 and err.name == "LOCAL_UNKNOWN_PARTITION" and err.retriable is False
    if rec is not None:
        assert rec.offset == -1 and rec.value == b"x"


def test_admin_errors_carry_code_and_retriable(admin, topic):
    with pytest.raises(conveyor.TopicAlreadyExistsError) as e:
        admin.create_topic(topic, partitions=1)
    assert e.value.code == 36 and e.value.name == "TOPIC_ALREADY_EXISTS" and e.value.retriable is False
    with pytest.raises(conveyor.UnknownTopicOrPartitionError) as e:
        admin.describe_topic("does-not-exist")
    assert e.value.code == 3 and e.value.retriable is True
    with pytest.raises(conveyor.KafkaError) as e:
        admin.create_topic("bad/name", partitions=1)
    assert e.value.code == 17 and isinstance(e.value, conveyor.InvalidTopicError)


def test_admin_list_describe_delete(admin, topic):
    assert topic in admin.list_topics()
    d = admin.describe_topic(topic)
    assert d.name == topic and len(d.partitions) == 3 and len(d.topic_id) == 36
    assert [p.partition for p in d.partitions] == [0, 1, 2]
    assert all(p.leader >= 0 and p.replicas == [p.leader] for p in d.partitions)
    admin.delete_topic(topic)
    assert topic not in admin.list_topics()
    with pytest.raises(conveyor.UnknownTopicOrPartitionError):
        admin.delete_topic(topic)


@pytest.mark.parametrize("cls", [conveyor.Producer, conveyor.Consumer, conveyor.Admin])
def test_unknown_config_key_raises_naming_the_key(conf, cls):
    with pytest.raises(conveyor.InvalidConfigError) as e:
        cls({**conf, "linger.mss": 5})
    assert "linger.mss" in str(e.value)
    assert e.value.code == 40 and not e.value.retriable
    assert isinstance(e.value, ValueError)


def test_bad_config_value_names_the_key(conf):
    with pytest.raises(conveyor.InvalidConfigError, match="linger.ms"):
        conveyor.Producer({**conf, "linger.ms": "soon"})
    with pytest.raises(TypeError, match="acks"):
        conveyor.Producer({**conf, "acks": [1]})


def test_watermarks_seek_position_offsets_for_times(conf, topic):
    base = int(time.time() * 1000) - 100_000
    with conveyor.Producer(conf) as p:
        for i in range(100):
            p.produce(topic, value=str(i).encode(), partition=0, timestamp=base + i * 10)
        assert p.flush(10) == 0
    with conveyor.Consumer(conf) as c:
        tp = conveyor.TopicPartition(topic, 0)
        assert c.get_watermark_offsets(tp, timeout=10) == (0, 100)
        assert c.get_watermark_offsets(tp) == (0, 100)  # no timeout: waits (INT32_MAX ms overflowed once)
        c.assign([conveyor.TopicPartition(topic, 0, 40)])
        r = c.poll(10)
        assert r is not None and r.offset == 40 and r.value == b"40"
        assert c.position(tp) == 41
        assert c.position([tp]) == [conveyor.TopicPartition(topic, 0, 41)]
        c.seek(conveyor.TopicPartition(topic, 0, 90))
        assert c.poll(10).offset == 90
        c.seek(topic, 0, 5)
        assert c.poll(10).offset == 5
        found = c.offsets_for_times([conveyor.TopicPartition(topic, 0, base + 255)], timeout=10)
        assert found[0].offset == 26
        past_end = c.offsets_for_times([conveyor.TopicPartition(topic, 0, base + 10_000_000)], timeout=10)
        assert past_end[0].offset == -1
        with pytest.raises(conveyor.KafkaError) as e:
            c.seek(topic, 2, 0)  # not assigned
        assert e.value.code == -190


def test_poll_timeout_returns_none_and_releases_the_gil(conf, topic):
    with conveyor.Consumer(conf) as c:
        c.assign([conveyor.TopicPartition(topic, 0, conveyor.OFFSET_END)])
        ticks = 0
        stop = threading.Event()

        def spin():
            nonlocal ticks
            while not stop.is_set():
                ticks += 1

        t = threading.Thread(target=spin)
        t.start()
        started = time.monotonic()
        assert c.poll(0.5) is None
        elapsed = time.monotonic() - started
        stop.set()
        t.join()
        assert 0.4 < elapsed < 3.0
        assert ticks > 1000, "another Python thread ran while poll() blocked"
        assert c.consume(10, timeout=0.1) == []


def test_wakeup_ends_iteration_from_another_thread(conf, topic):
    with conveyor.Producer(conf) as p:
        for i in range(5):
            p.produce(topic, value=b"%d" % i, partition=2)
        p.flush(10)
    with conveyor.Consumer(conf) as c:
        c.assign([conveyor.TopicPartition(topic, 2, conveyor.OFFSET_BEGINNING)])
        seen = []
        for record in c:
            seen.append(record.value)
            if len(seen) == 5:
                threading.Timer(0.3, c.wakeup).start()
        assert seen == [b"0", b"1", b"2", b"3", b"4"]


def test_closed_clients_raise_state_error(conf, topic):
    c = conveyor.Consumer(conf)
    c.close()
    with pytest.raises(conveyor.StateError):
        c.poll(0)
    p = conveyor.Producer(conf)
    p.close()
    with pytest.raises(conveyor.StateError):
        p.produce(topic, b"x")


def test_errors_pickle_and_str():
    import pickle
    e = conveyor.errors.error_from_native(3, "UNKNOWN_TOPIC_OR_PARTITION", "topic x", True, False)
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is conveyor.UnknownTopicOrPartitionError and e2.code == 3 and e2.retriable
    assert str(e) == "UNKNOWN_TOPIC_OR_PARTITION: topic x"
    assert isinstance(conveyor.errors.error_from_native(-184, "LOCAL_QUEUE_FULL", "", True, False), BufferError)
    assert isinstance(conveyor.errors.error_from_native(-185, "LOCAL_TIMED_OUT", "", True, False), TimeoutError)
