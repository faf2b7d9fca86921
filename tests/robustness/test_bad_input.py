"""Bad input on raw sockets against a real conveyor broker (issue 2, "Bad input").

Each test sends something malformed or refused, checks the answer (a closed connection or the
Kafka error code the protocol guide prescribes), that nothing was appended, that the broker's
memory did not jump, and - in the autouse fixture - that a second connection is still served.
"""
from __future__ import annotations

import socket
import struct
import sys
import time
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kafka_wire as kw  # noqa: E402
from broker_process import wait_for_topic, wait_serving  # noqa: E402

MESSAGE_MAX_BYTES = 1 << 20           # message.max.bytes
SOCKET_REQUEST_MAX_BYTES = 8 << 20     # socket.request.max.bytes
TOPIC = "robust"
# A refused request may cost the broker some memory, never the size it claims.
RSS_JUMP_LIMIT_KB = 64 * 1024
BOMB_RSS_LIMIT_KB = 256 * 1024


@pytest.fixture(scope="module")
def rbroker(broker_factory):
    b = broker_factory({
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "message.max.bytes": str(MESSAGE_MAX_BYTES),
        "socket.request.max.bytes": str(SOCKET_REQUEST_MAX_BYTES),
    }, name="robustness")
    with kw.Connection.to(b.bootstrap) as c:
        res = kw.create_topics(c, [(TOPIC, 1)])
        assert res[TOPIC][0] == kw.NONE, res
        wait_for_topic(c, TOPIC, 1)
    yield b
    rc = b.stop()
    assert rc == 0, f"broker exited {rc} on SIGTERM\n{b.stderr_tail()}"


@pytest.fixture(autouse=True)
def still_serving(rbroker):
    """After every test: the broker is alive and a fresh connection gets valid answers."""
    yield
    assert rbroker.alive(), f"broker died\n{rbroker.stderr_tail()}"
    wait_serving(rbroker.bootstrap)
    with kw.Connection.to(rbroker.bootstrap) as c:
        _, topics = kw.metadata(c, [TOPIC])
        assert topics[TOPIC].error == kw.NONE and 0 in topics[TOPIC].partitions


@pytest.fixture
def conn(rbroker):
    c = kw.Connection.to(rbroker.bootstrap)
    yield c
    c.close()


def assert_closed(conn: kw.Connection, what: str, timeout: float = 5.0) -> None:
    try:
        got = conn.wait_closed(timeout)
    except TimeoutError:
        pytest.fail(f"{what}: the broker kept the connection open for {timeout}s")
    assert got is None, f"{what}: the broker answered {got[:64]!r} instead of closing"


def log_end(rbroker, topic: str = TOPIC, partition: int = 0) -> int:
    with kw.Connection.to(rbroker.bootstrap) as c:
        err, off = kw.list_offset(c, topic, partition, kw.LATEST)
        assert err == kw.NONE, f"ListOffsets error {err}"
        return off


def good_batch(n: int = 3, tag: str = "ok") -> bytes:
    return kw.encode_batch([(b"k", f"{tag}-{i}".encode()) for i in range(n)])


def produce_ok(rbroker, n: int = 3, tag: str = "ok") -> int:
    with kw.Connection.to(rbroker.bootstrap) as c:
        res = kw.produce(c, TOPIC, 0, good_batch(n, tag))
        assert res.error == kw.NONE, f"good produce refused: {res}"
        return res.base_offset


# --- framing --------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [-1, -(2**31), 0, SOCKET_REQUEST_MAX_BYTES + 1, 2**31 - 1],
                         ids=["minus1", "int32min", "zero", "over-socket-max", "int32max"])
def test_bad_size_prefix_closes_without_allocating(rbroker, conn, size):
    hwm_before = rbroker.peak_rss_kb()
    conn.send_raw(struct.pack(">i", size) + b"\x00\x12\x00\x00")
    assert_closed(conn, f"size prefix {size}")
    grew = rbroker.peak_rss_kb() - hwm_before
    assert grew < RSS_JUMP_LIMIT_KB, f"peak RSS grew {grew} KiB for size prefix {size}"


