"""Topic configuration with real clients (issue 5), run against conveyor and against Apache
Kafka (tests/reference_kafka.py): confluent-kafka's AdminClient describe_configs,
incremental_alter_configs, alter_configs and create_partitions; kafka-python's
KafkaAdminClient describe_configs / alter_configs / create_partitions; a max.message.bytes
change that the running broker enforces at once; a confluent-kafka and a conveyor group
consumer that each consume from a partition added to their topic; and (conveyor only) the
changes surviving a broker restart."""
from __future__ import annotations

import os
import time
import uuid

import pytest

ck = pytest.importorskip(
    "confluent_kafka", reason="confluent-kafka is not installed (scripts/install-deps.sh)")
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,  # noqa: E402
                                   ConfigSource, NewPartitions, ResourceType)

TIMEOUT = 30.0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def describe(admin: AdminClient, topic: str) -> dict:
    fs = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)], request_timeout=TIMEOUT)
    return list(fs.values())[0].result(TIMEOUT)


def incremental(admin: AdminClient, topic: str, entries: list) -> None:
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
    for f in admin.incremental_alter_configs([resource], request_timeout=TIMEOUT).values():
        f.result(TIMEOUT)


def partition_count(admin: AdminClient, topic: str) -> int:
    return len(admin.list_topics(topic=topic, timeout=TIMEOUT).topics[topic].partitions)


