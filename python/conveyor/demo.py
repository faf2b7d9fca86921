"""`conveyor demo`: the end-to-end run of issue 2.

1. Start an embedded broker (or use --bootstrap-server).
2. Produce N order events (BUY/SELL, symbol as key, quantity, price, timestamp, a per-symbol
   sequence number; JSON values) into a 6-partition `orders` topic, and every line of the
   readable text logs under /var/log into `logs` (key = the file's path).
3. Read both topics back and check: the record count, per-key order (the per-symbol sequence
   numbers arrive as 1, 2, 3, ...; log lines arrive in file order), that each key stays on one
   partition, and the content (a BLAKE2 hash over each key's values, in order, on both sides).
4. Print produce and consume throughput (records/s, MB/s).
5. Consumer groups (demo_pipeline.py, skipped with --no-pipeline): `risk`, `position` and
   `audit` each receive every order (pub/sub); `matching` is a queue of three members, one of
   which is killed midway; every group must have lost nothing.
6. If kcat is on PATH (and not --no-kcat), `kcat -C -b ... -t orders -e -o beginning -q` must
   read the same count (and likewise for `logs`).
Exit status 0 only if every check passed.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

import conveyor

ORDERS_TOPIC = "orders"
LOGS_TOPIC = "logs"
ORDERS_PARTITIONS = 6
LOGS_PARTITIONS = 3
# NSE-listed symbols with a rough reference price (rupees).
SYMBOLS = [("TCS", 3900.0), ("INFY", 1500.0), ("RELIANCE", 2450.0), ("HDFCBANK", 1650.0),
           ("ICICIBANK", 1000.0), ("SBIN", 600.0), ("ITC", 450.0), ("LT", 3300.0),
           ("WIPRO", 450.0), ("AXISBANK", 1050.0), ("KOTAKBANK", 1800.0), ("BHARTIARTL", 950.0),
           ("MARUTI", 10500.0), ("SUNPHARMA", 1200.0), ("TATAMOTORS", 700.0), ("ASIANPAINT", 3100.0),
           ("HCLTECH", 1300.0), ("ULTRACEMCO", 8800.0), ("TITAN", 3300.0), ("NESTLEIND", 24000.0)]
COMPRESSED_SUFFIXES = (".gz", ".xz", ".bz2", ".zst", ".lz4", ".zip", ".journal", ".journal~")
# Limits that keep the demo's memory bounded whatever /var/log holds.
MAX_LOG_FILE_BYTES = 64 * 1024 * 1024
MAX_LOG_LINES = 2_000_000
PROGRESS_EVERY = 50_000
STALL_TIMEOUT_S = 30.0


def out(msg: str = "") -> None:
    print(msg, flush=True)


class Checks:
    def __init__(self) -> None:
        self.results: List[Tuple[str, bool, str]] = []

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append((name, ok, detail))
        out(f"  [{'ok' if ok else 'FAIL'}] {name}{(': ' + detail) if detail else ''}")
        return ok

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.results)


class KeyDigests:
    """Per key: a running BLAKE2b over the values in order, and the count."""

    def __init__(self) -> None:
        self.hashes: Dict[bytes, "hashlib._Hash"] = {}
        self.counts: Dict[bytes, int] = {}

    def add(self, key: bytes, value: bytes) -> None:
        h = self.hashes.get(key)
        if h is None:
            h = self.hashes[key] = hashlib.blake2b(digest_size=16)
            self.counts[key] = 0
        h.update(value + b"\n")  # demo values never contain a newline: an exact delimiter
        self.counts[key] += 1

    def digest(self) -> Dict[bytes, Tuple[int, bytes]]:
        return {k: (self.counts[k], h.digest()) for k, h in self.hashes.items()}


def find_text_logs(root: str) -> List[str]:
    """Regular files under root we can read that look like text (no NUL in the first 8 KiB)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: None):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if name.endswith(COMPRESSED_SUFFIXES) or not os.path.isfile(path) or os.path.islink(path):
                continue
            try:
                if os.path.getsize(path) == 0 or os.path.getsize(path) > MAX_LOG_FILE_BYTES:
                    continue
                with open(path, "rb") as f:
                    head = f.read(8192)
            except OSError:
                continue
            if b"\0" in head:
                continue
            found.append(path)
    return found


