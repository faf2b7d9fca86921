"""Disk full on a real (tiny) file system: a 4 MiB tmpfs mounted for the test (skipped when the
test may not mount one, e.g. without root or in a restricted container).

The broker's log dir is on the tmpfs beside a filler file. Produces of 16 KB batches go on
until the file system is full: the broker answers KAFKA_STORAGE_ERROR (retriable) and logs the
dir and "no space"; everything acknowledged before stays readable, whole and in order; after
the filler is deleted (space returns) produces are accepted again, at the next offset.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kafka_wire as kw  # noqa: E402
from broker_process import BrokerProcess, wait_for_topic  # noqa: E402

KAFKA_STORAGE_ERROR = 56
TOPIC = "full"


@pytest.fixture
def tiny_fs(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip() or r.returncode}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_refuses_keeps_data_and_resumes(tiny_fs, tmp_path):
    filler = tiny_fs / "filler"
    filler.write_bytes(b"\0" * (1024 * 1024))
    data = tiny_fs / "data"
    broker = BrokerProcess(data, {"num.partitions": "1", "auto.create.topics.enable": "false"},
                           name="full")
    broker.stderr_path = tmp_path / "full.stderr.log"  # not on the full file system
    broker.start()
    try:
        with kw.Connection.to(broker.bootstrap) as c:
            assert kw.create_topics(c, [(TOPIC, 1)])[TOPIC][0] == kw.NONE
            wait_for_topic(c, TOPIC, 1)
            acked: list[bytes] = []
            error = kw.NONE
            for i in range(1000):  # 16 MB would not fit: the file system fills up first
                values = [f"{i}-{j}-".encode() + b"x" * 1000 for j in range(16)]
                res = kw.produce(c, TOPIC, 0, kw.encode_batch([(None, v) for v in values]), acks=-1)
                if res.error != kw.NONE:
                    error = res.error
                    break
                assert res.base_offset == len(acked)
                acked += values
            assert error == KAFKA_STORAGE_ERROR, error
            assert acked, "nothing fitted before the file system was full"
            # A second attempt of the same size while still full: refused again, nothing torn.
            again = kw.encode_batch([(None, b"again" + b"y" * 1000) for _ in range(16)])
            assert kw.produce(c, TOPIC, 0, again, acks=1).error == KAFKA_STORAGE_ERROR
            batches = kw.fetch_all(c, TOPIC, 0)  # CRC-checked
            assert [r.value for b in batches for r in b.records] == acked
        log = broker.stderr_tail(200)
        assert "no space" in log and str(data) in log, log

        filler.unlink()  # space returns
        with kw.Connection.to(broker.bootstrap) as c:
            res = kw.produce(c, TOPIC, 0, kw.encode_batch([(None, b"after")]), acks=-1)
            assert res.error == kw.NONE
            assert res.base_offset == len(acked)
            values = [r.value for b in kw.fetch_all(c, TOPIC, 0) for r in b.records]
        assert values == acked + [b"after"]
    finally:
        if broker.alive():
            broker.kill()
