"""kcat (librdkafka) against a conveyor broker: produce 100,000 records from a file with every
codec, consume them back byte-identical; `kcat -L` lists topics and partitions."""
from __future__ import annotations

import json
import random
import shutil
import string
import subprocess

import pytest

KCAT = shutil.which("kcat")
pytestmark = pytest.mark.skipif(KCAT is None,
                                reason="kcat is not installed (scripts/install-deps.sh installs it)")

RECORDS = 100_000
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


@pytest.fixture(scope="module")
def lines_file(tmp_path_factory):
    """100,000 distinct lines (numbered, random printable ASCII and some UTF-8, 1-200 bytes)."""
    rng = random.Random(20261120)
    alphabet = string.ascii_letters + string.digits + string.punctuation + " " * 8
    lines = []
    for i in range(RECORDS):
        body = "".join(rng.choices(alphabet, k=rng.randint(0, 180)))
        if i % 17 == 0:
            body += "é€漢字"
        lines.append(f"{i:06d}|{body}")
    path = tmp_path_factory.mktemp("kcat") / "records.txt"
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return path


def run(args: list[str], timeout: float = 180, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([KCAT, *args], capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kw)


def kcat_produce(bootstrap: str, topic: str, path, codec: str | None = None,
                 partition: int | None = 0) -> None:
    args = ["-P", "-b", bootstrap, "-t", topic, "-l", str(path),
            "-X", "message.send.max.retries=0", "-m", "30"]
    if partition is not None:
        args += ["-p", str(partition)]
    if codec:
        args += ["-z", codec]
    res = run(args)
    err = res.stderr.decode(errors="replace")
    assert res.returncode == 0, f"kcat -P exited {res.returncode}:\n{err[-3000:]}"
    assert "Delivery failed" not in err and "ERROR" not in err, err[-3000:]


def kcat_consume(bootstrap: str, topic: str, partition: int = 0) -> bytes:
    res = run(["-C", "-b", bootstrap, "-t", topic, "-p", str(partition), "-o", "beginning",
               "-e", "-q", "-f", "%s\n", "-X", "check.crcs=true", "-m", "30"])
    err = res.stderr.decode(errors="replace")
    assert res.returncode == 0, f"kcat -C exited {res.returncode}:\n{err[-3000:]}"
    assert "ERROR" not in err, err[-3000:]
    return res.stdout


def assert_same_lines(got: bytes, want: bytes) -> None:
    if got == want:
        return
    g, w = got.split(b"\n"), want.split(b"\n")
    first = next((i for i, (a, b) in enumerate(zip(g, w)) if a != b), min(len(g), len(w)))
    pytest.fail(f"consumed {len(g) - 1} records, produced {len(w) - 1}; first difference at "
                f"record {first}: got {g[first][:80] if first < len(g) else None!r}, "
                f"want {w[first][:80] if first < len(w) else None!r}")


@pytest.mark.parametrize("codec", CODECS)
def test_kcat_roundtrip_100k(bootstrap, new_topic, lines_file, codec):
    topic = new_topic(1, prefix=f"kcat-{codec}")
    kcat_produce(bootstrap, topic, lines_file, codec=None if codec == "none" else codec)
    got = kcat_consume(bootstrap, topic)
    assert_same_lines(got, lines_file.read_bytes())


def test_kcat_produce_autocreates_topic(bootstrap, tmp_path):
    """kcat to a topic nobody created: the broker auto-creates it (auto.create.topics.enable)."""
    path = tmp_path / "few.txt"
    want = b"".join(b"auto-%d\n" % i for i in range(50))
    path.write_bytes(want)
    topic = f"kcat-auto-{random.randrange(1 << 30)}"
    kcat_produce(bootstrap, topic, path, partition=0)
    assert_same_lines(kcat_consume(bootstrap, topic), want)


def test_kcat_metadata_lists_topics_and_partitions(bootstrap, new_topic):
    one = new_topic(1, prefix="kcat-list-one")
    three = new_topic(3, prefix="kcat-list-three")
    res = run(["-L", "-J", "-b", bootstrap, "-m", "30"], timeout=60)
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    md = json.loads(res.stdout)
    brokers = {b["id"]: b["name"] for b in md["brokers"]}
    assert len(brokers) >= 1, md
    topics = {t["topic"]: t for t in md["topics"]}
    assert one in topics and three in topics, sorted(topics)
    for name, count in ((one, 1), (three, 3)):
        t = topics[name]
        assert not t.get("error"), t
        parts = sorted(t["partitions"], key=lambda p: p["partition"])
        assert [p["partition"] for p in parts] == list(range(count)), t
        for p in parts:
            assert p["leader"] in brokers, (p, brokers)
            assert {r["id"] for r in p["isrs"]} >= {p["leader"]}, p

    # `kcat -L -t <topic>` asks for one topic only.
    res = run(["-L", "-J", "-b", bootstrap, "-t", three, "-m", "30"], timeout=60)
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    only = json.loads(res.stdout)["topics"]
    assert [t["topic"] for t in only] == [three]
    assert len(only[0]["partitions"]) == 3