def wait_partitions(admin: AdminClient, topic: str, n: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while partition_count(admin, topic) != n and time.monotonic() < deadline:
        time.sleep(0.1)
    assert partition_count(admin, topic) == n


def produce_one(bootstrap: str, topic: str, value: bytes, partition: int = 0):
    """Produces one record; returns the delivery error (None when acknowledged)."""
    p = ck.Producer({"bootstrap.servers": bootstrap, "message.send.max.retries": 0, "linger.ms": 0})
    result = {}
    p.produce(topic, value=value, partition=partition, on_delivery=lambda err, msg: result.setdefault("err", err))
    p.flush(TIMEOUT)
    assert "err" in result, "no delivery report"
    return result["err"]


def test_confluent_describe_and_incremental_alter(bootstrap, new_topic):
    topic = new_topic(1, prefix="cfg-ck")
    admin = AdminClient({"bootstrap.servers": bootstrap})
    configs = describe(admin, topic)
    for key in ("retention.ms", "segment.bytes", "max.message.bytes", "cleanup.policy", "min.insync.replicas"):
        assert key in configs, key
    assert configs["cleanup.policy"].value == "delete"
    assert configs["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    assert not configs["retention.ms"].is_read_only

    incremental(admin, topic, [ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET),
                               ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND)])
    configs = describe(admin, topic)
    assert configs["retention.ms"].value == "3600000"
    assert configs["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert sorted(configs["cleanup.policy"].value.split(",")) == ["compact", "delete"]
    incremental(admin, topic, [ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.SUBTRACT),
                               ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE)])
    configs = describe(admin, topic)
    assert configs["cleanup.policy"].value == "delete"
    assert configs["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value

    # validate_only changes nothing; a bad value fails naming nothing else but that resource.
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry("segment.ms", "5000", incremental_operation=AlterConfigOpType.SET)])
    for f in admin.incremental_alter_configs([resource], validate_only=True, request_timeout=TIMEOUT).values():
        f.result(TIMEOUT)
    assert describe(admin, topic)["segment.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    bad = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry("retention.ms", "soon", incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(ck.KafkaException) as info:
        for f in admin.incremental_alter_configs([bad], request_timeout=TIMEOUT).values():
            f.result(TIMEOUT)
    assert info.value.args[0].code() == ck.KafkaError.INVALID_CONFIG

    missing = ConfigResource(ResourceType.TOPIC, unique("no-such-topic"))
    with pytest.raises(ck.KafkaException) as info:
        for f in admin.describe_configs([missing], request_timeout=TIMEOUT).values():
            f.result(TIMEOUT)
    assert info.value.args[0].code() == ck.KafkaError.UNKNOWN_TOPIC_OR_PART


def test_confluent_describe_broker(bootstrap):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    broker_id = list(admin.list_topics(timeout=TIMEOUT).brokers)[0]
    fs = admin.describe_configs([ConfigResource(ResourceType.BROKER, str(broker_id))], request_timeout=TIMEOUT)
    configs = list(fs.values())[0].result(TIMEOUT)
    assert configs["num.partitions"].value == "1"
    assert configs["num.partitions"].source == ConfigSource.STATIC_BROKER_CONFIG.value
    assert "log.retention.hours" in configs


def test_confluent_alter_configs_replaces_the_override_set(bootstrap, new_topic):
    topic = new_topic(1, prefix="cfg-ck-alter")
    admin = AdminClient({"bootstrap.servers": bootstrap})
    incremental(admin, topic, [ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET)])
    resource = ConfigResource(ResourceType.TOPIC, topic, set_config={"max.message.bytes": "200000"})
    for f in admin.alter_configs([resource], request_timeout=TIMEOUT).values():
        f.result(TIMEOUT)
    configs = describe(admin, topic)
    assert configs["max.message.bytes"].value == "200000"
    assert configs["max.message.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert configs["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value  # not in the new set


def test_max_message_bytes_change_takes_effect_at_once(bootstrap, new_topic):
    topic = new_topic(1, prefix="cfg-mmb")
    admin = AdminClient({"bootstrap.servers": bootstrap})
    assert produce_one(bootstrap, topic, b"x" * 5000) is None
    incremental(admin, topic, [ConfigEntry("max.message.bytes", "2000", incremental_operation=AlterConfigOpType.SET)])
    deadline = time.monotonic() + TIMEOUT  # Kafka applies topic configs asynchronously (metadata log)
    err = produce_one(bootstrap, topic, b"x" * 5000)
    while err is None and time.monotonic() < deadline:
        time.sleep(0.2)
        err = produce_one(bootstrap, topic, b"x" * 5000)
    assert err is not None and err.code() == ck.KafkaError.MSG_SIZE_TOO_LARGE, err
    assert produce_one(bootstrap, topic, b"small") is None


def test_confluent_create_partitions(bootstrap, new_topic):
    topic = new_topic(1, prefix="cfg-ck-parts")
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_partitions([NewPartitions(topic, 3)], validate_only=True, request_timeout=TIMEOUT).values():
        f.result(TIMEOUT)
    assert partition_count(admin, topic) == 1
    for f in admin.create_partitions([NewPartitions(topic, 3)], request_timeout=TIMEOUT).values():
        f.result(TIMEOUT)
    wait_partitions(admin, topic, 3)
    assert produce_one(bootstrap, topic, b"in-2", partition=2) is None
    with pytest.raises(ck.KafkaException) as info:
        for f in admin.create_partitions([NewPartitions(topic, 2)], request_timeout=TIMEOUT).values():
            f.result(TIMEOUT)
    assert info.value.args[0].code() == ck.KafkaError.INVALID_PARTITIONS


def test_kafka_python_admin(bootstrap, new_topic):
    kafka = pytest.importorskip("kafka", reason="kafka-python is not installed")
    from kafka.admin import ConfigResource as KConfigResource, ConfigResourceType, KafkaAdminClient
    from kafka.admin import NewPartitions as KNewPartitions
    topic = new_topic(1, prefix="cfg-kp")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    try:
        described = admin.describe_configs([KConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")
        configs = described["topic"][topic]
        assert "retention.ms" in configs and "cleanup.policy" in configs
        admin.alter_configs([KConfigResource(ConfigResourceType.TOPIC, topic,
                                             configs={"retention.ms": "7200000", "segment.ms": "3600000"})])
        modified = admin.describe_configs([KConfigResource(ConfigResourceType.TOPIC, topic)])["topic"][topic]
        assert set(modified) == {"retention.ms", "segment.ms"}, modified
        admin.create_partitions({topic: KNewPartitions(total_count=2)})
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if len(admin.describe_topics([topic])[0]["partitions"]) == 2:
                break
            time.sleep(0.1)
        assert len(admin.describe_topics([topic])[0]["partitions"]) == 2
        with pytest.raises(kafka.errors.InvalidPartitionsError):
            admin.create_partitions({topic: KNewPartitions(total_count=2)})
    finally:
        admin.close()


def _consume_new_partition_confluent(bootstrap: str, topic: str, admin: AdminClient) -> None:
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": unique("cfg-grow-ck"),
                     "auto.offset.reset": "earliest", "topic.metadata.refresh.interval.ms": 1000,
                     "enable.partition.eof": False})
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + 60
        while not c.assignment() and time.monotonic() < deadline:
            c.poll(0.2)
        assert len(c.assignment()) == 1
        for f in admin.create_partitions([NewPartitions(topic, 2)], request_timeout=TIMEOUT).values():
            f.result(TIMEOUT)
        wait_partitions(admin, topic, 2)
        assert produce_one(bootstrap, topic, b"ck-new", partition=1) is None
        got = None
        deadline = time.monotonic() + 90
        while got is None and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is not None and m.error() is None and m.partition() == 1:
                got = m.value()
        assert got == b"ck-new"
        assert len(c.assignment()) == 2
    finally:
        c.close()


def _consume_new_partition_conveyor(bootstrap: str, topic: str, admin: AdminClient) -> None:
    import conveyor
    with conveyor.Consumer({"bootstrap.servers": bootstrap, "group.id": unique("cfg-grow-cv"),
                            "auto.offset.reset": "earliest", "metadata.max.age.ms": 1000}) as c:
        c.subscribe([topic])
        deadline = time.monotonic() + 60
        while not c.assignment() and time.monotonic() < deadline:
            c.consume(100, timeout=0.2)
        assert len(c.assignment()) == 1
        for f in admin.create_partitions([NewPartitions(topic, 2)], request_timeout=TIMEOUT).values():
            f.result(TIMEOUT)
        wait_partitions(admin, topic, 2)
        assert produce_one(bootstrap, topic, b"cv-new", partition=1) is None
        got = []
        deadline = time.monotonic() + 90
        while not got and time.monotonic() < deadline:
            got = [r.value for r in c.consume(100, timeout=0.2) if r.partition == 1]
        assert got == [b"cv-new"]
        assert len(c.assignment()) == 2


@pytest.mark.parametrize("client", ["confluent-kafka", "conveyor"])
def test_group_consumes_from_added_partition(bootstrap, new_topic, client):
    topic = new_topic(1, prefix=f"cfg-grow-{client}")
    admin = AdminClient({"bootstrap.servers": bootstrap})
    if client == "conveyor":
        pytest.importorskip("conveyor")
        _consume_new_partition_conveyor(bootstrap, topic, admin)
    else:
        _consume_new_partition_confluent(bootstrap, topic, admin)


@pytest.mark.skipif(bool(os.environ.get("CONVEYOR_TEST_BOOTSTRAP")),
                    reason="restarts conveyor's own broker process")
def test_changes_survive_a_conveyor_restart(broker_factory, tmp_path):
    broker = broker_factory({"num.partitions": "1"}, name="cfg-restart", data_dir=tmp_path / "data")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([ck.admin.NewTopic("kept", 1, 1)])["kept"].result(TIMEOUT)
    incremental(admin, "kept", [ConfigEntry("max.message.bytes", "2000", incremental_operation=AlterConfigOpType.SET),
                                ConfigEntry("min.insync.replicas", "1", incremental_operation=AlterConfigOpType.SET)])
    for f in admin.create_partitions([NewPartitions("kept", 2)], request_timeout=TIMEOUT).values():
        f.result(TIMEOUT)
    assert broker.stop() == 0, broker.stderr_tail()
    broker.start()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    configs = describe(admin, "kept")
    assert configs["max.message.bytes"].value == "2000"
    assert configs["max.message.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert configs["min.insync.replicas"].value == "1"
    assert partition_count(admin, "kept") == 2
    err = produce_one(broker.bootstrap, "kept", b"x" * 5000, partition=1)
    assert err is not None and err.code() == ck.KafkaError.MSG_SIZE_TOO_LARGE
    assert broker.stop() == 0, broker.stderr_tail()
