"""A small, hand-written Kafka wire codec for conveyor's end-to-end tests.

Only what the tests need: framing, request header v1/v2, response header v0, a few
non-flexible request/response versions (ApiVersions 0-3, Metadata 1-4, CreateTopics 2,
Produce 2-8, ListOffsets 1, Fetch 4), RecordBatch v2 encode/decode with CRC-32C, and a
hand-built zstd frame for compression-bomb tests. Written from the public protocol guide
(kafka.apache.org/protocol) and the zstd format (RFC 8878); see ../../shared/PROTOCOL.md.

Every decoder checks lengths against what remains (WireError otherwise), so a broker bug
shows up as a clear test failure instead of a hang or a garbage value.
"""
from __future__ import annotations

import itertools
import socket
import struct
import time
import zlib
from dataclasses import dataclass, field

# Kafka error codes used by the tests (protocol guide, "Error Codes").
NONE = 0
OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
INVALID_TOPIC_EXCEPTION = 17
RECORD_LIST_TOO_LARGE = 18
UNSUPPORTED_VERSION = 35
TOPIC_ALREADY_EXISTS = 36
INVALID_REQUEST = 42
UNSUPPORTED_COMPRESSION_TYPE = 76
INVALID_RECORD = 87

# API keys.
PRODUCE = 0
FETCH = 1
LIST_OFFSETS = 2
METADATA = 3
API_VERSIONS = 18
CREATE_TOPICS = 19

# Record batch codecs (attributes bits 0-2).
CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD = range(5)


class WireError(Exception):
    """A response did not decode: too short, bad length, wrong correlation id."""


# ---------------------------------------------------------------------------------------
# Primitive types


class Writer:
    def __init__(self) -> None:
        self.buf = bytearray()

    def int8(self, v: int) -> "Writer":
        self.buf += struct.pack(">b", v)
        return self

    def int16(self, v: int) -> "Writer":
        self.buf += struct.pack(">h", v)
        return self

    def int32(self, v: int) -> "Writer":
        self.buf += struct.pack(">i", v)
        return self

    def uint32(self, v: int) -> "Writer":
        self.buf += struct.pack(">I", v)
        return self

    def int64(self, v: int) -> "Writer":
        self.buf += struct.pack(">q", v)
        return self

    def boolean(self, v: bool) -> "Writer":
        self.buf += b"\x01" if v else b"\x00"
        return self

    def raw(self, b: bytes) -> "Writer":
        self.buf += b
        return self

    def string(self, s: str | None) -> "Writer":
        """STRING / NULLABLE_STRING: int16 length (-1 = null) + UTF-8."""
        if s is None:
            return self.int16(-1)
        b = s.encode()
        return self.int16(len(b)).raw(b)

    def bytes_(self, b: bytes | None) -> "Writer":
        """BYTES / NULLABLE_BYTES: int32 length (-1 = null)."""
        if b is None:
            return self.int32(-1)
        return self.int32(len(b)).raw(b)

    def array(self, items, write_item) -> "Writer":
        """ARRAY: int32 count (-1 = null) then each item."""
        if items is None:
            return self.int32(-1)
        items = list(items)
        self.int32(len(items))
        for it in items:
            write_item(self, it)
        return self

    def uvarint(self, v: int) -> "Writer":
        self.buf += encode_uvarint(v)
        return self

    def varint(self, v: int) -> "Writer":
        """Zigzag varint (records use protobuf sint32/sint64 encoding)."""
        self.buf += encode_varint(v)
        return self

    def compact_string(self, s: str | None) -> "Writer":
        if s is None:
            return self.uvarint(0)
        b = s.encode()
        return self.uvarint(len(b) + 1).raw(b)

    def tagged_fields(self) -> "Writer":
        return self.uvarint(0)

    def getvalue(self) -> bytes:
        return bytes(self.buf)


def encode_uvarint(v: int) -> bytes:
    if v < 0:
        raise ValueError("uvarint must be >= 0")
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode_varint(v: int) -> bytes:
    return encode_uvarint((v << 1) ^ (v >> 63) if v < 0 else v << 1)


