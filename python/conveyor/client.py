"""Broker, Producer, Consumer and Admin: thin Python classes over the native extension.

Configuration dicts use Kafka's property names; values may be str, int or bool (bools become
"true"/"false"). An unknown key raises InvalidConfigError naming the key. Timeouts are seconds
(float); None waits without limit. Every blocking call releases the GIL and can be
interrupted with Ctrl-C.
"""
from __future__ import annotations

import re
import threading
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union, overload

from . import _conveyor
from ._conveyor import Record
from ._types import (OFFSET_END, ConfigEntry, ConfigSource, ConfigSynonym, GroupDescription, GroupLag, GroupListing, GroupOffset, MemberDescription, RetryStats,
                     PartitionDescription, PartitionLag, TopicDescription, TopicPartition)
from .errors import UnknownTopicOrPartitionError, error_from_native

ConfigValue = Union[str, int, bool]
Config = Mapping[str, ConfigValue]
Headers = Union[Mapping[str, Optional[Union[str, bytes]]], Sequence[Tuple[str, Optional[Union[str, bytes]]]]]
DeliveryCallback = Callable[[Optional[Exception], Record], Any]


def config_to_strings(config: Optional[Config]) -> Dict[str, str]:
    """{key: str|int|bool} → {key: str}; anything else raises TypeError naming the key."""
    out: Dict[str, str] = {}
    for key, value in (config or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"config keys must be str, got {key!r}")
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (int, str)):
            out[key] = str(value)
        else:
            raise TypeError(f"config value for {key!r} must be str, int or bool, not {type(value).__name__}")
    return out


def _timeout_ms(timeout: Optional[float]) -> int:
    if timeout is None or timeout < 0:
        return 2**31 - 1
    return int(timeout * 1000)


class Broker(_conveyor.Broker):
    """A single-node Kafka-compatible broker running inside this process.

    ``Broker()`` listens on 127.0.0.1 on an ephemeral port with a fresh temporary data
    directory (removed on stop). ``data_dir=`` keeps the data in a directory of your choice;
    ``config`` takes broker properties (``num.partitions``, ``listeners``,
    ``auto.create.topics.enable``, ...). Use it as a context manager or call ``stop()``.
    """

    def __init__(self, config: Optional[Config] = None, *, data_dir: Optional[str] = None) -> None:
        conf = config_to_strings(config)
        if data_dir is not None:
            conf["log.dirs"] = str(data_dir)
        super().__init__(conf)

    def __enter__(self) -> "Broker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        if not self.running:
            return "Broker(stopped)"
        return f"Broker(bootstrap_servers={self.bootstrap_servers!r}, data_dir={self.data_dir!r})"


class Producer(_conveyor.Producer):
    """Produces records asynchronously (confluent-kafka's shape).

    ``produce(topic, value=None, key=None, partition=-1, headers=None, timestamp=0,
    on_delivery=None)`` queues one record and returns at once; key/value are bytes, str
    (UTF-8) or None; headers a dict or list of (str, bytes|str|None); timestamp epoch ms
    (0 = now). ``on_delivery(err, record)`` runs inside ``poll()``/``flush()`` on the calling
    thread; err is None or a KafkaError. When buffer.memory is full, produce raises
    QueueFullError (a BufferError): call ``poll()`` and retry.
    """

    def __init__(self, config: Config) -> None:
        super().__init__(config_to_strings(config))

    def __len__(self) -> int:
        return self.outstanding()

    def __enter__(self) -> "Producer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


RebalanceCallback = Callable[["Consumer", List[TopicPartition]], Any]


