import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import run_cli

COMMANDS = [["broker"], ["topic"], ["topic", "create"], ["topic", "list"], ["topic", "describe"],
            ["topic", "delete"], ["produce"], ["consume"], ["demo"]]


def test_top_level_help():
    r = run_cli(["--help"])
    assert r.returncode == 0
    text = r.stdout.decode()
    for cmd in ("broker", "topic", "produce", "consume", "demo"):
        assert cmd in text
    assert "examples:" in text


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_has_help_with_examples(cmd):
    r = run_cli([*cmd, "--help"])
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert "example" in text
    if cmd not in (["broker"], ["topic"], ["demo"]):
        assert "--bootstrap-server" in text


def test_module_and_version():
    r = run_cli(["--version"])
    assert r.returncode == 0 and r.stdout.decode().startswith("conveyor ")


def native_cli():
    """The `conveyor` executable pip installed beside this interpreter (python/launcher/)."""
    exe = os.path.join(os.path.dirname(sys.executable), "conveyor")
    assert os.access(exe, os.X_OK), f"no conveyor executable beside {sys.executable}: is the wheel installed?"
    return [exe]


# `conveyor broker` runs natively in the executable; `python -m conveyor broker` in Python.
@pytest.fixture(params=["native", "python"])
def cli(request):
    return native_cli() if request.param == "native" else [sys.executable, "-m", "conveyor"]


def test_native_executable_hands_other_commands_to_python():
    exe = native_cli()
    for args in (["--version"], ["topic", "list", "--help"], ["broker", "--help"]):
        native = subprocess.run(exe + args, capture_output=True, timeout=60)
        python = run_cli(args)
        assert native.returncode == python.returncode == 0, native.stderr
        assert native.stdout == python.stdout
    bad = subprocess.run(exe + ["broker", "--no-such-flag"], capture_output=True, timeout=60)
    assert bad.returncode == 2 and b"--no-such-flag" in bad.stderr


