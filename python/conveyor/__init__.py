"""conveyor: a Kafka-compatible event-streaming broker and client, embeddable in Python.

    import conveyor
    with conveyor.Broker() as broker:
        conf = {"bootstrap.servers": broker.bootstrap_servers}
        conveyor.Admin(conf).create_topic("orders", partitions=6)
        with conveyor.Producer(conf) as p:
            p.produce("orders", key=b"TCS", value=b'{"side":"BUY","qty":100}')
        with conveyor.Consumer(conf) as c:
            c.assign([conveyor.TopicPartition("orders", 0, offset=conveyor.OFFSET_BEGINNING)])
            record = c.poll(timeout=1.0)
"""
from . import _conveyor
from ._conveyor import Record
from ._types import (OFFSET_BEGINNING, OFFSET_END, OFFSET_INVALID, TIMESTAMP_CREATE_TIME,
                     TIMESTAMP_LOG_APPEND_TIME, PartitionDescription, TopicDescription,
                     TopicPartition)
from ._types import (GroupDescription, GroupLag, GroupListing, GroupOffset, MemberDescription,
                     PartitionLag, RetryStats)
from .errors import *  # noqa: F401,F403  (the KafkaError hierarchy)
from .errors import KafkaError, error_from_native
from .client import Admin, Broker, Consumer, Producer, RetryHandler

_conveyor._register(error_from_native)

__version__ = _conveyor.version()


def version() -> str:
    """libconveyor's version, e.g. '0.1.0'."""
    return _conveyor.version()


__all__ = [
    "Admin", "Broker", "Consumer", "Producer", "Record", "TopicPartition", "TopicDescription",
    "PartitionDescription", "KafkaError", "OFFSET_BEGINNING", "OFFSET_END", "OFFSET_INVALID",
    "TIMESTAMP_CREATE_TIME", "TIMESTAMP_LOG_APPEND_TIME", "version",
    "GroupDescription", "GroupLag", "GroupListing", "GroupOffset", "MemberDescription", "PartitionLag",
    "RetryHandler", "RetryStats",
] + [n for n in dir() if n.endswith("Error") and n != "KafkaError"]