class Consumer(_conveyor.Consumer):
    """Reads records from partitions assigned by hand (``assign``) or by a consumer group
    (``subscribe``, needs ``group.id``).

    ``poll(timeout)`` returns a Record or None; ``consume(max_records, timeout)`` a list;
    iterating yields records until ``wakeup()`` or ``close()``. Rebalance and commit
    callbacks run inside ``poll()``/``consume()``/``unsubscribe()``/``close()`` on the
    calling thread; an exception raised by a callback is raised again by that call (the
    first one, if several callbacks raised), and the consumer stays usable — ``close()`` still
    closes it. A consumer dropped without ``close()`` runs no callback. Daemon threads blocked
    in a consumer or producer call when the interpreter exits are left parked rather than
    woken into a finalizing interpreter.
    """

    def __init__(self, config: Config) -> None:
        super().__init__(config_to_strings(config))
        self._iter_lock = threading.Lock()
        self._on_assign: Optional[RebalanceCallback] = None
        self._on_revoke: Optional[RebalanceCallback] = None
        self._on_lost: Optional[RebalanceCallback] = None
        self._on_commit: Optional[Callable[[Optional[Exception], List[TopicPartition]], Any]] = None

    # ---- consumer groups -------------------------------------------------------------

    def subscribe(self, topics: Union[str, Sequence[str]], on_assign: Optional[RebalanceCallback] = None,  # type: ignore[override]
                  on_revoke: Optional[RebalanceCallback] = None,
                  on_lost: Optional[RebalanceCallback] = None) -> None:
        """Joins ``group.id`` subscribed to ``topics`` (a name or a list). A name starting with
        ``^`` is a regular expression matched against the whole topic name (re-checked every
        ``metadata.max.age.ms``), as confluent-kafka spells patterns.

        Callbacks get ``(consumer, [TopicPartition])``: ``on_assign`` after every rebalance
        (partitions added; positions start at the committed offsets, ``seek`` overrides),
        ``on_revoke`` before partitions are given up (commit here for at-least-once),
        ``on_lost`` when the generation was lost (nothing can be committed; defaults to
        ``on_revoke``). Raises InvalidGroupIdError without ``group.id``; StateError
        while partitions are assigned by hand. Kafka: KafkaConsumer.subscribe."""
        if isinstance(topics, str):
            topics = [topics]
        topics = list(topics)
        self._on_assign, self._on_revoke, self._on_lost = on_assign, on_revoke, on_lost
        self.set_rebalance_callback(self._dispatch_rebalance)
        patterns = [t for t in topics if t.startswith("^")]
        if not patterns:
            super().subscribe(topics)
            return
        # One regular expression: patterns as given, plain names matched literally.
        alternatives = [f"(?:{t})" if t.startswith("^") else f"(?:{re.escape(t)})" for t in topics]
        self.subscribe_pattern("|".join(alternatives))

    def _dispatch_rebalance(self, event: int, partitions: List[Tuple[str, int]]) -> None:
        tps = [TopicPartition(t, p) for t, p in partitions]
        if event == 1:
            if self._on_assign is not None:
                self._on_assign(self, tps)
        elif event == 2:
            if self._on_revoke is not None:
                self._on_revoke(self, tps)
        elif self._on_lost is not None:
            self._on_lost(self, tps)
        elif self._on_revoke is not None:
            self._on_revoke(self, tps)

    def assignment(self) -> List[TopicPartition]:  # type: ignore[override]
        """The partitions assigned now (by assign() or by the group)."""
        return [TopicPartition(t, p) for t, p in super().assignment()]

    def on_commit(self, callback: Optional[Callable[[Optional[Exception], List[TopicPartition]], Any]]) -> None:
        """Callback ``(err, [TopicPartition])`` for asynchronous commits and auto-commits; err
        is None or a KafkaError. Runs inside poll()/consume()/close()."""
        self._on_commit = callback
        if callback is None:
            self.set_commit_callback(None)
        else:
            self.set_commit_callback(
                lambda err, offsets: callback(err, [TopicPartition(t, p, o) for t, p, o in offsets]))

    def commit(self, offsets: Optional[Sequence[TopicPartition]] = None, asynchronous: bool = False,  # type: ignore[override]
               *, message: Optional[Record] = None, timeout: Optional[float] = None) -> None:
        """Commits offsets for the group: ``offsets`` (each TopicPartition's offset is the NEXT
        record to read), or the offset after ``message``, or (neither) the current position of
        every assigned partition. ``asynchronous=True`` returns at once and reports through
        ``on_commit``. Raises on failure when synchronous: CommitFailedError-like KafkaErrors
        (IllegalGenerationError, UnknownMemberIdError, RebalanceInProgressError), KafkaTimeoutError.
        Kafka: commitSync / commitAsync."""
        entries = None
        if message is not None:
            entries = [(message.topic, message.partition, message.offset + 1, "")]
        elif offsets is not None:
            entries = [(tp.topic, tp.partition, tp.offset, "") for tp in offsets]
        super().commit(entries, asynchronous, timeout)

    def committed(self, partitions: Sequence[TopicPartition], timeout: Optional[float] = None  # type: ignore[override]
                  ) -> List[TopicPartition]:
        """The group's committed offsets (offset -1 when none), as new TopicPartitions."""
        offsets = super().committed([(tp.topic, tp.partition) for tp in partitions], timeout)
        return [TopicPartition(tp.topic, tp.partition, off) for tp, off in zip(partitions, offsets)]

    def lag(self, partition: TopicPartition, timeout: Optional[float] = None) -> int:  # type: ignore[override]
        """High watermark (last stable offset with read_committed) minus the position."""
        return super().lag(partition.topic, partition.partition, timeout)

    @property
    def member_id(self) -> str:
        """The group member id ('' when not a member)."""
        return self.group_member()[0]

    @property
    def generation(self) -> int:
        """The group generation (-1 when not a member)."""
        return self.group_member()[1]

    def assign(self, partitions: Iterable[TopicPartition]) -> None:  # type: ignore[override]
        super().assign([(tp.topic, tp.partition, tp.offset) for tp in partitions])

    def seek(self, partition: Union[TopicPartition, str], partition_index: Optional[int] = None,  # type: ignore[override]
             offset: Optional[int] = None) -> None:
        """``seek(TopicPartition(topic, p, offset))`` or ``seek(topic, p, offset)``."""
        if isinstance(partition, TopicPartition):
            super().seek(partition.topic, partition.partition, partition.offset)
        else:
            if partition_index is None or offset is None:
                raise TypeError("seek(topic, partition, offset) needs all three")
            super().seek(partition, partition_index, offset)

    def position(self, partitions: Union[TopicPartition, Sequence[TopicPartition]]):  # type: ignore[override]
        """Next offset to read: an int for one TopicPartition, or a list of TopicPartition
        with offsets filled in for a list (confluent-kafka's shape)."""
        if isinstance(partitions, TopicPartition):
            return super().position(partitions.topic, partitions.partition)
        return [TopicPartition(tp.topic, tp.partition, super(Consumer, self).position(tp.topic, tp.partition))
                for tp in partitions]

    def get_watermark_offsets(self, partition: TopicPartition, timeout: Optional[float] = None,
                              cached: bool = False) -> Tuple[int, int]:
        """(low, high): log start offset and high watermark, asked from the leader."""
        return tuple(self.watermark_offsets(partition.topic, partition.partition, timeout))  # type: ignore[return-value]

    def offsets_for_times(self, partitions: Sequence[TopicPartition],  # type: ignore[override]
                          timeout: Optional[float] = None) -> List[TopicPartition]:
        """Each input's offset is a timestamp (epoch ms); returns the earliest offset whose
        timestamp is >= it, or -1 (OFFSET_END) if there is none."""
        offsets = super().offsets_for_times([(tp.topic, tp.partition, tp.offset) for tp in partitions], timeout)
        return [TopicPartition(tp.topic, tp.partition, off) for tp, off in zip(partitions, offsets)]

    def pause(self, partitions: Iterable[TopicPartition]) -> None:  # type: ignore[override]
        """Stops fetching these assigned partitions (their offsets are ignored): ``poll()`` /
        ``consume()`` return none of their records until ``resume()``, and their positions stay
        after the last record returned. Records already prefetched for them are dropped and
        fetched again from the position after ``resume()``, so none is lost or returned twice.
        Group membership goes on: keep polling so ``max.poll.interval.ms`` is not exceeded. The
        pause ends when a partition leaves the assignment (``assign()``, a rebalance's revocation
        or loss, ``unsubscribe()``); it survives ``seek()``, an ``assign()`` that keeps the
        partition and, with ``cooperative-sticky``, rebalances that keep it. Raises StateError
        naming the partition if one of them is not assigned now (then nothing changes), or
        after ``close()``. Thread-safe. Kafka: KafkaConsumer.pause; confluent-kafka's
        Consumer.pause."""
        super().pause([(tp.topic, tp.partition) for tp in partitions])

    def resume(self, partitions: Iterable[TopicPartition]) -> None:  # type: ignore[override]
        """Fetching of these partitions restarts at their positions; resuming a partition that
        is not paused does nothing. Raises as ``pause()``. Thread-safe. Kafka:
        KafkaConsumer.resume; confluent-kafka's Consumer.resume."""
        super().resume([(tp.topic, tp.partition) for tp in partitions])

    def paused(self) -> List[TopicPartition]:  # type: ignore[override]
        """The paused partitions, sorted (offset OFFSET_INVALID, as ``assignment()``).
        Thread-safe. Kafka: KafkaConsumer.paused."""
        return [TopicPartition(t, p) for t, p in super().paused()]

    def __iter__(self) -> Iterator[Record]:
        while not self.closed:
            record = self.poll(None)
            if record is None:  # woken up or closed
                return
            yield record

    def __enter__(self) -> "Consumer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RetryHandler:
    """The retry-and-dead-letter loop: polls ``consumer``, calls ``handler(record)`` for each
    record, retries a record whose handler raises up to ``max.retries`` more times with
    exponential backoff (``retry.backoff.ms`` doubling up to ``retry.backoff.max.ms``, the
    shape of KIP-580), then writes it to a dead-letter topic with ``producer`` and commits past
    it. Records handled successfully are committed after each polled batch, so the loop is
    at-least-once: a crash between handling and committing hands a record to the handler again.

    The dead-letter record keeps the original key, value and headers and adds the headers
    ``conveyor.dlt.original.topic``, ``.partition``, ``.offset``, ``.timestamp``,
    ``conveyor.dlt.error`` ("ExceptionType: message" of the last failure) and
    ``conveyor.dlt.attempts``. Its topic is ``dead.letter.topic`` if set, else the record's topic
    + ``dead.letter.topic.suffix`` (``".DLT"``, Spring Kafka's convention); it must exist or be
    auto-created by the broker. The loop waits for the broker to acknowledge the dead letter
    (``dead.letter.timeout.ms``) before committing.

    config keys (Kafka-style names; values str, int or bool): ``max.retries`` (3),
    ``retry.backoff.ms`` (100), ``retry.backoff.max.ms`` (1000), ``dead.letter.topic`` (""),
    ``dead.letter.topic.suffix`` (".DLT"), ``dead.letter.timeout.ms`` (30000),
    ``max.poll.records`` (500). A bad key or value raises KafkaError naming it.

    The consumer should have ``enable.auto.commit=false``; nothing else may poll it while
    ``run()`` runs. Its rebalance callbacks and the producer's delivery reports are served
    inside ``run()``. An ``Exception`` from the handler fails the attempt; KeyboardInterrupt or
    SystemExit stops the handler (``stop()`` is sticky) and is raised from ``run()``. The GIL
    is released while waiting; Ctrl-C interrupts ``run()``.
    """

    def __init__(self, consumer: "Consumer", producer: "Producer", config: Optional[Config] = None) -> None:
        self._native = _conveyor.RetryHandler(consumer, producer, config_to_strings(config))

    def run(self, handler: Callable[[Record], Any], timeout: Optional[float] = None) -> RetryStats:
        """Handles records until ``stop()`` (from another thread or the handler) or until
        ``timeout`` seconds passed (None: until stopped). Returns this run's counters. Raises
        a poll error (e.g. OffsetOutOfRangeError with auto.offset.reset=none), a failed or
        unacknowledged dead-letter write (the record is given back, not committed), or the
        KeyboardInterrupt/SystemExit the handler raised."""
        return RetryStats(*self._native.run(handler, timeout))

    def stop(self) -> None:
        """Makes ``run()`` return after the record in progress; sticky. Thread-safe."""
        self._native.stop()

    @property
    def stats(self) -> RetryStats:
        """Counters since the handler was created. Thread-safe."""
        return RetryStats(*self._native.stats())


