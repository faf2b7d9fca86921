"""At-least-once: process, then commit. A crash after processing and before the commit hands
the uncommitted records out again after the restart: nothing is lost, some records are
processed twice.

    python examples/python/at_least_once.py [--bootstrap-server HOST:PORT] [--crash-after N]

See docs/delivery-semantics.md. Prints delivered counts; expect lost=0 and duplicates>0."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conveyor  # noqa: E402
from _harness import MAX_POLL_RECORDS, Results, consumer_config, run, split  # noqa: E402


def worker(target: str, results: str, crash_after: int) -> None:
    bootstrap, topic = split(target)
    out = Results(results)
    with conveyor.Consumer(consumer_config(bootstrap, "at-least-once")) as consumer:
        consumer.subscribe([topic])
        idle = 0
        while idle < 10:  # done after ~2 s without records, once partitions are assigned
            batch = consumer.consume(MAX_POLL_RECORDS, timeout=0.2)
            if not batch:
                idle += 1 if consumer.assignment() else 0
                continue
            idle = 0
            for record in batch:  # 1. process the batch...
                out.record(record)
                out.maybe_crash(crash_after)
            consumer.commit()  # 2. ...then commit: a crash before this repeats the batch


if __name__ == "__main__":
    run(__file__, "at-least-once", __doc__, worker)
