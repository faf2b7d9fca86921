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
from .errors import *  # noqa: F401,F403  (the KafkaError hierarchy)
from .errors import KafkaError, error_from_native

# The client classes and the dataclasses of _types load on first use (PEP 562), so that
# `conveyor broker` (cli.py) starts without importing dataclasses/inspect (bench S7).
_LAZY = {
    "Admin": "client", "Broker": "client", "Consumer": "client", "Producer": "client",
    "RetryHandler": "client",
    "OFFSET_BEGINNING": "_types", "OFFSET_END": "_types", "OFFSET_INVALID": "_types",
    "TIMESTAMP_CREATE_TIME": "_types", "TIMESTAMP_LOG_APPEND_TIME": "_types",
    "PartitionDescription": "_types", "TopicDescription": "_types", "TopicPartition": "_types",
    "GroupDescription": "_types", "GroupLag": "_types", "GroupListing": "_types",
    "GroupOffset": "_types", "MemberDescription": "_types", "PartitionLag": "_types",
    "RetryStats": "_types", "ConfigEntry": "_types", "ConfigSource": "_types", "ConfigSynonym": "_types",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'conveyor' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


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
    "RetryHandler", "RetryStats", "ConfigEntry", "ConfigSource", "ConfigSynonym",
] + [n for n in dir() if n.endswith("Error") and n != "KafkaError"]
