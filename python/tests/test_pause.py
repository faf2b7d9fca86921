"""Consumer.pause / resume / paused (KafkaConsumer.pause/resume/paused, confluent-kafka's
Consumer.pause/resume) against an embedded conveyor broker: a paused partition yields nothing
while another keeps delivering; after resume its records arrive in order, none lost or
duplicated; unassigned partitions raise StateError naming them; a paused group member keeps
its membership past session.timeout.ms while it polls."""
import itertools
import time

import pytest

import conveyor
from conveyor import TopicPartition

_ids = itertools.count()


@pytest.fixture(scope="module")
def pbroker():
    with conveyor.Broker({"num.partitions": 2, "group.initial.rebalance.delay.ms": 0,
                          "offsets.topic.num.partitions": 3}) as b:
        yield b


@pytest.fixture
def pconf(pbroker):
    return {"bootstrap.servers": pbroker.bootstrap_servers}


@pytest.fixture
def names(request):
    n = next(_ids)
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:60]
    return f"g{n}-{base}", f"t{n}-{base}"


def produce(conf, topic, partitions, first, count):
    with conveyor.Producer(conf) as p:
        for part in partitions:
            for i in range(first, first + count):
                p.produce(topic, value=f"p{part}-{i}".encode(), partition=part)
        assert p.flush(30) == 0


def consume_for(consumer, seconds, sink, until=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for r in consumer.consume(500, timeout=0.05):
            sink.setdefault(r.partition, []).append(r)
        if until is not None and until():
            return True
    return until() if until is not None else True


def assert_complete(records, partition, n):
    assert [r.offset for r in records] == list(range(n))
    assert [r.value for r in records] == [f"p{partition}-{i}".encode() for i in range(n)]


def test_paused_partition_yields_nothing_then_resumes_without_loss(pconf, names):
    _, topic = names
    with conveyor.Admin(pconf) as admin:
        admin.create_topic(topic, partitions=2)
    produce(pconf, topic, [0, 1], 0, 100)
    got = {}
    with conveyor.Consumer({**pconf, "fetch.max.wait.ms": 100, "max.poll.records": 5}) as c:
        c.assign([TopicPartition(topic, p, conveyor.OFFSET_BEGINNING) for p in (0, 1)])
        assert c.paused() == []
        assert consume_for(c, 30, got, lambda: len(got.get(0, [])) >= 1)
        c.pause([TopicPartition(topic, 0)])
        assert c.paused() == [TopicPartition(topic, 0)]
        before = len(got[0])
        position = got[0][-1].offset + 1
        assert c.position(TopicPartition(topic, 0)) == position
        # Partition 1 delivers everything; nothing more from partition 0.
        assert consume_for(c, 30, got, lambda: len(got.get(1, [])) >= 100)
        consume_for(c, 1.0, got)
        assert len(got[0]) == before
        assert c.position(TopicPartition(topic, 0)) == position
        c.resume([TopicPartition(topic, 0)])
        assert c.paused() == []
        assert consume_for(c, 30, got, lambda: len(got[0]) >= 100)
        consume_for(c, 0.3, got)
    assert_complete(got[0], 0, 100)
    assert_complete(got[1], 1, 100)


def test_unassigned_partition_raises_state_error_naming_it(pconf, names):
    _, topic = names
    with conveyor.Admin(pconf) as admin:
        admin.create_topic(topic, partitions=2)
    with conveyor.Consumer(pconf) as c:
        with pytest.raises(conveyor.StateError, match=f"{topic}-0"):
            c.pause([TopicPartition(topic, 0)])
        c.assign([TopicPartition(topic, 0, conveyor.OFFSET_BEGINNING)])
        with pytest.raises(conveyor.StateError, match=f"{topic}-1"):
            c.pause([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        assert c.paused() == []  # all or nothing
        c.pause([TopicPartition(topic, 0)])
        with pytest.raises(conveyor.StateError, match=f"{topic}-1"):
            c.resume([TopicPartition(topic, 1)])
        assert c.paused() == [TopicPartition(topic, 0)]
        c.pause([])  # no-op
    with pytest.raises(conveyor.StateError):
        c.pause([TopicPartition(topic, 0)])  # closed


def test_paused_group_member_stays_past_session_timeout(pconf, names):
    group, topic = names
    with conveyor.Admin(pconf) as admin:
        admin.create_topic(topic, partitions=2)
    conf = {**pconf, "group.id": group, "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 300, "fetch.max.wait.ms": 100, "max.poll.interval.ms": 4000,
            "enable.auto.commit": False}
    events = []
    got = {}
    with conveyor.Consumer(conf) as c:
        c.subscribe([topic], on_assign=lambda _c, tps: events.append(("assign", tps)),
                    on_revoke=lambda _c, tps: events.append(("revoke", tps)),
                    on_lost=lambda _c, tps: events.append(("lost", tps)))
        assert consume_for(c, 40, got, lambda: len(c.assignment()) == 2)
        everything = sorted(c.assignment())
        c.pause(everything)
        member, generation = c.member_id, c.generation
        produce(pconf, topic, [0, 1], 0, 10)
        consume_for(c, 9.0, got)  # > session.timeout.ms and max.poll.interval.ms
        assert got == {}
        assert (c.member_id, c.generation) == (member, generation)
        assert [e[0] for e in events] == ["assign"]
        assert c.paused() == everything
        c.resume(c.paused())
        assert consume_for(c, 30, got, lambda: sum(map(len, got.values())) >= 20)
    assert_complete(got[0], 0, 10)
    assert_complete(got[1], 1, 10)
