"""Plain value types: TopicPartition, Record, TopicDescription."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

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


class Record:
    """One record read by a Consumer, or the subject of a delivery report.

    key/value are bytes or None (a Kafka null); headers is a list of (str, bytes | None);
    timestamp is epoch milliseconds, timestamp_type TIMESTAMP_CREATE_TIME or
    TIMESTAMP_LOG_APPEND_TIME. In a delivery report, offset is -1 when delivery failed and
    headers is empty.
    """

    __slots__ = ("topic", "partition", "offset", "key", "value", "headers", "timestamp", "timestamp_type")

    def __init__(self, topic: str, partition: int, offset: int, key: Optional[bytes],
                 value: Optional[bytes], headers: List[Tuple[str, Optional[bytes]]],
                 timestamp: int, timestamp_type: int = TIMESTAMP_CREATE_TIME) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
        self.timestamp_type = timestamp_type

    def __repr__(self) -> str:
        return (f"Record(topic={self.topic!r}, partition={self.partition}, offset={self.offset}, "
                f"key={self.key!r}, value={self.value!r}, headers={self.headers!r}, "
                f"timestamp={self.timestamp})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    __hash__ = None  # type: ignore[assignment]


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