def test_frame_cut_short_then_eof(rbroker, conn):
    """The prefix promises 100 bytes, 20 arrive, then the client half-closes."""
    _, data = kw.frame(kw.API_VERSIONS, 0, b"")
    conn.send_raw(struct.pack(">i", 100) + data[4:] + b"\x00" * 4)
    conn.sock.shutdown(socket.SHUT_WR)
    assert_closed(conn, "frame cut short")


# --- undecodable requests --------------------------------------------------------------------

def raw_request(api_key: int, version: int, body: bytes, client_id_len: int | None = None) -> bytes:
    """A frame whose size prefix is honest but whose content may lie."""
    if client_id_len is None:
        header = struct.pack(">hhi", api_key, version, 4242) + kw.Writer().string("t").getvalue()
    else:
        header = struct.pack(">hhih", api_key, version, 4242, client_id_len) + b"abc"
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


BAD_REQUESTS = {
    # header shorter than api_key + api_version + correlation_id
    "truncated-header": struct.pack(">i", 5) + struct.pack(">hh", 18, 0) + b"\x00",
    # client_id claims 500 bytes, 3 follow
    "lying-client-id-length": raw_request(kw.METADATA, 1, b"", client_id_len=500),
    # Metadata v1: topics array claims 2^31-1 entries, none follow
    "lying-array-length": raw_request(kw.METADATA, 1, struct.pack(">i", 2**31 - 1)),
    # Metadata v1: one topic whose name claims 30000 bytes, 3 follow
    "lying-string-length": raw_request(kw.METADATA, 1, struct.pack(">ih", 1, 30000) + b"abc"),
    # Produce v7: records claim 1,000,000 bytes, 10 follow
    "lying-bytes-length": raw_request(
        kw.PRODUCE, 7, kw.produce_body(TOPIC, 0, b"")[:-4] + struct.pack(">i", 1_000_000)
        + b"\x00" * 10),
    # Produce v7 cut in the middle of the topic array
    "truncated-body": raw_request(kw.PRODUCE, 7, kw.produce_body(TOPIC, 0, good_batch())[:14]),
    # an API key nobody defined
    "unknown-api-key": raw_request(999, 0, b""),
    "negative-api-key": raw_request(-7, 0, b""),
}


@pytest.mark.parametrize("name", sorted(BAD_REQUESTS))
def test_undecodable_request_closes_connection(rbroker, conn, name):
    end_before = log_end(rbroker)
    hwm_before = rbroker.peak_rss_kb()
    conn.send_raw(BAD_REQUESTS[name])
    assert_closed(conn, name)
    grew = rbroker.peak_rss_kb() - hwm_before
    assert grew < RSS_JUMP_LIMIT_KB, f"peak RSS grew {grew} KiB for {name}"
    assert log_end(rbroker) == end_before, f"{name} appended records"


# --- versions ---------------------------------------------------------------------------------

def test_api_versions_unsupported_version_gets_v0_error_and_key_list(conn):
    cid, data = kw.frame(kw.API_VERSIONS, 99, b"")
    conn.send_raw(data)
    r = kw.Reader(conn.recv_frame())
    assert r.int32() == cid  # response header v0, always, for ApiVersions
    err, keys = kw.parse_api_versions(r, 0)  # and a v0 body
    assert err == kw.UNSUPPORTED_VERSION
    assert kw.API_VERSIONS in keys, keys
    lo, hi = keys[kw.API_VERSIONS]
    assert lo == 0 and hi >= 3, keys[kw.API_VERSIONS]
    # The connection stays usable: the client retries with a version it now knows.
    err, keys = kw.api_versions(conn, 0)
    assert err == kw.NONE and kw.PRODUCE in keys


def test_api_versions_v3_flexible(conn):
    err, keys = kw.api_versions(conn, 3)
    assert err == kw.NONE
    assert keys[kw.PRODUCE][0] == 0 and keys[kw.PRODUCE][1] >= 7, keys[kw.PRODUCE]
    assert keys[kw.FETCH][1] >= 10 and keys[kw.METADATA][1] >= 9