def test_broker_ready_line_and_sigterm_exit_zero(tmp_path, cli):
    proc = subprocess.Popen([*cli, "broker",
                             "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                             "--data-dir", str(tmp_path / "data")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        line = proc.stdout.readline().decode()
        m = re.fullmatch(r"conveyor broker listening on (\S+):(\d+)\n", line)
        assert m, line
        r = run_cli(["topic", "create", "cli-ready", "--partitions", "2",
                     "--bootstrap-server", f"{m.group(1)}:{m.group(2)}"])
        assert r.returncode == 0, r.stderr
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out == b"", "only the ready line goes to stdout"
    assert (tmp_path / "data").is_dir()


def test_broker_sigint_and_config_file(tmp_path, cli):
    props = tmp_path / "server.properties"
    props.write_text("# test\nlisteners=PLAINTEXT://127.0.0.1:0\nnum.partitions = 4\n")
    proc = subprocess.Popen([*cli, "broker", "--config", str(props),
                             "--override", f"log.dirs={tmp_path / 'd'}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("conveyor broker listening on "), proc.stderr.read()
        bootstrap = line.split()[-1]
        r = run_cli(["topic", "create", "from-config", "--bootstrap-server", bootstrap])
        assert r.returncode == 0, r.stderr
        r = run_cli(["topic", "describe", "from-config", "--bootstrap-server", bootstrap])
        assert r.returncode == 0, r.stderr
        assert "PartitionCount: 4" in r.stdout.decode(), r.stdout  # num.partitions = 4 from the file
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0


def test_broker_bad_override_fails_naming_key(cli):
    r = subprocess.run([*cli, "broker", "--override", "no.such.key=1"], capture_output=True, timeout=60)
    assert r.returncode == 1
    assert b"no.such.key" in r.stderr


def test_broker_override_takes_one_key_value_each(cli):
    # `--override a=b c=d` is a mistake (each property needs its own --override, as in
    # kafka-server-start.sh); both the native and the Python broker command refuse it.
    r = subprocess.run([*cli, "broker", "--override", "num.partitions=2", "log.retention.ms=1"],
                       capture_output=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert b"log.retention.ms=1" in r.stderr


def test_topic_commands(broker):
    bs = ["--bootstrap-server", broker.bootstrap_servers]
    assert run_cli(["topic", "create", "cli-topic", "--partitions", "3", *bs]).returncode == 0
    r = run_cli(["topic", "create", "cli-topic", *bs])
    assert r.returncode == 1 and b"TOPIC_ALREADY_EXISTS" in r.stderr
    assert run_cli(["topic", "create", "cli-topic", "--if-not-exists", *bs]).returncode == 0
    r = run_cli(["topic", "list", *bs])
    assert "cli-topic" in r.stdout.decode().split()
    r = run_cli(["topic", "describe", "cli-topic", *bs])
    assert r.returncode == 0 and "PartitionCount: 3" in r.stdout.decode()
    assert r.stdout.decode().count("Partition: ") == 3
    assert run_cli(["topic", "delete", "cli-topic", *bs]).returncode == 0
    assert "cli-topic" not in run_cli(["topic", "list", *bs]).stdout.decode().split()


def test_produce_consume_round_trip(broker, tmp_path):
    bs = ["--bootstrap-server", broker.bootstrap_servers]
    assert run_cli(["topic", "create", "cli-rt", "--partitions", "2", *bs]).returncode == 0
    lines = [f"k{i % 5}:value {i}" for i in range(500)]
    r = run_cli(["produce", "cli-rt", "--key-separator", ":", *bs], input=("\n".join(lines) + "\n").encode())
    assert r.returncode == 0, r.stderr
    r = run_cli(["consume", "cli-rt", "--offset", "earliest", "--max-records", "500",
                 "--format", "%k|%v|%p|%o", *bs])
    assert r.returncode == 0, r.stderr
    got = r.stdout.decode().splitlines()
    assert len(got) == 500
    assert sorted(g.split("|")[0] + ":" + g.split("|")[1] for g in got) == sorted(lines)
    # json format, one partition, from an offset, exit at end
    r = run_cli(["consume", "cli-rt", "--partition", "0", "--offset", "3", "--format", "json", "-e", *bs])
    assert r.returncode == 0, r.stderr
    import json
    objs = [json.loads(l) for l in r.stdout.decode().splitlines()]
    assert objs and objs[0]["offset"] == 3 and all(o["partition"] == 0 for o in objs)
    # --file input
    f = tmp_path / "in.txt"
    f.write_text("a\nb\nc\n")
    assert run_cli(["produce", "cli-rt", "--file", str(f), "--partition", "1", *bs]).returncode == 0
    r = run_cli(["consume", "cli-rt", "--partition", "1", "--offset", "latest", "--timeout", "1", *bs])
    assert r.returncode == 0 and r.stdout == b""


def test_consume_by_timestamp(broker):
    import conveyor
    conf = {"bootstrap.servers": broker.bootstrap_servers}
    conveyor.Admin(conf).create_topic("cli-ts", partitions=1)
    base = int(time.time() * 1000) - 60_000
    with conveyor.Producer(conf) as p:
        for i in range(10):
            p.produce("cli-ts", value=b"%d" % i, timestamp=base + i)
    r = run_cli(["consume", "cli-ts", "--timestamp", str(base + 7), "-e", "--format", "%t %v",
                 "--bootstrap-server", broker.bootstrap_servers])
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == [f"{base + i} {i}" for i in (7, 8, 9)]


def test_demo_small_run():
    r = run_cli(["demo", "--records", "20000"], timeout=300)
    text = r.stdout.decode()
    assert r.returncode == 0, text + r.stderr.decode()[-3000:]
    assert "all" in text and "checks passed" in text
    assert "[FAIL]" not in text
    assert re.search(r"produced 20,000 orders .* records/s", text)
    assert re.search(r"consumed 20,000 orders", text)