class Reader:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = memoryview(data)
        self.pos = pos

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or n > self.remaining():
            raise WireError(f"need {n} bytes at {self.pos}, have {self.remaining()}")
        b = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return b

    def _unpack(self, fmt: str, n: int) -> int:
        return struct.unpack(fmt, self.take(n))[0]

    def int8(self) -> int:
        return self._unpack(">b", 1)

    def int16(self) -> int:
        return self._unpack(">h", 2)

    def int32(self) -> int:
        return self._unpack(">i", 4)

    def uint32(self) -> int:
        return self._unpack(">I", 4)

    def int64(self) -> int:
        return self._unpack(">q", 8)

    def boolean(self) -> bool:
        return self.int8() != 0

    def string(self) -> str | None:
        n = self.int16()
        if n == -1:
            return None
        if n < 0:
            raise WireError(f"negative string length {n}")
        return self.take(n).decode()

    def bytes_(self) -> bytes | None:
        n = self.int32()
        if n == -1:
            return None
        if n < 0:
            raise WireError(f"negative bytes length {n}")
        return self.take(n)

    def array(self, read_item) -> list | None:
        n = self.int32()
        if n == -1:
            return None
        if n < 0 or n > self.remaining():  # every item is at least one byte
            raise WireError(f"bad array length {n}")
        return [read_item(self) for _ in range(n)]

    def uvarint(self) -> int:
        v = 0
        for shift in range(0, 70, 7):
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
        raise WireError("uvarint too long")

    def varint(self) -> int:
        u = self.uvarint()
        return (u >> 1) ^ -(u & 1)

    def compact_array(self, read_item) -> list | None:
        n = self.uvarint()
        if n == 0:
            return None
        if n - 1 > self.remaining():
            raise WireError(f"bad compact array length {n - 1}")
        return [read_item(self) for _ in range(n - 1)]

    def skip_tagged_fields(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()  # tag
            self.take(self.uvarint())

    def expect_end(self) -> None:
        if self.remaining():
            raise WireError(f"{self.remaining()} unexpected trailing bytes")


# ---------------------------------------------------------------------------------------
# CRC-32C (Castagnoli, reflected polynomial 0x82F63B78)

def _make_crc_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _make_crc_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    crc ^= 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value


# ---------------------------------------------------------------------------------------
# RecordBatch v2

@dataclass
class Record:
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)
    offset: int = -1
    timestamp: int = -1


def encode_record(offset_delta: int, key: bytes | None, value: bytes | None,
                  headers=(), timestamp_delta: int = 0) -> bytes:
    w = Writer()
    w.int8(0)  # attributes (unused)
    w.varint(timestamp_delta)
    w.varint(offset_delta)
    for b in (key, value):
        if b is None:
            w.varint(-1)
        else:
            w.varint(len(b)).raw(b)
    w.varint(len(headers))
    for hk, hv in headers:
        hkb = hk.encode()
        w.varint(len(hkb)).raw(hkb)
        if hv is None:
            w.varint(-1)
        else:
            w.varint(len(hv)).raw(hv)
    body = w.getvalue()
    return encode_varint(len(body)) + body


def build_batch(payload: bytes, *, record_count: int, codec: int = CODEC_NONE,
                last_offset_delta: int | None = None, base_timestamp: int | None = None,
                producer_id: int = -1, producer_epoch: int = -1, base_sequence: int = -1,
                corrupt_crc: bool = False) -> bytes:
    """One RecordBatch v2 around `payload` (encoded records, compressed if codec != none)."""
    ts = int(time.time() * 1000) if base_timestamp is None else base_timestamp
    if last_offset_delta is None:
        last_offset_delta = record_count - 1
    after_crc = struct.pack(">hiqqqhii", codec, last_offset_delta, ts, ts, producer_id,
                            producer_epoch, base_sequence, record_count) + payload
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0xDEADBEEF
    batch_length = 4 + 1 + 4 + len(after_crc)  # leader epoch, magic, crc, rest
    return struct.pack(">qiibI", 0, batch_length, -1, 2, crc) + after_crc