def test_produce_v2_old_message_format_unsupported(rbroker, conn):
    """Produce v0-2 are advertised (librdkafka needs v0 in the range) but answered 35."""
    end_before = log_end(rbroker)
    res = kw.produce(conn, TOPIC, 0, good_batch(), version=2)
    assert res.error == kw.UNSUPPORTED_VERSION, res
    assert log_end(rbroker) == end_before


# --- record batches ---------------------------------------------------------------------------

def test_wrong_crc_is_corrupt_message_and_not_appended(rbroker, conn):
    first = produce_ok(rbroker, 3, "before-crc")
    end_before = log_end(rbroker)
    assert end_before == first + 3
    bad = kw.encode_batch([(b"k", b"corrupt-%d" % i) for i in range(3)], corrupt_crc=True)
    res = kw.produce(conn, TOPIC, 0, bad)
    assert res.error == kw.CORRUPT_MESSAGE, res
    assert log_end(rbroker) == end_before
    # A flipped payload byte under a once-valid CRC is caught the same way.
    flipped = bytearray(good_batch(3, "flipped"))
    flipped[-2] ^= 0x40
    res = kw.produce(conn, TOPIC, 0, bytes(flipped))
    assert res.error == kw.CORRUPT_MESSAGE, res
    after = produce_ok(rbroker, 2, "after-crc")
    assert after == end_before, "offsets skipped over the refused batch"
    with kw.Connection.to(rbroker.bootstrap) as c:
        batches = kw.fetch_all(c, TOPIC, 0, first)
    values = [r.value for b in batches for r in b.records if r.offset >= first]
    assert values == [b"before-crc-0", b"before-crc-1", b"before-crc-2",
                      b"after-crc-0", b"after-crc-1"]


def test_record_count_lie_refused(rbroker, conn):
    end_before = log_end(rbroker)
    payload = kw.encode_record(0, b"k", b"only-one")
    lie = kw.build_batch(payload, record_count=5, last_offset_delta=4)
    res = kw.produce(conn, TOPIC, 0, lie)
    assert res.error in (kw.CORRUPT_MESSAGE, kw.INVALID_RECORD), res
    assert log_end(rbroker) == end_before


def test_batch_over_message_max_bytes(rbroker, conn):
    end_before = log_end(rbroker)
    big = kw.encode_batch([(None, b"x" * (MESSAGE_MAX_BYTES + (MESSAGE_MAX_BYTES >> 1)))])
    assert len(big) < SOCKET_REQUEST_MAX_BYTES
    res = kw.produce(conn, TOPIC, 0, big)
    assert res.error == kw.MESSAGE_TOO_LARGE, res
    assert log_end(rbroker) == end_before


REFUSED_BOMB = (kw.CORRUPT_MESSAGE, kw.MESSAGE_TOO_LARGE, kw.RECORD_LIST_TOO_LARGE,
                kw.INVALID_RECORD)


def test_zstd_bomb_2gib_refused_within_memory_bound(rbroker, conn):
    bomb = kw.zstd_bomb_batch(2**31 - 64)  # one record, value = ~2 GiB of zeros
    assert len(bomb) < MESSAGE_MAX_BYTES  # so it is the decompression that must refuse it
    end_before = log_end(rbroker)
    hwm_before = rbroker.peak_rss_kb()
    t0 = time.monotonic()
    res = kw.produce(conn, TOPIC, 0, bomb, timeout_ms=30000)
    elapsed = time.monotonic() - t0
    grew = rbroker.peak_rss_kb() - hwm_before
    assert res.error in REFUSED_BOMB, f"bomb answered {res}"
    assert grew < BOMB_RSS_LIMIT_KB, f"peak RSS grew {grew} KiB decompressing the bomb"
    assert log_end(rbroker) == end_before
    assert elapsed < 20, f"refusing the bomb took {elapsed:.1f}s"


