package io.conveyor;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Helpers shared by the tests. */
final class ClientTestSupport {
  private ClientTestSupport() {}

  /** A client config: bootstrap.servers plus key, value, key, value, ... */
  static Map<String, String> conf(String bootstrapServers, String... kv) {
    Map<String, String> m = new HashMap<>();
    m.put("bootstrap.servers", bootstrapServers);
    for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
    return m;
  }

  static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }

  static String s(byte[] b) { return b == null ? null : new String(b, StandardCharsets.UTF_8); }

  static List<ConsumerRecord> pollUntil(Consumer c, int n, Duration max) {
    List<ConsumerRecord> out = new ArrayList<>();
    long end = System.nanoTime() + max.toNanos();
    while (out.size() < n && System.nanoTime() < end) {
      for (ConsumerRecord r : c.poll(Duration.ofMillis(200))) out.add(r);
    }
    return out;
  }
}
