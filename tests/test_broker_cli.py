"""`conveyor broker` as a process: the ready-line contract, clean stops on SIGTERM and SIGINT,
Kafka's data-dir layout, and data surviving a clean restart."""
from __future__ import annotations

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kafka_wire as kw  # noqa: E402
from broker_process import READY_RE, BrokerProcess, wait_for_topic, wait_serving  # noqa: E402


def produce_values(bootstrap: str, topic: str, batches: list[list[bytes]]) -> list[int]:
    with kw.Connection.to(bootstrap) as c:
        res = kw.create_topics(c, [(topic, 1)])
        assert res[topic][0] in (kw.NONE, kw.TOPIC_ALREADY_EXISTS), res
        wait_for_topic(c, topic, 1)
        bases = []
        for values in batches:
            r = kw.produce(c, topic, 0, kw.encode_batch([(b"k", v) for v in values]))
            assert r.error == kw.NONE, r
            bases.append(r.base_offset)
        return bases


def test_ready_line_sigterm_and_kafka_layout(tmp_path):
    broker = BrokerProcess(tmp_path / "data", {"num.partitions": "1"}, name="cli").start()
    try:
        wait_serving(broker.bootstrap)
        batches = [[b"alpha", b"beta"], [b"gamma"], [b"delta-%d" % i for i in range(100)]]
        bases = produce_values(broker.bootstrap, "layout", batches)
        assert bases == [0, 2, 3]
    finally:
        rc = broker.stop()
    assert rc == 0, f"exit {rc} after SIGTERM\n{broker.stderr_tail()}"
    lines = broker.stdout_lines
    assert len(lines) == 1 and READY_RE.match(lines[0]), f"stdout was {lines!r}"

    # <log.dirs>/<topic>-<partition>/<20-digit base offset>.log|.index|.timeindex, and the
    # .log file holds the record batches exactly as on the wire.
    part_dir = tmp_path / "data" / "layout-0"
    assert part_dir.is_dir(), sorted(p.name for p in (tmp_path / "data").iterdir())
    seg = part_dir / ("0" * 20 + ".log")
    assert seg.is_file(), sorted(p.name for p in part_dir.iterdir())
    assert (part_dir / ("0" * 20 + ".index")).exists()
    assert (part_dir / ("0" * 20 + ".timeindex")).exists()
    on_disk, tail = kw.decode_batches(seg.read_bytes())
    assert tail == 0
    assert [b.base_offset for b in on_disk] == bases
    assert [[r.value for r in b.records] for b in on_disk] == batches


def test_sigint_stops_cleanly_and_data_survives_restart(tmp_path):
    data = tmp_path / "data"
    broker = BrokerProcess(data, name="sigint").start()
    values = [b"v%d" % i for i in range(1000)]
    try:
        produce_values(broker.bootstrap, "survive", [values[:500], values[500:]])
    finally:
        broker.proc.send_signal(signal.SIGINT)
        rc = broker.proc.wait(30)
    assert rc == 0, f"exit {rc} after SIGINT\n{broker.stderr_tail()}"

    again = BrokerProcess(data, name="restart").start()
    try:
        with kw.Connection.to(again.bootstrap) as c:
            assert kw.list_offset(c, "survive", 0, kw.LATEST) == (kw.NONE, 1000)
            assert kw.list_offset(c, "survive", 0, kw.EARLIEST) == (kw.NONE, 0)
            got = [r.value for b in kw.fetch_all(c, "survive", 0) for r in b.records]
            assert got == values
            # New records continue after the recovered end.
            r = kw.produce(c, "survive", 0, kw.encode_batch([(None, b"after")]))
            assert (r.error, r.base_offset) == (kw.NONE, 1000)
    finally:
        assert again.stop() == 0, again.stderr_tail()