def test_gzip_bomb_refused_within_memory_bound(rbroker, conn):
    zeros = 512 << 20
    head = kw.Writer().int8(0).varint(0).varint(0).varint(-1).varint(zeros).getvalue()
    tail = kw.encode_varint(0)
    record_prefix = kw.encode_varint(len(head) + zeros + len(tail)) + head
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [c.compress(record_prefix)]
    chunk = bytes(8 << 20)
    for _ in range(zeros // len(chunk)):
        parts.append(c.compress(chunk))
    parts.append(c.compress(tail))
    parts.append(c.flush())
    bomb = kw.build_batch(b"".join(parts), record_count=1, codec=kw.CODEC_GZIP)
    assert len(bomb) < MESSAGE_MAX_BYTES
    end_before = log_end(rbroker)
    hwm_before = rbroker.peak_rss_kb()
    res = kw.produce(conn, TOPIC, 0, bomb, timeout_ms=30000)
    grew = rbroker.peak_rss_kb() - hwm_before
    assert res.error in REFUSED_BOMB, f"bomb answered {res}"
    assert grew < BOMB_RSS_LIMIT_KB, f"peak RSS grew {grew} KiB decompressing the bomb"
    assert log_end(rbroker) == end_before


# --- topics -------------------------------------------------------------------------------------

INVALID_NAMES = ["bad topic!", "a/b", "..", ".", "x" * 250, "tab\there", ""]


def test_create_topics_invalid_name(conn):
    res = kw.create_topics(conn, [(n, 1) for n in INVALID_NAMES])
    for name in INVALID_NAMES:
        assert name in res, f"no result for {name!r}: {res}"
        assert res[name][0] == kw.INVALID_TOPIC_EXCEPTION, (name, res[name])
    _, topics = kw.metadata(conn, None)
    assert not set(INVALID_NAMES) & set(topics)


def test_metadata_invalid_name(conn):
    _, topics = kw.metadata(conn, ["bad topic!"], version=4, allow_auto_topic_creation=True)
    assert topics["bad topic!"].error == kw.INVALID_TOPIC_EXCEPTION, topics


def test_produce_invalid_name_on_auto_creating_broker(conveyor_broker):
    """Auto-creation on: an invalid name is refused and never created."""
    with kw.Connection.to(conveyor_broker.bootstrap) as c:
        res = kw.produce(c, "bad topic!", 0, good_batch())
        assert res.error in (kw.INVALID_TOPIC_EXCEPTION, kw.UNKNOWN_TOPIC_OR_PARTITION), res
        _, topics = kw.metadata(c, ["bad topic!"], version=1)
        assert topics["bad topic!"].error == kw.INVALID_TOPIC_EXCEPTION, topics
        _, all_topics = kw.metadata(c, None)
        assert "bad topic!" not in all_topics


def test_produce_missing_topic_without_auto_create(conn):
    res = kw.produce(conn, "does-not-exist", 0, good_batch())
    assert res.error == kw.UNKNOWN_TOPIC_OR_PARTITION, res
    _, topics = kw.metadata(conn, ["does-not-exist"], version=4, allow_auto_topic_creation=True)
    assert topics["does-not-exist"].error == kw.UNKNOWN_TOPIC_OR_PARTITION, topics


def test_produce_missing_partition(rbroker, conn):
    end_before = log_end(rbroker)
    res = kw.produce(conn, TOPIC, 7, good_batch())
    assert res.error == kw.UNKNOWN_TOPIC_OR_PARTITION, res
    assert log_end(rbroker) == end_before


def test_many_connections_survive_a_bad_one(rbroker):
    """Good connections opened before a bad one keep working after it is closed."""
    good = [kw.Connection.to(rbroker.bootstrap) for _ in range(5)]
    try:
        bad = kw.Connection.to(rbroker.bootstrap)
        bad.send_raw(BAD_REQUESTS["lying-array-length"])
        assert_closed(bad, "lying array")
        bad.close()
        for c in good:
            err, _ = kw.api_versions(c, 0)
            assert err == kw.NONE
    finally:
        for c in good:
            c.close()
