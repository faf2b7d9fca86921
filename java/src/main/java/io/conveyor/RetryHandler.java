package io.conveyor;

import io.conveyor.internal.ConveyorNative;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * The retry / dead-letter loop (conveyor's {@code conveyor_retry_handler_*}): polls a consumer,
 * hands each record to a {@link RecordHandler}, retries a failing record up to
 * {@code max.retries} more times with exponential backoff ({@code retry.backoff.ms} doubling
 * up to {@code retry.backoff.max.ms}, KIP-580's shape), then writes it to a dead-letter topic
 * ({@code dead.letter.topic}, or the original topic + {@code dead.letter.topic.suffix},
 * ".DLT" by default, Spring Kafka's convention) with the headers
 * {@code conveyor.dlt.original.topic/partition/offset/timestamp}, {@code conveyor.dlt.error}
 * and {@code conveyor.dlt.attempts}, and commits past it. At-least-once: handled records are
 * committed after each polled batch.
 *
 * <p>Configuration (all optional): {@code max.retries} (3), {@code retry.backoff.ms} (100),
 * {@code retry.backoff.max.ms} (1000), {@code dead.letter.topic}, {@code dead.letter.topic.suffix},
 * {@code dead.letter.timeout.ms} (30000), {@code max.poll.records} (500).
 *
 * <p>The consumer (subscribed or assigned, with {@code enable.auto.commit=false}) and the
 * producer must outlive the handler. {@link #run} is for one thread at a time and keeps the
 * consumer busy; {@link #stop()} may be called from any thread.
 */
public final class RetryHandler implements AutoCloseable {
  private final Consumer consumer;
  private final Producer producer;
  private volatile long handle;
  private volatile boolean stopped;

  /**
   * Counters of a handler or of one run. Immutable.
   *
   * @param records records handed to the handler (first attempts)
   * @param succeeded records the handler eventually accepted
   * @param retries handler calls after a failure
   * @param deadLettered records written to a dead-letter topic
   * @param commits successful commits
   * @param commitFailures commits the coordinator refused
   */
  public record Stats(long records, long succeeded, long retries, long deadLettered, long commits,
                      long commitFailures) {
    Stats plus(long[] s) {
      return new Stats(records + s[0], succeeded + s[1], retries + s[2], deadLettered + s[3],
          commits + s[4], commitFailures + s[5]);
    }
  }

  /** Called through JNI for each record. */
  private static final class Bridge {
    private final RecordHandler handler;
    private final long[] meta = new long[5];

    Bridge(RecordHandler handler) { this.handler = handler; }

    @SuppressWarnings("unused")
    String handle(long msg) {
      try {
        handler.handle(Consumer.readMessage(msg, meta));
        return null;
      } catch (Throwable t) {
        String m = t.getMessage();
        return m == null ? t.getClass().getName() : m;
      }
    }
  }

  /**
   * @param consumer the consumer to poll
   * @param producer writes the dead letters
   * @param config retry settings (see the class comment), may be empty
   * @throws InvalidConfigException naming the key
   */
  public RetryHandler(Consumer consumer, Producer producer, Map<String, String> config) {
    this.consumer = Objects.requireNonNull(consumer, "consumer must not be null");
    this.producer = Objects.requireNonNull(producer, "producer must not be null");
    try (NativeConfig conf = new NativeConfig(config, "retry handler")) {
      handle = ConveyorNative.cvj_retry_new(consumer.nativeHandle(), producer.nativeHandle(), conf.handle);
    }
  }

  /**
   * Polls and handles records until {@link #stop()} or until {@code timeout} passed.
   *
   * @param handler the processing of one record
   * @param timeout how long to run
   * @return this run's counters
   * @throws ConveyorException a poll error, or a dead-letter write that failed (the record is
   *     given back, not committed)
   */
  public Stats run(RecordHandler handler, Duration timeout) {
    Objects.requireNonNull(handler, "handler must not be null");
    long deadline = System.nanoTime() + timeout.toNanos();
    Bridge bridge = new Bridge(handler);
    Stats total = new Stats(0, 0, 0, 0, 0, 0);
    long[] s = new long[6];
    // Runs in slices so the producer's poller (and other senders' futures) are served between them.
    while (!stopped) {
      long left = (deadline - System.nanoTime()) / 1_000_000L;
      if (left <= 0) break;
      long h = open();
      int slice = (int) Math.min(left, 500);
      if (!consumer.opLock().tryLock()) {
        throw new java.util.ConcurrentModificationException("Consumer is not safe for multi-threaded access");
      }
      try {
        producer.pollLock().lock();
        try {
          ConveyorNative.cvj_retry_run(h, bridge, slice, s);
        } catch (ConveyorException e) {
          // stop() between slices: the native handler refuses further runs with _STATE
          if (!(stopped && e.errorCode() == -172)) throw e;
          java.util.Arrays.fill(s, 0);
        } finally {
          producer.pollLock().unlock();
        }
      } finally {
        consumer.opLock().unlock();
        producer.completeServed();
      }
      total = total.plus(s);
    }
    return total;
  }

  /** Makes a run return soon; sticky. Thread-safe. */
  public void stop() {
    stopped = true;
    long h = handle;
    if (h != 0) ConveyorNative.cvj_retry_stop(h);
  }

  /** Counters since the handler was created. */
  public Stats stats() {
    long[] s = new long[6];
    ConveyorNative.cvj_retry_stats(open(), s);
    return new Stats(0, 0, 0, 0, 0, 0).plus(s);
  }

  /** Frees the handler (not its consumer or producer). Idempotent; not during a run. */
  @Override
  public synchronized void close() {
    long h = handle;
    handle = 0;
    ConveyorNative.cvj_retry_destroy(h);
  }

  private long open() {
    long h = handle;
    if (h == 0) throw new IllegalStateException("RetryHandler is closed");
    return h;
  }
}
