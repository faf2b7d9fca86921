"""Fixtures for the conveyor Python package tests.

Run against a build tree (PYTHONPATH=<build>/python, see python/CMakeLists.txt) or an
installed wheel. CLI tests run `python -m conveyor` in a child process with the same
environment.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
from typing import Dict, List

import pytest

import conveyor

_topic_ids = itertools.count()


@pytest.fixture(scope="session")
def broker():
    with conveyor.Broker({"num.partitions": 1}) as b:
        yield b


@pytest.fixture
def conf(broker) -> Dict[str, str]:
    return {"bootstrap.servers": broker.bootstrap_servers}


@pytest.fixture
def admin(conf):
    with conveyor.Admin(conf) as a:
        yield a


@pytest.fixture
def topic(admin, request) -> str:
    """A fresh topic with 3 partitions, named after the test."""
    name = f"t{next(_topic_ids)}-" + "".join(c if c.isalnum() else "-" for c in request.node.name)[:80]
    admin.create_topic(name, partitions=3)
    return name


def run_cli(args: List[str], *, input: bytes | None = None, timeout: float = 120.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conveyor", *args], input=input, capture_output=True,
                          timeout=timeout, env=dict(os.environ))


def read_all(consumer: conveyor.Consumer, expected: int, timeout: float = 20.0) -> List[conveyor.Record]:
    import time
    out: List[conveyor.Record] = []
    deadline = time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        out.extend(consumer.consume(1000, timeout=0.2))
    return out
