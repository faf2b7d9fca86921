package io.conveyor;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The retry / dead-letter helper against an embedded broker. */
class RetryHandlerTest {
  @Test
  void failingRecordsAreRetriedThenDeadLettered() throws Exception {
    try (Broker broker = new Broker()) {
      Map<String, String> base = Map.of("bootstrap.servers", broker.bootstrapServers());
      try (Admin a = new Admin(base)) {
        a.createTopic("work", 1);
        a.createTopic("work.DLT", 1);
      }
      try (Producer p = new Producer(base)) {
        for (String v : List.of("ok1", "bad1", "ok2", "bad2", "ok3")) {
          p.send("work", v.getBytes(StandardCharsets.UTF_8), v.getBytes(StandardCharsets.UTF_8));
        }
        p.flush();
      }
      Map<String, String> cc = new HashMap<>(base);
      cc.put("group.id", "workers");
      cc.put("auto.offset.reset", "earliest");
      cc.put("enable.auto.commit", "false");
      List<String> seen = new ArrayList<>();
      try (Consumer c = new Consumer(cc); Producer dlt = new Producer(base)) {
        c.subscribe(List.of("work"));
        try (RetryHandler rh = new RetryHandler(c, dlt, Map.of("max.retries", "2", "retry.backoff.ms", "10"))) {
          RetryHandler.Stats total = new RetryHandler.Stats(0, 0, 0, 0, 0, 0);
          long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
          while (rh.stats().deadLettered() < 2 || rh.stats().succeeded() < 3) {
            assertTrue(System.nanoTime() < end, "timed out: " + rh.stats());
            rh.run(r -> {
              String v = new String(r.value(), StandardCharsets.UTF_8);
              seen.add(v);
              if (v.startsWith("bad")) throw new IllegalStateException("cannot handle " + v);
            }, Duration.ofSeconds(1));
          }
          RetryHandler.Stats st = rh.stats();
          assertEquals(2, st.deadLettered());
          assertEquals(3, st.succeeded());
          assertEquals(4, st.retries());
          rh.stop();
          assertEquals(0, rh.run(r -> {}, Duration.ofSeconds(1)).records());
        }
        assertEquals(3, seen.stream().filter(v -> v.equals("bad1")).count());
        assertEquals(1, c.committed(new TopicPartition("work", 0), Duration.ofSeconds(30)) >= 5 ? 1 : 0);
      }
      try (Consumer d = new Consumer(Map.of("bootstrap.servers", broker.bootstrapServers(),
          "auto.offset.reset", "earliest"))) {
        d.assign(List.of(new TopicPartition("work.DLT", 0)));
        List<ConsumerRecord> got = ClientTestSupport.pollUntil(d, 2, Duration.ofSeconds(30));
        assertEquals(2, got.size());
        ConsumerRecord r = got.get(0);
        assertEquals("bad1", new String(r.value(), StandardCharsets.UTF_8));
        Map<String, String> h = new HashMap<>();
        for (Header hd : r.headers()) h.put(hd.key(), hd.value() == null ? null : new String(hd.value(), StandardCharsets.UTF_8));
        assertEquals("work", h.get("conveyor.dlt.original.topic"));
        assertEquals("1", h.get("conveyor.dlt.original.offset"));
        assertEquals("3", h.get("conveyor.dlt.attempts"));
        assertEquals("cannot handle bad1", h.get("conveyor.dlt.error"));
      }
    }
  }
}
