/*
 * examples/java-service: a small JVM service on conveyor's Java binding.
 *
 * It embeds a conveyor broker (or uses --bootstrap host:port), lets an upstream producer write
 * orders ("order-<n>:<quantity>:<unit price in cents>") to topic "orders", and runs two service
 * workers in consumer group "order-service": each polls orders, prices them, produces a result
 * ("order-<n>:<total cents>") to topic "results" keyed by the order id, and commits its offsets
 * only after the results are acknowledged (at-least-once). A checker then reads "results" and
 * exits 0 if every order has exactly its right total.
 *
 * Run (the jar loads its own native libraries; no -Djava.library.path):
 *   mvn -f java/pom.xml -B -q package -DskipTests
 *   java -cp java/target/conveyor-0.1.0.jar examples/java-service/OrderService.java [--orders N]
 */

import io.conveyor.Admin;
import io.conveyor.Broker;
import io.conveyor.Consumer;
import io.conveyor.ConsumerRebalanceListener;
import io.conveyor.ConsumerRecord;
import io.conveyor.ConsumerRecords;
import io.conveyor.Producer;
import io.conveyor.RecordMetadata;
import io.conveyor.TopicPartition;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

public class OrderService {
  static String str(byte[] b) { return new String(b, StandardCharsets.UTF_8); }

  static byte[] bytes(String s) { return s.getBytes(StandardCharsets.UTF_8); }

  /** One worker: orders in, results out, commit after the results are acknowledged. */
  static void work(String bootstrap, String name, AtomicInteger handled, int total, Consumer consumer)
      throws Exception {
    try (Producer results = new Producer(Map.of("bootstrap.servers", bootstrap, "linger.ms", "5"))) {
      consumer.subscribe(List.of("orders"), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          System.out.println(name + ": revoked " + partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          System.out.println(name + ": assigned " + partitions);
        }
      });
      while (handled.get() < total) {
        ConsumerRecords orders;
        try {
          orders = consumer.poll(Duration.ofMillis(500));
        } catch (io.conveyor.WakeupException e) {
          break;
        }
        List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
        for (ConsumerRecord order : orders) {
          String[] f = str(order.value()).split(":");
          long totalCents = Long.parseLong(f[1]) * Long.parseLong(f[2]);
          sent.add(results.send("results", order.key(), bytes(f[0] + ":" + totalCents)));
        }
        if (sent.isEmpty()) continue;
        CompletableFuture.allOf(sent.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
        consumer.commitSync();
        handled.addAndGet(sent.size());
      }
    }
  }

  public static void main(String[] args) throws Exception {
    int n = 200;
    String bootstrap = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--orders")) n = Integer.parseInt(args[++i]);
      else if (args[i].equals("--bootstrap")) bootstrap = args[++i];
    }
    Broker broker = bootstrap == null ? new Broker() : null;
    if (broker != null) bootstrap = broker.bootstrapServers();
    System.out.println("broker at " + bootstrap);
    try {
      try (Admin admin = new Admin(Map.of("bootstrap.servers", bootstrap))) {
        admin.createTopic("orders", 4);
        admin.createTopic("results", 4);
      }
      Map<String, Long> expected = new HashMap<>();
      try (Producer upstream = new Producer(Map.of("bootstrap.servers", bootstrap))) {
        for (int i = 0; i < n; i++) {
          int qty = 1 + i % 7;
          int cents = 100 + 13 * i;
          expected.put("order-" + i, (long) qty * cents);
          upstream.send("orders", bytes("order-" + i), bytes("order-" + i + ":" + qty + ":" + cents));
        }
        upstream.flush();
      }
      System.out.println("wrote " + n + " orders");

      AtomicInteger handled = new AtomicInteger();
      List<Thread> workers = new ArrayList<>();
      List<Consumer> consumers = new ArrayList<>();
      List<Throwable> errors = new ArrayList<>();
      for (int w = 0; w < 2; w++) {
        String name = "worker-" + w;
        Consumer c = new Consumer(Map.of("bootstrap.servers", bootstrap, "group.id", "order-service",
            "auto.offset.reset", "earliest", "enable.auto.commit", "false", "client.id", name));
        consumers.add(c);
        final String b = bootstrap;
        final int total = n;
        Thread t = new Thread(() -> {
          try {
            work(b, name, handled, total, c);
          } catch (Throwable e) {
            synchronized (errors) { errors.add(e); }
          }
        }, name);
        workers.add(t);
        t.start();
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (handled.get() < n && System.nanoTime() < deadline && errors.isEmpty()) Thread.sleep(100);
      for (Consumer c : consumers) c.wakeup(); // from this thread: ends a worker's blocking poll
      for (Thread t : workers) t.join(60_000);
      for (Consumer c : consumers) c.close();
      if (!errors.isEmpty()) throw new RuntimeException("worker failed", errors.get(0));
      System.out.println("workers handled " + handled.get() + " orders");

      Map<String, Long> got = new ConcurrentHashMap<>();
      try (Consumer checker = new Consumer(Map.of("bootstrap.servers", bootstrap,
          "group.id", "result-checker", "auto.offset.reset", "earliest"))) {
        checker.subscribe(List.of("results"));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (got.size() < n && System.nanoTime() < end) {
          for (ConsumerRecord r : checker.poll(Duration.ofMillis(500))) {
            String[] f = str(r.value()).split(":");
            got.put(f[0], Long.parseLong(f[1]));
          }
        }
      }
      if (!got.equals(expected)) {
        System.err.println("FAIL: " + got.size() + " results of " + n + " orders, or wrong totals");
        System.exit(1);
      }
      System.out.println("OK: " + n + " orders priced by group order-service");
    } finally {
      if (broker != null) broker.close();
    }
  }
}
