"""The `conveyor` command line: broker, topic, group, produce, consume, demo.

Flag spellings follow Kafka's tools (kafka-server-start.sh --override, kafka-topics.sh
--partitions/--replication-factor/--config, kafka-console-*.sh --bootstrap-server,
--producer-property/--consumer-property). Results go to stdout; logs and progress to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from typing import Dict, List, Optional, Sequence

DEFAULT_BOOTSTRAP = "localhost:9092"
DEFAULT_LISTENERS = "PLAINTEXT://:9092"


# ---------------------------------------------------------------------------------------------
# helpers


def parse_properties(text: str) -> Dict[str, str]:
    """Java .properties: key=value or key: value; # and ! comments; backslash continuations."""
    out: Dict[str, str] = {}
    logical = ""
    for raw in text.splitlines():
        line = raw.strip() if not logical else raw.lstrip()
        if not logical and (not line or line[0] in "#!"):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            logical += line[:-1]
            continue
        logical += line
        cut = min((i for i in (logical.find("="), logical.find(":")) if i >= 0), default=-1)
        if cut < 0:
            key, value = logical.strip(), ""
        else:
            key, value = logical[:cut].strip(), logical[cut + 1:].strip()
        if key:
            out[key] = value
        logical = ""
    return out


def parse_key_values(items: Optional[Sequence[str]], flag: str) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"conveyor: {flag} expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, label: str, total: Optional[int] = None, enabled: Optional[bool] = None) -> None:
        self.label = label
        self.total = total
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = time.monotonic()
        self.last = 0.0
        self.count = 0

    def update(self, count: int, force: bool = False) -> None:
        self.count = count
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        rate = count / max(now - self.start, 1e-9)
        if self.total:
            width = 30
            done = int(width * min(count, self.total) / self.total)
            bar = "#" * done + "-" * (width - done)
            text = f"\r{self.label} [{bar}] {count}/{self.total} {rate:,.0f}/s"
        else:
            text = f"\r{self.label} {count} records {rate:,.0f}/s"
        sys.stderr.write(text)
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            self.update(self.count, force=True)
            sys.stderr.write("\n")
            sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# conveyor broker


