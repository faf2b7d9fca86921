"""Plain value types: TopicPartition, TopicDescription (Record is native: conveyor._conveyor.Record)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

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
