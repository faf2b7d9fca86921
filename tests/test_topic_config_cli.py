"""`conveyor topic describe-config | alter-config | add-partitions` against a broker process
started through the CLI: output, effect on the running broker (a record over the new
max.message.bytes is refused without a restart), persistence across a broker restart,
errors naming the key, and --help."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kafka_wire as kw  # noqa: E402
from broker_process import BrokerProcess, conveyor_cli  # noqa: E402


def cli(bootstrap: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(conveyor_cli() + ["topic", *args, "--bootstrap-server", bootstrap],
                          capture_output=True, text=True, timeout=120)


def config_rows(out: str) -> dict[str, tuple[str, str]]:
    """KEY -> (VALUE, SOURCE) from describe-config's table."""
    rows = {}
    for line in out.splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 4:
            rows[parts[0]] = (parts[1], parts[2])
        elif len(parts) == 3:  # empty value
            rows[parts[0]] = ("", parts[1])
    return rows


def produce_error(bootstrap: str, topic: str, partition: int, value: bytes) -> int:
    with kw.Connection.to(bootstrap) as c:
        return kw.produce(c, topic, partition, kw.encode_batch([(None, value)])).error


def test_describe_alter_add_partitions_and_restart(tmp_path):
    data = tmp_path / "data"
    broker = BrokerProcess(data, {"log.retention.hours": "3"}, name="cfg").start()
    try:
        b = broker.bootstrap
        r = cli(b, "create", "orders", "--partitions", "1")
        assert r.returncode == 0, r.stderr
        r = cli(b, "describe-config", "orders")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("Configs for topic orders:")
        rows = config_rows(r.stdout)
        assert rows["retention.ms"] == ("10800000", "STATIC_BROKER_CONFIG")
        assert rows["max.message.bytes"] == ("1048588", "DEFAULT_CONFIG")
        assert produce_error(b, "orders", 0, b"x" * 3000) == kw.NONE

        r = cli(b, "alter-config", "--topic", "orders",
                "--add-config", "max.message.bytes=1000,cleanup.policy=[delete,compact]",
                "--add-config", "retention.ms=60000")
        assert r.returncode == 0, r.stderr
        assert "Completed updating config for topic orders." in r.stdout
        # No restart: the running partition refuses a batch over the new limit.
        assert produce_error(b, "orders", 0, b"x" * 3000) == 10  # MESSAGE_TOO_LARGE
        rows = config_rows(cli(b, "describe-config", "orders", "--overrides-only").stdout)
        assert rows == {"cleanup.policy": ("delete,compact", "DYNAMIC_TOPIC_CONFIG"),
                        "max.message.bytes": ("1000", "DYNAMIC_TOPIC_CONFIG"),
                        "retention.ms": ("60000", "DYNAMIC_TOPIC_CONFIG")}
        r = cli(b, "alter-config", "orders", "--delete-config", "cleanup.policy")
        assert r.returncode == 0, r.stderr

        r = cli(b, "alter-config", "orders", "--add-config", "retention.ms=soon")
        assert r.returncode == 1
        assert "retention.ms" in r.stderr
        r = cli(b, "alter-config", "orders", "--add-config", "segment.ms=5000", "--validate-only")
        assert r.returncode == 0, r.stderr
        assert "segment.ms" not in config_rows(cli(b, "describe-config", "orders", "--overrides-only").stdout)

        r = cli(b, "add-partitions", "orders", "--partitions", "3")
        assert r.returncode == 0, r.stderr
        assert 'Topic "orders" now has 3 partitions.' in r.stdout
        assert "PartitionCount: 3" in cli(b, "describe", "orders").stdout
        assert produce_error(b, "orders", 2, b"x" * 3000) == 10  # the new partition has the overrides
        r = cli(b, "add-partitions", "--topic", "orders", "--partitions", "2")
        assert r.returncode == 1
        assert "INVALID_PARTITIONS" in r.stderr

        r = cli(b, "describe-config", "--broker", "1", "--key", "log.retention.hours")
        assert r.returncode == 0, r.stderr
        assert config_rows(r.stdout) == {"log.retention.hours": ("3", "STATIC_BROKER_CONFIG")}
        assert "yes" in r.stdout.splitlines()[-1]  # read-only
        r = cli(b, "alter-config", "--broker", "1", "--add-config", "log.retention.hours=1")
        assert r.returncode == 1
        assert "dynamic broker configs" in r.stderr
    finally:
        assert broker.stop() == 0, broker.stderr_tail()

    again = BrokerProcess(data, {"log.retention.hours": "3"}, name="cfg-restart").start()
    try:
        b = again.bootstrap
        rows = config_rows(cli(b, "describe-config", "orders", "--overrides-only").stdout)
        assert rows == {"max.message.bytes": ("1000", "DYNAMIC_TOPIC_CONFIG"),
                        "retention.ms": ("60000", "DYNAMIC_TOPIC_CONFIG")}
        assert "PartitionCount: 3" in cli(b, "describe", "orders").stdout
        assert produce_error(b, "orders", 1, b"x" * 3000) == 10
        assert produce_error(b, "orders", 1, b"small") == kw.NONE
    finally:
        assert again.stop() == 0, again.stderr_tail()


def test_help_explains_the_config_commands():
    for command, words in [("describe-config", ["DYNAMIC_TOPIC_CONFIG", "--broker", "--topic"]),
                           ("alter-config", ["--add-config", "--delete-config", "square brackets", "no restart"]),
                           ("add-partitions", ["--partitions", "only grow", "rebalance"])]:
        r = subprocess.run(conveyor_cli() + ["topic", command, "--help"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        text = " ".join(r.stdout.split())
        for w in words:
            assert w in text, (command, w)