def cmd_broker(args: argparse.Namespace) -> int:
    # The native broker directly: conveyor.Broker would import client.py and dataclasses
    # (~15 ms of start-up, bench S7); props are already str -> str.
    from . import _conveyor
    from .errors import KafkaError

    props: Dict[str, str] = {}
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            props.update(parse_properties(f.read()))
    props.update(parse_key_values(args.override, "--override"))
    if args.data_dir:
        props["log.dirs"] = args.data_dir
    props.setdefault("listeners", DEFAULT_LISTENERS)

    stop = threading.Event()

    def on_signal(signum, frame):  # runs in the main thread between bytecodes
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        broker = _conveyor.Broker(props)
    except KafkaError as e:
        log(f"conveyor broker: {e}")
        return 1
    log(f"conveyor broker: data in {broker.data_dir}")
    print(f"conveyor broker listening on {broker.bootstrap_servers}", flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        log("conveyor broker: shutting down")
        broker.stop()
    log("conveyor broker: stopped")
    return 0


# ---------------------------------------------------------------------------------------------
# conveyor topic


def _client_config(args: argparse.Namespace, extra: Optional[Sequence[str]] = None, flag: str = "") -> Dict[str, str]:
    conf = {"bootstrap.servers": args.bootstrap_server}
    if getattr(args, "command_config", None):
        with open(args.command_config, encoding="utf-8") as f:
            conf.update(parse_properties(f.read()))
    conf.update(parse_key_values(extra, flag))
    return conf


def cmd_topic(args: argparse.Namespace) -> int:
    import conveyor

    timeout = args.timeout
    with conveyor.Admin(_client_config(args)) as admin:
        if args.topic_command == "create":
            config = parse_key_values(args.config, "--config")
            try:
                admin.create_topic(args.name, partitions=args.partitions,
                                   replication_factor=args.replication_factor, config=config, timeout=timeout)
            except conveyor.TopicAlreadyExistsError:
                if args.if_not_exists:
                    return 0
                raise
            print(f'Created topic "{args.name}".')
        elif args.topic_command == "delete":
            try:
                admin.delete_topic(args.name, timeout=timeout)
            except conveyor.UnknownTopicOrPartitionError:
                if args.if_exists:
                    return 0
                raise
            print(f'Deleted topic "{args.name}".')
        elif args.topic_command == "delete-records":
            partitions = args.partition
            if not partitions:
                partitions = [p.partition for p in admin.describe_topic(args.name, timeout=timeout).partitions]
            lows = admin.delete_records({conveyor.TopicPartition(args.name, p): args.offset for p in partitions},
                                        timeout=timeout)
            print_table(["TOPIC", "PARTITION", "LOW-WATERMARK"],
                        [(tp.topic, tp.partition, low) for tp, low in sorted(lows.items(), key=lambda kv: kv[0].partition)])
        elif args.topic_command == "list":
            for name in admin.list_topics(timeout=timeout, internal=args.include_internal):
                print(name)
        elif args.topic_command == "describe":
            names = args.names or None
            for t in admin.describe_topics(names, timeout=timeout):
                if t.is_internal and not names and not args.include_internal:
                    continue
                print(f"Topic: {t.name}\tTopicId: {t.topic_id}\tPartitionCount: {len(t.partitions)}\t"
                      f"ReplicationFactor: {len(t.partitions[0].replicas) if t.partitions else 0}")
                for p in t.partitions:
                    print(f"\tTopic: {t.name}\tPartition: {p.partition}\tLeader: {p.leader}\t"
                          f"Replicas: {','.join(map(str, p.replicas))}\tIsr: {','.join(map(str, p.isr))}")
        elif args.topic_command == "describe-config":
            return _topic_describe_config(admin, args, timeout)
        elif args.topic_command == "alter-config":
            return _topic_alter_config(admin, args, timeout)
        elif args.topic_command == "add-partitions":
            name = _topic_name(args)
            admin.create_partitions(name, args.partitions, validate_only=args.validate_only, timeout=timeout)
            if args.validate_only:
                print(f'Topic "{name}" can grow to {args.partitions} partitions (validated only, nothing changed).')
            else:
                print(f'Topic "{name}" now has {args.partitions} partitions.')
    return 0


def _topic_name(args: argparse.Namespace) -> str:
    """The topic of a config command: the positional NAME or --topic (one of them)."""
    name, flag = getattr(args, "name", None), getattr(args, "topic", None)
    if name and flag and name != flag:
        raise SystemExit(f"conveyor topic {args.topic_command}: two topics given ({name!r} and --topic {flag!r})")
    if not (name or flag):
        raise SystemExit(f"conveyor topic {args.topic_command}: name a topic (NAME or --topic T)")
    return name or flag


def split_config_list(items: Optional[Sequence[str]]) -> List[str]:
    """kafka-configs.sh spelling: 'k=v,k2=v2' (repeatable); a value holding commas goes in
    square brackets: 'cleanup.policy=[compact,delete]'."""
    out: List[str] = []
    for item in items or []:
        depth, start = 0, 0
        for i, ch in enumerate(item):
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth = max(0, depth - 1)
            elif ch == "," and depth == 0:
                out.append(item[start:i])
                start = i + 1
        out.append(item[start:])
    return [x.strip() for x in out if x.strip()]


def _topic_describe_config(admin, args: argparse.Namespace, timeout: float) -> int:
    if args.broker is not None:
        if getattr(args, "name", None) or args.topic:
            raise SystemExit("conveyor topic describe-config: give a topic or --broker ID, not both")
        configs = admin.describe_configs(broker=args.broker, keys=args.key, timeout=timeout)
        what = f"broker {args.broker}"
    else:
        name = _topic_name(args)
        configs = admin.describe_configs(name, keys=args.key, timeout=timeout)
        what = f"topic {name}"
    rows = []
    for entry in sorted(configs.values(), key=lambda e: e.name):
        if args.overrides_only and entry.source != 1:
            continue
        value = "(sensitive)" if entry.is_sensitive else ("" if entry.value is None else entry.value)
        row = [entry.name, value, entry.source.name, "yes" if entry.read_only else "no"]
        if args.synonyms:
            row.append(", ".join(f"{s.source.name}:{s.name}={'' if s.value is None else s.value}" for s in entry.synonyms))
        rows.append(row)
    headers = ["KEY", "VALUE", "SOURCE", "READ-ONLY"] + (["SYNONYMS"] if args.synonyms else [])
    print(f"Configs for {what}:")
    print_table(headers, rows)
    return 0


def _topic_alter_config(admin, args: argparse.Namespace, timeout: float) -> int:
    name = None if args.broker is not None else _topic_name(args)
    set_ = {}
    for item in split_config_list(args.add_config):
        if "=" not in item:
            raise SystemExit(f"conveyor topic alter-config: --add-config expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            value = value[1:-1]
        set_[key.strip()] = value
    delete = split_config_list(args.delete_config)
    if not set_ and not delete:
        raise SystemExit("conveyor topic alter-config: nothing to change (give --add-config and/or --delete-config)")
    both = sorted(set(set_) & set(delete))
    if both:
        raise SystemExit(f"conveyor topic alter-config: {', '.join(both)} both added and deleted")
    if name is None:
        admin.alter_configs(broker=args.broker, set=set_, delete=delete, validate_only=args.validate_only,
                            timeout=timeout)
        what = f"broker {args.broker}"
    else:
        admin.alter_configs(name, set=set_, delete=delete, validate_only=args.validate_only, timeout=timeout)
        what = f"topic {name}"
    if args.validate_only:
        print(f"Validated the config change for {what} (nothing changed).")
    else:
        print(f"Completed updating config for {what}.")
    return 0


# ---------------------------------------------------------------------------------------------
# conveyor group (kafka-consumer-groups.sh's --list / --describe / --reset-offsets / --delete)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], out=None) -> None:
    """Left-aligned columns separated by two spaces, as wide as their widest cell."""
    out = out or sys.stdout
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for r in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n")
    out.flush()


def parse_topic_partitions(spec: str):
    """'orders' → ('orders', None); 'orders:0,2' → ('orders', [0, 2])."""
    if ":" not in spec:
        return spec, None
    topic, parts = spec.rsplit(":", 1)
    try:
        partitions = sorted({int(p) for p in parts.split(",") if p.strip() != ""})
    except ValueError:
        raise SystemExit(f"conveyor group: --topic expects TOPIC or TOPIC:P[,P...], got {spec!r}")
    if not topic or not partitions:
        raise SystemExit(f"conveyor group: --topic expects TOPIC or TOPIC:P[,P...], got {spec!r}")
    return topic, partitions


def parse_datetime_ms(text: str) -> int:
    """ISO-8601 date-time → epoch ms. Without a zone it is local time (as kafka-consumer-groups
    reads --to-datetime); 'Z' or +HH:MM set the zone."""
    import datetime as _dt
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    try:
        when = _dt.datetime.fromisoformat(t)
    except ValueError:
        raise SystemExit(f"conveyor group: --to-datetime expects ISO-8601 such as 2024-05-01T12:00:00 "
                         f"or 2024-05-01T12:00:00.000+02:00, got {text!r}")
    if when.tzinfo is None:
        when = when.astimezone()  # local time zone
    return int(when.timestamp() * 1000)


def cmd_group(args: argparse.Namespace) -> int:
    import conveyor

    timeout = args.timeout
    with conveyor.Admin(_client_config(args)) as admin:
        if args.group_command == "list":
            groups = admin.list_groups(states=args.state or None, timeout=timeout)
            if args.state is not None:
                print_table(["GROUP", "STATE"], [(g.group_id, g.state or "-") for g in groups])
            else:
                for g in groups:
                    print(g.group_id)
            return 0
        if args.group_command == "describe":
            return _group_describe(admin, args.group, timeout)
        if args.group_command == "delete":
            try:
                admin.delete_group(args.group, timeout=timeout)
            except conveyor.NonEmptyGroupError:
                log(f"conveyor group delete: group '{args.group}' is not empty: it has active members "
                    f"(stop its consumers first)")
                return 1
            except conveyor.GroupIdNotFoundError:
                log(f"conveyor group delete: group '{args.group}' does not exist")
                return 1
            print(f"Deletion of requested consumer groups ('{args.group}') was successful.")
            return 0
        if args.group_command == "reset-offsets":
            return _group_reset(admin, args, timeout)
    return 2


def _group_describe(admin, group: str, timeout: float) -> int:
    lag = admin.group_lag(group, timeout=timeout)
    g = lag.group
    if g.state == "Dead" and not lag.partitions:
        log(f"Consumer group '{group}' does not exist.")
        return 1
    print(f"GROUP: {g.group_id}  STATE: {g.state}  PROTOCOL: {g.protocol or '-'}  "
          f"PROTOCOL-TYPE: {g.protocol_type or '-'}  MEMBERS: {len(g.members)}  COORDINATOR: {g.coordinator}")
    if not g.members:
        log(f"Consumer group '{group}' has no active members.")
    elif g.state in ("PreparingRebalance", "CompletingRebalance"):
        log(f"Warning: consumer group '{group}' is rebalancing.")
    print()
    rows = [(r.topic, r.partition, r.current_offset, r.log_end_offset, r.lag, r.consumer_id, r.host, r.client_id)
            for r in lag.partitions]
    owners = {r.consumer_id for r in lag.partitions if r.consumer_id}
    for m in g.members:  # members that own nothing still show up, as in kafka-consumer-groups
        if m.member_id not in owners:
            rows.append((None, None, None, None, None, m.member_id, m.host, m.client_id))
    print_table(["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"],
                rows)
    return 0


def _group_reset(admin, args: argparse.Namespace, timeout: float) -> int:
    import conveyor

    group = args.group
    desc = admin.describe_group(group, timeout=timeout)
    if desc.members or desc.state not in ("Empty", "Dead", ""):
        log(f"conveyor group reset-offsets: offsets of group '{group}' can only be reset while the group is "
            f"inactive, but it has {len(desc.members)} member(s) and state {desc.state}: stop its consumers first")
        return 1
    # Which partitions.
    partitions: List[conveyor.TopicPartition] = []
    if args.all_topics:
        partitions = [conveyor.TopicPartition(o.topic, o.partition)
                      for o in admin.list_group_offsets(group, timeout=timeout)]
        if not partitions:
            log(f"conveyor group reset-offsets: group '{group}' has no committed offsets; name the topics with --topic")
            return 1
    else:
        for spec in args.topic:
            topic, chosen = parse_topic_partitions(spec)
            existing = [p.partition for p in admin.describe_topic(topic, timeout=timeout).partitions]
            for p in chosen if chosen is not None else existing:
                if p not in existing:
                    log(f"conveyor group reset-offsets: topic {topic} has no partition {p}")
                    return 1
                partitions.append(conveyor.TopicPartition(topic, p))
    partitions = sorted(set(partitions))
    earliest = {(tp.topic, tp.partition): tp.offset
                for tp in admin.list_offsets(partitions, conveyor.OFFSET_BEGINNING, timeout=timeout)}
    latest = {(tp.topic, tp.partition): tp.offset
              for tp in admin.list_offsets(partitions, conveyor.OFFSET_END, timeout=timeout)}
    # Where to.
    target: Dict[tuple, int] = {}
    if args.to_earliest:
        target = dict(earliest)
    elif args.to_latest:
        target = dict(latest)
    elif args.to_offset is not None:
        target = {k: args.to_offset for k in earliest}
    elif args.to_datetime is not None:
        ts = parse_datetime_ms(args.to_datetime)
        for tp in admin.list_offsets(partitions, ts, timeout=timeout):
            key = (tp.topic, tp.partition)
            target[key] = tp.offset if tp.offset >= 0 else latest[key]  # nothing that late: the end
    elif args.shift_by is not None:
        committed = {(o.topic, o.partition): o.offset for o in admin.list_group_offsets(group, partitions, timeout=timeout)}
        for key in earliest:
            if committed.get(key) is None:
                log(f"conveyor group reset-offsets: cannot shift {key[0]}-{key[1]}: group '{group}' has no committed "
                    f"offset for it (use --to-earliest, --to-latest or --to-offset)")
                return 1
            target[key] = committed[key] + args.shift_by
    plan = []
    for key in sorted(target):
        new = target[key]
        low, high = earliest[key], latest[key]
        if new < low:
            log(f"New offset ({new}) is lower than the earliest offset for {key[0]}-{key[1]}; using {low}.")
            new = low
        elif new > high:
            log(f"New offset ({new}) is higher than the latest offset for {key[0]}-{key[1]}; using {high}.")
            new = high
        plan.append((key[0], key[1], new))
    print_table(["TOPIC", "PARTITION", "NEW-OFFSET"], plan)
    if not args.execute:
        log("Dry run: nothing was changed. Add --execute to reset the offsets.")
        return 0
    try:
        admin.alter_group_offsets(group, [conveyor.TopicPartition(t, p, o) for t, p, o in plan], timeout=timeout)
    except conveyor.NonEmptyGroupError as e:
        log(f"conveyor group reset-offsets: {e.message}")
        return 1
    log(f"Offsets of group '{group}' reset for {len(plan)} partition(s).")
    return 0



# ---------------------------------------------------------------------------------------------
# conveyor produce


def cmd_produce(args: argparse.Namespace) -> int:
    import conveyor

    conf = _client_config(args, args.producer_property, "--producer-property")
    if args.compression:
        conf["compression.type"] = args.compression
    if args.acks is not None:
        conf["acks"] = args.acks
    sep = args.key_separator.encode() if args.key_separator is not None else None
    source = open(args.file, "rb") if args.file else sys.stdin.buffer
    total = None
    if args.file:
        try:
            total = sum(1 for _ in open(args.file, "rb"))
        except OSError:
            total = None
    progress = Progress(f"producing to {args.topic}", total)
    errors: List[Exception] = []

    def on_delivery(err, record):
        if err is not None and len(errors) < 10:
            errors.append(err)

    produced = 0
    with conveyor.Producer(conf) as producer:
        try:
            for line in source:
                line = line.rstrip(b"\n")
                if line.endswith(b"\r"):
                    line = line[:-1]
                key = None
                if sep is not None:
                    if sep in line:
                        key, line = line.split(sep, 1)
                    elif args.ignore_missing_separator:
                        key = None
                    else:
                        raise SystemExit(f"conveyor produce: line {produced + 1} has no key separator {args.key_separator!r}")
                while True:
                    try:
                        producer.produce(args.topic, value=line, key=key, partition=args.partition,
                                         on_delivery=on_delivery)
                        break
                    except conveyor.QueueFullError:
                        producer.poll(0.05)
                produced += 1
                if produced % 1000 == 0:
                    producer.poll(0)
                    progress.update(produced)
            remaining = producer.flush(args.timeout)
        finally:
            if source is not sys.stdin.buffer:
                source.close()
        progress.update(produced, force=True)
        progress.finish()
        ok, failed = producer.delivery_counts()
    if remaining:
        log(f"conveyor produce: {remaining} record(s) not delivered within {args.timeout}s")
        return 1
    if failed:
        log(f"conveyor produce: {failed} of {produced} record(s) failed; first: {errors[0] if errors else '?'}")
        return 1
    log(f"conveyor produce: {produced} record(s) delivered to {args.topic}")
    return 0


# ---------------------------------------------------------------------------------------------
# conveyor consume


def compile_format(fmt: str):
    """'%k %v\\n'-style format → a function(record) -> bytes."""
    if fmt == "json":
        def to_json(r) -> bytes:
            def text(b):
                return None if b is None else b.decode("utf-8", "replace")
            obj = {"topic": r.topic, "partition": r.partition, "offset": r.offset, "timestamp": r.timestamp,
                   "key": text(r.key), "value": text(r.value),
                   "headers": [[k, text(v)] for k, v in r.headers]}
            return json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        return to_json
    fmt = fmt.replace("\\n", "\n").replace("\\t", "\t")
    parts: List = []
    i = 0
    literal = ""
    while i < len(fmt):
        c = fmt[i]
        if c == "%" and i + 1 < len(fmt):
            token = fmt[i + 1]
            i += 2
            if token == "%":
                literal += "%"
                continue
            if literal:
                parts.append(literal.encode())
                literal = ""
            getters = {
                "k": lambda r: r.key or b"",
                "v": lambda r: r.value or b"",
                "p": lambda r: str(r.partition).encode(),
                "o": lambda r: str(r.offset).encode(),
                "t": lambda r: str(r.timestamp).encode(),
                "T": lambda r: r.topic.encode(),
                "K": lambda r: str(-1 if r.key is None else len(r.key)).encode(),
                "S": lambda r: str(-1 if r.value is None else len(r.value)).encode(),
                "h": lambda r: b",".join(k.encode() + b"=" + (v or b"") for k, v in r.headers),
            }
            if token not in getters:
                raise SystemExit(f"conveyor consume: unknown format token %{token}")
            parts.append(getters[token])
        else:
            literal += c
            i += 1
    if literal:
        parts.append(literal.encode())
    if not fmt.endswith("\n"):
        parts.append(b"\n")

    def render(r) -> bytes:
        return b"".join(p if isinstance(p, bytes) else p(r) for p in parts)
    return render


def cmd_consume(args: argparse.Namespace) -> int:
    import conveyor

    conf = _client_config(args, args.consumer_property, "--consumer-property")
    render = compile_format(args.format)
    if args.partition is not None:
        partitions = [args.partition]
    else:
        with conveyor.Admin({"bootstrap.servers": args.bootstrap_server}) as admin:
            partitions = [p.partition for p in admin.describe_topic(args.topic).partitions]
    offset_arg = args.offset
    with conveyor.Consumer(conf) as consumer:
        if args.timestamp is not None:
            tps = consumer.offsets_for_times([conveyor.TopicPartition(args.topic, p, args.timestamp) for p in partitions],
                                             timeout=args.timeout or 30.0)
            assignment = [conveyor.TopicPartition(args.topic, tp.partition,
                                                  tp.offset if tp.offset >= 0 else conveyor.OFFSET_END) for tp in tps]
        else:
            if offset_arg in ("earliest", "beginning"):
                off = conveyor.OFFSET_BEGINNING
            elif offset_arg in ("latest", "end"):
                off = conveyor.OFFSET_END
            else:
                try:
                    off = int(offset_arg)
                except ValueError:
                    raise SystemExit(f"conveyor consume: --offset must be a number, earliest or latest, not {offset_arg!r}")
            assignment = [conveyor.TopicPartition(args.topic, p, off) for p in partitions]
        end: Dict[int, int] = {}
        if args.exit_at_end:
            for p in partitions:
                end[p] = consumer.get_watermark_offsets(conveyor.TopicPartition(args.topic, p), timeout=30.0)[1]
        consumer.assign(assignment)
        if args.exit_at_end:
            # Partitions already at their end need nothing read.
            for p in list(end):
                if consumer_position_at_end(consumer, args.topic, p, end[p]):
                    del end[p]
        out = sys.stdout.buffer
        count = 0
        last_record = time.monotonic()
        try:
            while args.max_records is None or count < args.max_records:
                if args.exit_at_end and not end:
                    break
                want = 500 if args.max_records is None else min(500, args.max_records - count)
                batch = consumer.consume(want, timeout=0.2)
                if not batch:
                    if args.timeout is not None and time.monotonic() - last_record > args.timeout:
                        break
                    continue
                last_record = time.monotonic()
                out.write(b"".join(render(r) for r in batch))
                count += len(batch)
                if args.exit_at_end:
                    for r in batch:
                        if r.partition in end and r.offset + 1 >= end[r.partition]:
                            del end[r.partition]
        except KeyboardInterrupt:
            pass
        finally:
            try:
                out.flush()
            except BrokenPipeError:
                pass
    log(f"Processed a total of {count} messages")
    return 0


def consumer_position_at_end(consumer, topic: str, partition: int, end_offset: int,
                             wait_s: float = 10.0) -> bool:
    """Whether an assigned partition's start position is already at end_offset. The position
    is unknown (StateError) until the consumer resolved earliest/latest; wait for it."""
    import conveyor
    if end_offset == 0:
        return True
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return consumer.position(conveyor.TopicPartition(topic, partition)) >= end_offset
        except conveyor.StateError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)


# ---------------------------------------------------------------------------------------------
# argument parsing

EPILOG_MAIN = """\
examples:
  conveyor broker --data-dir ./data                  # a broker on :9092 for any Kafka client
  conveyor topic create orders --partitions 6
  conveyor group describe billing                    # members, committed offsets, lag
  seq 10 | conveyor produce orders
  conveyor consume orders --offset earliest --max-records 10 --format '%p:%o %k=%v'
  conveyor demo --records 100000

Every command has --help. Logs go to stderr (level: CONVEYOR_LOG_LEVEL=debug|info|warn|error).
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _add_bootstrap(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bootstrap-server", default=os.environ.get("CONVEYOR_BOOTSTRAP_SERVER", DEFAULT_BOOTSTRAP),
                   metavar="HOST:PORT",
                   help="broker(s) to connect to, comma separated (default: $CONVEYOR_BOOTSTRAP_SERVER or %(default)s)")
    p.add_argument("--command-config", metavar="FILE",
                   help="client properties file (Kafka client config names), e.g. client.id=cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conveyor", formatter_class=_Formatter, epilog=EPILOG_MAIN,
        description="conveyor: a Kafka-compatible event-streaming broker and client.")
    from . import _conveyor
    parser.add_argument("--version", action="version", version=f"conveyor {_conveyor.version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    # broker
    p = sub.add_parser(
        "broker", formatter_class=_Formatter, help="run a single-node broker",
        description="Runs a single-node conveyor broker speaking the Kafka protocol. When it accepts "
                    "connections it prints one line to stdout:\n  conveyor broker listening on HOST:PORT\n"
                    "Logs go to stderr. SIGTERM or SIGINT (Ctrl-C) stop it cleanly (exit status 0).\n"
                    f"Defaults: listeners={DEFAULT_LISTENERS}; without log.dirs/--data-dir, data goes to a "
                    "temporary directory removed on exit.",
        epilog="examples:\n"
               "  conveyor broker --data-dir ./data\n"
               "  conveyor broker --config server.properties --override log.dirs=./data\n"
               "  conveyor broker --override listeners=PLAINTEXT://127.0.0.1:0 --override num.partitions=3\n")
    p.add_argument("--config", metavar="FILE", help="broker properties file (Kafka's server.properties names)")
    p.add_argument("--override", action="append", metavar="KEY=VALUE",
                   help="set one broker property, overriding --config (repeatable)")
    p.add_argument("--data-dir", metavar="DIR", help="data directory (same as --override log.dirs=DIR)")
    p.set_defaults(func=cmd_broker)

    # topic
    p = sub.add_parser(
        "topic", formatter_class=_Formatter,
        help="create, list, describe, delete or grow topics, show or change their configs, delete records",
        description="Topic administration through the Kafka Admin APIs (CreateTopics, DeleteTopics, Metadata, "
                    "DeleteRecords, CreatePartitions, DescribeConfigs, IncrementalAlterConfigs).",
        epilog="examples:\n"
               "  conveyor topic create orders --partitions 6 --config retention.ms=86400000\n"
               "  conveyor topic list\n"
               "  conveyor topic describe orders\n"
               "  conveyor topic delete orders\n"
               "  conveyor topic delete-records orders --partition 0 --offset 1000\n"
               "  conveyor topic describe-config orders\n"
               "  conveyor topic alter-config orders --add-config retention.ms=86400000 --delete-config segment.ms\n"
               "  conveyor topic add-partitions orders --partitions 12\n")
    tsub = p.add_subparsers(dest="topic_command", metavar="ACTION")
    tsub.required = True
    tp = tsub.add_parser("create", help="create a topic", formatter_class=_Formatter,
                         description="Creates a topic (CreateTopics) and waits until it is in metadata.",
                         epilog="example:\n  conveyor topic create orders --partitions 6 --replication-factor 1\n")
    tp.add_argument("name", help="topic name")
    tp.add_argument("--partitions", type=int, default=-1, help="partition count (default: the broker's num.partitions)")
    tp.add_argument("--replication-factor", type=int, default=-1, help="replicas per partition (default: the broker's)")
    tp.add_argument("--config", action="append", metavar="KEY=VALUE", help="topic config, e.g. cleanup.policy=delete (repeatable)")
    tp.add_argument("--if-not-exists", action="store_true", help="succeed if the topic already exists")
    tp = tsub.add_parser("list", help="list topic names", formatter_class=_Formatter,
                         description="Prints every topic name, one per line, sorted.",
                         epilog="example:\n  conveyor topic list --bootstrap-server localhost:9092\n")
    tp.add_argument("--include-internal", action="store_true", help="include internal topics")
    tp = tsub.add_parser("describe", help="describe topics", formatter_class=_Formatter,
                         description="Prints each topic's id and partitions (leader, replicas, ISR).",
                         epilog="example:\n  conveyor topic describe orders logs\n")
    tp.add_argument("names", nargs="*", help="topics (default: all)")
    tp.add_argument("--include-internal", action="store_true", help="include internal topics")
    tp = tsub.add_parser("delete", help="delete a topic", formatter_class=_Formatter,
                         description="Deletes a topic (DeleteTopics).",
                         epilog="example:\n  conveyor topic delete orders\n")
    tp.add_argument("name", help="topic name")
    tp.add_argument("--if-exists", action="store_true", help="succeed if the topic does not exist")
    tp = tsub.add_parser("delete-records", help="delete the records before an offset", formatter_class=_Formatter,
                         description="Moves partitions' log start offset up to --offset (DeleteRecords, KIP-107; "
                                     "kafka-delete-records.sh): records before it are no longer served and their "
                                     "segments are deleted by the broker's retention task. Prints each partition's "
                                     "new low watermark. An offset beyond the high watermark fails "
                                     "(OffsetOutOfRangeError).",
                         epilog="examples:\n"
                                "  conveyor topic delete-records orders --partition 0 --offset 1000\n"
                                "  conveyor topic delete-records orders --offset -1      # every partition, up to its high watermark\n")
    tp.add_argument("name", help="topic name")
    tp.add_argument("--partition", type=int, action="append", metavar="P",
                    help="partition (repeatable; default: every partition of the topic)")
    tp.add_argument("--offset", type=int, required=True, metavar="N",
                    help="delete records before this offset (-1 = the high watermark)")
    tp = tsub.add_parser(
        "describe-config", help="show a topic's or broker's configs", formatter_class=_Formatter,
        description="Prints every config of a topic (DescribeConfigs; kafka-configs.sh --describe --all) with its "
                    "effective value and SOURCE: DYNAMIC_TOPIC_CONFIG (an override set on the topic), "
                    "STATIC_BROKER_CONFIG (from the broker's properties, e.g. log.retention.hours) or DEFAULT_CONFIG "
                    "(Kafka's default). --broker ID shows a broker's configs instead (read-only: conveyor has no "
                    "dynamic broker configs).",
        epilog="examples:\n"
               "  conveyor topic describe-config orders\n"
               "  conveyor topic describe-config --topic orders --key retention.ms --key cleanup.policy\n"
               "  conveyor topic describe-config orders --overrides-only --synonyms\n"
               "  conveyor topic describe-config --broker 1\n")
    tp.add_argument("name", nargs="?", help="topic name (or --topic)")
    tp.add_argument("--topic", metavar="T", help="topic name (kafka-configs.sh spelling)")
    tp.add_argument("--broker", metavar="ID", help="describe the broker with this node id instead of a topic")
    tp.add_argument("--key", action="append", metavar="KEY", help="only this config (repeatable)")
    tp.add_argument("--overrides-only", action="store_true", help="only the configs set on the topic")
    tp.add_argument("--synonyms", action="store_true",
                    help="add a SYNONYMS column (where the value would come from: override, broker key, default)")
    tp = tsub.add_parser(
        "alter-config", help="set or delete topic config overrides", formatter_class=_Formatter,
        description="Changes a topic's config overrides (IncrementalAlterConfigs; kafka-configs.sh --alter). "
                    "--add-config sets keys, --delete-config returns keys to their defaults (the broker's or "
                    "Kafka's); every other override stays. The change is all or nothing, reaches a running conveyor "
                    "broker's partitions at once (no restart) and persists. A value holding commas goes in "
                    "square brackets: cleanup.policy=[compact,delete]. A bad key or value fails naming the key. "
                    "Broker configs cannot be altered (--broker fails: conveyor has no dynamic broker configs).",
        epilog="examples:\n"
               "  conveyor topic alter-config orders --add-config retention.ms=86400000,max.message.bytes=2097152\n"
               "  conveyor topic alter-config --topic orders --add-config cleanup.policy=[compact,delete]\n"
               "  conveyor topic alter-config orders --delete-config retention.ms\n"
               "  conveyor topic alter-config orders --add-config segment.ms=3600000 --validate-only\n")
    tp.add_argument("name", nargs="?", help="topic name (or --topic)")
    tp.add_argument("--topic", metavar="T", help="topic name (kafka-configs.sh spelling)")
    tp.add_argument("--broker", metavar="ID", help="a broker node id: refused, conveyor has no dynamic broker configs")
    tp.add_argument("--add-config", action="append", metavar="K=V[,K=V...]",
                    help="keys to set (repeatable; comma-separated)")
    tp.add_argument("--delete-config", action="append", metavar="K[,K...]",
                    help="keys to return to their defaults (repeatable; comma-separated)")
    tp.add_argument("--validate-only", action="store_true", help="check the change on the broker without applying it")
    tp = tsub.add_parser(
        "add-partitions", help="increase a topic's partition count", formatter_class=_Formatter,
        description="Grows a topic to --partitions partitions in total (CreatePartitions, KIP-195; kafka-topics.sh "
                    "--alter --partitions N). The count can only grow. New partitions get the topic's config "
                    "overrides and are in metadata when the command returns; keyed records may map to other "
                    "partitions from then on, and consumer groups subscribed to the topic rebalance onto the new "
                    "partitions at their next metadata refresh (metadata.max.age.ms).",
        epilog="examples:\n"
               "  conveyor topic add-partitions orders --partitions 12\n"
               "  conveyor topic add-partitions --topic orders --partitions 12 --validate-only\n")
    tp.add_argument("name", nargs="?", help="topic name (or --topic)")
    tp.add_argument("--topic", metavar="T", help="topic name")
    tp.add_argument("--partitions", type=int, required=True, metavar="N", help="the new total number of partitions")
    tp.add_argument("--validate-only", action="store_true", help="check on the broker without creating")
    for t in tsub.choices.values():
        _add_bootstrap(t)
        t.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the broker (default %(default)s)")
    p.set_defaults(func=cmd_topic)

    # group
    p = sub.add_parser(
        "group", formatter_class=_Formatter, help="list, describe, reset or delete consumer groups",
        description="Consumer group administration through the Kafka Admin APIs (ListGroups, DescribeGroups, "
                    "OffsetFetch, ListOffsets, OffsetCommit, DeleteGroups), like kafka-consumer-groups.sh. "
                    "Works against conveyor and Apache Kafka brokers.",
        epilog="examples:\n"
               "  conveyor group list\n"
               "  conveyor group describe billing\n"
               "  conveyor group reset-offsets billing --topic orders --to-earliest            # dry run: show the plan\n"
               "  conveyor group reset-offsets billing --topic orders:0,1 --shift-by -10 --execute\n"
               "  conveyor group delete billing\n")
    gsub = p.add_subparsers(dest="group_command", metavar="ACTION")
    gsub.required = True
    gp = gsub.add_parser(
        "list", help="list consumer groups", formatter_class=_Formatter,
        description="Prints every group id the brokers know, one per line, sorted (ListGroups on every broker). "
                    "With --state, prints GROUP and STATE columns, keeping only groups in the given states.",
        epilog="examples:\n"
               "  conveyor group list\n"
               "  conveyor group list --state             # every group with its state\n"
               "  conveyor group list --state Stable Empty\n")
    gp.add_argument("--state", nargs="*", metavar="STATE",
                    help="show states; with names (Stable, Empty, PreparingRebalance, CompletingRebalance, Dead), "
                         "only groups in those states (needs ListGroups v4, KIP-518)")
    gp = gsub.add_parser(
        "describe", help="show a group's members, committed offsets and lag", formatter_class=_Formatter,
        description="Prints the group's state, assignor (protocol), protocol type and member count, then one row "
                    "per partition that a member owns or the group has committed:\n"
                    "  TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\n"
                    "CURRENT-OFFSET is the committed offset, LOG-END-OFFSET the partition's high watermark and "
                    "LAG their difference; '-' where there is none (nothing committed, no owner). Members that "
                    "own no partition get a row with '-' for the partition columns. Exit status 1 if the group "
                    "does not exist.",
        epilog="examples:\n"
               "  conveyor group describe billing\n"
               "  conveyor group describe billing --bootstrap-server kafka1:9092\n")
    gp.add_argument("group", help="group id")
    gp = gsub.add_parser(
        "reset-offsets", help="reset a group's committed offsets", formatter_class=_Formatter,
        description="Computes new committed offsets for the group and prints the plan as TOPIC PARTITION "
                    "NEW-OFFSET. Nothing changes unless --execute is given (--dry-run is the default). The group "
                    "must be inactive (no members): the command refuses otherwise, and so does the broker. New "
                    "offsets are clamped to [log start offset, log end offset] of each partition.\n\n"
                    "Scope (one is required): --topic TOPIC (all its partitions) or TOPIC:P[,P...] (repeatable), "
                    "or --all-topics (every partition the group has committed).\n"
                    "Target (one is required): --to-earliest, --to-latest, --to-offset N, --to-datetime T (the "
                    "first offset whose timestamp is >= T; the log end if none), --shift-by N (committed offset "
                    "+ N; N may be negative).",
        epilog="examples:\n"
               "  conveyor group reset-offsets billing --topic orders --to-earliest\n"
               "  conveyor group reset-offsets billing --topic orders --to-earliest --execute\n"
               "  conveyor group reset-offsets billing --topic orders:0,2 --to-offset 1000 --execute\n"
               "  conveyor group reset-offsets billing --all-topics --to-datetime 2024-05-01T12:00:00Z --execute\n"
               "  conveyor group reset-offsets billing --all-topics --shift-by -100 --execute\n")
    gp.add_argument("group", help="group id")
    scope = gp.add_mutually_exclusive_group(required=True)
    scope.add_argument("--topic", action="append", metavar="TOPIC[:P,...]", help="topic, optionally with partitions")
    scope.add_argument("--all-topics", action="store_true", help="every partition the group has committed")
    to = gp.add_mutually_exclusive_group(required=True)
    to.add_argument("--to-earliest", action="store_true", help="the log start offset")
    to.add_argument("--to-latest", action="store_true", help="the log end offset")
    to.add_argument("--to-offset", type=int, metavar="N", help="this offset")
    to.add_argument("--to-datetime", metavar="T",
                    help="ISO-8601 date-time, e.g. 2024-05-01T12:00:00 (local time) or 2024-05-01T12:00:00Z")
    to.add_argument("--shift-by", type=int, metavar="N", help="the committed offset plus N (may be negative)")
    mode = gp.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only print the plan (the default)")
    mode.add_argument("--execute", action="store_true", help="commit the new offsets")
    gp = gsub.add_parser(
        "delete", help="delete a consumer group", formatter_class=_Formatter,
        description="Deletes an inactive group and its committed offsets (DeleteGroups). Exit status 1 if the "
                    "group still has members or does not exist.",
        epilog="example:\n  conveyor group delete billing\n")
    gp.add_argument("group", help="group id")
    for g in gsub.choices.values():
        _add_bootstrap(g)
        g.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the broker (default %(default)s)")
    p.set_defaults(func=cmd_group)

    # produce
    p = sub.add_parser(
        "produce", formatter_class=_Formatter, help="produce lines from stdin or a file",
        description="Produces one record per input line (without the newline) from stdin or --file. With "
                    "--key-separator, the text before the first separator is the key. Shows a progress bar "
                    "when stderr is a terminal. Exit status 1 if any record is not delivered.",
        epilog="examples:\n"
               "  seq 1000 | conveyor produce numbers\n"
               "  conveyor produce orders --file orders.txt --key-separator : --compression lz4\n"
               "  conveyor produce events --partition 0 --producer-property linger.ms=20\n")
    p.add_argument("topic", help="topic to produce to")
    p.add_argument("--file", metavar="PATH", help="read lines from this file instead of stdin")
    p.add_argument("--key-separator", metavar="SEP", help="split each line into KEY SEP VALUE")
    p.add_argument("--ignore-missing-separator", action="store_true",
                   help="with --key-separator: a line without it is a value with a null key (default: error)")
    p.add_argument("--partition", type=int, default=-1, help="partition (default: by key, sticky for null keys)")
    p.add_argument("--compression", choices=["none", "gzip", "snappy", "lz4", "zstd"], help="compression.type")
    p.add_argument("--acks", choices=["0", "1", "-1", "all"], help="acks (default all)")
    p.add_argument("--producer-property", action="append", metavar="KEY=VALUE",
                   help="any producer config, e.g. linger.ms=10 (repeatable)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for delivery at the end (default %(default)s)")
    _add_bootstrap(p)
    p.set_defaults(func=cmd_produce)

    # consume
    p = sub.add_parser(
        "consume", formatter_class=_Formatter, help="print records of a topic",
        description="Reads a topic's partitions (all, or --partition) from an offset or a timestamp and prints "
                    "each record with --format. Runs until --max-records, --exit-at-end, --timeout or Ctrl-C.\n"
                    "Format tokens: %k key, %v value, %p partition, %o offset, %t timestamp (ms), %T topic, "
                    "%K/%S key/value length (-1 = null), %h headers, %% a percent sign, \\n \\t; or 'json' "
                    "for one JSON object per line.",
        epilog="examples:\n"
               "  conveyor consume orders --offset earliest --max-records 10\n"
               "  conveyor consume orders --partition 2 --offset 1000 --format '%o %k %v'\n"
               "  conveyor consume orders --timestamp 1700000000000 --format json --exit-at-end\n")
    p.add_argument("topic", help="topic to read")
    p.add_argument("--offset", default="earliest", metavar="N|earliest|latest",
                   help="where to start in every partition read (default %(default)s)")
    p.add_argument("--timestamp", type=int, metavar="MS",
                   help="start at the first record with timestamp >= MS (epoch ms); overrides --offset")
    p.add_argument("--partition", type=int, help="read only this partition")
    p.add_argument("--max-records", type=int, help="exit after this many records")
    p.add_argument("-e", "--exit-at-end", action="store_true", help="exit when every partition's end is reached")
    p.add_argument("--timeout", type=float, help="exit after this many seconds without a record")
    p.add_argument("--format", default="%v", help="output format (default %(default)s), or json")
    p.add_argument("--consumer-property", action="append", metavar="KEY=VALUE",
                   help="any consumer config, e.g. fetch.max.wait.ms=100 (repeatable)")
    _add_bootstrap(p)
    p.set_defaults(func=cmd_consume)

    # demo
    p = sub.add_parser(
        "demo", formatter_class=_Formatter, help="run the end-to-end demo",
        description="Starts an embedded broker, produces order events (BUY/SELL, symbol as key, JSON values) "
                    "into a 6-partition 'orders' topic and the lines of readable text logs under /var/log into "
                    "'logs', reads everything back, verifies count, per-key order and content, prints "
                    "throughput, and cross-checks with kcat when it is installed. Then four consumer groups read the "
                    "orders: 'risk', 'position' and 'audit' each receive every order (pub/sub) and 'matching' "
                    "shares them among three members (a queue), one of which is killed midway; the demo shows its "
                    "partitions moving to the survivors and counts per group the records received, duplicates "
                    "and records lost (zero). Exit status 1 if a check fails.",
        epilog="examples:\n"
               "  conveyor demo\n"
               "  conveyor demo --records 100000 --no-kcat\n"
               "  conveyor demo --bootstrap-server localhost:9092   # against a running broker\n")
    p.add_argument("--records", type=int, default=1_000_000, help="order events to produce (default %(default)s)")
    p.add_argument("--no-kcat", action="store_true", help="skip the kcat cross-check")
    p.add_argument("--log-dir", default="/var/log", help="where to look for text logs (default %(default)s)")
    p.add_argument("--bootstrap-server", metavar="HOST:PORT",
                   help="use this broker instead of starting an embedded one")
    p.add_argument("--data-dir", metavar="DIR", help="embedded broker's data directory (default: temporary)")
    p.add_argument("--no-pipeline", action="store_true",
                   help="skip the consumer-group pipeline (risk/position/audit pub/sub groups and the "
                        "3-member 'matching' queue with a member killed midway)")
    p.add_argument("--pipeline-seconds", type=float, default=8.0, metavar="S",
                   help="how long the 'matching' members take for their share, so the kill lands midway "
                        "(default %(default)s)")
    p.set_defaults(func=lambda a: __import__("conveyor.demo", fromlist=["run"]).run(a))
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    import conveyor
    try:
        return int(args.func(args) or 0)
    except conveyor.KafkaError as e:
        log(f"conveyor {args.command}: {e}")
        return 1
    except KeyboardInterrupt:
        log(f"conveyor {args.command}: interrupted")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