def encode_batch(records, *, codec: int = CODEC_NONE, corrupt_crc: bool = False,
                 **kwargs) -> bytes:
    """records: iterable of (key, value) or (key, value, headers). Codec none or gzip."""
    encoded = []
    for i, rec in enumerate(records):
        key, value, *rest = rec
        encoded.append(encode_record(i, key, value, rest[0] if rest else ()))
    payload = b"".join(encoded)
    if codec == CODEC_GZIP:
        c = zlib.compressobj(6, zlib.DEFLATED, 31)
        payload = c.compress(payload) + c.flush()
    elif codec != CODEC_NONE:
        raise ValueError("encode_batch supports codecs none and gzip")
    return build_batch(payload, record_count=len(encoded), codec=codec,
                       corrupt_crc=corrupt_crc, **kwargs)


@dataclass
class Batch:
    base_offset: int
    last_offset_delta: int
    attributes: int
    record_count: int
    producer_id: int
    base_sequence: int
    records: list[Record]
    size: int


def _decode_records(payload: bytes, count: int, base_offset: int, base_ts: int) -> list[Record]:
    r = Reader(payload)
    out = []
    for _ in range(count):
        length = r.varint()
        if length < 0 or length > r.remaining():
            raise WireError(f"bad record length {length}")
        rr = Reader(r.take(length))
        rr.int8()
        ts_delta = rr.varint()
        off_delta = rr.varint()
        fields = []
        for _ in range(2):
            n = rr.varint()
            fields.append(None if n == -1 else rr.take(n))
        headers = []
        for _ in range(rr.varint()):
            hk = rr.take(rr.varint()).decode()
            n = rr.varint()
            headers.append((hk, None if n == -1 else rr.take(n)))
        rr.expect_end()
        out.append(Record(fields[0], fields[1], headers, base_offset + off_delta,
                          base_ts + ts_delta))
    r.expect_end()
    return out


def decode_batches(blob: bytes) -> tuple[list[Batch], int]:
    """Splits a records blob into whole batches, verifying each CRC and record count.

    Returns (batches, partial_tail_bytes): a fetch may end in a partial batch, which is
    reported, not decoded. Raises WireError on a bad CRC or malformed batch.
    """
    batches = []
    pos = 0
    while len(blob) - pos >= 12:
        base_offset, batch_length = struct.unpack_from(">qi", blob, pos)
        if batch_length < 49:
            raise WireError(f"batch at {pos}: batchLength {batch_length} too small")
        end = pos + 12 + batch_length
        if end > len(blob):
            break
        (_epoch, magic, crc) = struct.unpack_from(">ibI", blob, pos + 12)
        if magic != 2:
            raise WireError(f"batch at {pos}: magic {magic}")
        body = blob[pos + 21:end]
        if crc32c(body) != crc:
            raise WireError(f"batch at offset {base_offset}: CRC mismatch")
        (attrs, lod, base_ts, _max_ts, pid, _pe, seq, count) = struct.unpack_from(
            ">hiqqqhii", blob, pos + 21)
        payload = blob[pos + 61:end]
        codec = attrs & 7
        if codec == CODEC_GZIP:
            payload = zlib.decompress(payload, 31)
        elif codec != CODEC_NONE:
            raise WireError(f"decode_batches cannot decompress codec {codec}")
        records = [] if attrs & 0x20 else _decode_records(payload, count, base_offset, base_ts)
        if records and records[-1].offset != base_offset + lod:
            raise WireError(f"batch at {base_offset}: lastOffsetDelta {lod} disagrees")
        batches.append(Batch(base_offset, lod, attrs, count, pid, seq, records, end - pos))
        pos = end
    return batches, len(blob) - pos


