"""Ctrl-C (SIGINT) interrupts a consumer blocked in poll() and a flush() that cannot finish."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# A child started from a non-interactive shell's background job inherits SIGINT ignored,
# and Python then keeps it ignored; the children restore Python's own Ctrl-C handler so the
# test measures conveyor, not how the test runner was launched.
CHILD = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import conveyor
    with conveyor.Broker() as b:
        conf = {"bootstrap.servers": b.bootstrap_servers}
        conveyor.Admin(conf).create_topic("idle", partitions=1)
        c = conveyor.Consumer(conf)
        c.assign([conveyor.TopicPartition("idle", 0, conveyor.OFFSET_END)])
        print("polling", flush=True)
        started = time.monotonic()
        try:
            c.%s
        except KeyboardInterrupt:
            print("interrupted after %%.2f" %% (time.monotonic() - started), flush=True)
            c.close()
            sys.exit(7)
    sys.exit(0)
""")


@pytest.mark.parametrize("call", ["poll(timeout=None)", "poll(timeout=60)", "consume(100, timeout=None)"])
def test_sigint_interrupts_blocking_poll(call):
    proc = subprocess.Popen([sys.executable, "-c", CHILD % call], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        line = proc.stdout.readline()
        assert line.strip() == b"polling", proc.stderr.read()
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGINT)
        rest, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 7, err
    assert rest.startswith(b"interrupted after")
