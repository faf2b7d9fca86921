#!/usr/bin/env python3
"""Captures the request bytes real Kafka clients send, for golden tests.

A tiny single-node "broker" on 127.0.0.1 answers ApiVersions, Metadata, InitProducerId,
Produce and ListOffsets with hand-built responses (so the clients also check our reading of
those response schemas) and records every request. Clients: confluent-kafka (librdkafka) and
kafka-python, each producing one record to `orders`/0 and fetching it by assignment.

    python3 capture_client_requests.py [--max produce=9,fetch=12,metadata=12]

Prints one line per captured request: client, api key, version, header hex, body hex.
Developer tool only (not run by the build); its output is pasted into
core/protocol/tests/messages_test.cc as data.
"""
import argparse
import socket
import struct
import subprocess
import sys
import threading

TOPIC = "orders"


def compact_str(s):
    b = s.encode()
    return uvarint(len(b) + 1) + b


def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def read_uvarint(buf, pos):
    shift = n = 0
    while True:
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, pos
        shift += 7


class Enc:
    def __init__(self, flexible):
        self.flex = flexible
        self.out = b""

    def i8(self, v): self.out += struct.pack(">b", v); return self
    def i16(self, v): self.out += struct.pack(">h", v); return self
    def i32(self, v): self.out += struct.pack(">i", v); return self
    def i64(self, v): self.out += struct.pack(">q", v); return self
    def raw(self, b): self.out += b; return self

    def string(self, s):
        if s is None:
            self.out += b"\x00" if self.flex else struct.pack(">h", -1)
        elif self.flex:
            self.out += compact_str(s)
        else:
            self.out += struct.pack(">h", len(s)) + s.encode()
        return self

    def array(self, n):
        self.out += uvarint(n + 1) if self.flex else struct.pack(">i", n)
        return self

    def tags(self):
        if self.flex:
            self.out += b"\x00"
        return self


def api_versions_response(version, maxes, error=0):
    e = Enc(version >= 3)
    table = [(0, 0, maxes["produce"]), (1, 0, maxes["fetch"]), (2, 0, maxes["list_offsets"]),
             (3, 0, maxes["metadata"]), (18, 0, 4), (19, 2, maxes["create_topics"]),
             (20, 1, maxes["delete_topics"]), (22, 0, maxes["init_producer_id"])]
    e.i16(error).array(len(table))
    for key, lo, hi in table:
        e.i16(key).i16(lo).i16(hi).tags()
    if version >= 1:
        e.i32(0)
    return e.tags().out


def metadata_response(v, port):
    e = Enc(v >= 9)
    if v >= 3:
        e.i32(0)
    e.array(1).i32(0).string("127.0.0.1").i32(port)
    if v >= 1:
        e.string(None)
    e.tags()
    if v >= 2:
        e.string("capture-cluster")
    if v >= 1:
        e.i32(0)
    e.array(1).i16(0).string(TOPIC)
    if v >= 10:
        e.raw(bytes(range(1, 17)))
    if v >= 1:
        e.i8(0)
    e.array(1).i16(0).i32(0).i32(0)
    if v >= 7:
        e.i32(0)
    e.array(1).i32(0).array(1).i32(0)
    if v >= 5:
        e.array(0)
    e.tags()
    if v >= 8:
        e.i32(-2147483648)
    e.tags()
    if 8 <= v <= 10:
        e.i32(-2147483648)
    return e.tags().out


def init_producer_id_response(v):
    return Enc(v >= 2).i32(0).i16(0).i64(1000).i16(0).tags().out


def produce_response(v):
    e = Enc(v >= 9)
    e.array(1).string(TOPIC).array(1).i32(0).i16(0).i64(0)
    if v >= 2:
        e.i64(-1)
    if v >= 5:
        e.i64(0)
    if v >= 8:
        e.array(0).string(None)
    e.tags().tags()
    if v >= 1:
        e.i32(0)
    return e.tags().out


def list_offsets_response(v):
    e = Enc(v >= 6)
    if v >= 2:
        e.i32(0)
    e.array(1).string(TOPIC).array(1).i32(0).i16(0)
    if v == 0:
        e.array(1).i64(0)
    else:
        e.i64(-1).i64(0)
        if v >= 4:
            e.i32(0)
    return e.tags().tags().tags().out


def create_topics_response(v, names):
    e = Enc(v >= 5)
    if v >= 2:
        e.i32(0)
    e.array(len(names))
    for name in names:
        e.string(name)
        if v >= 7:
            e.raw(bytes(range(1, 17)))
        e.i16(0)
        if v >= 1:
            e.string(None)
        if v >= 5:
            e.i32(3).i16(1)
            e.out += b"\x00"  # configs: null (compact)
        e.tags()
    return e.tags().out


def delete_topics_response(v, names):
    e = Enc(v >= 4)
    if v >= 1:
        e.i32(0)
    e.array(len(names))
    for name in names:
        e.string(name)
        if v >= 6:
            e.raw(bytes(16))
        e.i16(0)
        if v >= 5:
            e.string(None)
        e.tags()
    return e.tags().out


def request_topic_names(key, ver, body):
    """Topic names of a CreateTopics/DeleteTopics request (enough to answer it)."""
    flex = ver >= FLEX[key]
    pos = 0

    def length():
        nonlocal pos
        if flex:
            n, pos = read_uvarint(body, pos)
            return n - 1
        n = struct.unpack(">i" if False else ">h", body[pos:pos + 2])[0]
        pos += 2
        return n

    def count():
        nonlocal pos
        if flex:
            n, pos = read_uvarint(body, pos)
            return n - 1
        n = struct.unpack(">i", body[pos:pos + 4])[0]
        pos += 4
        return n

    names = []
    if key == 20 and ver >= 6:
        return ["?"] * count()  # by name or id; the name is not needed to answer
    n = count()
    for _ in range(n):
        size = length()
        names.append(body[pos:pos + size].decode())
        pos += size
        if key == 19:
            break  # the rest of a CreatableTopic is not parsed; answer the first topic
    return names


