"""Consumer groups from Python against an embedded conveyor broker: subscribe with callbacks
(run inside poll on the calling thread), two members sharing partitions, commits, committed,
lag, patterns, errors."""
import itertools
import threading
import time

import pytest

import conveyor

_ids = itertools.count()


@pytest.fixture(scope="module")
def gbroker():
    with conveyor.Broker({"num.partitions": 1, "group.initial.rebalance.delay.ms": 0,
                          "offsets.topic.num.partitions": 3}) as b:
        yield b


@pytest.fixture
def gconf(gbroker):
    return {"bootstrap.servers": gbroker.bootstrap_servers}


@pytest.fixture
def names(request):
    n = next(_ids)
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:60]
    return f"g{n}-{base}", f"t{n}-{base}"


def member_conf(gconf, group, **extra):
    return {**gconf, "group.id": group, "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 300, "fetch.max.wait.ms": 100, **extra}


def produce(gconf, topic, partitions, per_partition):
    with conveyor.Producer(gconf) as p:
        for part in range(partitions):
            for i in range(per_partition):
                p.produce(topic, value=f"p{part}-{i}".encode(), partition=part)
        assert p.flush(30) == 0


def poll_until(consumers, pred, timeout=40.0, sink=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for c in consumers:
            for r in c.consume(500, timeout=0.05):
                if sink is not None:
                    sink.setdefault(c, []).append(r)
        if pred():
            return True
    return False


def test_subscribe_callbacks_commit_committed_lag(gconf, names):
    group, topic = names
    conveyor.Admin(gconf).create_topic(topic, partitions=3)
    produce(gconf, topic, 3, 4)
    events = []
    main_thread = threading.get_ident()

    def on_assign(consumer, partitions):
        events.append(("assign", sorted(partitions), threading.get_ident()))

    def on_revoke(consumer, partitions):
        events.append(("revoke", sorted(partitions), threading.get_ident()))

    got = {}
    with conveyor.Consumer(member_conf(gconf, group, **{"enable.auto.commit": False})) as c:
        c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
        assert c.subscription() == [topic]
        assert poll_until([c], lambda: len(got.get(c, [])) >= 12, sink=got)
        assert len(got[c]) == 12
        assert events[0][0] == "assign"
        assert events[0][1] == [conveyor.TopicPartition(topic, p) for p in range(3)]
        assert all(e[2] == main_thread for e in events)  # callbacks ran on this thread, in poll
        assert sorted(c.assignment()) == [conveyor.TopicPartition(topic, p) for p in range(3)]
        assert c.generation >= 1 and c.member_id
        c.commit()  # current positions, synchronously
        committed = c.committed([conveyor.TopicPartition(topic, p) for p in range(3)], timeout=10)
        assert [tp.offset for tp in committed] == [4, 4, 4]
        assert c.lag(conveyor.TopicPartition(topic, 1), timeout=10) == 0
        # Explicit offsets, and the offset after a record.
        c.commit([conveyor.TopicPartition(topic, 0, 2)])
        assert c.committed([conveyor.TopicPartition(topic, 0)], timeout=10)[0].offset == 2
        rec = got[c][0]
        c.commit(message=rec)
        assert c.committed([conveyor.TopicPartition(rec.topic, rec.partition)], timeout=10)[0].offset == rec.offset + 1
        # Asynchronous commit: reported through on_commit inside poll.
        outcomes = []
        c.on_commit(lambda err, offsets: outcomes.append((err, offsets)))
        c.commit(asynchronous=True)
        assert poll_until([c], lambda: bool(outcomes), timeout=20)
        assert outcomes[0][0] is None
        assert sorted(tp.offset for tp in outcomes[0][1]) == [4, 4, 4]
        c.unsubscribe()
        assert events[-1][0] == "revoke"
        assert c.assignment() == []
        assert c.subscription() == []


def test_two_members_share_and_rebalance(gconf, names):
    group, topic = names
    conveyor.Admin(gconf).create_topic(topic, partitions=4)
    owned = {"a": set(), "b": set()}

    def callbacks(name):
        def on_assign(consumer, parts):
            owned[name].update(parts)

        def on_revoke(consumer, parts):
            owned[name].difference_update(parts)
        return on_assign, on_revoke

    a = conveyor.Consumer(member_conf(gconf, group))
    b = conveyor.Consumer(member_conf(gconf, group))
    try:
        on_a, off_a = callbacks("a")
        a.subscribe(topic, on_assign=on_a, on_revoke=off_a)
        assert poll_until([a], lambda: len(owned["a"]) == 4)
        on_b, off_b = callbacks("b")
        b.subscribe(topic, on_assign=on_b, on_revoke=off_b)
        assert poll_until([a, b], lambda: len(owned["a"]) == 2 and len(owned["b"]) == 2)
        assert owned["a"] | owned["b"] == {conveyor.TopicPartition(topic, p) for p in range(4)}
        produce(gconf, topic, 4, 5)
        got = {}
        assert poll_until([a, b], lambda: sum(len(v) for v in got.values()) >= 20, sink=got)
        values = sorted(r.value for v in got.values() for r in v)
        assert values == sorted(f"p{p}-{i}".encode() for p in range(4) for i in range(5))  # exactly once
        b.close()
        assert poll_until([a], lambda: len(owned["a"]) == 4, timeout=20)
    finally:
        a.close()
        b.close()


def test_pattern_subscription(gconf, names):
    group, topic = names
    admin = conveyor.Admin(gconf)
    admin.create_topic(topic + "-x", partitions=1)
    admin.create_topic(topic + "-y", partitions=2)
    admin.create_topic("other-" + topic, partitions=1)
    owned = set()
    with conveyor.Consumer(member_conf(gconf, group)) as c:
        c.subscribe("^" + topic.replace("-", "\\-") + "-.*", on_assign=lambda cons, p: owned.update(p))
        assert poll_until([c], lambda: len(owned) == 3)
        assert {tp.topic for tp in owned} == {topic + "-x", topic + "-y"}


def test_callback_exception_is_raised_by_poll(gconf, names):
    group, topic = names
    conveyor.Admin(gconf).create_topic(topic, partitions=1)

    def boom(consumer, partitions):
        raise RuntimeError("from on_assign")

    with conveyor.Consumer(member_conf(gconf, group)) as c:
        c.subscribe([topic], on_assign=boom)
        with pytest.raises(RuntimeError, match="from on_assign"):
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                c.poll(0.1)


def test_group_errors(gconf, names):
    group, topic = names
    with conveyor.Consumer({**gconf}) as c:
        with pytest.raises(conveyor.InvalidGroupIdError):
            c.subscribe([topic])
        with pytest.raises(conveyor.InvalidGroupIdError):
            c.commit([conveyor.TopicPartition(topic, 0, 1)])
    with pytest.raises(conveyor.InvalidConfigError, match="group.protocol"):
        conveyor.Consumer({**gconf, "group.id": group, "group.protocol": "consumer"})
    with pytest.raises(conveyor.InvalidConfigError, match="partition.assignment.strategy"):
        conveyor.Consumer({**gconf, "group.id": group, "partition.assignment.strategy": "sticky-ish"})
    with conveyor.Consumer(member_conf(gconf, group)) as c:
        c.assign([conveyor.TopicPartition(topic, 0, conveyor.OFFSET_BEGINNING)])
        with pytest.raises(conveyor.StateError):
            c.subscribe([topic])
        with pytest.raises(conveyor.InvalidArgumentError):
            c.commit([conveyor.TopicPartition(topic, 0, -5)])


def test_group_mixed_with_confluent_kafka(gconf, names):
    """conveyor and confluent-kafka (librdkafka) consumers in one group, both `range`: each
    side decodes the other's subscription/assignment; every record is read exactly once."""
    confluent_kafka = pytest.importorskip("confluent_kafka")
    group, topic = names
    conveyor.Admin(gconf).create_topic(topic, partitions=6)
    produce(gconf, topic, 6, 20)
    common = {"group.id": group, "auto.offset.reset": "earliest", "partition.assignment.strategy": "range",
              "session.timeout.ms": 6000, "heartbeat.interval.ms": 300}
    cv = conveyor.Consumer({**gconf, **common})
    ck = confluent_kafka.Consumer({**gconf, **common})
    values = []
    try:
        cv.subscribe(topic)  # conveyor joins first: its member is the leader and assigns
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not cv.assignment():
            values.extend(r.value for r in cv.consume(100, 0.05))
        ck.subscribe([topic])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (len(values) < 120 or len(cv.assignment()) != 3
                                               or len(ck.assignment()) != 3):
            values.extend(r.value for r in cv.consume(100, 0.05))
            m = ck.poll(0.05)
            if m is not None and not m.error():
                values.append(m.value())
        # Member ids sort "conveyor-..." before "rdkafka-...": range gives conveyor 0-2.
        assert sorted(tp.partition for tp in cv.assignment()) == [0, 1, 2]
        assert sorted(tp.partition for tp in ck.assignment()) == [3, 4, 5]
        assert len(values) == 120 and len(set(values)) == 120
    finally:
        ck.close()
        cv.close()
