"""Plain value types: TopicPartition, TopicDescription (Record is native: conveyor._conveyor.Record)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Iterator, List, Optional

#: Special offsets (Kafka ListOffsets timestamps; librdkafka's RD_KAFKA_OFFSET_*).
OFFSET_BEGINNING = -2
OFFSET_END = -1
OFFSET_INVALID = -1001

TIMESTAMP_CREATE_TIME = 0
TIMESTAMP_LOG_APPEND_TIME = 1


class TopicPartition:
    """A topic partition and an offset (OFFSET_INVALID = let auto.offset.reset decide)."""

    __slots__ = ("topic", "partition", "offset")

    def __init__(self, topic: str, partition: int = 0, offset: int = OFFSET_INVALID) -> None:
        self.topic = topic
        self.partition = int(partition)
        self.offset = int(offset)

    def __repr__(self) -> str:
        return f"TopicPartition({self.topic!r}, {self.partition}, offset={self.offset})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TopicPartition):
            return NotImplemented
        return (self.topic, self.partition, self.offset) == (other.topic, other.partition, other.offset)

    def __hash__(self) -> int:
        return hash((self.topic, self.partition, self.offset))

    def __lt__(self, other: "TopicPartition") -> bool:
        return (self.topic, self.partition, self.offset) < (other.topic, other.partition, other.offset)


@dataclass
class PartitionDescription:
    partition: int
    leader: int
    replicas: List[int] = field(default_factory=list)
    isr: List[int] = field(default_factory=list)


@dataclass
class TopicDescription:
    name: str
    topic_id: str
    is_internal: bool
    partitions: List[PartitionDescription]


# ---- consumer groups (Admin.list_groups / describe_group / list_group_offsets / group_lag) ----

@dataclass
class GroupListing:
    """A group as ListGroups reports it. state is "" when the broker is older than
    ListGroups v4 (KIP-518)."""
    group_id: str
    protocol_type: str
    state: str


@dataclass
class MemberDescription:
    """One member of a group. assignment: the (topic, partition) pairs it owns, decoded from
    its consumer-protocol assignment; host is the address the coordinator saw, e.g.
    "/127.0.0.1"."""
    member_id: str
    group_instance_id: Optional[str]
    client_id: str
    host: str
    assignment: List[TopicPartition] = field(default_factory=list)


@dataclass
class GroupDescription:
    """A group as DescribeGroups reports it. An unknown group is state "Dead" with no members
    (Kafka's answer). protocol is the chosen assignor (e.g. "range"), "" unless Stable;
    coordinator is the node id of the group's coordinator."""
    group_id: str
    state: str
    protocol_type: str
    protocol: str
    coordinator: int
    members: List[MemberDescription] = field(default_factory=list)


@dataclass
class GroupOffset:
    """A committed offset (OffsetFetch). offset is None when the group has committed nothing
    for the partition; metadata is the committed string exactly as committed."""
    topic: str
    partition: int
    offset: Optional[int]
    leader_epoch: int = -1
    metadata: str = ""


@dataclass
class PartitionLag:
    """One row of `conveyor group describe` / kafka-consumer-groups --describe.
    current_offset: committed offset (None if nothing is committed); log_end_offset: high
    watermark (None if it could not be read); lag = log_end_offset - current_offset (None when
    either is unknown). consumer_id/host/client_id are None when no member owns the partition."""
    topic: str
    partition: int
    current_offset: Optional[int]
    log_end_offset: Optional[int]
    lag: Optional[int]
    consumer_id: Optional[str]
    host: Optional[str]
    client_id: Optional[str]


@dataclass
class GroupLag:
    """A group's description and its per-partition lag rows (sorted by topic, partition).
    Iterating yields the rows; total_lag sums the known lags."""
    group: GroupDescription
    partitions: List[PartitionLag]

    def __iter__(self) -> Iterator[PartitionLag]:
        return iter(self.partitions)

    def __len__(self) -> int:
        return len(self.partitions)

    @property
    def total_lag(self) -> int:
        return sum(r.lag for r in self.partitions if r.lag is not None)


@dataclass
class RetryStats:
    """Counters of a RetryHandler: of one run() (its return value) or since creation (.stats).
    records: records handed to the handler (first attempts); succeeded: records it eventually
    accepted; retries: handler calls after a failure; dead_lettered: records written to a
    dead-letter topic; commits / commit_failures: commits made / refused by the coordinator."""
    records: int = 0
    succeeded: int = 0
    retries: int = 0
    dead_lettered: int = 0
    commits: int = 0
    commit_failures: int = 0


# ---- topic configuration (Admin.describe_configs) ----

class ConfigSource(IntEnum):
    """Where a config value comes from (Kafka's ConfigSource, KIP-226)."""
    UNKNOWN_CONFIG = 0
    DYNAMIC_TOPIC_CONFIG = 1          # a topic override
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4          # the broker's properties (server.properties, --override)
    DEFAULT_CONFIG = 5                # Kafka's default
    DYNAMIC_BROKER_LOGGER_CONFIG = 6


@dataclass
class ConfigSynonym:
    name: str
    value: Optional[str]
    source: ConfigSource


@dataclass
class ConfigEntry:
    """One config of a topic or broker as DescribeConfigs reports it. value is None for a
    sensitive config or a key without a value; type is Kafka's config type (KIP-569: 1
    BOOLEAN, 2 STRING, 3 INT, 4 SHORT, 5 LONG, 6 DOUBLE, 7 LIST, 8 CLASS, 9 PASSWORD; 0 from
    brokers older than DescribeConfigs v3); synonyms are most specific first."""
    name: str
    value: Optional[str]
    source: ConfigSource
    read_only: bool = False
    is_sensitive: bool = False
    type: int = 0
    documentation: Optional[str] = None
    synonyms: List[ConfigSynonym] = field(default_factory=list)

    @property
    def is_default(self) -> bool:
        return self.source == ConfigSource.DEFAULT_CONFIG
