package io.conveyor;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Run in a child JVM by BadInputTest: starts a broker on args[0], writes args[1] records to
 * topic "crash", prints READY and halts without closing anything.
 */
public final class CrashChild {
  private CrashChild() {}

  public static void main(String[] args) throws Exception {
    Broker broker = new Broker(Map.of("log.dirs", args[0]));
    Producer p = new Producer(Map.of("bootstrap.servers", broker.bootstrapServers()));
    int n = Integer.parseInt(args[1]);
    for (int i = 0; i < n; i++) p.send("crash", null, ("r" + i).getBytes(StandardCharsets.UTF_8));
    p.flush();
    System.out.println("READY");
    System.out.flush();
    Runtime.getRuntime().halt(0);
  }
}
