"""Serves librdkafka's in-memory mock broker on a loopback port, for measuring conveyor's own
clients against the ceiling issue 2 names ("the same client talking to librdkafka's built-in
mock broker"). The mock is the one inside the confluent-kafka wheel (a current librdkafka;
Debian's librdkafka 2.0.2, which kcat uses, answers ApiVersions in a way conveyor's client
rejects — docs/benchmarks.md S4).

    python bench/librdkafka_mock.py [SECONDS]      # prints HOST:PORT, serves SECONDS (600)

then, for example:

    conveyor_produce_consume_bench --bootstrap=HOST:PORT --create-topic=0 --mode=produce

The mock auto-creates topics (4 partitions by default) and keeps records in memory.
"""
import sys
import time

import confluent_kafka


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 600.0
    # A client with test.mock.num.brokers starts the mock cluster inside this process and
    # ignores bootstrap.servers; its metadata tells where the mock broker listens.
    holder = confluent_kafka.Producer({"test.mock.num.brokers": 1, "bootstrap.servers": "unused:1",
                                       "log_level": 0})
    broker = next(iter(holder.list_topics(timeout=10).brokers.values()))
    print(f"{broker.host}:{broker.port}", flush=True)
    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
