"""A consumer-group member process for tests/interop/test_group_failover.py.

    python group_member.py CLIENT BOOTSTRAP GROUP TOPIC

CLIENT is "confluent" (confluent-kafka) or "conveyor". The member subscribes with the range
assignor, auto-commit off, and loops: poll a small batch, print one line per record
("rec PARTITION OFFSET"), commit the batch synchronously, print "committed PARTITION NEXT"
per partition, then sleep a little so the group is still busy when the test kills a member.
It also prints "assigned P,P,..." on every assignment. Runs until killed or stdin closes.
"""
import sys
import threading
import time

SESSION_TIMEOUT_MS = 6000  # Apache Kafka's group.min.session.timeout.ms default


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> int:
    client, bootstrap, group, topic = sys.argv[1:5]
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "session.timeout.ms": SESSION_TIMEOUT_MS,
            "heartbeat.interval.ms": 500, "partition.assignment.strategy": "range"}
    if client == "confluent":
        import confluent_kafka as ck

        c = ck.Consumer(conf)
        c.subscribe([topic], on_assign=lambda cons, parts: out(
            "assigned " + ",".join(str(p.partition) for p in parts)))

        def batch():
            msgs = c.consume(20, timeout=0.2)
            for m in msgs:
                if m.error():
                    raise RuntimeError(str(m.error()))
            return [(m.partition(), m.offset()) for m in msgs]

        def commit(nexts):
            c.commit(offsets=[ck.TopicPartition(topic, p, o) for p, o in nexts.items()], asynchronous=False)
    elif client == "conveyor":
        import conveyor

        c = conveyor.Consumer(conf)
        c.subscribe([topic], on_assign=lambda cons, parts: out(
            "assigned " + ",".join(str(p.partition) for p in parts)))

        def batch():
            return [(r.partition, r.offset) for r in c.consume(20, timeout=0.2)]

        def commit(nexts):
            c.commit(offsets=[conveyor.TopicPartition(topic, p, o) for p, o in nexts.items()])
    else:
        raise SystemExit(f"unknown client {client}")
    out("started")
    while not stop.is_set():
        recs = batch()
        if not recs:
            continue
        nexts = {}
        for p, o in recs:
            out(f"rec {p} {o}")
            nexts[p] = o + 1
        commit(nexts)
        for p, o in sorted(nexts.items()):
            out(f"committed {p} {o}")
        time.sleep(0.05)
    c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
