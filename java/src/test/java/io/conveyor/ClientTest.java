package io.conveyor;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Broker, Producer, Consumer and Admin against an embedded broker. */
class ClientTest {
  static Broker broker;

  @BeforeAll
  static void start() {
    broker = new Broker();
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  static Map<String, String> conf(String... kv) {
    return ClientTestSupport.conf(broker.bootstrapServers(), kv);
  }

  static byte[] b(String s) { return ClientTestSupport.b(s); }

  static String s(byte[] b) { return ClientTestSupport.s(b); }

  static List<ConsumerRecord> pollUntil(Consumer c, int n, Duration max) {
    List<ConsumerRecord> out = new ArrayList<>();
    long end = System.nanoTime() + max.toNanos();
    while (out.size() < n && System.nanoTime() < end) {
      for (ConsumerRecord r : c.poll(Duration.ofMillis(200))) out.add(r);
    }
    return out;
  }

  @Test
  void brokerReportsItsAddress() {
    assertTrue(broker.isRunning());
    assertEquals("127.0.0.1:" + broker.port(), broker.bootstrapServers());
    assertTrue(broker.port() > 0);
    assertFalse(broker.dataDir().isEmpty());
  }

  @Test
  void produceThenConsumeInAGroupWithHeadersAndCommit() throws Exception {
    String topic = "orders-group";
    try (Admin admin = new Admin(conf())) {
      admin.createTopic(topic, 3);
    }
    int n = 60;
    List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
    List<Thread> callbackThreads = new CopyOnWriteArrayList<>();
    try (Producer p = new Producer(conf("linger.ms", "5"))) {
      for (int i = 0; i < n; i++) {
        List<Header> hs = List.of(new Header("trace", b("t" + i)), new Header("nullv", null));
        CompletableFuture<RecordMetadata> f = p.send(topic, b("k" + i), b("v" + i), hs, null);
        f.thenRun(() -> callbackThreads.add(Thread.currentThread()));
        futures.add(f);
      }
      // completed by the internal poller thread without flush
      RecordMetadata first = futures.get(0).get(30, TimeUnit.SECONDS);
      assertEquals(topic, first.topic());
      assertTrue(first.offset() >= 0);
      p.flush();
      for (CompletableFuture<RecordMetadata> f : futures) assertTrue(f.isDone() && !f.isCompletedExceptionally());
    }
    for (Thread t : callbackThreads) {
      assertTrue(t.getName().equals("conveyor-producer-poller") || t == Thread.currentThread(),
          "completed on " + t.getName());
    }
    List<String> events = new CopyOnWriteArrayList<>();
    try (Consumer c = new Consumer(conf("group.id", "g1", "auto.offset.reset", "earliest",
        "enable.auto.commit", "false"))) {
      c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          events.add("revoked " + partitions.size());
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          events.add("assigned " + partitions.size());
        }
      });
      List<ConsumerRecord> got = pollUntil(c, n, Duration.ofSeconds(60));
      assertEquals(n, got.size());
      assertTrue(events.contains("assigned 3"), events.toString());
      assertEquals(3, c.assignment().size());
      Map<String, ConsumerRecord> byKey = new HashMap<>();
      for (ConsumerRecord r : got) byKey.put(s(r.key()), r);
      ConsumerRecord r7 = byKey.get("k7");
      assertEquals("v7", s(r7.value()));
      assertEquals(2, r7.headers().size());
      assertEquals("trace", r7.headers().get(0).key());
      assertEquals("t7", s(r7.headers().get(0).value()));
      assertNull(r7.headers().get(1).value());
      c.commitSync();
      long total = 0;
      for (int part = 0; part < 3; part++) {
        total += c.committed(new TopicPartition(topic, part), Duration.ofSeconds(30));
      }
      assertEquals(n, total);
    }
    assertTrue(events.contains("revoked 3"), events.toString());
    // A new member of the same group starts after the commits: nothing left.
    try (Consumer c = new Consumer(conf("group.id", "g1", "auto.offset.reset", "earliest"))) {
      c.subscribe(List.of(topic));
      assertEquals(0, pollUntil(c, 1, Duration.ofSeconds(8)).size());
    }
  }

  @Test
  void assignSeekPositionAndDirectBuffers() throws Exception {
    String topic = "assign-seek";
    try (Admin admin = new Admin(conf())) {
      admin.createTopic(topic, 1);
    }
    try (Producer p = new Producer(conf())) {
      for (int i = 0; i < 10; i++) {
        ByteBuffer v = ByteBuffer.allocateDirect(16);
        v.put(b("d" + i)).flip();
        p.send(topic, null, v);
      }
      p.send(new ProducerRecord(topic, 0, 1234L, null, b("last"), null), null).get(30, TimeUnit.SECONDS);
      assertThrows(IllegalArgumentException.class, () -> p.send(topic, null, ByteBuffer.wrap(b("x"))));
    }
    TopicPartition tp = new TopicPartition(topic, 0);
    try (Consumer c = new Consumer(conf("auto.offset.reset", "earliest"))) {
      c.assign(List.of(tp));
      List<ConsumerRecord> all = pollUntil(c, 11, Duration.ofSeconds(30));
      assertEquals(11, all.size());
      assertEquals("d3", s(all.get(3).value()));
      assertNull(all.get(3).key());
      assertEquals(1234L, all.get(10).timestamp());
      assertEquals(11, c.position(tp));
      c.seek(tp, 5);
      List<ConsumerRecord> again = pollUntil(c, 6, Duration.ofSeconds(30));
      assertEquals(5, again.get(0).offset());
      c.seekToBeginning(List.of(tp));
      assertEquals(0, pollUntil(c, 1, Duration.ofSeconds(30)).get(0).offset());
    }
  }

  @Test
  void commitAsyncCallbackRunsInsidePoll() throws Exception {
    String topic = "commit-async";
    try (Admin admin = new Admin(conf())) {
      admin.createTopic(topic, 1);
    }
    try (Producer p = new Producer(conf())) {
      p.send(topic, b("k"), b("v")).get(30, TimeUnit.SECONDS);
    }
    TopicPartition tp = new TopicPartition(topic, 0);
    try (Consumer c = new Consumer(conf("group.id", "async-g", "auto.offset.reset", "earliest",
        "enable.auto.commit", "false"))) {
      c.assign(List.of(tp));
      assertEquals(1, pollUntil(c, 1, Duration.ofSeconds(30)).size());
      List<Object> outcome = new CopyOnWriteArrayList<>();
      Thread me = Thread.currentThread();
      c.commitAsync(Map.of(tp, 1L), (offsets, e) -> {
        outcome.add(offsets);
        outcome.add(e == null ? "ok" : e);
        outcome.add(Thread.currentThread() == me);
      });
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (outcome.isEmpty() && System.nanoTime() < end) c.poll(Duration.ofMillis(100));
      assertEquals(List.of(Map.of(tp, 1L), "ok", true), outcome);
      assertEquals(1, c.committed(tp, Duration.ofSeconds(30)));
    }
  }

  @Test
  void adminTopicsAndGroups() {
    try (Admin admin = new Admin(conf())) {
      admin.createTopic("admin-a", 2, 1, Map.of("retention.ms", "60000"));
      assertThrows(TopicExistsException.class, () -> admin.createTopic("admin-a", 2));
      assertTrue(admin.listTopics().contains("admin-a"));
      Map<String, TopicDescription> d = admin.describeTopics(List.of("admin-a"));
      assertEquals(2, d.get("admin-a").partitions().size());
      assertEquals(36, d.get("admin-a").topicId().length());
      UnknownTopicOrPartitionException e = assertThrows(UnknownTopicOrPartitionException.class,
          () -> admin.describeTopics(List.of("no-such-topic")));
      assertEquals(3, e.errorCode());
      assertTrue(e.isRetriable());
      admin.deleteTopic("admin-a");
      assertFalse(admin.listTopics().contains("admin-a"));
      GroupDescription g = admin.describeGroup("never-seen");
      assertEquals("Dead", g.state());
      assertTrue(g.members().isEmpty());
      admin.listGroups();
    }
  }

  @Test
  void concurrentSendersAllComplete() throws Exception {
    String topic = "concurrent-senders";
    try (Admin admin = new Admin(conf())) {
      admin.createTopic(topic, 2);
    }
    List<CompletableFuture<RecordMetadata>> all = new CopyOnWriteArrayList<>();
    try (Producer p = new Producer(conf())) {
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        final int tt = t;
        Thread th = new Thread(() -> {
          for (int i = 0; i < 2500; i++) all.add(p.send(topic, b(tt + "-" + i), b("v")));
        });
        threads.add(th);
        th.start();
      }
      for (Thread th : threads) th.join();
      CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
    }
    assertEquals(10_000, all.size());
    Set<String> seen = new java.util.HashSet<>();
    for (CompletableFuture<RecordMetadata> f : all) seen.add(f.get().partition() + ":" + f.get().offset());
    assertEquals(10_000, seen.size(), "every record has its own offset");
  }

  @Test
  void listenerExceptionIsRethrownFromPoll() {
    String topic = "listener-throws";
    try (Admin admin = new Admin(conf())) {
      admin.createTopic(topic, 1);
    }
    try (Consumer c = new Consumer(conf("group.id", "throwing-listener"))) {
      c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          throw new IllegalStateException("listener says no");
        }
      });
      IllegalStateException e = null;
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (e == null && System.nanoTime() < end) {
        try {
          c.poll(Duration.ofMillis(200));
        } catch (IllegalStateException thrown) {
          e = thrown;
        }
      }
      assertNotNull(e, "poll never rethrew the listener's exception");
      assertEquals("listener says no", e.getMessage());
      c.poll(Duration.ofMillis(10)); // the consumer stays usable
    }
  }
}
