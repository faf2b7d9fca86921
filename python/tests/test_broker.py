import os

import pytest

import conveyor
from conftest import read_all


def test_starts_on_ephemeral_port_with_temp_dir_and_stops():
    b = conveyor.Broker()
    host, port = b.bootstrap_servers.rsplit(":", 1)
    assert host and int(port) > 0 and int(port) == b.port
    data_dir = b.data_dir
    assert os.path.isdir(data_dir)
    b.stop()
    assert not b.running
    assert not os.path.exists(data_dir), "the temporary data dir is removed on stop"
    b.stop()  # idempotent
    with pytest.raises(conveyor.StateError):
        b.bootstrap_servers


def test_context_manager_and_given_data_dir_survives_restart(tmp_path):
    data = tmp_path / "data"
    with conveyor.Broker(data_dir=str(data)) as b:
        assert b.data_dir == str(data)
        conf = {"bootstrap.servers": b.bootstrap_servers}
        conveyor.Admin(conf).create_topic("kept", partitions=1)
        with conveyor.Producer(conf) as p:
            for i in range(10):
                p.produce("kept", value=f"v{i}".encode())
            assert p.flush(10) == 0
    assert not b.running
    assert data.is_dir()
    with conveyor.Broker(data_dir=str(data)) as b:
        with conveyor.Consumer({"bootstrap.servers": b.bootstrap_servers}) as c:
            c.assign([conveyor.TopicPartition("kept", 0, conveyor.OFFSET_BEGINNING)])
            records = read_all(c, 10)
    assert [r.value for r in records] == [f"v{i}".encode() for i in range(10)]


def test_unknown_broker_key_names_the_key():
    with pytest.raises(conveyor.InvalidConfigError) as e:
        conveyor.Broker({"log.dirz": "/tmp/x"})
    assert "log.dirz" in str(e.value)
    assert e.value.code == 40 and e.value.name == "INVALID_CONFIG" and not e.value.retriable


def test_config_values_are_typed():
    with conveyor.Broker({"num.partitions": 2, "auto.create.topics.enable": True}) as b:
        conf = {"bootstrap.servers": b.bootstrap_servers}
        with conveyor.Producer(conf) as p:
            p.produce("auto-created", value=b"x")
            assert p.flush(10) == 0
        assert len(conveyor.Admin(conf).describe_topic("auto-created").partitions) == 2
    with pytest.raises(TypeError, match="num.partitions"):
        conveyor.Broker({"num.partitions": 1.5})
