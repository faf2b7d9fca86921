"""At-most-once: commit the position first, then process. A crash after the commit and before
the batch is fully processed loses the rest of that batch (it is never handed out again);
nothing is processed twice.

    python examples/python/at_most_once.py [--bootstrap-server HOST:PORT] [--crash-after N]

See docs/delivery-semantics.md. Prints delivered counts; expect duplicates=0 and lost>0."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conveyor  # noqa: E402
from _harness import MAX_POLL_RECORDS, Results, consumer_config, run, split  # noqa: E402


def worker(target: str, results: str, crash_after: int) -> None:
    bootstrap, topic = split(target)
    out = Results(results)
    with conveyor.Consumer(consumer_config(bootstrap, "at-most-once")) as consumer:
        consumer.subscribe([topic])
        idle = 0
        while idle < 10:  # done after ~2 s without records, once partitions are assigned
            batch = consumer.consume(MAX_POLL_RECORDS, timeout=0.2)
            if not batch:
                idle += 1 if consumer.assignment() else 0
                continue
            idle = 0
            consumer.commit()  # 1. commit the positions after this batch...
            for record in batch:  # 2. ...then process it: a crash here loses the rest
                out.record(record)
                out.maybe_crash(crash_after)


if __name__ == "__main__":
    run(__file__, "at-most-once", __doc__, worker)