def zstd_rle_bomb(prefix: bytes, zero_count: int, suffix: bytes) -> bytes:
    """A valid zstd frame (RFC 8878) that decompresses to prefix + zero_count zeros + suffix.

    Built by hand from Raw and RLE blocks (4 bytes per 128 KiB of zeros), so a 2 GiB bomb
    costs ~64 KiB and no compressor. The frame has no content size, like a streaming
    producer's, so a decoder cannot size its buffer from the header.
    """
    max_block = 128 * 1024
    out = bytearray(struct.pack("<I", 0xFD2FB528))
    out += bytes([0x00, 0x38])  # descriptor: no content size/checksum; window 2^17
    blocks: list[tuple[int, int, bytes]] = []  # (type, size, content)
    for i in range(0, len(prefix), max_block):
        chunk = prefix[i:i + max_block]
        blocks.append((0, len(chunk), chunk))
    left = zero_count
    while left > 0:
        n = min(left, max_block)
        blocks.append((1, n, b"\x00"))
        left -= n
    for i in range(0, len(suffix), max_block):
        chunk = suffix[i:i + max_block]
        blocks.append((0, len(chunk), chunk))
    if not blocks:
        blocks.append((0, 0, b""))
    for i, (btype, size, content) in enumerate(blocks):
        last = 1 if i == len(blocks) - 1 else 0
        header = last | (btype << 1) | (size << 3)
        out += header.to_bytes(3, "little") + content
    return bytes(out)


def zstd_bomb_batch(value_size: int) -> bytes:
    """A one-record zstd batch whose record value is `value_size` zero bytes."""
    body_head = Writer().int8(0).varint(0).varint(0).varint(-1).varint(value_size).getvalue()
    body_tail = encode_varint(0)  # no headers
    record_len = len(body_head) + value_size + len(body_tail)
    if record_len >= 2**31:
        raise ValueError("record length must fit an int32 varint")
    prefix = encode_varint(record_len) + body_head
    return build_batch(zstd_rle_bomb(prefix, value_size, body_tail), record_count=1,
                       codec=CODEC_ZSTD)


# ---------------------------------------------------------------------------------------
# Connections and requests

_correlation = itertools.count(1)


def frame(api_key: int, version: int, body: bytes, *, correlation_id: int | None = None,
          client_id: str | None = "conveyor-tests", flexible: bool = False) -> tuple[int, bytes]:
    """Size-prefixed request with header v1 (v2 when flexible). Returns (correlation, bytes)."""
    cid = next(_correlation) if correlation_id is None else correlation_id
    w = Writer().int16(api_key).int16(version).int32(cid).string(client_id)
    if flexible:
        w.tagged_fields()
    payload = w.getvalue() + body
    return cid, struct.pack(">i", len(payload)) + payload


class Connection:
    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout

    @classmethod
    def to(cls, bootstrap: str, timeout: float = 10.0) -> "Connection":
        host, port = bootstrap.rsplit(":", 1)
        return cls(host, int(port), timeout)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                raise WireError(f"connection closed after {len(buf)} of {n} bytes")
            buf += chunk
        return bytes(buf)

    def recv_frame(self) -> bytes:
        (size,) = struct.unpack(">i", self._recv_exact(4))
        if size < 4:
            raise WireError(f"response size {size}")
        return self._recv_exact(size)

    def call(self, api_key: int, version: int, body: bytes, *, flexible: bool = False,
             response_flexible: bool = False) -> Reader:
        """Sends one request and returns a Reader at the start of the response body."""
        cid, data = frame(api_key, version, body, flexible=flexible)
        self.send_raw(data)
        r = Reader(self.recv_frame())
        got = r.int32()
        if got != cid:
            raise WireError(f"correlation id {got}, expected {cid}")
        if response_flexible:
            r.skip_tagged_fields()
        return r

    def wait_closed(self, timeout: float = 5.0) -> bytes | None:
        """None if the peer closes (EOF or reset) within `timeout`; else what it sent.

        Raises TimeoutError when the connection stays open and silent.
        """
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        got = bytearray()
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return None if not got else bytes(got)
                got += chunk
                if time.monotonic() > deadline:
                    return bytes(got)
        except (ConnectionResetError, BrokenPipeError):
            return None if not got else bytes(got)
        except socket.timeout:
            if got:
                return bytes(got)
            raise TimeoutError("connection still open") from None
        finally:
            self.sock.settimeout(self.timeout)


# ApiVersions ------------------------------------------------------------------------------

def api_versions_body(version: int) -> bytes:
    if version >= 3:
        return (Writer().compact_string("conveyor-tests").compact_string("0.1")
                .tagged_fields().getvalue())
    return b""