FLEX = {0: 9, 1: 12, 2: 6, 3: 9, 18: 3, 19: 5, 20: 4, 22: 2}


class Capture:
    def __init__(self, maxes):
        self.maxes = maxes
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.client = "?"
        self.records = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            while True:
                size_bytes = self.recv(conn, 4)
                if not size_bytes:
                    return
                frame = self.recv(conn, struct.unpack(">i", size_bytes)[0])
                key, ver, corr = struct.unpack(">hhi", frame[:8])
                n = struct.unpack(">h", frame[8:10])[0]
                pos = 10 + max(n, 0)
                if key in FLEX and ver >= FLEX[key]:
                    count, pos = read_uvarint(frame, pos)
                    for _ in range(count):
                        _, pos = read_uvarint(frame, pos)
                        size, pos = read_uvarint(frame, pos)
                        pos += size
                with self.lock:
                    self.records.append((self.client, key, ver, frame[:pos].hex(), frame[pos:].hex()))
                body = None
                if key == 18:
                    if ver <= 4:
                        body = api_versions_response(ver, self.maxes)
                    else:
                        body = api_versions_response(0, self.maxes, error=35)
                elif key == 3:
                    body = metadata_response(ver, self.port)
                elif key == 22:
                    body = init_producer_id_response(ver)
                elif key == 0:
                    body = produce_response(ver)
                elif key == 2:
                    body = list_offsets_response(ver)
                elif key == 19:
                    body = create_topics_response(ver, request_topic_names(key, ver, frame[pos:]))
                elif key == 20:
                    body = delete_topics_response(ver, request_topic_names(key, ver, frame[pos:]))
                if body is None:
                    continue  # e.g. Fetch: captured, never answered
                header = struct.pack(">i", corr)
                if key != 18 and key in FLEX and ver >= FLEX[key]:
                    header += b"\x00"
                conn.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
        except (OSError, struct.error, IndexError):
            return

    @staticmethod
    def recv(conn, n):
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                return b""
            buf += chunk
        return buf


CONFLUENT = """
import sys, confluent_kafka as ck
bs = sys.argv[1]
p = ck.Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 0,
                 "enable.idempotence": True, "client.id": "capture"})
p.produce("orders", key=b"k", value=b"v", partition=0)
print("confluent flush left", p.flush(5), file=sys.stderr)
c = ck.Consumer({"bootstrap.servers": bs, "group.id": "capture", "client.id": "capture",
                 "enable.auto.commit": False})
c.assign([ck.TopicPartition("orders", 0, 0)])
c.poll(2)
print("confluent watermarks", c.get_watermark_offsets(ck.TopicPartition("orders", 0), timeout=3,
                                                     cached=False), file=sys.stderr)
c.close()
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({"bootstrap.servers": bs, "client.id": "capture"})
for f in a.create_topics([NewTopic("t2", 3, 1, config={"cleanup.policy": "compact"})],
                         request_timeout=5).values():
    print("confluent create", f.result(), file=sys.stderr)
for f in a.delete_topics(["t2"], request_timeout=5).values():
    print("confluent delete", f.result(), file=sys.stderr)
"""

KAFKA_PYTHON = """
import sys, kafka
bs = sys.argv[1]
p = kafka.KafkaProducer(bootstrap_servers=bs, acks=1, client_id="capture", linger_ms=0)
p.send("orders", key=b"k", value=b"v", partition=0).get(timeout=5)
p.close(timeout=2)
c = kafka.KafkaConsumer(bootstrap_servers=bs, client_id="capture", enable_auto_commit=False)
tp = kafka.TopicPartition("orders", 0)
c.assign([tp])
c.seek(tp, 0)
c.poll(timeout_ms=2000)
print("kafka-python end offsets", c.end_offsets([tp]), file=sys.stderr)
c.close()
from kafka.admin import KafkaAdminClient, NewTopic
a = KafkaAdminClient(bootstrap_servers=bs, client_id="capture")
print("kafka-python create", a.create_topics([NewTopic("t2", 3, 1, topic_configs={"cleanup.policy": "compact"})]), file=sys.stderr)
print("kafka-python delete", a.delete_topics(["t2"]), file=sys.stderr)
a.close()
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", default="produce=9,fetch=12,metadata=12,list_offsets=8,init_producer_id=4")
    ap.add_argument("--clients", default="confluent,kafka-python")
    args = ap.parse_args()
    maxes = {"produce": 9, "fetch": 12, "metadata": 12, "list_offsets": 8, "init_producer_id": 4,
             "create_topics": 7, "delete_topics": 6}
    for kv in args.max.split(","):
        k, v = kv.split("=")
        maxes[k] = int(v)
    cap = Capture(maxes)
    bs = f"127.0.0.1:{cap.port}"
    scripts = {"confluent": CONFLUENT, "kafka-python": KAFKA_PYTHON}
    for name in args.clients.split(","):
        cap.client = name
        try:
            subprocess.run([sys.executable, "-c", scripts[name], bs], timeout=30)
        except subprocess.TimeoutExpired:
            print(f"{name}: timed out", file=sys.stderr)
    with cap.lock:
        for rec in cap.records:
            print(*rec)


if __name__ == "__main__":
    main()
