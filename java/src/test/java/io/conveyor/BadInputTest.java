package io.conveyor;

import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Closed handles, nulls, bad configuration, wakeup, and a JVM that exits without closing. */
class BadInputTest {
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
    Map<String, String> m = new HashMap<>();
    m.put("bootstrap.servers", broker.bootstrapServers());
    for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
    return m;
  }

  @Test
  void unknownConfigKeyIsNamed() {
    InvalidConfigException e = assertThrows(InvalidConfigException.class,
        () -> new Producer(conf("lingr.ms", "5")));
    assertEquals(40, e.errorCode());
    assertEquals("INVALID_CONFIG", e.errorName());
    assertTrue(e.getMessage().contains("lingr.ms"), e.getMessage());
    assertFalse(e.isRetriable());
    e = assertThrows(InvalidConfigException.class, () -> new Consumer(conf("no.such.key", "x")));
    assertTrue(e.getMessage().contains("no.such.key"), e.getMessage());
    e = assertThrows(InvalidConfigException.class, () -> new Broker(Map.of("num.partitions", "many")));
    assertTrue(e.getMessage().contains("num.partitions"), e.getMessage());
  }

  @Test
  void badValueIsNamed() {
    InvalidConfigException e = assertThrows(InvalidConfigException.class,
        () -> new Producer(conf("linger.ms", "soon")));
    assertTrue(e.getMessage().contains("linger.ms"), e.getMessage());
  }

  @Test
  void nullArgumentsThrowNamingTheArgument() {
    NullPointerException e = assertThrows(NullPointerException.class, () -> new Producer(null));
    assertTrue(e.getMessage().contains("config"), e.getMessage());
    Map<String, String> withNull = conf();
    withNull.put("linger.ms", null);
    e = assertThrows(NullPointerException.class, () -> new Producer(withNull));
    assertTrue(e.getMessage().contains("linger.ms"), e.getMessage());
    try (Producer p = new Producer(conf()); Consumer c = new Consumer(conf()); Admin a = new Admin(conf())) {
      e = assertThrows(NullPointerException.class, () -> p.send(null, null, new byte[1]));
      assertTrue(e.getMessage().contains("topic"), e.getMessage());
      assertThrows(NullPointerException.class, () -> c.subscribe(null));
      assertThrows(NullPointerException.class, () -> c.poll(null));
      assertThrows(NullPointerException.class, () -> c.seek(null, 0));
      assertThrows(NullPointerException.class, () -> a.createTopic(null, 1));
      assertThrows(NullPointerException.class,
          () -> p.send("t", null, null, java.util.Arrays.asList((Header) null), null));
    }
  }

  @Test
  void nativeArgumentErrorsBecomeExceptions() {
    try (Consumer c = new Consumer(conf()); Admin a = new Admin(conf())) {
      ConveyorException e = assertThrows(ConveyorException.class,
          () -> c.seek(new TopicPartition("not-assigned", 0), 3));
      assertEquals(-190, e.errorCode(), e.getMessage());
      e = assertThrows(ConveyorException.class, () -> c.subscribe(List.of("t")));
      assertTrue(e.getMessage().contains("group.id") || e.errorName().contains("GROUP"), e.getMessage());
      e = assertThrows(ConveyorException.class, () -> a.createTopic("bad/name", 1));
      assertEquals(17, e.errorCode(), e.getMessage());
    }
  }

  @Test
  void closedHandlesThrowIllegalState() {
    Producer p = new Producer(conf());
    p.close();
    p.close();
    assertThrows(IllegalStateException.class, () -> p.send("t", null, new byte[1]));
    assertThrows(IllegalStateException.class, p::flush);
    Consumer c = new Consumer(conf());
    c.close();
    c.close();
    c.wakeup();
    assertThrows(IllegalStateException.class, () -> c.poll(Duration.ofMillis(1)));
    assertThrows(IllegalStateException.class, () -> c.assign(List.of(new TopicPartition("t", 0))));
    assertThrows(IllegalStateException.class, c::commitSync);
    Admin a = new Admin(conf());
    a.close();
    a.close();
    assertThrows(IllegalStateException.class, a::listTopics);
    Broker b = new Broker();
    b.close();
    b.close();
    assertFalse(b.isRunning());
  }

  @Test
  void wakeupFromAnotherThreadEndsPoll() throws Exception {
    try (Admin a = new Admin(conf())) {
      a.createTopic("wakeup-topic", 1);
    }
    try (Consumer c = new Consumer(conf("auto.offset.reset", "earliest"))) {
      c.assign(List.of(new TopicPartition("wakeup-topic", 0)));
      CompletableFuture<Throwable> result = new CompletableFuture<>();
      Thread t = new Thread(() -> {
        try {
          c.poll(Duration.ofSeconds(120));
          result.complete(null);
        } catch (Throwable e) {
          result.complete(e);
        }
      });
      long t0 = System.nanoTime();
      t.start();
      Thread.sleep(500);
      c.wakeup();
      Throwable e = result.get(60, TimeUnit.SECONDS);
      assertInstanceOf(WakeupException.class, e);
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(60));
      // wakeup with no poll in progress: the next poll throws, the one after works
      c.wakeup();
      assertThrows(WakeupException.class, () -> c.poll(Duration.ofMillis(10)));
      assertTrue(c.poll(Duration.ofMillis(10)).isEmpty());
    }
  }

  @Test
  void jvmExitWithoutCloseLeavesDataRecoverable(@TempDir Path dir) throws Exception {
    String cp = Paths.get(CrashChild.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        + java.io.File.pathSeparator
        + Paths.get(Broker.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    Process child = new ProcessBuilder(java.toString(), "-cp", cp, "io.conveyor.CrashChild",
        data.toString(), "100").redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String line;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      line = r.readLine();
    }
    assertTrue(child.waitFor(120, TimeUnit.SECONDS));
    assertEquals("READY", line);
    try (Broker b = new Broker(Map.of("log.dirs", data.toString()));
         Consumer c = new Consumer(Map.of("bootstrap.servers", b.bootstrapServers(),
             "auto.offset.reset", "earliest"))) {
      c.assign(List.of(new TopicPartition("crash", 0)));
      List<String> got = new ArrayList<>();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (got.size() < 100 && System.nanoTime() < end) {
        for (ConsumerRecord rec : c.poll(Duration.ofMillis(200))) got.add(new String(rec.value(), StandardCharsets.UTF_8));
      }
      assertEquals(100, got.size());
      assertEquals("r0", got.get(0));
      assertEquals("r99", got.get(99));
    }
  }
}
