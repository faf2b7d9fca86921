package io.conveyor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Helpers shared by the tests. */
final class ClientTestSupport {
  private ClientTestSupport() {}

  static List<ConsumerRecord> pollUntil(Consumer c, int n, Duration max) {
    List<ConsumerRecord> out = new ArrayList<>();
    long end = System.nanoTime() + max.toNanos();
    while (out.size() < n && System.nanoTime() < end) {
      for (ConsumerRecord r : c.poll(Duration.ofMillis(200))) out.add(r);
    }
    return out;
  }
}
