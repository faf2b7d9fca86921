"""Idempotent processing: at-least-once delivery (process, then commit) into a sink that
applies each record's effect at most once, because the effect is keyed by the record's
identity (topic, partition, offset) and written in one transaction. Records delivered twice
after a crash change nothing the second time: the effects have no duplicates and no losses.

    python examples/python/idempotent_processing.py [--bootstrap-server HOST:PORT] [--crash-after N]

See docs/delivery-semantics.md. Prints deliveries (duplicates>0 after the crash) and effects
(duplicates=0, lost=0). The sink is SQLite; any store with a unique key or an upsert works."""
import sqlite3
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conveyor  # noqa: E402
from _harness import MAX_POLL_RECORDS, Results, consumer_config, run, split  # noqa: E402


def open_sink(results: str) -> sqlite3.Connection:
    db = sqlite3.connect(results + ".db", isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS effects (topic TEXT, partition INTEGER, offset INTEGER, "
               "value BLOB, applied INTEGER DEFAULT 1, PRIMARY KEY (topic, partition, offset))")
    return db


def apply_effect(db: sqlite3.Connection, record: conveyor.Record) -> None:
    """The effect, keyed by the record's identity: a second delivery is ignored. (A business
    key, e.g. an order id, works the same way when the producer may send a record twice.)"""
    with db:  # one transaction
        db.execute("INSERT INTO effects (topic, partition, offset, value) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT DO UPDATE SET applied = applied + 0",  # a re-delivery changes nothing
                   (record.topic, record.partition, record.offset, record.value))


def worker(target: str, results: str, crash_after: int) -> None:
    bootstrap, topic = split(target)
    out = Results(results)  # counts deliveries
    db = open_sink(results)
    with conveyor.Consumer(consumer_config(bootstrap, "idempotent")) as consumer:
        consumer.subscribe([topic])
        idle = 0
        while idle < 10:  # done after ~2 s without records, once partitions are assigned
            batch = consumer.consume(MAX_POLL_RECORDS, timeout=0.2)
            if not batch:
                idle += 1 if consumer.assignment() else 0
                continue
            idle = 0
            for record in batch:
                out.record(record)  # delivered
                apply_effect(db, record)  # applied (once, whatever the deliveries)
                out.maybe_crash(crash_after)  # crash after the effect, before the commit
            consumer.commit()


def effects(results: str) -> Counter:
    db = open_sink(results)
    return Counter((p, o) for p, o in db.execute("SELECT partition, offset FROM effects"))


if __name__ == "__main__":
    run(__file__, "idempotent", __doc__, worker, effects)
