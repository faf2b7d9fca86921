/*
 * The Java side of tests/interop/test_cross_language.py: two consumers of conveyor's Java
 * binding in one consumer group (threads of this JVM) read a topic until they have seen
 * --expect records between them; each record's value is printed once per delivery as
 * "java <value>", and offsets are committed as they go.
 *
 *   java -cp java/target/conveyor-0.1.0.jar JavaGroup.java BOOTSTRAP GROUP TOPIC EXPECT
 */
import io.conveyor.Consumer;
import io.conveyor.ConsumerRecord;
import io.conveyor.ConsumerRecords;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

public class JavaGroup {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], group = args[1], topic = args[2];
    int expect = Integer.parseInt(args[3]);
    AtomicInteger seen = new AtomicInteger();
    long deadline = System.currentTimeMillis() + 120_000;
    Thread[] members = new Thread[2];
    for (int m = 0; m < members.length; m++) {
      members[m] = new Thread(() -> {
        Map<String, String> conf = Map.of("bootstrap.servers", bootstrap, "group.id", group,
            "auto.offset.reset", "earliest", "enable.auto.commit", "false");
        try (Consumer consumer = new Consumer(conf)) {
          consumer.subscribe(List.of(topic));
          while (seen.get() < expect && System.currentTimeMillis() < deadline) {
            ConsumerRecords records = consumer.poll(Duration.ofMillis(200));
            for (ConsumerRecord r : records) {
              synchronized (System.out) {
                System.out.println("java " + new String(r.value(), StandardCharsets.UTF_8));
              }
              seen.incrementAndGet();
            }
            if (!records.isEmpty()) consumer.commitSync();
          }
        }
      });
      members[m].start();
    }
    for (Thread t : members) t.join();
    System.out.flush();
    System.exit(seen.get() >= expect ? 0 : 1);
  }
}
