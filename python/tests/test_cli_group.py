"""`conveyor group ...` driven as a subprocess against a broker with a group coordinator."""
from __future__ import annotations

import datetime
import re

import pytest

import conveyor
from conveyor import TopicPartition as TP

from conftest import run_cli
from group_helpers import (committed, confluent_member, group_bootstrap, make_topic, unique,  # noqa: F401
                           wait_for_state)

GROUP_COMMANDS = [["group"], ["group", "list"], ["group", "describe"], ["group", "reset-offsets"],
                  ["group", "delete"]]
COLUMNS = ["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]


@pytest.mark.parametrize("cmd", GROUP_COMMANDS, ids=lambda c: " ".join(c))
def test_group_help_explains_with_examples(cmd):
    r = run_cli([*cmd, "--help"])
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert "example" in text
    assert "conveyor group" in text
    if len(cmd) > 1:
        assert "--bootstrap-server" in text
    if cmd == ["group", "reset-offsets"]:
        for flag in ("--to-earliest", "--to-latest", "--to-offset", "--to-datetime", "--shift-by",
                     "--dry-run", "--execute", "--all-topics", "--topic"):
            assert flag in text


def test_reset_offsets_needs_a_scope_and_a_target():
    r = run_cli(["group", "reset-offsets", "g", "--to-earliest", "--bootstrap-server", "127.0.0.1:1"])
    assert r.returncode == 2 and b"--topic" in r.stderr
    r = run_cli(["group", "reset-offsets", "g", "--topic", "t", "--bootstrap-server", "127.0.0.1:1"])
    assert r.returncode == 2 and b"--to-earliest" in r.stderr


def cli(servers, *args, ok=True):
    r = run_cli(["group", *args, "--bootstrap-server", servers])
    if ok:
        assert r.returncode == 0, (r.stdout.decode(), r.stderr.decode())
    return r


def table(text: str, header: str):
    """Rows of the aligned table whose header line starts with `header`: each row split at the
    header's column starts (which also checks the alignment)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    head = lines[start]
    names = head.split()
    cols = [m.start() for m in re.finditer(r"\S+", head)]
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        cells = []
        for i, c in enumerate(cols):
            end = cols[i + 1] if i + 1 < len(cols) else None
            assert c == 0 or line[c - 1] == " ", f"column {names[i]} not aligned in {line!r}"
            cells.append(line[c:end].strip())
        rows.append(dict(zip(names, cells)))
    return rows


def test_list_describe_and_delete(group_bootstrap):
    servers = group_bootstrap
    topic = make_topic(servers, partitions=3, records_per_partition=10)
    group = unique("cli-desc")
    with conveyor.Admin({"bootstrap.servers": servers}) as admin:
        admin.alter_group_offsets(group, [TP(topic, 0, 4), TP(topic, 2, 10)])

    assert group in cli(servers, "list").stdout.decode().split()
    states = table(cli(servers, "list", "--state").stdout.decode(), "GROUP")
    assert {"GROUP": group, "STATE": "Empty"} in states

    r = cli(servers, "describe", group)
    out = r.stdout.decode()
    assert re.search(rf"GROUP: {re.escape(group)}\s+STATE: Empty\s+PROTOCOL: -\s+PROTOCOL-TYPE: \S+\s+MEMBERS: 0", out), out
    assert b"has no active members" in r.stderr
    rows = table(out, "TOPIC")
    assert out.splitlines()[[i for i, l in enumerate(out.splitlines()) if l.startswith("TOPIC")][0]].split() == COLUMNS
    assert rows == [
        {"TOPIC": topic, "PARTITION": "0", "CURRENT-OFFSET": "4", "LOG-END-OFFSET": "10", "LAG": "6",
         "CONSUMER-ID": "-", "HOST": "-", "CLIENT-ID": "-"},
        {"TOPIC": topic, "PARTITION": "2", "CURRENT-OFFSET": "10", "LOG-END-OFFSET": "10", "LAG": "0",
         "CONSUMER-ID": "-", "HOST": "-", "CLIENT-ID": "-"},
    ]

    r = cli(servers, "delete", group)
    assert f"('{group}')" in r.stdout.decode() and "successful" in r.stdout.decode()
    assert group not in cli(servers, "list").stdout.decode().split()
    r = cli(servers, "delete", group, ok=False)
    assert r.returncode == 1 and b"does not exist" in r.stderr
    r = cli(servers, "describe", group, ok=False)
    assert r.returncode == 1 and b"does not exist" in r.stderr


def test_describe_a_live_group_and_refuse_reset_and_delete(group_bootstrap):
    servers = group_bootstrap
    topic = make_topic(servers, partitions=2, records_per_partition=7)
    group = unique("cli-live")
    with conveyor.Admin({"bootstrap.servers": servers}) as admin:
        admin.alter_group_offsets(group, [TP(topic, 1, 2)])
        with confluent_member(servers, group, [topic], client_id="cli-live-client"):
            member = wait_for_state(admin, group, ["Stable"]).members[0]
            out = cli(servers, "describe", group).stdout.decode()
            assert re.search(r"STATE: Stable\s+PROTOCOL: range\s+PROTOCOL-TYPE: consumer\s+MEMBERS: 1", out), out
            rows = table(out, "TOPIC")
            assert [(r["PARTITION"], r["CURRENT-OFFSET"], r["LOG-END-OFFSET"], r["LAG"]) for r in rows] == [
                ("0", "-", "7", "-"), ("1", "2", "7", "5")]
            for row in rows:
                assert row["CONSUMER-ID"] == member.member_id
                assert row["HOST"] == member.host
                assert row["CLIENT-ID"] == "cli-live-client"

            r = cli(servers, "reset-offsets", group, "--topic", topic, "--to-earliest", "--execute", ok=False)
            assert r.returncode == 1
            assert b"inactive" in r.stderr and b"stop its consumers" in r.stderr
            r = cli(servers, "delete", group, ok=False)
            assert r.returncode == 1 and b"active members" in r.stderr
            assert committed(admin, group) == {(topic, 1): 2}


def test_reset_offsets_plans_and_executes(group_bootstrap):
    servers = group_bootstrap
    base = 1_700_000_000_000
    topic = make_topic(servers, partitions=3, records_per_partition=10,
                       timestamps=[base + i * 1000 for i in range(10)])
    group = unique("cli-reset")
    with conveyor.Admin({"bootstrap.servers": servers}) as admin:
        admin.alter_group_offsets(group, [TP(topic, 0, 5), TP(topic, 1, 5), TP(topic, 2, 5)])

        def plan(*args, execute=False):
            r = cli(servers, "reset-offsets", group, *args, *(["--execute"] if execute else []))
            if not execute:
                assert b"Dry run" in r.stderr
            return {(row["TOPIC"], int(row["PARTITION"])): int(row["NEW-OFFSET"])
                    for row in table(r.stdout.decode(), "TOPIC")}

        # Dry run (the default, and explicit): the plan, nothing changed.
        assert plan("--topic", topic, "--to-earliest") == {(topic, 0): 0, (topic, 1): 0, (topic, 2): 0}
        assert plan("--topic", topic, "--to-latest", "--dry-run") == {(topic, p): 10 for p in range(3)}
        assert committed(admin, group) == {(topic, p): 5 for p in range(3)}

        # Partition selection and --execute.
        assert plan("--topic", f"{topic}:0,2", "--to-earliest", execute=True) == {(topic, 0): 0, (topic, 2): 0}
        assert committed(admin, group) == {(topic, 0): 0, (topic, 1): 5, (topic, 2): 0}

        # --shift-by from the committed offsets, clamped to [log start, log end].
        assert plan("--all-topics", "--shift-by", "3", execute=True) == {(topic, 0): 3, (topic, 1): 8, (topic, 2): 3}
        r = cli(servers, "reset-offsets", group, "--all-topics", "--shift-by", "-5")
        assert {(row["PARTITION"], row["NEW-OFFSET"]) for row in table(r.stdout.decode(), "TOPIC")} == {
            ("0", "0"), ("1", "3"), ("2", "0")}
        assert b"lower than the earliest" in r.stderr

        # --to-offset, clamped to the log end.
        assert plan("--topic", f"{topic}:1", "--to-offset", "7", execute=True) == {(topic, 1): 7}
        assert plan("--topic", f"{topic}:1", "--to-offset", "999") == {(topic, 1): 10}

        # --to-datetime: the first record at or after the time (UTC given explicitly) ...
        when = datetime.datetime.fromtimestamp((base + 4000) / 1000, tz=datetime.timezone.utc)
        iso = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert plan("--topic", topic, "--to-datetime", iso, execute=True) == {(topic, p): 4 for p in range(3)}
        assert committed(admin, group) == {(topic, p): 4 for p in range(3)}
        # ... and the log end when no record is that late; local time without a zone.
        late = datetime.datetime.fromtimestamp((base + 3_600_000) / 1000).strftime("%Y-%m-%dT%H:%M:%S")
        assert plan("--topic", topic, "--to-datetime", late) == {(topic, p): 10 for p in range(3)}

        # Errors: a partition the topic lacks, a bad date, shifting with nothing committed.
        r = cli(servers, "reset-offsets", group, "--topic", f"{topic}:7", "--to-earliest", ok=False)
        assert r.returncode == 1 and b"no partition 7" in r.stderr
        r = cli(servers, "reset-offsets", group, "--topic", topic, "--to-datetime", "yesterday", ok=False)
        assert r.returncode != 0 and b"ISO-8601" in r.stderr
        fresh = unique("cli-fresh")
        r = run_cli(["group", "reset-offsets", fresh, "--topic", topic, "--shift-by", "1",
                     "--bootstrap-server", servers])
        assert r.returncode == 1 and b"no committed offset" in r.stderr
        r = run_cli(["group", "reset-offsets", fresh, "--all-topics", "--to-earliest", "--bootstrap-server", servers])
        assert r.returncode == 1 and b"no committed offsets" in r.stderr
