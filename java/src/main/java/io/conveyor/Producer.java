package io.conveyor;

import io.conveyor.internal.ConveyorNative;
import io.conveyor.internal.ConveyorNativeConstants;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Kafka producer over conveyor's native client (the shape of Kafka's {@code KafkaProducer}
 * with byte[] keys and values).
 *
 * <p>Configuration: Kafka's "Producer Configs" names ({@code bootstrap.servers}, {@code acks}
 * (default all), {@code enable.idempotence} (default true), {@code linger.ms},
 * {@code batch.size}, {@code compression.type}, {@code buffer.memory}, {@code max.block.ms},
 * {@code delivery.timeout.ms}, ...). An unknown key or bad value throws
 * {@link InvalidConfigException} naming the key.
 *
 * <p>{@code send} is asynchronous and returns a {@link CompletableFuture} of
 * {@link RecordMetadata}. Futures (and {@link Callback}s) are completed on a small internal
 * daemon poller thread, or on the thread calling {@link #flush()}: never on a native thread.
 * Dependent stages attached without an executor run on that thread, so keep them short.
 *
 * <p>Thread-safe: any number of threads may send concurrently. {@link #close()} flushes
 * (up to the given timeout), then fails what is left with a {@link ConveyorException}.
 */
public final class Producer implements AutoCloseable {
  private static final int REPORT_BATCH = 1024;

  private volatile long handle;
  private final ReentrantLock pollLock = new ReentrantLock();
  private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong(1);
  private final long[] reportBuf = new long[REPORT_BATCH * 5];
  private final long maxBlockMs;
  private final Thread poller;
  private final java.util.concurrent.atomic.AtomicInteger inCompletion = new java.util.concurrent.atomic.AtomicInteger();
  private final ThreadLocal<Integer> ownCompletion = ThreadLocal.withInitial(() -> 0);
  private final Object completionMonitor = new Object();
  private final ConcurrentHashMap<String, byte[]> topicCache = new ConcurrentHashMap<>();
  private volatile boolean closing;

  private record Report(long id, int partition, long offset, long timestamp, int code, String message) {}

  private record Pending(String topic, CompletableFuture<RecordMetadata> future, Callback callback) {}

  /**
   * Creates a producer. Connecting is lazy: an unreachable broker shows up as failed futures.
   *
   * @param config producer properties (Kafka's names); must contain {@code bootstrap.servers}
   * @throws InvalidConfigException naming the key
   * @throws NullPointerException for a null map, key or value
   */
  public Producer(Map<String, String> config) {
    try (NativeConfig conf = new NativeConfig(config, "producer")) {
      handle = ConveyorNative.cvj_producer_new(conf.handle);
    }
    String mb = config.get("max.block.ms");
    maxBlockMs = mb == null ? 60_000 : Long.parseLong(mb.trim());
    poller = new Thread(this::pollLoop, "conveyor-producer-poller");
    poller.setDaemon(true);
    poller.start();
  }

  /**
   * Sends a record to a partition chosen by the partitioner.
   *
   * @param topic topic name, not null
   * @param key key bytes or null
   * @param value value bytes or null
   * @return completes with the record's metadata once the broker acknowledged it (per
   *     {@code acks}), or exceptionally with a {@link ConveyorException}
   * @throws IllegalStateException after {@link #close()}
   * @throws NullPointerException if topic is null
   */
  public CompletableFuture<RecordMetadata> send(String topic, byte[] key, byte[] value) {
    return send(topic, key, value, null, null, null);
  }

  /**
   * Sends a record with headers and an optional partition.
   *
   * @param topic topic name, not null
   * @param key key bytes or null
   * @param value value bytes or null
   * @param headers headers or null
   * @param partition partition, or null for the partitioner
   * @return see {@link #send(String, byte[], byte[])}
   */
  public CompletableFuture<RecordMetadata> send(String topic, byte[] key, byte[] value,
                                                List<Header> headers, Integer partition) {
    return send(topic, key, value, headers, partition, null);
  }

  /**
   * Sends a record (Kafka's {@code send(ProducerRecord, Callback)}).
   *
   * @param record the record
   * @param callback called with the outcome (may be null), before the future completes
   * @return see {@link #send(String, byte[], byte[])}
   */
  public CompletableFuture<RecordMetadata> send(ProducerRecord record, Callback callback) {
    Objects.requireNonNull(record, "record must not be null");
    return send(record.topic(), record.key(), record.value(), record.headers(),
        record.partition(), callback, record.timestamp());
  }

  private CompletableFuture<RecordMetadata> send(String topic, byte[] key, byte[] value,
      List<Header> headers, Integer partition, Callback callback) {
    return send(topic, key, value, headers, partition, callback, null);
  }

  private CompletableFuture<RecordMetadata> send(String topic, byte[] key, byte[] value,
      List<Header> headers, Integer partition, Callback callback, Long timestamp) {
    Objects.requireNonNull(topic, "topic must not be null");
    byte[] packed = packHeaders(headers);
    long h = openForSend();
    long id = nextId.getAndIncrement();
    CompletableFuture<RecordMetadata> future = new CompletableFuture<>();
    pending.put(id, new Pending(topic, future, callback));
    int p = partition == null ? ConveyorNativeConstants.CONVEYOR_PARTITION_ANY : partition;
    long ts = timestamp == null ? 0 : timestamp;
    long deadline = 0;
    while (true) {
      try {
        int rc = packed == null
            ? produceFast(h, topicBytes(topic), p, key, value, ts, id)
            : ConveyorNative.cvj_produce(h, topic, p, key, value, packed, ts, id);
        if (rc != 0) throw ConveyorException.forCode(rc, "malformed packed headers");
        return future;
      } catch (ConveyorException e) {
        if (e.errorCode() == ConveyorNativeConstants.CONVEYOR_ERR__QUEUE_FULL) {
          long now = System.nanoTime();
          if (deadline == 0) deadline = now + maxBlockMs * 1_000_000L;
          if (now < deadline && !closing) {
            waitForRoom();
            continue;
          }
        }
        pending.remove(id);
        fail(new Pending(topic, future, callback), e);
        return future;
      }
    }
  }

  /**
   * Sends a record whose key and value are the remaining bytes of direct ByteBuffers (copied
   * before this returns; positions are not changed). Null buffers mean null key/value.
   *
   * @param topic topic name, not null
   * @param key a direct buffer or null
   * @param value a direct buffer or null
   * @return see {@link #send(String, byte[], byte[])}
   * @throws IllegalArgumentException if a buffer is not direct
   */
  public CompletableFuture<RecordMetadata> send(String topic, ByteBuffer key, ByteBuffer value) {
    Objects.requireNonNull(topic, "topic must not be null");
    if (key != null && !key.isDirect()) throw new IllegalArgumentException("key buffer is not direct");
    if (value != null && !value.isDirect()) throw new IllegalArgumentException("value buffer is not direct");
    long h = openForSend();
    long id = nextId.getAndIncrement();
    CompletableFuture<RecordMetadata> future = new CompletableFuture<>();
    pending.put(id, new Pending(topic, future, null));
    long deadline = 0;
    while (true) {
      try {
        ConveyorNative.cvj_produce_direct(h, topic, ConveyorNativeConstants.CONVEYOR_PARTITION_ANY,
            key, key == null ? 0 : key.position(), key == null ? 0 : key.remaining(),
            value, value == null ? 0 : value.position(), value == null ? 0 : value.remaining(), 0, id);
        return future;
      } catch (ConveyorException e) {
        if (e.errorCode() == ConveyorNativeConstants.CONVEYOR_ERR__QUEUE_FULL) {
          long now = System.nanoTime();
          if (deadline == 0) deadline = now + maxBlockMs * 1_000_000L;
          if (now < deadline && !closing) {
            waitForRoom();
            continue;
          }
        }
        pending.remove(id);
        fail(new Pending(topic, future, null), e);
        return future;
      }
    }
  }

  /**
   * Sends everything queued (ignoring {@code linger.ms}) and waits until every record sent
   * before the call is acknowledged or failed; completes their futures on this thread.
   *
   * @throws IllegalStateException after close
   */
  public void flush() {
    flush(-1);
  }

  /**
   * As {@link #flush()}, waiting at most {@code timeout}.
   *
   * @param timeout how long to wait
   * @throws TimeoutException if records are still outstanding after it
   */
  public void flush(Duration timeout) {
    flush(NativeConfig.timeoutMs(timeout));
  }

  private void flush(int timeoutMs) {
    long h = open();
    List<Report> done;
    pollLock.lock();
    try {
      try {
        ConveyorNative.cvj_producer_flush(h, timeoutMs);
      } finally {
        done = drain(h);
      }
    } finally {
      pollLock.unlock();
      // Complete even if flush threw (reports taken before the timeout).
    }
    complete(done);
    // Reports the poller drained before this flush may still be completing on its thread:
    // flush returns only once every record sent before it has a completed future (Kafka's
    // flush contract).
    if (Thread.currentThread() != poller) awaitOtherCompletions();
  }

  /** Records sent but not yet acknowledged or failed. */
  public long outstanding() {
    long h = handle;
    return h == 0 ? 0 : ConveyorNative.cvj_producer_outstanding(h);
  }

  /** Flushes (waiting as long as it takes), then closes. Idempotent. */
  @Override
  public void close() {
    close(Duration.ofMillis(Long.MAX_VALUE));
  }

  /**
   * Flushes for up to {@code timeout}, stops the poller thread, fails records still
   * outstanding with a {@link ConveyorException} and frees the native producer. Idempotent.
   *
   * @param timeout how long to wait for outstanding records
   */
  public void close(Duration timeout) {
    synchronized (this) {
      if (handle == 0 || closing) return;
      closing = true;
    }
    try {
      flush(NativeConfig.timeoutMs(timeout));
    } catch (ConveyorException ignored) {
      // timed out: what is left fails below
    }
    poller.interrupt();
    if (Thread.currentThread() != poller) {
      try {
        poller.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    long h;
    pollLock.lock();
    try {
      h = handle;
      handle = 0;
      complete(drain(h));
      ConveyorNative.cvj_producer_destroy(h);
    } finally {
      pollLock.unlock();
    }
    ConveyorException closed = ConveyorException.forCode(
        ConveyorNativeConstants.CONVEYOR_ERR__DESTROY, "producer closed before the record was delivered");
    for (Long id : List.copyOf(pending.keySet())) {
      Pending p = pending.remove(id);
      if (p != null) fail(p, closed);
    }
  }

  private long open() {
    long h = handle;
    if (h == 0) throw new IllegalStateException("Cannot perform operation after producer has been closed");
    return h;
  }

  /** The native handle; for {@link RetryHandler}. */
  long nativeHandle() { return open(); }

  /** Serialises native poll/flush; for {@link RetryHandler}, whose run may poll this producer. */
  ReentrantLock pollLock() { return pollLock; }

  /** Completes futures whose reports a {@link RetryHandler} run served; pollLock not held. */
  void completeServed() {
    List<Report> done;
    pollLock.lock();
    try {
      long h = handle;
      if (h == 0) return;
      done = drain(h);
    } finally {
      pollLock.unlock();
    }
    complete(done);
  }

  private static int produceFast(long h, byte[] topic, int partition, byte[] key, byte[] value,
      long ts, long id) {
    return ConveyorNative.cvj_produce_fast(h, topic, topic.length, partition, key,
        key == null ? 0 : key.length, value, value == null ? 0 : value.length, ts, id);
  }

  /** NUL-terminated UTF-8 of a topic name, cached (bounded: cleared past 1024 names). */
  private byte[] topicBytes(String topic) {
    byte[] b = topicCache.get(topic);
    if (b == null) {
      byte[] u = topic.getBytes(StandardCharsets.UTF_8);
      b = java.util.Arrays.copyOf(u, u.length + 1);
      if (topicCache.size() >= 1024) topicCache.clear();
      topicCache.put(topic, b);
    }
    return b;
  }

  private long openForSend() {
    if (closing) throw new IllegalStateException("Cannot perform operation after producer has been closed");
    return open();
  }

  private void waitForRoom() {
    if (pollLock.tryLock()) {
      List<Report> done;
      try {
        long h = handle;
        if (h == 0) return;
        ConveyorNative.cvj_producer_poll(h, 10);
        done = drain(h);
      } finally {
        pollLock.unlock();
      }
      complete(done);
    } else {
      Thread.onSpinWait();
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ConveyorException(ConveyorNativeConstants.CONVEYOR_ERR__QUEUE_FULL, "_QUEUE_FULL",
            "interrupted while waiting for buffer.memory", true, false);
      }
    }
  }

  private void pollLoop() {
    while (!closing && !Thread.currentThread().isInterrupted()) {
      List<Report> done = null;
      pollLock.lock();
      try {
        long h = handle;
        if (h == 0) break;
        ConveyorNative.cvj_producer_poll(h, 50);
        done = drain(h);
      } catch (RuntimeException e) {
        // poll itself reports nothing but argument errors; keep serving
      } finally {
        pollLock.unlock();
      }
      if (done != null) complete(done);
    }
  }

  /** Takes every queued delivery report; pollLock held. Error messages are taken with their reports. */
  private List<Report> drain(long h) {
    List<Report> out = new ArrayList<>();
    try {
      drainInto(h, out);
    } finally {
      // Counted until complete() has run them: flush() waits for other threads' batches.
      inCompletion.addAndGet(out.size());
      ownCompletion.set(ownCompletion.get() + out.size());
    }
    return out;
  }


  private void drainInto(long h, List<Report> out) {
    while (true) {
      int n = ConveyorNative.cvj_producer_take_reports(h, reportBuf);
      for (int i = 0; i < n; i++) {
        int b = i * 5;
        int code = (int) reportBuf[b + 4];
        String message = null;
        if (code != 0) {
          message = ConveyorNative.cvj_producer_take_error_message(h);
          if (message == null) message = "delivery failed";
        }
        out.add(new Report(reportBuf[b], (int) reportBuf[b + 1], reportBuf[b + 2], reportBuf[b + 3], code, message));
      }
      if (n < REPORT_BATCH) break;
    }
  }

  private void complete(List<Report> reports) {
    try {
      completeAll(reports);
    } finally {
      ownCompletion.set(ownCompletion.get() - reports.size());
      if (inCompletion.addAndGet(-reports.size()) == 0) {
        synchronized (completionMonitor) {
          completionMonitor.notifyAll();
        }
      }
    }
  }

  /** Waits until reports drained by other threads (the poller) have completed their futures. */
  private void awaitOtherCompletions() {
    synchronized (completionMonitor) {
      while (inCompletion.get() - ownCompletion.get() > 0) {
        try {
          completionMonitor.wait(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private void completeAll(List<Report> reports) {
    for (Report r : reports) {
      Pending p = pending.remove(r.id());
      if (p == null) continue;
      if (r.code() == 0) {
        RecordMetadata md = new RecordMetadata(p.topic(), r.partition(), r.offset(), r.timestamp());
        if (p.callback() != null) {
          try {
            p.callback().onCompletion(md, null);
          } catch (RuntimeException ignored) {
            // a callback's exception must not stop other completions
          }
        }
        p.future().complete(md);
      } else {
        fail(p, ConveyorException.forCode(r.code(), r.message()));
      }
    }
  }

  private static void fail(Pending p, ConveyorException e) {
    if (p.callback() != null) {
      try {
        p.callback().onCompletion(null, e);
      } catch (RuntimeException ignored) {
        // see complete()
      }
    }
    p.future().completeExceptionally(e);
  }

  private static byte[] packHeaders(List<Header> headers) {
    if (headers == null || headers.isEmpty()) return null;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Header hd : headers) {
      if (hd == null) throw new NullPointerException("header must not be null");
      byte[] k = hd.key().getBytes(StandardCharsets.UTF_8);
      writeInt(out, k.length + 1);
      out.write(k, 0, k.length);
      out.write(0);
      byte[] v = hd.value();
      writeInt(out, v == null ? -1 : v.length);
      if (v != null) out.write(v, 0, v.length);
    }
    return out.toByteArray();
  }

  private static void writeInt(ByteArrayOutputStream out, int v) {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }
}