def _group_description(d: Dict[str, Any]) -> GroupDescription:
    members = [MemberDescription(m["member_id"], m["group_instance_id"], m["client_id"], m["host"],
                                 [TopicPartition(t, p) for t, p in m["assignment"]]) for m in d["members"]]
    return GroupDescription(d["group_id"], d["state"], d["protocol_type"], d["protocol"], d["coordinator"], members)


class Admin:
    """Administration: topics (create, delete, list, describe), partition offsets and consumer
    groups (list, describe, committed offsets, lag, reset, delete). Thread-safe; every call
    blocks up to its timeout (seconds)."""

    def __init__(self, config: Config) -> None:
        self._native = _conveyor.Admin(config_to_strings(config))

    def create_topic(self, name: str, partitions: int = 1, replication_factor: int = 1,
                     config: Optional[Config] = None, timeout: Optional[float] = 30.0) -> None:
        """CreateTopics; waits until the topic is in metadata. Raises TopicAlreadyExistsError,
        InvalidTopicError, InvalidPartitionsError, InvalidConfigError, KafkaTimeoutError, ..."""
        self._native.create_topic(name, partitions, replication_factor, config_to_strings(config),
                                  _timeout_ms(timeout))

    def delete_topic(self, name: str, timeout: Optional[float] = 30.0) -> None:
        """DeleteTopics. Raises UnknownTopicOrPartitionError if there is no such topic."""
        self._native.delete_topic(name, _timeout_ms(timeout))

    def list_topics(self, timeout: Optional[float] = 30.0, *, internal: bool = False) -> List[str]:
        """Topic names, sorted (internal topics only with internal=True)."""
        topics = self._native.describe_topics([], _timeout_ms(timeout))
        return sorted(t["name"] for t in topics if internal or not t["is_internal"])

    def describe_topics(self, names: Optional[Sequence[str]] = None,
                        timeout: Optional[float] = 30.0) -> List[TopicDescription]:
        """Descriptions of the named topics (all topics if names is None). Raises
        UnknownTopicOrPartitionError if a named topic does not exist."""
        raw = self._native.describe_topics(list(names or []), _timeout_ms(timeout))
        out = []
        for t in raw:
            if t["error"] == UnknownTopicOrPartitionError.code:
                raise UnknownTopicOrPartitionError(f"topic {t['name']!r} does not exist")
            out.append(TopicDescription(
                name=t["name"], topic_id=t["topic_id"], is_internal=t["is_internal"],
                partitions=[PartitionDescription(p["partition"], p["leader"], list(p["replicas"]), list(p["isr"]))
                            for p in t["partitions"]]))
        return out

    def describe_topic(self, name: str, timeout: Optional[float] = 30.0) -> TopicDescription:
        """One topic's description (partitions with leader, replicas, ISR)."""
        return self.describe_topics([name], timeout)[0]

    # ---- offsets and consumer groups ---------------------------------------------------
    # Group calls go to the group's coordinator (FindCoordinator) and retry coordinator
    # errors (COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR) with
    # backoff until the timeout, then raise KafkaTimeoutError naming the last error.

    def list_offsets(self, partitions: Sequence[TopicPartition], spec: int = OFFSET_END,
                     timeout: Optional[float] = 30.0) -> List[TopicPartition]:
        """ListOffsets for each partition (its offset field is ignored). spec: OFFSET_END (-1)
        log end offset, OFFSET_BEGINNING (-2) log start offset, or a timestamp in epoch ms
        (the earliest offset whose timestamp is >= it; -1 when none). Returns new
        TopicPartitions with the offsets. Raises UnknownTopicOrPartitionError, ..."""
        offsets = self._native.list_offsets([(tp.topic, tp.partition) for tp in partitions], int(spec),
                                            _timeout_ms(timeout))
        return [TopicPartition(tp.topic, tp.partition, off) for tp, off in zip(partitions, offsets)]

    def delete_records(self, offsets: Mapping[TopicPartition, int],
                       timeout: Optional[float] = 30.0) -> Dict[TopicPartition, int]:
        """DeleteRecords (KIP-107; Kafka's AdminClient.deleteRecords): for each partition, records
        before the given offset are deleted (its log start offset moves up to it; -1 = the high
        watermark). Keys are TopicPartitions (their own offset field is ignored). Returns
        {TopicPartition(topic, partition): low watermark}, the new log start offsets. All or
        nothing on errors: raises OffsetOutOfRangeError (an offset beyond the high watermark),
        UnknownTopicOrPartitionError, ... naming the first partition that failed."""
        keys = [TopicPartition(tp.topic, tp.partition) for tp in offsets]
        lows = self._native.delete_records([(tp.topic, tp.partition, int(off)) for tp, off in offsets.items()],
                                           _timeout_ms(timeout))
        return dict(zip(keys, lows))

    def list_groups(self, states: Optional[Iterable[str]] = None,
                    timeout: Optional[float] = 30.0) -> List[GroupListing]:
        """Every group the brokers know (ListGroups on each broker), sorted by group id.
        states: keep only groups in these states ("Stable", "Empty", ...; ListGroups v4,
        KIP-518)."""
        return [GroupListing(g, pt, st) for g, pt, st in self._native.list_groups(list(states or []), _timeout_ms(timeout))]

    def describe_group(self, group: str, timeout: Optional[float] = 30.0) -> GroupDescription:
        """DescribeGroups: state, protocol type, assignor and members with their assigned
        partitions. A group nobody knows is state "Dead" with no members."""
        return _group_description(self._native.describe_group(group, _timeout_ms(timeout)))

    def list_group_offsets(self, group: str, partitions: Optional[Sequence[TopicPartition]] = None,
                           timeout: Optional[float] = 30.0) -> List[GroupOffset]:
        """OffsetFetch: the group's committed offsets for `partitions` (offset None where it
        committed nothing), or for every partition it has committed (partitions=None)."""
        which = None if partitions is None else [(tp.topic, tp.partition) for tp in partitions]
        rows = self._native.list_group_offsets(group, which, _timeout_ms(timeout))
        out = []
        for topic, partition, offset, epoch, metadata, err in rows:
            if err:
                raise error_from_native(err, _conveyor.err_name(err),
                                        f"committed offset of {topic}-{partition}: {_conveyor.err_name(err)}",
                                        _conveyor.err_retriable(err), False)
            out.append(GroupOffset(topic, partition, offset if offset >= 0 else None, epoch, metadata))
        return out

    def group_lag(self, group: str, timeout: Optional[float] = 30.0) -> GroupLag:
        """The group's description and one row per partition that a member owns or the group
        has committed: current (committed) offset, log end offset, lag, and the owner's
        consumer id, host and client id (what kafka-consumer-groups --describe shows)."""
        desc, rows = self._native.group_lag(group, _timeout_ms(timeout))
        out = []
        for topic, partition, current, end, lag, consumer, host, client, _err in rows:
            out.append(PartitionLag(topic, partition, current if current >= 0 else None, end if end >= 0 else None,
                                    lag if lag >= 0 else None, consumer or None, host or None, client or None))
        return GroupLag(_group_description(desc), out)

    def alter_group_offsets(self, group: str,
                            offsets: Union[Sequence[TopicPartition], Mapping[Tuple[str, int], int]],
                            timeout: Optional[float] = 30.0) -> None:
        """Sets the group's committed offsets (OffsetCommit with generation -1, as Kafka's
        AdminClient does): a list of TopicPartition(topic, partition, offset) or a dict
        {(topic, partition): offset}; offsets >= 0. Raises NonEmptyGroupError while the group
        has members (stop its consumers first)."""
        if isinstance(offsets, Mapping):
            items = [(t, int(p), int(o)) for (t, p), o in offsets.items()]
        else:
            items = [(tp.topic, tp.partition, tp.offset) for tp in offsets]
        self._native.alter_group_offsets(group, items, _timeout_ms(timeout))

    def delete_group(self, group: str, timeout: Optional[float] = 30.0) -> None:
        """DeleteGroups: removes the group and its committed offsets. Raises
        NonEmptyGroupError while it has members, GroupIdNotFoundError if there is no such
        group."""
        self._native.delete_group(group, _timeout_ms(timeout))

    # ---- topic configuration -------------------------------------------------------------
    # Kafka: AdminClient.describeConfigs / incrementalAlterConfigs / createPartitions. On a
    # conveyor broker a change reaches the running partitions at once and survives restarts.

    @staticmethod
    def _config_resource(topic: Optional[str], broker: Optional[Union[int, str]]) -> Tuple[int, str]:
        if (topic is None) == (broker is None):
            raise ValueError("name exactly one of topic=... or broker=...")
        return (2, topic) if topic is not None else (4, str(broker))

    def describe_configs(self, topic: Optional[str] = None, *, broker: Optional[Union[int, str]] = None,
                         keys: Optional[Iterable[str]] = None,
                         timeout: Optional[float] = 30.0) -> Dict[str, ConfigEntry]:
        """DescribeConfigs of one topic (topic="orders") or broker (broker=node_id): {name:
        ConfigEntry} with every config (or only `keys`), its effective value and source
        (ConfigSource.DYNAMIC_TOPIC_CONFIG for a topic override, STATIC_BROKER_CONFIG from the
        broker's properties, DEFAULT_CONFIG), read_only (all broker configs), synonyms, type and
        documentation. Raises UnknownTopicOrPartitionError, KafkaError (INVALID_REQUEST for
        another broker's id), KafkaTimeoutError."""
        rtype, name = self._config_resource(topic, broker)
        rows = self._native.describe_configs(rtype, name, list(keys or []), _timeout_ms(timeout))
        out: Dict[str, ConfigEntry] = {}
        for n, value, source, read_only, sensitive, ctype, doc, synonyms in rows:
            out[n] = ConfigEntry(n, value, _source(source), read_only, sensitive, ctype, doc,
                                 [ConfigSynonym(sn, sv, _source(ss)) for sn, sv, ss in synonyms])
        return out

    def alter_configs(self, topic: Optional[str] = None, set: Optional[Mapping[str, Any]] = None,
                      delete: Optional[Iterable[str]] = None, *, append: Optional[Mapping[str, Any]] = None,
                      subtract: Optional[Mapping[str, Any]] = None, broker: Optional[Union[int, str]] = None,
                      validate_only: bool = False, timeout: Optional[float] = 30.0) -> None:
        """IncrementalAlterConfigs (KIP-339) of one topic: set={key: value} overrides keys,
        delete=[key] returns keys to their defaults, append/subtract={key: "a,b"} add or remove
        items of list configs (cleanup.policy); every other override stays. All or nothing;
        validate_only=True only checks. Values may be str, int or bool. Raises
        InvalidConfigError naming the key (unknown key, bad value; broker=... too: conveyor has
        no dynamic broker configs), UnknownTopicOrPartitionError, KafkaTimeoutError."""
        rtype, name = self._config_resource(topic, broker)
        ops: List[Tuple[str, int, Optional[str]]] = []
        for key, value in (set or {}).items():
            ops.append((key, 0, _config_text(value)))
        for key in delete or []:
            ops.append((key, 1, None))
        for key, value in (append or {}).items():
            ops.append((key, 2, _config_text(value)))
        for key, value in (subtract or {}).items():
            ops.append((key, 3, _config_text(value)))
        self._native.alter_configs(rtype, name, ops, bool(validate_only), _timeout_ms(timeout))

    def create_partitions(self, topic: str, partitions: int, *, validate_only: bool = False,
                          timeout: Optional[float] = 30.0) -> None:
        """CreatePartitions (KIP-195): grows `topic` to `partitions` partitions in total (the new
        total, as Kafka's NewPartitions.increaseTo and kafka-topics --alter --partitions).
        Returns once the new partitions are in metadata. Consumer groups subscribed to the topic
        rebalance onto them at their next metadata refresh (metadata.max.age.ms). Raises
        InvalidPartitionsError (not more than now), UnknownTopicOrPartitionError,
        KafkaTimeoutError."""
        self._native.create_partitions(topic, int(partitions), bool(validate_only), _timeout_ms(timeout))

    def close(self) -> None:
        self._native.close()

    def __enter__(self) -> "Admin":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _source(code: int) -> ConfigSource:
    try:
        return ConfigSource(code)
    except ValueError:
        return ConfigSource.UNKNOWN_CONFIG


def _config_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
