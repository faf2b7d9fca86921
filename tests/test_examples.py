"""The runnable examples of docs/delivery-semantics.md run and show what the document says:
at-most-once may lose and never duplicates, at-least-once never loses and may duplicate,
idempotent processing applies every effect exactly once over at-least-once delivery, and the
retry handler dead-letters exactly the poison records."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "python"
COUNTS = re.compile(r"^(\w+): records=(\d+) processed=(\d+) distinct=(\d+) duplicates=(\d+) lost=(\d+)$", re.M)


def run_example(name: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, f"{name} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


def counts(out: str) -> dict[str, dict[str, int]]:
    found = {m[0]: dict(zip(("records", "processed", "distinct", "duplicates", "lost"), map(int, m[1:])))
             for m in COUNTS.findall(out)}
    assert found, out
    return found


def test_at_most_once_loses_but_never_duplicates():
    out = run_example("at_most_once.py", "--crash-after", "55")
    assert "crashed on purpose" in out
    c = counts(out)["processed"]
    assert c["duplicates"] == 0
    assert c["lost"] > 0, "the crash came after a commit and before the batch was processed"
    assert c["distinct"] + c["lost"] == c["records"]


def test_at_least_once_never_loses_but_may_duplicate():
    out = run_example("at_least_once.py", "--crash-after", "55")
    c = counts(out)["processed"]
    assert c["lost"] == 0
    assert c["duplicates"] > 0, "the records processed after the last commit came again"


def test_idempotent_processing_applies_each_effect_once():
    out = run_example("idempotent_processing.py", "--crash-after", "55")
    c = counts(out)
    assert c["delivered"]["duplicates"] > 0 and c["delivered"]["lost"] == 0
    assert c["effects"]["duplicates"] == 0 and c["effects"]["lost"] == 0
    assert c["effects"]["distinct"] == c["effects"]["records"]


@pytest.mark.parametrize("crash_after", ["1", "199"])
def test_crash_points_at_the_edges(crash_after):
    c = counts(run_example("at_least_once.py", "--crash-after", crash_after))["processed"]
    assert c["lost"] == 0


def test_dead_letter_example():
    out = run_example("dead_letter.py")
    assert "handled=100 succeeded=96 retries=18 dead_lettered=4" in out
    assert "group lag after the run: 0" in out
    dead = re.findall(r"^dead letter: 'payment (\d+)' .* after 3 attempts: ValueError: payment \1 is for a closed account$",
                      out, re.M)
    assert sorted(map(int, dead)) == [0, 25, 50, 75]