def parse_api_versions(r: Reader, version: int) -> tuple[int, dict[int, tuple[int, int]]]:
    """Returns (error_code, {api_key: (min, max)}). Response header is always v0."""
    error = r.int16()
    if version >= 3:
        def item(rr):
            k, lo, hi = rr.int16(), rr.int16(), rr.int16()
            rr.skip_tagged_fields()
            return k, (lo, hi)
        keys = r.compact_array(item) or []
    else:
        keys = r.array(lambda rr: (rr.int16(), (rr.int16(), rr.int16()))) or []
    if version >= 1:
        r.int32()  # throttle_time_ms
    if version >= 3:
        r.skip_tagged_fields()
    r.expect_end()
    return error, dict(keys)


def api_versions(conn: Connection, version: int = 0) -> tuple[int, dict[int, tuple[int, int]]]:
    r = conn.call(API_VERSIONS, version, api_versions_body(version), flexible=version >= 3)
    return parse_api_versions(r, version)


# Metadata ---------------------------------------------------------------------------------

@dataclass
class TopicMetadata:
    error: int
    name: str
    partitions: dict[int, tuple[int, int]]  # index -> (error, leader)


def metadata(conn: Connection, topics: list[str] | None = None, *, version: int = 1,
             allow_auto_topic_creation: bool = True):
    """Metadata v1-4. topics None = all. Returns (brokers {id: (host, port)}, {name: TopicMetadata})."""
    assert 1 <= version <= 4
    w = Writer().array(topics, lambda w, t: w.string(t))
    if version >= 4:
        w.boolean(allow_auto_topic_creation)
    r = conn.call(METADATA, version, w.getvalue())
    if version >= 3:
        r.int32()  # throttle
    brokers = r.array(lambda rr: (rr.int32(), rr.string(), rr.int32(), rr.string()))
    if version >= 2:
        r.string()  # cluster_id
    r.int32()  # controller_id

    def partition(rr):
        err, idx, leader = rr.int16(), rr.int32(), rr.int32()
        rr.array(lambda x: x.int32())  # replicas
        rr.array(lambda x: x.int32())  # isr
        return idx, (err, leader)

    def topic(rr):
        err, name, _internal = rr.int16(), rr.string(), rr.boolean()
        parts = dict(rr.array(partition) or [])
        return TopicMetadata(err, name, parts)

    tops = r.array(topic) or []
    r.expect_end()
    return ({b[0]: (b[1], b[2]) for b in brokers or []}, {t.name: t for t in tops})


# CreateTopics -----------------------------------------------------------------------------

def create_topics(conn: Connection, topics: list[tuple[str, int]], *, timeout_ms: int = 10000,
                  replication_factor: int = 1) -> dict[str, tuple[int, str | None]]:
    """CreateTopics v2. topics: [(name, partitions)]. Returns {name: (error, message)}."""
    def topic(w, t):
        name, partitions = t
        w.string(name).int32(partitions).int16(replication_factor)
        w.array([], None)  # assignments
        w.array([], None)  # configs
    body = Writer().array(topics, topic).int32(timeout_ms).boolean(False).getvalue()
    r = conn.call(CREATE_TOPICS, 2, body)
    r.int32()  # throttle
    res = r.array(lambda rr: (rr.string(), rr.int16(), rr.string()))
    r.expect_end()
    return {name: (err, msg) for name, err, msg in res}


# Produce ----------------------------------------------------------------------------------

@dataclass
class ProducePartitionResult:
    error: int
    base_offset: int


def produce_body(topic: str, partition: int, records: bytes | None, *, acks: int = 1,
                 timeout_ms: int = 10000, version: int = 7) -> bytes:
    w = Writer()
    if version >= 3:  # transactional_id exists from v3 on
        w.string(None)
    w.int16(acks).int32(timeout_ms)
    w.array([topic], lambda w, t: (w.string(t), w.array(
        [partition], lambda w, p: (w.int32(p), w.bytes_(records)))))
    return w.getvalue()


