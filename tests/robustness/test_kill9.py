"""kill -9 of a broker during a produce run (log.flush.interval.messages=1, acks=1).

After a restart on the same data dir every acknowledged record is readable, in order, with
the offsets it was acknowledged at; the only other data allowed is the one batch per
partition that was in flight (whole, never a part of it); new produces continue after the
recovered log end. Two kill/restart rounds.
"""
from __future__ import annotations

import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kafka_wire as kw  # noqa: E402
from broker_process import BrokerProcess, wait_for_topic, wait_serving  # noqa: E402

TOPIC = "kill9"
PARTITIONS = 2
OVERRIDES = {
    "auto.create.topics.enable": "false",
    "log.flush.interval.messages": "1",
    "log.segment.bytes": str(256 * 1024),  # several segments, so recovery crosses a roll
}


@dataclass
class PartitionLog:
    """What one producer connection sent and what the broker acknowledged."""
    acked: list[tuple[int, list[bytes]]] = field(default_factory=list)  # (base offset, values)
    in_flight: list[bytes] | None = None
    errors: list[str] = field(default_factory=list)


def produce_until_dead(bootstrap: str, partition: int, log: PartitionLog, rnd: random.Random,
                       round_no: int, stop: threading.Event) -> None:
    try:
        conn = kw.Connection.to(bootstrap, timeout=10)
    except OSError as e:
        log.errors.append(f"connect: {e}")
        return
    n = 0
    try:
        while not stop.is_set():
            count = rnd.randint(1, 40)
            values = [f"r{round_no}-p{partition}-b{n}-i{i}-".encode() + b"v" * rnd.randint(0, 400)
                      for i in range(count)]
            log.in_flight = values
            try:
                res = kw.produce(conn, TOPIC, partition,
                                 kw.encode_batch([(None, v) for v in values]), acks=1)
            except (OSError, kw.WireError):
                return  # the broker died with this batch in flight
            if res.error != kw.NONE:
                log.errors.append(f"produce error {res.error}")
                return
            log.acked.append((res.base_offset, values))
            log.in_flight = None
            n += 1
    finally:
        conn.close()


def read_partition(bootstrap: str, partition: int) -> list[kw.Batch]:
    with kw.Connection.to(bootstrap, timeout=30) as c:
        err, end = kw.list_offset(c, TOPIC, partition, kw.LATEST)
        assert err == kw.NONE
        batches = kw.fetch_all(c, TOPIC, partition, 0)
    served_end = batches[-1].base_offset + batches[-1].last_offset_delta + 1 if batches else 0
    assert served_end == end, f"partition {partition}: served up to {served_end}, LEO {end}"
    return batches


def check_recovered(batches: list[kw.Batch], history: list[PartitionLog], partition: int) -> int:
    """Checks the served log against every round's acks; returns the log end offset."""
    records = [r for b in batches for r in b.records]
    offsets = [r.offset for r in records]
    assert offsets == list(range(len(records))), f"partition {partition}: offsets not dense"
    by_offset = {r.offset: r.value for r in records}
    allowed_extra = []
    for log in history:
        assert not log.errors, f"partition {partition}: {log.errors}"
        for base, values in log.acked:
            got = [by_offset.get(base + i) for i in range(len(values))]
            assert got == values, f"partition {partition}: acked batch at {base} not intact"
        if log.in_flight is not None:
            allowed_extra.append(log.in_flight)
    # Each served batch is one whole produced batch: acked, or the one that was in flight.
    acked_batches = {base: values for log in history for base, values in log.acked}
    for b in batches:
        values = [r.value for r in b.records]
        if b.base_offset in acked_batches:
            assert values == acked_batches[b.base_offset]
        else:
            assert values in allowed_extra, (
                f"partition {partition}: batch at {b.base_offset} ({len(values)} records) was "
                "never acknowledged and is not a whole in-flight batch")
    return len(records)


def test_kill9_during_produce_keeps_every_acked_record(broker_factory):
    broker = broker_factory(OVERRIDES, name="kill9")
    data_dir = broker.data_dir
    with kw.Connection.to(broker.bootstrap) as c:
        res = kw.create_topics(c, [(TOPIC, PARTITIONS)])
        assert res[TOPIC][0] == kw.NONE, res
        wait_for_topic(c, TOPIC, PARTITIONS)

    restarted: list[BrokerProcess] = []
    try:
        history: dict[int, list[PartitionLog]] = {p: [] for p in range(PARTITIONS)}
        ends = {p: 0 for p in range(PARTITIONS)}
        rnd = random.Random(9)
        for round_no in range(2):
            logs = {p: PartitionLog() for p in range(PARTITIONS)}
            stop = threading.Event()
            threads = [threading.Thread(target=produce_until_dead,
                                        args=(broker.bootstrap, p, logs[p],
                                              random.Random(rnd.random()), round_no, stop))
                       for p in range(PARTITIONS)]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 20
            while (time.monotonic() < deadline
                   and min(len(logs[p].acked) for p in logs) < 150
                   and all(t.is_alive() for t in threads)):
                time.sleep(0.01)
            broker.kill()  # SIGKILL mid-run: producers are still sending
            stop.set()
            for t in threads:
                t.join(15)
                assert not t.is_alive(), "producer thread stuck after the broker died"
            for p in range(PARTITIONS):
                assert logs[p].acked, f"round {round_no}: nothing acknowledged on partition {p}"
                assert not logs[p].errors, logs[p].errors
                # Offsets continue where the recovered log ended.
                assert logs[p].acked[0][0] == ends[p], (round_no, p, logs[p].acked[0][0], ends[p])
                history[p].append(logs[p])

            broker = BrokerProcess(data_dir, OVERRIDES, name=f"kill9-restart{round_no}")
            restarted.append(broker)
            broker.start()
            wait_serving(broker.bootstrap)
            for p in range(PARTITIONS):
                ends[p] = check_recovered(read_partition(broker.bootstrap, p), history[p], p)
            if round_no == 1:
                assert broker.stop() == 0, broker.stderr_tail()
            # Round 0's restarted broker is the one killed in round 1.
    finally:
        for b in restarted:
            if b.alive():
                b.kill()
