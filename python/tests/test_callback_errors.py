"""Exceptions raised by Python rebalance and commit callbacks: they surface from the call that
ran the callback (poll/consume, commit, unsubscribe, close) and never take the process down —
no abort from an exception unwinding through libconveyor's C frames, also when the consumer is
garbage-collected or the interpreter exits while a thread is polling. Each scenario runs in
its own interpreter, so an abort fails the test instead of killing pytest."""
import subprocess
import sys
import textwrap

import pytest

PRELUDE = textwrap.dedent("""
    import sys, threading, time
    import conveyor
    broker = conveyor.Broker({"group.initial.rebalance.delay.ms": 0, "offsets.topic.num.partitions": 1})
    bs = broker.bootstrap_servers
    with conveyor.Producer({"bootstrap.servers": bs}) as p:
        for i in range(10):
            p.produce("t", value=str(i).encode(), partition=0)
        assert p.flush(30) == 0
    conf = {"bootstrap.servers": bs, "group.id": "g", "auto.offset.reset": "earliest",
            "heartbeat.interval.ms": 100}

    class Boom(Exception):
        pass

    def boom(*args):
        raise Boom("from a callback")

    def poll_until_assigned(c):
        deadline = time.monotonic() + 30
        while not c.assignment() and time.monotonic() < deadline:
            c.poll(0.1)
        assert c.assignment(), "never assigned"
""")

SCENARIOS = {
    # on_assign raises: the poll that ran it raises Boom; the consumer stays usable.
    "assign_raises_from_poll": """
        c = conveyor.Consumer(conf)
        c.subscribe(["t"], on_assign=boom)
        raised = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not raised:
            try:
                c.poll(0.1)
            except Boom:
                raised = True
        assert raised
        assert c.assignment()
        assert c.consume(10, timeout=5), "still consuming after the callback raised"
        c.close()
        print("OK")
    """,
    # on_revoke raises inside close(): close() raises Boom, the consumer is closed anyway.
    "revoke_raises_from_close": """
        c = conveyor.Consumer(conf)
        c.subscribe(["t"], on_revoke=boom)
        poll_until_assigned(c)
        try:
            c.close()
            raise SystemExit("close() did not raise")
        except Boom:
            pass
        assert c.closed
        print("OK")
    """,
    "revoke_raises_from_unsubscribe": """
        c = conveyor.Consumer(conf)
        c.subscribe(["t"], on_revoke=boom)
        poll_until_assigned(c)
        try:
            c.unsubscribe()
            raise SystemExit("unsubscribe() did not raise")
        except Boom:
            pass
        c.close()
        print("OK")
    """,
    # The async commit callback raises: the next poll raises it.
    "commit_callback_raises_from_poll": """
        c = conveyor.Consumer({**conf, "enable.auto.commit": False})
        c.subscribe(["t"])
        poll_until_assigned(c)
        c.on_commit(boom)
        c.consume(10, timeout=5)
        c.commit(asynchronous=True)
        raised = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not raised:
            try:
                c.poll(0.1)
            except Boom:
                raised = True
        assert raised
        c.close()
        print("OK")
    """,
    # Dropped without close(): the destructor runs no Python callback, so nothing can raise.
    "garbage_collected_without_close": """
        c = conveyor.Consumer(conf)
        c.subscribe(["t"], on_revoke=boom, on_assign=lambda *a: None)
        poll_until_assigned(c)
        del c
        import gc; gc.collect()
        print("OK")
    """,
    # The interpreter exits while a daemon thread is inside poll() with raising callbacks.
    "interpreter_exit_while_polling": """
        c = conveyor.Consumer(conf)
        c.subscribe(["t"], on_assign=boom, on_revoke=boom, on_lost=boom)
        def loop():
            while True:
                try:
                    c.poll(0.05)
                except Boom:
                    pass
        threading.Thread(target=loop, daemon=True).start()
        time.sleep(1.0)
        print("OK")
        sys.stdout.flush()
    """,
    # Not about callbacks but the same exit path: daemon threads blocked in consume() and in a
    # producer's flush() when the interpreter exits.
    "interpreter_exit_while_consuming_and_flushing": """
        c = conveyor.Consumer(conf)
        c.subscribe(["t"])
        p = conveyor.Producer({"bootstrap.servers": bs, "linger.ms": 50})
        def consume_loop():
            while True:
                c.consume(100, timeout=0.05)
        def produce_loop():
            while True:
                p.produce("t", value=b"x", partition=0)
                p.flush(1.0)
        threading.Thread(target=consume_loop, daemon=True).start()
        threading.Thread(target=produce_loop, daemon=True).start()
        time.sleep(1.0)
        print("OK")
        sys.stdout.flush()
    """,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_callback_exception_never_aborts(name):
    code = PRELUDE + textwrap.dedent(SCENARIOS[name])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode >= 0, f"{name}: killed by signal {-proc.returncode}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"{name}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
    assert proc.stdout.strip().endswith("OK"), proc.stdout
