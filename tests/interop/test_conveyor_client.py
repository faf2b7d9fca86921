"""conveyor's own clients — Admin, Producer with its defaults (idempotence on, acks=all) and
each codec, Consumer by assignment and in a group, offsets by timestamp, the CLI — against
whatever broker `bootstrap` names.

By default that is a conveyor broker; `python tests/reference_kafka.py -- pytest tests/interop`
(which scripts/test.sh runs) points the same tests at Apache Kafka, so nothing here may rely on
conveyor being the broker (issue 2: "nothing in the client may assume conveyor")."""
from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from broker_process import conveyor_cli  # noqa: E402

try:
    import conveyor
except ImportError as e:  # part of this repository: missing it is a failure, not a skip
    pytest.fail(f"the conveyor package is not importable ({e}); run `pip install .`",
                allow_module_level=True)

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PER_CODEC = 2_000


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns() % 10**12}"


def wait_for(pred, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_admin_create_describe_list_delete(bootstrap):
    name = unique("cv-admin")
    with conveyor.Admin({"bootstrap.servers": bootstrap}) as admin:
        admin.create_topic(name, partitions=3)
        wait_for(lambda: name in admin.list_topics(), what=f"{name} listed")
        d = admin.describe_topic(name)
        assert d.name == name
        assert len(d.topic_id) > 0 and d.topic_id != "AAAAAAAAAAAAAAAAAAAAAA"
        assert sorted(p.partition for p in d.partitions) == [0, 1, 2]
        assert all(p.leader >= 0 for p in d.partitions)
        with pytest.raises(conveyor.KafkaError) as dup:
            admin.create_topic(name, partitions=3)
        assert dup.value.code == 36, dup.value  # TOPIC_ALREADY_EXISTS
        admin.delete_topic(name)
        wait_for(lambda: name not in admin.list_topics(), what=f"{name} gone")


@pytest.mark.parametrize("codec", CODECS)
def test_default_producer_each_codec_round_trip(bootstrap, codec):
    topic = unique(f"cv-{codec}")
    with conveyor.Admin({"bootstrap.servers": bootstrap}) as admin:
        admin.create_topic(topic, partitions=2)
    sent = defaultdict(list)
    errors = []
    with conveyor.Producer({"bootstrap.servers": bootstrap, "compression.type": codec,
                            "linger.ms": 5}) as p:  # idempotence and acks=all are the defaults
        for i in range(PER_CODEC):
            key = f"k{i % 17}".encode()
            value = (f"{codec}-{i}-" * (1 + i % 7)).encode()
            p.produce(topic, key=key, value=value, headers=[("i", str(i).encode())],
                      on_delivery=lambda err, msg: errors.append(err) if err else None)
        assert p.flush(60) == 0
    assert errors == []

    # Which partition a key went to, and the order within it, come back from the broker.
    got = defaultdict(list)
    with conveyor.Consumer({"bootstrap.servers": bootstrap, "group.id": unique("unused"),
                            "enable.auto.commit": False, "auto.offset.reset": "earliest"}) as c:
        c.assign([conveyor.TopicPartition(topic, 0, 0), conveyor.TopicPartition(topic, 1, 0)])
        deadline = time.monotonic() + 60
        while sum(map(len, got.values())) < PER_CODEC and time.monotonic() < deadline:
            for m in c.consume(500, timeout=0.5):
                got[m.partition].append((m.offset, m.key, m.value, m.headers))
    assert sum(map(len, got.values())) == PER_CODEC
    by_key_partition = {}
    seen_values = []
    for part, rows in got.items():
        assert [r[0] for r in rows] == list(range(len(rows)))  # offsets dense from 0
        for _, key, value, headers in rows:
            assert by_key_partition.setdefault(key, part) == part  # one partition per key
            seen_values.append((key, value, dict(headers)["i"]))
    # Per key, the records come back in send order.
    per_key = defaultdict(list)
    for key, value, i in seen_values:
        per_key[key].append(int(i))
    for key, idx in per_key.items():
        assert idx == sorted(idx), f"key {key} out of order"
    assert sorted(int(i) for _, _, i in seen_values) == list(range(PER_CODEC))


def test_offsets_for_times(bootstrap):
    topic = unique("cv-times")
    base = int(time.time() * 1000) - 60_000
    with conveyor.Producer({"bootstrap.servers": bootstrap}) as p:
        for i in range(10):
            p.produce(topic, value=b"x", partition=0, timestamp=base + i * 1000)
        assert p.flush(30) == 0
    with conveyor.Admin({"bootstrap.servers": bootstrap}) as admin:
        tp = conveyor.TopicPartition(topic, 0)
        assert admin.list_offsets([tp], conveyor.OFFSET_BEGINNING)[0].offset == 0
        assert admin.list_offsets([tp], conveyor.OFFSET_END)[0].offset == 10
        assert admin.list_offsets([tp], base + 4500)[0].offset == 5
        assert admin.list_offsets([tp], base + 60_000)[0].offset == -1


def test_group_of_two_conveyor_consumers_each_record_once(bootstrap):
    topic, group = unique("cv-grp"), unique("cv-group")
    records = 600
    with conveyor.Admin({"bootstrap.servers": bootstrap}) as admin:
        admin.create_topic(topic, partitions=4)

    conf = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "session.timeout.ms": 10000,
            "heartbeat.interval.ms": 500, "partition.assignment.strategy": "range"}
    members = [conveyor.Consumer(conf), conveyor.Consumer(conf)]
    seen: dict[int, list[int]] = defaultdict(list)
    try:
        for m in members:
            m.subscribe([topic])

        def pump() -> int:
            for idx, m in enumerate(members):
                for r in m.consume(200, timeout=0.05):
                    seen[idx].append(int(r.value))
            return sum(map(len, seen.values()))

        # Produce once the group is stable with two partitions each: no rebalance can then
        # hand a partition over with uncommitted records (which would be read twice).
        wait_for(lambda: pump() == 0 and all(len(m.assignment()) == 2 for m in members),
                 timeout=90, what="both members assigned two partitions")
        with conveyor.Producer({"bootstrap.servers": bootstrap}) as p:
            for i in range(records):
                p.produce(topic, key=str(i).encode(), value=str(i).encode())
            assert p.flush(30) == 0
        wait_for(lambda: pump() >= records, timeout=60, what="every record read")
        assert all(seen[i] for i in range(2)), "both members got records"
        values = [v for vs in seen.values() for v in vs]
        assert sorted(values) == list(range(records)), "each record exactly once in the group"
        for m in members:
            m.commit()
        with conveyor.Admin({"bootstrap.servers": bootstrap}) as admin:
            lag = admin.group_lag(group)
            assert lag.group.state == "Stable"
            assert len(lag.group.members) == 2
            assert len(lag) == 4
            assert lag.total_lag == 0
            assert {row.consumer_id for row in lag} == {m.member_id for m in members}
        committed = members[0].committed(members[0].assignment(), timeout=10)
        assert all(tp.offset > 0 for tp in committed)
    finally:
        for m in members:
            m.close()


def test_cli_produce_consume(bootstrap, tmp_path):
    topic = unique("cv-cli")
    lines = [f"key{i}:line {i}" for i in range(50)]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(lines) + "\n")
    cli = conveyor_cli()
    subprocess.run(cli + ["produce", topic, "--bootstrap-server", bootstrap,
                          "--file", str(src), "--key-separator", ":"],
                   check=True, timeout=60, capture_output=True)
    out = subprocess.run(cli + ["consume", topic, "--bootstrap-server", bootstrap,
                                "--offset", "earliest", "--max-records", "50", "--format", "%k=%v"],
                         check=True, timeout=60, capture_output=True, text=True).stdout
    assert out.splitlines() == [line.replace(":", "=", 1) for line in lines]
