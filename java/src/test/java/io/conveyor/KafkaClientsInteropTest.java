package io.conveyor;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Apache Kafka's Java client (org.apache.kafka:kafka-clients; 4.x in the default surefire run,
 * 3.9.x in the kafka-clients-3.9 execution of pom.xml) against a conveyor broker embedded
 * through {@link Broker}: the producer with its defaults (idempotence on, acks=all), a consumer
 * in a group, AdminClient create/list/describe topics, and records crossing between
 * kafka-clients and conveyor's Java clients.
 */
class KafkaClientsInteropTest {
  static Broker broker;

  @BeforeAll
  static void start() {
    broker = new Broker();
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  @Test
  void runsTheExpectedKafkaClientsVersion() {
    String expected = System.getProperty("expected.kafka.clients");
    String version = AppInfoParser.getVersion();
    if (expected != null) assertEquals(expected, version);
    else assertTrue(version.startsWith("4."), version);
  }

  @Test
  void adminProducerAndGroupConsumer() throws Exception {
    String topic = "interop-" + AppInfoParser.getVersion().replace('.', '-');
    Properties ap = new Properties();
    ap.put("bootstrap.servers", broker.bootstrapServers());
    try (AdminClient admin = AdminClient.create(ap)) {
      admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(60, TimeUnit.SECONDS);
      Set<String> names = admin.listTopics().names().get(60, TimeUnit.SECONDS);
      assertTrue(names.contains(topic), names.toString());
      var desc = admin.describeTopics(List.of(topic)).allTopicNames().get(60, TimeUnit.SECONDS).get(topic);
      assertEquals(3, desc.partitions().size());
      assertEquals(1, desc.partitions().get(0).replicas().size());
    }

    Properties pp = new Properties();
    pp.put("bootstrap.servers", broker.bootstrapServers());
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    int n = 50;
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp)) {
      List<Future<org.apache.kafka.clients.producer.RecordMetadata>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        fs.add(p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic,
            ("k" + i).getBytes(StandardCharsets.UTF_8), ("kafka-" + i).getBytes(StandardCharsets.UTF_8))));
      }
      for (var f : fs) assertTrue(f.get(60, TimeUnit.SECONDS).offset() >= 0);
    }
    // conveyor's producer writes to the same topic
    try (Producer p = new Producer(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      for (int i = 0; i < n; i++) {
        p.send(topic, ("c" + i).getBytes(StandardCharsets.UTF_8), ("conveyor-" + i).getBytes(StandardCharsets.UTF_8));
      }
      p.flush();
    }

    Properties cp = new Properties();
    cp.put("bootstrap.servers", broker.bootstrapServers());
    cp.put(ConsumerConfig.GROUP_ID_CONFIG, "kafka-clients-" + AppInfoParser.getVersion());
    cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    int kafka = 0;
    int conveyor = 0;
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp)) {
      c.subscribe(List.of(topic));
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (kafka + conveyor < 2 * n && System.nanoTime() < end) {
        for (var r : c.poll(Duration.ofMillis(500))) {
          String v = new String(r.value(), StandardCharsets.UTF_8);
          if (v.startsWith("kafka-")) kafka++;
          else if (v.startsWith("conveyor-")) conveyor++;
        }
      }
      assertEquals(n, kafka);
      assertEquals(n, conveyor);
      assertEquals(3, c.assignment().size());
      c.commitSync();
    }
    // conveyor's consumer in the same group sees the group's commits: nothing left
    try (Consumer c = new Consumer(Map.of("bootstrap.servers", broker.bootstrapServers(),
        "group.id", "kafka-clients-" + AppInfoParser.getVersion(), "auto.offset.reset", "earliest"))) {
      long committed = 0;
      for (int part = 0; part < 3; part++) committed += c.committed(new TopicPartition(topic, part), Duration.ofSeconds(30));
      assertEquals(2L * n, committed);
    }
  }
}
