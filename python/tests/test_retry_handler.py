"""conveyor.RetryHandler against an embedded broker: retries with backoff, dead letters with
the original record and the dlt headers, commits, resuming after a restart, stop(), Ctrl-C and
bad configuration."""
import itertools
import threading
import time

import pytest

import conveyor

_ids = itertools.count()


@pytest.fixture(scope="module")
def rbroker():
    with conveyor.Broker({"num.partitions": 1, "group.initial.rebalance.delay.ms": 0,
                          "offsets.topic.num.partitions": 1, "auto.create.topics.enable": True}) as b:
        yield b


@pytest.fixture
def setup(rbroker):
    n = next(_ids)
    topic, group = f"pay{n}", f"payers{n}"
    conf = {"bootstrap.servers": rbroker.bootstrap_servers}
    admin = conveyor.Admin(conf)
    admin.create_topic(topic, partitions=1)
    admin.create_topic(topic + ".DLT", partitions=1)
    with conveyor.Producer(conf) as p:
        for i in range(10):
            p.produce(topic, key=f"k{i}".encode(), value=str(i).encode(), partition=0,
                      headers=[("trace", f"t{i}".encode())])
        assert p.flush(30) == 0
    member = {**conf, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False}
    return conf, member, topic, group


def read_all(conf, topic, count, timeout=30.0):
    out = []
    with conveyor.Consumer(conf) as c:
        c.assign([conveyor.TopicPartition(topic, 0, conveyor.OFFSET_BEGINNING)])
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            out += c.consume(100, timeout=0.2)
    return out


def run_until(handler, fn, records, timeout=30.0):
    total = conveyor.RetryStats()
    deadline = time.monotonic() + timeout
    while total.records < records and time.monotonic() < deadline:
        st = handler.run(fn, timeout=0.3)
        total.records += st.records
        total.dead_lettered += st.dead_lettered
    return total


def test_retries_then_dead_letters_and_commits(setup):
    conf, member, topic, group = setup
    calls = {}
    times = {}

    def handle(record):
        v = record.value.decode()
        calls[v] = calls.get(v, 0) + 1
        times.setdefault(v, []).append(time.monotonic())
        if v in ("3", "7"):
            raise ValueError(f"cannot pay {v}")
        if v == "5" and calls[v] == 1:
            raise TimeoutError("flaky")

    with conveyor.Consumer(member) as c, conveyor.Producer(conf) as p:
        c.subscribe([topic])
        h = conveyor.RetryHandler(c, p, {"max.retries": 2, "retry.backoff.ms": 50, "retry.backoff.max.ms": 80})
        run_until(h, handle, 10)
        st = h.stats
        assert (st.records, st.succeeded, st.retries, st.dead_lettered) == (10, 8, 5, 2)
        assert calls["3"] == 3 and calls["5"] == 2 and calls["0"] == 1
        gaps = [b - a for a, b in zip(times["3"], times["3"][1:])]
        assert gaps[0] >= 0.045 and gaps[1] >= 0.075, f"backoff 50 ms then 80 ms (capped), got {gaps}"
        committed = c.committed([conveyor.TopicPartition(topic, 0)], timeout=10)
        assert committed[0].offset == 10

    dead = read_all(conf, topic + ".DLT", 2)
    assert [r.value for r in dead] == [b"3", b"7"]
    for r, offset in zip(dead, (3, 7)):
        h = dict(r.headers)
        assert r.key == f"k{offset}".encode()
        assert h["trace"] == f"t{offset}".encode()
        assert h["conveyor.dlt.original.topic"] == topic.encode()
        assert h["conveyor.dlt.original.partition"] == b"0"
        assert h["conveyor.dlt.original.offset"] == str(offset).encode()
        assert h["conveyor.dlt.error"] == f"ValueError: cannot pay {offset}".encode()
        assert h["conveyor.dlt.attempts"] == b"3"
        assert int(h["conveyor.dlt.original.timestamp"]) > 0

    # A member restarting in the group resumes after everything, dead letters included.
    with conveyor.Consumer(member) as c2:
        c2.subscribe([topic])
        assert c2.consume(10, timeout=3) == []


def test_dead_letter_topic_option_and_restart_resumes(setup):
    conf, member, topic, group = setup
    seen = []

    def handle(record):
        seen.append(int(record.value))
        if record.value == b"2":
            raise RuntimeError("poison")

    with conveyor.Consumer(member) as c, conveyor.Producer(conf) as p:
        c.subscribe([topic])
        h = conveyor.RetryHandler(c, p, {"max.retries": 0, "dead.letter.topic": "all-dead-letters"})
        deadline = time.monotonic() + 30
        while len(seen) < 5 and time.monotonic() < deadline:
            h.run(lambda r: (handle(r), len(seen) >= 5 and h.stop()), timeout=0.3)
    assert seen[:5] == [0, 1, 2, 3, 4]
    with conveyor.Consumer(member) as c, conveyor.Producer(conf) as p:
        c.subscribe([topic])
        h = conveyor.RetryHandler(c, p, {"max.retries": 0, "dead.letter.topic": "all-dead-letters"})
        rest = []
        deadline = time.monotonic() + 30
        while len(rest) < 5 and time.monotonic() < deadline:
            h.run(lambda r: rest.append(int(r.value)), timeout=0.3)
    assert rest == [5, 6, 7, 8, 9], "resumed right after what the first run committed"
    dead = read_all(conf, "all-dead-letters", 1)
    assert [r.value for r in dead] == [b"2"]


def test_stop_from_another_thread_and_keyboard_interrupt(setup):
    conf, member, topic, _ = setup
    with conveyor.Consumer(member) as c, conveyor.Producer(conf) as p:
        c.subscribe([topic])
        h = conveyor.RetryHandler(c, p)
        threading.Timer(0.5, h.stop).start()
        started = time.monotonic()
        h.run(lambda r: time.sleep(0.01))  # no timeout: returns because of stop()
        assert time.monotonic() - started < 10
        with pytest.raises(conveyor.KafkaError):
            h.run(lambda r: None, timeout=1)  # stop() is sticky

    with conveyor.Consumer({**member, "group.id": member["group.id"] + "-interrupted"}) as c, \
            conveyor.Producer(conf) as p:
        c.subscribe([topic])
        h = conveyor.RetryHandler(c, p)

        def interrupt(record):
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            h.run(interrupt, timeout=30)
        assert h.stats.dead_lettered == 0, "an interrupt is not a failed record"


def test_bad_configuration_names_the_key(setup):
    conf, member, _, _ = setup
    with conveyor.Consumer(member) as c, conveyor.Producer(conf) as p:
        with pytest.raises(conveyor.KafkaError, match="max.retries"):
            conveyor.RetryHandler(c, p, {"max.retries": -1})
        with pytest.raises(conveyor.KafkaError, match="retry.backof"):
            conveyor.RetryHandler(c, p, {"retry.backof.ms": 5})
        with pytest.raises(TypeError):
            conveyor.RetryHandler(c, p).run("not callable")
