/*
 * bench/java: produce throughput of conveyor's Java binding, and of Apache Kafka's Java client
 * (kafka-clients) against the same conveyor broker (issue 4, "Speed").
 *
 * Shape of `conveyor_produce_consume_bench --mode=produce` (bench/, C++): RECORDS 100-byte
 * records, acks=1, no compression, linger.ms=5, batch.size=256 KiB, idempotence off, one
 * delivery outcome per record, to partition 0 of a fresh one-partition topic on a broker
 * embedded in this process (io.conveyor.Broker). Timed from the first send to the end of
 * flush(); prints records/s per run and the median.
 *
 *   java -cp java/target/conveyor-0.1.0.jar[:kafka-clients.jar:slf4j-api.jar...] \
  *        bench/java/ProduceBench.java [--records N] [--runs K] [--client conveyor|conveyor-direct|kafka]
 *
 * conveyor: Producer.send(topic, key=null, byte[] value, headers=null, partition=0) →
 * CompletableFuture per record. conveyor-direct: the same with a direct ByteBuffer value.
 * kafka: KafkaProducer<byte[],byte[]>.send(record, callback).
 */

import io.conveyor.Admin;
import io.conveyor.Broker;
import io.conveyor.Producer;
import io.conveyor.RecordMetadata;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

public class ProduceBench {
  public static void main(String[] args) throws Exception {
    long records = 1_000_000;
    int runs = 3;
    String client = "conveyor";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--records" -> records = Long.parseLong(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--client" -> client = args[++i];
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    byte[] value = new byte[100];
    Arrays.fill(value, (byte) 'x');
    double[] rates = new double[runs];
    int warmups = 1; // run -1: JIT warm-up, not counted (the C++ program needs none)
    try (Broker broker = new Broker()) {
      String bootstrap = broker.bootstrapServers();
      for (int run = -warmups; run < runs; run++) {
        String topic = "bench-" + client + "-" + (run + warmups);
        try (Admin admin = new Admin(Map.of("bootstrap.servers", bootstrap))) {
          admin.createTopic(topic, 1);
        }
        long t0;
        long t1;
        if (client.equals("kafka")) {
          long[] times = KafkaSide.run(bootstrap, topic, records, value);
          t0 = times[0];
          t1 = times[1];
        } else {
          Map<String, String> conf = new HashMap<>();
          conf.put("bootstrap.servers", bootstrap);
          conf.put("acks", "1");
          conf.put("linger.ms", "5");
          conf.put("batch.size", "262144");
          conf.put("compression.type", "none");
          conf.put("enable.idempotence", "false");
          AtomicLong failed = new AtomicLong();
          try (Producer p = new Producer(conf)) {
            ByteBuffer direct = ByteBuffer.allocateDirect(100);
            direct.put(value).flip();
            t0 = System.nanoTime();
            for (long i = 0; i < records; i++) {
              CompletableFuture<RecordMetadata> f = client.equals("conveyor-direct")
                  ? p.send(topic, null, direct)
                  : p.send(topic, null, value, null, 0);
              f.whenComplete((md, e) -> { if (e != null) failed.incrementAndGet(); });
            }
            p.flush();
            t1 = System.nanoTime();
          }
          if (failed.get() != 0) throw new IllegalStateException(failed.get() + " records failed");
        }
        double rate = records / ((t1 - t0) / 1e9);
        if (run >= 0) rates[run] = rate;
        System.out.printf("run %d: %s %d records x 100 B in %.3f s: %.0f records/s%n", run, client,
            records, (t1 - t0) / 1e9, rate);
      }
    }
    double[] sorted = rates.clone();
    Arrays.sort(sorted);
    System.out.printf("%s median: %.0f records/s (%d runs)%n", client, sorted[runs / 2], runs);
  }

  /** kafka-clients (on the class path for every client: the source launcher compiles this too). */
  static final class KafkaSide {
    static long[] run(String bootstrap, String topic, long records, byte[] value) throws Exception {
      java.util.Properties pp = new java.util.Properties();
      pp.put("bootstrap.servers", bootstrap);
      pp.put("acks", "1");
      pp.put("linger.ms", "5");
      pp.put("batch.size", "262144");
      pp.put("compression.type", "none");
      pp.put("enable.idempotence", "false");
      pp.put("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
      pp.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
      AtomicLong failed = new AtomicLong();
      long t0;
      long t1;
      try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> p =
               new org.apache.kafka.clients.producer.KafkaProducer<>(pp)) {
        p.partitionsFor(topic); // metadata fetched before timing, as the others connect lazily too
        t0 = System.nanoTime();
        for (long i = 0; i < records; i++) {
          p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, 0, null, value),
              (md, e) -> { if (e != null) failed.incrementAndGet(); });
        }
        p.flush();
        t1 = System.nanoTime();
      }
      if (failed.get() != 0) throw new IllegalStateException(failed.get() + " records failed");
      return new long[] {t0, t1};
    }
  }
}
