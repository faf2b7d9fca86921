"""Retries and a dead-letter topic with conveyor.RetryHandler: every 25th payment is poison
(its handler always raises) and one in ten fails once (a transient error). Transient failures
succeed on a retry; poison records are written to `payments.DLT` after max.retries retries,
with headers naming where they came from and why, and the group's offsets move past them.

    python examples/python/dead_letter.py [--bootstrap-server HOST:PORT]

See docs/delivery-semantics.md ("Retries and dead letters")."""
import argparse
import time

import conveyor

RECORDS = 100


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap-server", help="use this broker instead of an embedded one")
    args = ap.parse_args()
    broker = None if args.bootstrap_server else conveyor.Broker({"group.initial.rebalance.delay.ms": 0})
    conf = {"bootstrap.servers": args.bootstrap_server or broker.bootstrap_servers}
    try:
        admin = conveyor.Admin(conf)
        suffix = str(int(time.time() * 1000))
        topic = f"payments-{suffix}"
        admin.create_topic(topic, partitions=2)
        admin.create_topic(topic + ".DLT", partitions=1)
        with conveyor.Producer(conf) as p:
            for i in range(RECORDS):
                p.produce(topic, key=f"account-{i % 7}".encode(), value=f"payment {i}".encode())
            assert p.flush(30) == 0

        attempts = {}

        def pay(record: conveyor.Record) -> None:
            n = int(record.value.split()[1])
            attempts[n] = attempts.get(n, 0) + 1
            if n % 25 == 0:
                raise ValueError(f"payment {n} is for a closed account")
            if n % 10 == 3 and attempts[n] == 1:
                raise TimeoutError("bank did not answer")  # transient: the retry succeeds

        member = {**conf, "group.id": "payment-service", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False}
        with conveyor.Consumer(member) as consumer, conveyor.Producer(conf) as dlt_producer:
            consumer.subscribe([topic])
            handler = conveyor.RetryHandler(consumer, dlt_producer,
                                            {"max.retries": 2, "retry.backoff.ms": 20})
            deadline = time.monotonic() + 60
            while handler.stats.records < RECORDS and time.monotonic() < deadline:
                handler.run(pay, timeout=0.5)
            st = handler.stats
            print(f"handled={st.records} succeeded={st.succeeded} retries={st.retries} "
                  f"dead_lettered={st.dead_lettered}")
            lag = admin.group_lag("payment-service")
            print(f"group lag after the run: {lag.total_lag}")

        with conveyor.Consumer(conf) as reader:
            reader.assign([conveyor.TopicPartition(topic + ".DLT", 0, conveyor.OFFSET_BEGINNING)])
            dead = []
            deadline = time.monotonic() + 10
            while len(dead) < st.dead_lettered and time.monotonic() < deadline:
                dead += reader.consume(100, timeout=0.2)
        for r in dead:
            h = dict(r.headers)
            print(f"dead letter: {r.value.decode()!r} from {h['conveyor.dlt.original.topic'].decode()}"
                  f"-{h['conveyor.dlt.original.partition'].decode()}@{h['conveyor.dlt.original.offset'].decode()}"
                  f" after {h['conveyor.dlt.attempts'].decode()} attempts: {h['conveyor.dlt.error'].decode()}")
    finally:
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    main()
