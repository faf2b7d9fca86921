package io.conveyor;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Consumer.pause / resume / paused (KafkaConsumer's) and offsetsForTimes against an embedded
 * broker: a paused partition yields nothing while another delivers, resume brings its records
 * in order with none lost or repeated, an unassigned partition is an IllegalStateException
 * naming it, and pause works from a rebalance listener.
 */
class PauseTest {
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

  /** perPartition records "p<partition>-<i>" into each partition, timestamps base + i. */
  static void produce(String topic, int partitions, int perPartition, long base) throws Exception {
    try (Producer p = new Producer(conf("linger.ms", "0"))) {
      for (int part = 0; part < partitions; part++) {
        for (int i = 0; i < perPartition; i++) {
          p.send(new ProducerRecord(topic, part, base + i, null, b("p" + part + "-" + i), null), null);
        }
      }
      p.flush();
    }
  }

  static void pollFor(Consumer c, Duration d, Map<Integer, List<ConsumerRecord>> sink) {
    long end = System.nanoTime() + d.toNanos();
    while (System.nanoTime() < end) {
      for (ConsumerRecord r : c.poll(Duration.ofMillis(50))) {
        sink.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r);
      }
    }
  }

  static boolean pollUntil(Consumer c, Map<Integer, List<ConsumerRecord>> sink, int partition, int n) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (sink.getOrDefault(partition, List.of()).size() < n && System.nanoTime() < end) {
      for (ConsumerRecord r : c.poll(Duration.ofMillis(50))) {
        sink.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r);
      }
    }
    return sink.getOrDefault(partition, List.of()).size() >= n;
  }

  static void assertComplete(List<ConsumerRecord> records, int partition, int n) {
    assertEquals(n, records.size(), "partition " + partition);
    for (int i = 0; i < n; i++) {
      assertEquals(i, records.get(i).offset());
      assertEquals("p" + partition + "-" + i, s(records.get(i).value()));
    }
  }

  @Test
  void pausedPartitionYieldsNothingAndResumesWithoutLoss() throws Exception {
    String topic = "pause-flow";
    try (Admin admin = new Admin(conf())) {
      admin.createTopic(topic, 2);
    }
    produce(topic, 2, 100, 1_700_000_000_000L);
    TopicPartition p0 = new TopicPartition(topic, 0);
    TopicPartition p1 = new TopicPartition(topic, 1);
    Map<Integer, List<ConsumerRecord>> got = new HashMap<>();
    try (Consumer c = new Consumer(conf("auto.offset.reset", "earliest", "max.poll.records", "5",
        "fetch.max.wait.ms", "100"))) {
      c.assign(List.of(p0, p1));
      assertTrue(c.paused().isEmpty());
      assertTrue(pollUntil(c, got, 0, 1));
      c.pause(List.of(p0));
      assertEquals(Set.of(p0), c.paused());
      int before = got.get(0).size();
      long position = got.get(0).get(before - 1).offset() + 1;
      assertEquals(position, c.position(p0));
      assertTrue(pollUntil(c, got, 1, 100));
      pollFor(c, Duration.ofMillis(1000), got);
      assertEquals(before, got.get(0).size(), "records of a paused partition");
      assertEquals(position, c.position(p0));
      c.resume(List.of(p0));
      assertTrue(c.paused().isEmpty());
      assertTrue(pollUntil(c, got, 0, 100));
      pollFor(c, Duration.ofMillis(300), got);
    }
    assertComplete(got.get(0), 0, 100);
    assertComplete(got.get(1), 1, 100);
  }

  @Test
  void unassignedPartitionIsAnIllegalStateNamingIt() {
    String topic = "pause-errors";
    try (Admin admin = new Admin(conf())) {
      admin.createTopic(topic, 2);
    }
    TopicPartition p0 = new TopicPartition(topic, 0);
    TopicPartition p1 = new TopicPartition(topic, 1);
    Consumer c = new Consumer(conf());
    IllegalStateException none = assertThrows(IllegalStateException.class, () -> c.pause(List.of(p0)));
    assertTrue(none.getMessage().contains(topic + "-0"), none.getMessage());
    c.assign(List.of(p0));
    IllegalStateException mixed =
        assertThrows(IllegalStateException.class, () -> c.pause(List.of(p0, p1)));
    assertTrue(mixed.getMessage().contains(topic + "-1"), mixed.getMessage());
    assertTrue(c.paused().isEmpty(), "nothing changes on error");
    c.pause(List.of(p0));
    assertThrows(IllegalStateException.class, () -> c.resume(List.of(p1)));
    assertEquals(Set.of(p0), c.paused());
    assertThrows(NullPointerException.class, () -> c.pause(null));
    c.close();
    assertThrows(IllegalStateException.class, () -> c.pause(List.of(p0)));
  }

  @Test
  void pauseFromTheRebalanceListenerThenResume() throws Exception {
    String topic = "pause-group";
    try (Admin admin = new Admin(conf())) {
      admin.createTopic(topic, 2);
    }
    produce(topic, 2, 10, 1_700_000_000_000L);
    Map<Integer, List<ConsumerRecord>> got = new HashMap<>();
    try (Consumer c = new Consumer(conf("group.id", "pause-group", "auto.offset.reset", "earliest",
        "session.timeout.ms", "6000", "heartbeat.interval.ms", "300", "fetch.max.wait.ms", "100"))) {
      List<Collection<TopicPartition>> assigned = new ArrayList<>();
      c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          assigned.add(partitions);
          c.pause(partitions); // Kafka allows consumer calls from the listener
        }
      });
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
      while (c.assignment().size() < 2 && System.nanoTime() < end) pollFor(c, Duration.ofMillis(100), got);
      assertEquals(2, c.assignment().size());
      pollFor(c, Duration.ofMillis(1500), got);
      assertTrue(got.isEmpty(), "records while every partition is paused: " + got);
      assertEquals(c.assignment(), c.paused());
      c.resume(c.paused());
      assertTrue(pollUntil(c, got, 0, 10));
      assertTrue(pollUntil(c, got, 1, 10));
    }
    assertComplete(got.get(0), 0, 10);
    assertComplete(got.get(1), 1, 10);
  }

  @Test
  void offsetsForTimesMapsTimestampsToOffsets() throws Exception {
    String topic = "pause-times";
    try (Admin admin = new Admin(conf())) {
      admin.createTopic(topic, 1);
    }
    long base = 1_700_000_000_000L;
    produce(topic, 1, 10, base); // offset i has timestamp base + i
    TopicPartition tp = new TopicPartition(topic, 0);
    try (Consumer c = new Consumer(conf())) {
      Map<TopicPartition, Long> query = new LinkedHashMap<>();
      query.put(tp, base + 4);
      Map<TopicPartition, Long> r = c.offsetsForTimes(query, Duration.ofSeconds(30));
      assertEquals(Map.of(tp, 4L), r);
      query.put(tp, base + 1000); // after the last record: null, as Kafka
      r = c.offsetsForTimes(query, Duration.ofSeconds(30));
      assertTrue(r.containsKey(tp));
      assertNull(r.get(tp));
      query.put(tp, 0L);
      assertEquals(0L, c.offsetsForTimes(query, Duration.ofSeconds(30)).get(tp));
      query.put(tp, -5L);
      assertThrows(IllegalArgumentException.class, () -> c.offsetsForTimes(query, Duration.ofSeconds(1)));
      assertTrue(c.offsetsForTimes(Map.of(), Duration.ofSeconds(1)).isEmpty());
    }
  }
}
