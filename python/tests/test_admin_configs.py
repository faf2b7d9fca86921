"""Topic configuration through conveyor's Python Admin against the embedded broker (issue 5):
describe_configs (topic and broker, sources, synonyms), alter_configs (incremental set /
delete / append / subtract, validate_only, errors naming the key), changes applied to the
running log, create_partitions, and a group consumer picking up added partitions."""
import time

import pytest

import conveyor
from conveyor import ConfigSource


def _produce(conf, topic, value, partition=-1):
    """Produces one record; returns the delivery error (None when acknowledged)."""
    result = {}
    with conveyor.Producer({**conf, "retries": 0}) as p:
        p.produce(topic, value=value, partition=partition, on_delivery=lambda err, rec: result.setdefault("err", err))
        p.flush(30.0)
    return result.get("err", "no report")


def test_describe_topic_sources_and_synonyms():
    with conveyor.Broker({"log.retention.hours": 2, "node.id": 4}) as broker:
        admin = conveyor.Admin({"bootstrap.servers": broker.bootstrap_servers})
        admin.create_topic("cfg", partitions=1, config={"max.message.bytes": 5000})
        configs = admin.describe_configs("cfg")
        assert configs["max.message.bytes"].value == "5000"
        assert configs["max.message.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG
        assert configs["max.message.bytes"].type == 3  # INT
        assert configs["retention.ms"].value == "7200000"
        assert configs["retention.ms"].source == ConfigSource.STATIC_BROKER_CONFIG
        assert configs["retention.ms"].synonyms[0].name == "log.retention.hours"
        assert configs["segment.bytes"].is_default
        assert configs["segment.bytes"].documentation
        assert "min.insync.replicas" in configs  # stored only, still reported
        assert set(admin.describe_configs("cfg", keys=["retention.ms"])) == {"retention.ms"}
        brokers = admin.describe_configs(broker=4)
        assert brokers["log.retention.hours"].value == "2"
        assert all(e.read_only for e in brokers.values())
        with pytest.raises(conveyor.UnknownTopicOrPartitionError):
            admin.describe_configs("missing")
        with pytest.raises(conveyor.KafkaError) as info:
            admin.describe_configs(broker=5)  # no such node: refused at once, not after the timeout
        assert info.value.name == "BROKER_NOT_AVAILABLE"
        with pytest.raises(ValueError):
            admin.describe_configs()
        admin.close()


def test_alter_configs_incremental_applies_at_once():
    with conveyor.Broker() as broker:
        conf = {"bootstrap.servers": broker.bootstrap_servers}
        admin = conveyor.Admin(conf)
        admin.create_topic("alter", partitions=1)
        assert _produce(conf, "alter", b"x" * 3000) is None
        admin.alter_configs("alter", set={"max.message.bytes": 1000, "retention.ms": 60000}, validate_only=True)
        assert admin.describe_configs("alter")["max.message.bytes"].is_default
        admin.alter_configs("alter", set={"max.message.bytes": 1000, "retention.ms": 60000})
        err = _produce(conf, "alter", b"x" * 3000)  # no restart: the running log refuses it
        assert err is not None and err.name == "MESSAGE_TOO_LARGE"
        assert _produce(conf, "alter", b"small") is None
        admin.alter_configs("alter", delete=["max.message.bytes"])
        configs = admin.describe_configs("alter")
        assert configs["max.message.bytes"].is_default
        assert configs["retention.ms"].value == "60000"
        assert _produce(conf, "alter", b"x" * 3000) is None
        admin.alter_configs("alter", append={"cleanup.policy": "compact"})
        assert admin.describe_configs("alter")["cleanup.policy"].value == "delete,compact"
        admin.alter_configs("alter", subtract={"cleanup.policy": "delete"})
        assert admin.describe_configs("alter")["cleanup.policy"].value == "compact"
        err = _produce(conf, "alter", b"no key")  # compacted now: keyless records are refused at once
        assert err is not None and err.name == "INVALID_RECORD"
        with pytest.raises(conveyor.InvalidConfigError, match="retention.ms"):
            admin.alter_configs("alter", set={"retention.ms": "soon"})
        with pytest.raises(conveyor.InvalidConfigError, match="no.such.key"):
            admin.alter_configs("alter", set={"no.such.key": 1})
        with pytest.raises(conveyor.InvalidConfigError, match="dynamic broker configs"):
            admin.alter_configs(broker=1, set={"log.retention.hours": 1})
        with pytest.raises(conveyor.UnknownTopicOrPartitionError):
            admin.alter_configs("missing", set={"retention.ms": 1})
        assert admin.describe_configs("alter")["retention.ms"].value == "60000"
        admin.close()


def test_config_changes_survive_a_restart(tmp_path):
    data = str(tmp_path / "data")
    with conveyor.Broker(data_dir=data) as broker:
        admin = conveyor.Admin({"bootstrap.servers": broker.bootstrap_servers})
        admin.create_topic("kept", partitions=1)
        admin.alter_configs("kept", set={"retention.bytes": 123456, "min.insync.replicas": 2})
        admin.create_partitions("kept", 2)
        admin.close()
    with conveyor.Broker(data_dir=data) as broker:
        admin = conveyor.Admin({"bootstrap.servers": broker.bootstrap_servers})
        configs = admin.describe_configs("kept")
        assert configs["retention.bytes"].value == "123456"
        assert configs["min.insync.replicas"].value == "2"
        assert len(admin.describe_topic("kept").partitions) == 2
        admin.close()


def test_create_partitions_and_a_group_consumes_the_new_one():
    with conveyor.Broker({"group.initial.rebalance.delay.ms": 0}) as broker:
        conf = {"bootstrap.servers": broker.bootstrap_servers}
        admin = conveyor.Admin(conf)
        admin.create_topic("grow", partitions=1)
        admin.create_partitions("grow", 3, validate_only=True)
        assert len(admin.describe_topic("grow").partitions) == 1
        with pytest.raises(conveyor.InvalidPartitionsError):
            admin.create_partitions("grow", 1)
        with pytest.raises(conveyor.UnknownTopicOrPartitionError):
            admin.create_partitions("missing", 3)
        with conveyor.Consumer({**conf, "group.id": "grow-g", "auto.offset.reset": "earliest",
                                "metadata.max.age.ms": 500}) as consumer:
            consumer.subscribe(["grow"])
            deadline = time.monotonic() + 60
            while not consumer.assignment() and time.monotonic() < deadline:
                consumer.consume(100, timeout=0.1)
            assert len(consumer.assignment()) == 1
            admin.create_partitions("grow", 3)
            assert len(admin.describe_topic("grow").partitions) == 3
            assert _produce(conf, "grow", b"in-the-new-partition", partition=2) is None
            got = []
            deadline = time.monotonic() + 60
            while not got and time.monotonic() < deadline:
                got = [r for r in consumer.consume(100, timeout=0.2) if r.partition == 2]
            assert [r.value for r in got] == [b"in-the-new-partition"]
            assert len(consumer.assignment()) == 3
        admin.close()