def produce_with_retry(producer: conveyor.Producer, topic: str, value: bytes, key: bytes) -> None:
    while True:
        try:
            producer.produce(topic, value, key)
            return
        except conveyor.QueueFullError:
            producer.poll(0.01)


def produce_orders(producer: conveyor.Producer, n: int, digests: KeyDigests) -> Tuple[int, float]:
    rng = random.Random(20261120)
    keys = [s.encode() for s, _ in SYMBOLS]
    # 1024 price levels per symbol within +-5% of its reference, formatted once.
    prices = [[f"{p * (0.95 + j / 10240.0):.2f}" for j in range(1024)] for _, p in SYMBOLS]
    names = [s for s, _ in SYMBOLS]
    seqs = [0] * len(SYMBOLS)
    nsym = len(SYMBOLS)
    base_ts = int(time.time() * 1000)
    total_bytes = 0
    produce = producer.produce
    poll = producer.poll
    add = digests.add
    started = time.perf_counter()
    for i in range(n):
        bits = rng.getrandbits(32)
        s = bits % nsym
        seqs[s] += 1
        side = "BUY" if bits & 0x100000 else "SELL"
        qty = 1 + ((bits >> 8) & 0x3FF)
        price = prices[s][(bits >> 18) & 0x3FF]
        value = (f'{{"seq":{seqs[s]},"symbol":"{names[s]}","side":"{side}","qty":{qty},'
                 f'"price":{price},"ts":{base_ts + i}}}').encode()
        key = keys[s]
        try:
            produce(ORDERS_TOPIC, value, key)
        except conveyor.QueueFullError:
            poll(0.01)
            produce_with_retry(producer, ORDERS_TOPIC, value, key)
        add(key, value)
        total_bytes += len(value) + len(key)
        if i % 5000 == 0:
            poll(0)
            if i and i % (PROGRESS_EVERY * 4) == 0:
                print(f"    ... {i:,} orders queued", file=sys.stderr, flush=True)
    return total_bytes, started


def produce_logs(producer: conveyor.Producer, files: List[str], digests: KeyDigests) -> Tuple[int, int]:
    count = 0
    total_bytes = 0
    for path in files:
        key = path.encode()
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for line in lines:
            if count >= MAX_LOG_LINES:
                return count, total_bytes
            produce_with_retry(producer, LOGS_TOPIC, line, key)
            digests.add(key, line)
            count += 1
            total_bytes += len(line) + len(key)
            if count % 5000 == 0:
                producer.poll(0)
    return count, total_bytes