def parse_produce(r: Reader, version: int) -> dict[tuple[str, int], ProducePartitionResult]:
    out = {}

    def partition(rr, topic):
        idx, err, base = rr.int32(), rr.int16(), rr.int64()
        if version >= 2:
            rr.int64()  # log_append_time_ms
        if version >= 5:
            rr.int64()  # log_start_offset
        if version >= 8:
            rr.array(lambda x: (x.int32(), x.string()))  # record_errors
            rr.string()  # error_message
        out[(topic, idx)] = ProducePartitionResult(err, base)

    def topic(rr):
        name = rr.string()
        rr.array(lambda x: partition(x, name))

    r.array(topic)
    if version >= 1:
        r.int32()  # throttle
    r.expect_end()
    return out


def produce(conn: Connection, topic: str, partition: int, records: bytes | None, *,
            acks: int = 1, version: int = 7, timeout_ms: int = 10000) -> ProducePartitionResult:
    """Produce (non-flexible versions 2-8) of one records blob to one partition."""
    assert 2 <= version <= 8 and acks != 0
    r = conn.call(PRODUCE, version, produce_body(topic, partition, records, acks=acks,
                                                  timeout_ms=timeout_ms, version=version))
    res = parse_produce(r, version)
    if (topic, partition) not in res:
        raise WireError(f"produce response lacks {topic}-{partition}: {res}")
    return res[(topic, partition)]


# ListOffsets ------------------------------------------------------------------------------

LATEST = -1
EARLIEST = -2


def list_offset(conn: Connection, topic: str, partition: int, timestamp: int = LATEST):
    """ListOffsets v1 for one partition. Returns (error, offset)."""
    w = Writer().int32(-1)
    w.array([topic], lambda w, t: (w.string(t), w.array(
        [partition], lambda w, p: (w.int32(p), w.int64(timestamp)))))
    r = conn.call(LIST_OFFSETS, 1, w.getvalue())
    found = {}

    def part(rr, name):
        idx, err, _ts, off = rr.int32(), rr.int16(), rr.int64(), rr.int64()
        found[(name, idx)] = (err, off)

    def topic_(rr):
        name = rr.string()
        rr.array(lambda x: part(x, name))

    r.array(topic_)
    r.expect_end()
    return found[(topic, partition)]


# Fetch ------------------------------------------------------------------------------------

@dataclass
class FetchResult:
    error: int
    high_watermark: int
    records: bytes


def fetch(conn: Connection, topic: str, partition: int, offset: int, *,
          max_bytes: int = 4 << 20, partition_max_bytes: int = 4 << 20,
          max_wait_ms: int = 100, min_bytes: int = 1) -> FetchResult:
    """Fetch v4 (read_uncommitted) of one partition."""
    w = Writer().int32(-1).int32(max_wait_ms).int32(min_bytes).int32(max_bytes).int8(0)
    w.array([topic], lambda w, t: (w.string(t), w.array(
        [partition], lambda w, p: (w.int32(p), w.int64(offset), w.int32(partition_max_bytes)))))
    r = conn.call(FETCH, 4, w.getvalue())
    r.int32()  # throttle
    found = {}

    def part(rr, name):
        idx, err, hw, _lso = rr.int32(), rr.int16(), rr.int64(), rr.int64()
        rr.array(lambda x: (x.int64(), x.int64()))  # aborted transactions
        found[(name, idx)] = FetchResult(err, hw, rr.bytes_() or b"")

    def topic_(rr):
        name = rr.string()
        rr.array(lambda x: part(x, name))

    r.array(topic_)
    r.expect_end()
    return found[(topic, partition)]


def fetch_all(conn: Connection, topic: str, partition: int, start: int = 0,
              timeout: float = 30.0) -> list[Batch]:
    """Every whole batch from `start` up to the high watermark, in order."""
    out: list[Batch] = []
    offset = start
    deadline = time.monotonic() + timeout
    while True:
        res = fetch(conn, topic, partition, offset)
        if res.error != NONE:
            raise WireError(f"fetch {topic}-{partition}@{offset}: error {res.error}")
        batches, _tail = decode_batches(res.records)
        for b in batches:
            if b.base_offset + b.last_offset_delta < offset:
                continue  # a batch before the requested offset
            out.append(b)
            offset = b.base_offset + b.last_offset_delta + 1
        if offset >= res.high_watermark:
            return out
        if time.monotonic() > deadline:
            raise WireError(f"fetch_all stuck at {offset} < hw {res.high_watermark}")