def consume_all(consumer: conveyor.Consumer, topic: str, partitions: int, expected: int,
                check_seq: bool) -> Tuple[KeyDigests, int, int, List[str], float]:
    """Reads `expected` records from every partition; returns digests, count, bytes, problems, seconds."""
    consumer.assign([conveyor.TopicPartition(topic, p, conveyor.OFFSET_BEGINNING) for p in range(partitions)])
    digests = KeyDigests()
    problems: List[str] = []
    last_seq: Dict[bytes, int] = {}
    key_partition: Dict[bytes, int] = {}
    count = 0
    nbytes = 0
    started = time.perf_counter()
    last_progress = time.monotonic()
    add = digests.add
    while count < expected:
        batch = consumer.consume(5000, timeout=0.5)
        if not batch:
            if time.monotonic() - last_progress > STALL_TIMEOUT_S:
                problems.append(f"{topic}: no record for {STALL_TIMEOUT_S:.0f}s after {count} of {expected}")
                break
            continue
        last_progress = time.monotonic()
        for r in batch:
            key = r.key or b""
            value = r.value or b""
            add(key, value)
            nbytes += len(key) + len(value)
            p = key_partition.setdefault(key, r.partition)
            if p != r.partition and len(problems) < 10:
                problems.append(f"{topic}: key {key!r} on partitions {p} and {r.partition}")
            if check_seq:
                # value starts with {"seq":N,
                end = value.find(b",", 7)
                seq = int(value[7:end]) if value.startswith(b'{"seq":') and end > 7 else -1
                prev = last_seq.get(key, 0)
                if seq != prev + 1 and len(problems) < 10:
                    problems.append(f"{topic}: key {key.decode()} sequence {seq} after {prev}")
                last_seq[key] = seq
        count += len(batch)
        if count % PROGRESS_EVERY < len(batch) and count < expected:
            print(f"    ... {count:,} {topic} records read", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    # Anything beyond what was produced?
    extra = consumer.consume(5000, timeout=0.2)
    if extra:
        problems.append(f"{topic}: {len(extra)}+ records more than the {expected} produced")
    return digests, count, nbytes, problems, elapsed


def kcat_count(bootstrap: str, topic: str, timeout_s: float) -> Tuple[Optional[int], str]:
    cmd = ["kcat", "-C", "-b", bootstrap, "-t", topic, "-e", "-o", "beginning", "-q"]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        return None, str(e)
    lines = 0
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while True:
        chunk = proc.stdout.read1(1 << 20) if hasattr(proc.stdout, "read1") else proc.stdout.read(1 << 20)
        if not chunk:
            break
        lines += chunk.count(b"\n")
        if time.monotonic() > deadline:
            proc.kill()
            return None, f"timed out after {timeout_s:.0f}s"
    rc = proc.wait()
    err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
    if rc != 0:
        return None, f"exit status {rc}: {err[:200]}"
    return lines, " ".join(cmd)


def rate(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "inf"


def run(args) -> int:
    n = args.records
    if n < 0:
        out("conveyor demo: --records must be >= 0")
        return 2
    checks = Checks()
    broker = None
    if args.bootstrap_server:
        bootstrap = args.bootstrap_server
        out(f"conveyor demo: using the broker at {bootstrap}")
    else:
        broker = conveyor.Broker({"num.partitions": 1, "auto.create.topics.enable": False},
                                 data_dir=args.data_dir)
        bootstrap = broker.bootstrap_servers
        out(f"conveyor demo: embedded broker listening on {bootstrap} (data in {broker.data_dir})")
    try:
        conf = {"bootstrap.servers": bootstrap}
        with conveyor.Admin(conf) as admin:
            existing = set(admin.list_topics())
            for topic, parts in ((ORDERS_TOPIC, ORDERS_PARTITIONS), (LOGS_TOPIC, LOGS_PARTITIONS)):
                if topic in existing:
                    admin.delete_topic(topic)
                    time.sleep(0.5)
                admin.create_topic(topic, partitions=parts, replication_factor=1)
        out(f"  created topics {ORDERS_TOPIC} ({ORDERS_PARTITIONS} partitions), {LOGS_TOPIC} ({LOGS_PARTITIONS} partitions)")

        # ---- produce --------------------------------------------------------------------------
        log_files = find_text_logs(args.log_dir)
        produced_orders = KeyDigests()
        produced_logs = KeyDigests()
        pconf = dict(conf)
        pconf.update({"linger.ms": 5, "batch.size": 262144, "acks": 1})
        out(f"producing {n:,} order events to '{ORDERS_TOPIC}' ...")
        with conveyor.Producer(pconf) as producer:
            order_bytes, started = produce_orders(producer, n, produced_orders)
            left = producer.flush(120.0)
            produce_s = time.perf_counter() - started
            ok_orders, failed_orders = producer.delivery_counts()
            out(f"  produced {n:,} orders in {produce_s:.2f}s: {rate(n, produce_s)} records/s, "
                f"{order_bytes / max(produce_s, 1e-9) / 1e6:.1f} MB/s")
            out(f"producing the lines of {len(log_files)} text log file(s) under {args.log_dir} to '{LOGS_TOPIC}' ...")
            started = time.perf_counter()
            log_lines, log_bytes = produce_logs(producer, log_files, produced_logs)
            left += producer.flush(120.0)
            logs_s = time.perf_counter() - started
            ok_all, failed_all = producer.delivery_counts()
            out(f"  produced {log_lines:,} log lines in {logs_s:.2f}s: {rate(log_lines, logs_s)} records/s, "
                f"{log_bytes / max(logs_s, 1e-9) / 1e6:.1f} MB/s")
        checks.add("every record acknowledged", left == 0 and failed_all == 0 and ok_all == n + log_lines,
                   f"{ok_all:,} acknowledged, {failed_all} failed, {left} undelivered")

        # ---- consume --------------------------------------------------------------------------
        cconf = dict(conf)
        cconf.update({"max.poll.records": 5000, "fetch.max.wait.ms": 100, "max.partition.fetch.bytes": 4 * 1048576})
        out(f"consuming '{ORDERS_TOPIC}' ...")
        with conveyor.Consumer(cconf) as consumer:
            got, count, nbytes, problems, secs = consume_all(consumer, ORDERS_TOPIC, ORDERS_PARTITIONS, n, True)
        out(f"  consumed {count:,} orders in {secs:.2f}s: {rate(count, secs)} records/s, "
            f"{nbytes / max(secs, 1e-9) / 1e6:.1f} MB/s")
        checks.add("orders: count", count == n and not any("more than" in p for p in problems), f"{count:,} of {n:,}")
        checks.add("orders: per-key order (per-symbol sequence numbers) and partition affinity",
                   not [p for p in problems if "sequence" in p or "partitions" in p],
                   "; ".join(problems[:3]))
        checks.add("orders: content (BLAKE2 per symbol)", got.digest() == produced_orders.digest(),
                   f"{len(produced_orders.hashes)} symbols")

        # ---- consumer groups: pub/sub and a queue with a member killed midway -------------
        if getattr(args, "no_pipeline", False):
            out("consumer-group pipeline: skipped (--no-pipeline)")
        else:
            from conveyor import demo_pipeline
            with conveyor.Consumer(conf) as consumer:
                end_offsets = {p: consumer.get_watermark_offsets(conveyor.TopicPartition(ORDERS_TOPIC, p),
                                                                 timeout=30.0)[1]
                               for p in range(ORDERS_PARTITIONS)}
            started = time.perf_counter()
            results, _ = demo_pipeline.run_pipeline(bootstrap, ORDERS_TOPIC, end_offsets,
                                                    getattr(args, "pipeline_seconds", 8.0), out)
            out(f"  pipeline finished in {time.perf_counter() - started:.1f}s")
            for name, ok, detail in results:
                checks.add(name, ok, detail)

        out(f"consuming '{LOGS_TOPIC}' ...")
        with conveyor.Consumer(cconf) as consumer:
            got, count, nbytes, problems, secs = consume_all(consumer, LOGS_TOPIC, LOGS_PARTITIONS, log_lines, False)
        out(f"  consumed {count:,} log lines in {secs:.2f}s: {rate(count, secs)} records/s")
        checks.add("logs: count", count == log_lines and not problems, f"{count:,} of {log_lines:,}")
        checks.add("logs: content and per-file line order (BLAKE2 per file)",
                   got.digest() == produced_logs.digest(), f"{len(produced_logs.hashes)} files")

        # ---- kcat -----------------------------------------------------------------------------
        if args.no_kcat:
            out("kcat: skipped (--no-kcat)")
        elif not shutil.which("kcat"):
            out("kcat: not on PATH, skipped")
        else:
            for topic, expected in ((ORDERS_TOPIC, n), (LOGS_TOPIC, log_lines)):
                started = time.perf_counter()
                seen, detail = kcat_count(bootstrap, topic, 300.0)
                secs = time.perf_counter() - started
                if seen is None:
                    checks.add(f"kcat reads {topic}", False, detail)
                else:
                    checks.add(f"kcat reads {topic}", seen == expected,
                               f"{seen:,} of {expected:,} in {secs:.2f}s ({rate(seen, secs)} records/s)")
    finally:
        if broker is not None:
            broker.stop()

    failed = [name for name, ok, _ in checks.results if not ok]
    if failed:
        out(f"conveyor demo: FAILED ({len(failed)} check(s): {', '.join(failed)})")
        return 1
    out(f"conveyor demo: all {len(checks.results)} checks passed")
    return 0
