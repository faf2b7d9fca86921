package io.conveyor;

import io.conveyor.internal.ConveyorNative;
import io.conveyor.internal.ConveyorNativeConstants;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.ConcurrentModificationException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * A Kafka consumer over conveyor's native client (the shape of Kafka's {@code KafkaConsumer}
 * with byte[] keys and values): group membership with {@link #subscribe}, or manual
 * {@link #assign}; {@link #poll(Duration)}; {@link #commitSync()} / {@link #commitAsync};
 * {@link #seek}; {@link #pause} / {@link #resume} / {@link #paused()};
 * {@link #offsetsForTimes}; {@link #wakeup()}; {@link #close()}.
 *
 * <p>Configuration: Kafka's "Consumer Configs" names ({@code bootstrap.servers},
 * {@code group.id}, {@code auto.offset.reset}, {@code enable.auto.commit},
 * {@code max.poll.records} (500), {@code session.timeout.ms},
 * {@code partition.assignment.strategy}, ...). An unknown key or bad value throws
 * {@link InvalidConfigException} naming the key.
 *
 * <p>Not thread-safe, like Kafka's: one thread at a time (a concurrent call throws
 * {@link ConcurrentModificationException}), except {@link #wakeup()}, which any thread may
 * call. Rebalance-listener and commit callbacks run inside poll/commit/unsubscribe/close on
 * the calling thread. After {@link #close()} every method throws
 * {@link IllegalStateException}.
 */
public final class Consumer implements AutoCloseable {
  private volatile long handle;
  private final Object wakeupGuard = new Object();
  private final ReentrantLock opLock = new ReentrantLock();
  private final AtomicBoolean wakeupRequested = new AtomicBoolean();
  private final int maxPollRecords;
  private final long[] meta = new long[5];
  private volatile ConsumerRebalanceListener listener;
  private final ConcurrentLinkedQueue<OffsetCommitCallback> commitCallbacks = new ConcurrentLinkedQueue<>();

  /** Receives the native rebalance and commit callbacks (called through JNI). */
  private final class Callbacks {
    @SuppressWarnings("unused")
    void onRebalance(int event, String[] topics, int[] partitions) {
      List<TopicPartition> tps = new ArrayList<>(topics.length);
      for (int i = 0; i < topics.length; i++) tps.add(new TopicPartition(topics[i], partitions[i]));
      ConsumerRebalanceListener l = listener;
      if (l == null) return;
      if (event == ConveyorNativeConstants.CONVEYOR_REBALANCE_ASSIGNED) {
        l.onPartitionsAssigned(tps);
      } else if (event == ConveyorNativeConstants.CONVEYOR_REBALANCE_LOST) {
        l.onPartitionsLost(tps);
      } else {
        l.onPartitionsRevoked(tps);
      }
    }

    @SuppressWarnings("unused")
    void onCommit(int code, String message, String[] topics, int[] partitions, long[] offsets) {
      OffsetCommitCallback cb = commitCallbacks.poll();
      if (cb == null) return; // an auto-commit, or a commitAsync without callback
      Map<TopicPartition, Long> m = new LinkedHashMap<>();
      for (int i = 0; i < topics.length; i++) m.put(new TopicPartition(topics[i], partitions[i]), offsets[i]);
      cb.onComplete(m, code == 0 ? null : ConveyorException.forCode(code, message));
    }
  }

  private static final OffsetCommitCallback NO_CALLBACK = (o, e) -> {};

  /**
   * Creates a consumer.
   *
   * @param config consumer properties (Kafka's names)
   * @throws InvalidConfigException naming the key
   * @throws NullPointerException for a null map, key or value
   */
  public Consumer(Map<String, String> config) {
    try (NativeConfig conf = new NativeConfig(config, "consumer")) {
      handle = ConveyorNative.cvj_consumer_new(conf.handle, new Callbacks());
    }
    String mpr = config.get("max.poll.records");
    maxPollRecords = mpr == null ? 500 : Integer.parseInt(mpr.trim());
  }

  /** Joins {@code group.id} subscribed to these topics. @param topics topic names */
  public void subscribe(Collection<String> topics) {
    subscribe(topics, null);
  }

  /**
   * Joins {@code group.id} subscribed to these topics, replacing an earlier subscription.
   * Partitions arrive through {@link #poll}.
   *
   * @param topics topic names, not empty
   * @param listener told about revoked/assigned partitions, or null
   * @throws ConveyorException {@code INVALID_GROUP_ID} without group.id; {@code _STATE} when
   *     partitions were assigned manually
   */
  public void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
    Objects.requireNonNull(topics, "topics must not be null");
    StringBuilder sb = new StringBuilder();
    for (String t : topics) {
      if (t == null || t.isEmpty()) throw new IllegalArgumentException("topic names must not be null or empty");
      if (t.indexOf('\n') >= 0) throw new IllegalArgumentException("invalid topic name: " + t);
      if (sb.length() > 0) sb.append('\n');
      sb.append(t);
    }
    long h = acquire();
    try {
      this.listener = listener;
      ConveyorNative.cvj_consumer_subscribe(h, sb.toString());
    } finally {
      opLock.unlock();
    }
  }

  /**
   * Subscribes to every topic whose whole name matches the pattern (re-checked every
   * {@code metadata.max.age.ms}).
   *
   * @param pattern the regular expression (ECMAScript syntax on the native side; plain
   *     expressions behave as in Java)
   * @param listener rebalance listener or null
   */
  public void subscribe(Pattern pattern, ConsumerRebalanceListener listener) {
    Objects.requireNonNull(pattern, "pattern must not be null");
    long h = acquire();
    try {
      this.listener = listener;
      ConveyorNative.cvj_consumer_subscribe_pattern(h, pattern.pattern());
    } finally {
      opLock.unlock();
    }
  }

  /** Leaves the group (revoking partitions through the listener). No-op if not subscribed. */
  public void unsubscribe() {
    long h = acquire();
    try {
      ConveyorNative.cvj_consumer_unsubscribe(h);
    } finally {
      opLock.unlock();
    }
  }

  /**
   * Replaces the manual assignment; positions come from committed offsets or
   * {@code auto.offset.reset}. An empty collection clears it.
   *
   * @param partitions the partitions
   */
  public void assign(Collection<TopicPartition> partitions) {
    Encoded enc = encode(partitions);
    long h = acquire();
    try {
      ConveyorNative.cvj_consumer_assign(h, enc.topics, enc.pairs);
    } finally {
      opLock.unlock();
    }
  }

  /** The partitions currently assigned (by the group or by {@link #assign}). */
  public Set<TopicPartition> assignment() {
    long h = acquire();
    try {
      String s = ConveyorNative.cvj_consumer_assignment(h);
      Set<TopicPartition> out = new LinkedHashSet<>();
      if (s == null || s.isEmpty()) return out;
      String[] parts = s.split("\n");
      for (int i = 0; i + 1 < parts.length; i += 2) {
        out.add(new TopicPartition(parts[i], Integer.parseInt(parts[i + 1])));
      }
      return out;
    } finally {
      opLock.unlock();
    }
  }

  /**
   * Waits up to {@code timeout} for records (at most {@code max.poll.records}); runs
   * rebalance and commit callbacks.
   *
   * @param timeout how long to wait for the first record
   * @return the records, possibly empty
   * @throws WakeupException if {@link #wakeup()} was called
   * @throws ConveyorException fetch errors (e.g. {@link OffsetOutOfRangeException})
   */
  public ConsumerRecords poll(Duration timeout) {
    int ms = NativeConfig.timeoutMs(timeout);
    long h = acquire();
    try {
      if (wakeupRequested.getAndSet(false)) throw new WakeupException();
      int n = ConveyorNative.cvj_consumer_consume(h, maxPollRecords, ms);
      List<ConsumerRecord> out = new ArrayList<>(n);
      try {
        for (int i = 0; i < n; i++) out.add(read(ConveyorNative.cvj_consumer_batch_get(h, i)));
      } finally {
        ConveyorNative.cvj_consumer_batch_clear(h);
      }
      if (n == 0 && wakeupRequested.getAndSet(false)) throw new WakeupException();
      return new ConsumerRecords(out);
    } finally {
      opLock.unlock();
    }
  }

  private ConsumerRecord read(long msg) {
    return readMessage(msg, meta);
  }

  static ConsumerRecord readMessage(long msg, long[] meta) {
    String topic = ConveyorNative.conveyor_message_topic(msg);
    ConveyorNative.cvj_message_meta(msg, meta);
    byte[] key = ConveyorNative.cvj_message_key(msg);
    byte[] value = ConveyorNative.cvj_message_value(msg);
    int hc = (int) meta[4];
    List<Header> headers = List.of();
    if (hc > 0) {
      headers = new ArrayList<>(hc);
      for (int i = 0; i < hc; i++) {
        headers.add(new Header(ConveyorNative.cvj_message_header_key(msg, i),
            ConveyorNative.cvj_message_header_value(msg, i)));
      }
    }
    return new ConsumerRecord(topic, (int) meta[0], meta[1], meta[2],
        meta[3] == ConveyorNativeConstants.CONVEYOR_TIMESTAMP_LOG_APPEND_TIME, key, value, headers);
  }

  /** Commits the current positions of every assigned partition and waits for the answer. */
  public void commitSync() {
    commit(null, false, -1);
  }

  /**
   * Commits these offsets (each the NEXT offset to consume) and waits.
   *
   * @param offsets partition to offset
   * @throws ConveyorException e.g. {@code REBALANCE_IN_PROGRESS}, {@code ILLEGAL_GENERATION}
   */
  public void commitSync(Map<TopicPartition, Long> offsets) {
    Objects.requireNonNull(offsets, "offsets must not be null");
    commit(offsets, false, -1);
  }

  /**
   * Commits the current positions without waiting; the outcome goes to {@code callback} inside
   * a later poll. Callbacks are matched to commits in order, so do not mix with
   * {@code enable.auto.commit=true}.
   *
   * @param callback outcome, or null
   */
  public void commitAsync(OffsetCommitCallback callback) {
    commit(null, true, callback == null ? NO_CALLBACK : callback);
  }

  /**
   * As {@link #commitAsync(OffsetCommitCallback)} with explicit offsets.
   *
   * @param offsets partition to next offset
   * @param callback outcome, or null
   */
  public void commitAsync(Map<TopicPartition, Long> offsets, OffsetCommitCallback callback) {
    Objects.requireNonNull(offsets, "offsets must not be null");
    commit(offsets, true, callback == null ? NO_CALLBACK : callback);
  }

  private void commit(Map<TopicPartition, Long> offsets, boolean async, Object cb) {
    StringBuilder sb = new StringBuilder();
    long[] pairs = new long[offsets == null ? 0 : offsets.size() * 2];
    if (offsets != null) {
      int i = 0;
      for (Map.Entry<TopicPartition, Long> e : offsets.entrySet()) {
        if (e.getKey() == null || e.getValue() == null) throw new NullPointerException("offsets must not hold null");
        if (i > 0) sb.append('\n');
        sb.append(e.getKey().topic());
        pairs[2 * i] = e.getKey().partition();
        pairs[2 * i + 1] = e.getValue();
        i++;
      }
    }
    long h = acquire();
    try {
      if (async) commitCallbacks.add((OffsetCommitCallback) cb);
      try {
        ConveyorNative.cvj_consumer_commit(h, sb.toString(), pairs, async ? 1 : 0, -1);
      } catch (RuntimeException e) {
        if (async) commitCallbacks.remove(cb);
        throw e;
      }
    } finally {
      opLock.unlock();
    }
  }

  /**
   * The group's committed offset for a partition.
   *
   * @param tp the partition
   * @param timeout how long to wait
   * @return the committed offset, or -1 if none
   */
  public long committed(TopicPartition tp, Duration timeout) {
    Objects.requireNonNull(tp, "partition must not be null");
    int ms = NativeConfig.timeoutMs(timeout);
    long h = acquire();
    try {
      return ConveyorNative.cvj_consumer_committed(h, tp.topic(), tp.partition(), ms);
    } finally {
      opLock.unlock();
    }
  }

  /**
   * The offset of the next record poll returns for an assigned partition.
   *
   * @param tp the partition
   * @return the position
   * @throws ConveyorException {@code _UNKNOWN_PARTITION} if not assigned, {@code _STATE} if
   *     not known yet
   */
  public long position(TopicPartition tp) {
    Objects.requireNonNull(tp, "partition must not be null");
    long h = acquire();
    try {
      return ConveyorNative.cvj_consumer_position(h, tp.topic(), tp.partition());
    } finally {
      opLock.unlock();
    }
  }

  /**
   * Moves the position of an assigned partition.
   *
   * @param tp the partition
   * @param offset the next offset to read
   * @throws ConveyorException {@code _UNKNOWN_PARTITION} if not assigned
   */
  public void seek(TopicPartition tp, long offset) {
    Objects.requireNonNull(tp, "partition must not be null");
    if (offset < 0) throw new IllegalArgumentException("seek offset must not be negative: " + offset);
    seekRaw(tp, offset);
  }

  /** Seeks each partition to its log start offset. @param partitions assigned partitions */
  public void seekToBeginning(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) seekRaw(tp, ConveyorNativeConstants.CONVEYOR_OFFSET_BEGINNING);
  }

  /** Seeks each partition to its log end offset. @param partitions assigned partitions */
  public void seekToEnd(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) seekRaw(tp, ConveyorNativeConstants.CONVEYOR_OFFSET_END);
  }

  /**
   * Stops fetching these assigned partitions ({@code KafkaConsumer.pause}): {@link #poll}
   * returns none of their records until {@link #resume}, and their positions stay after the
   * last record returned. Records already prefetched for them are dropped and fetched again
   * from the position after resume, so none is lost or returned twice. Group membership goes
   * on: keep calling poll so {@code max.poll.interval.ms} is not exceeded. A partition stays
   * paused across {@link #seek} and an {@link #assign} that keeps it, and (with
   * {@code cooperative-sticky}) across rebalances that keep it; it loses the pause when it
   * leaves the assignment (assign, a rebalance's revocation or loss, unsubscribe). Pausing a
   * paused partition does nothing. Same threading rule as the other methods (one thread at a
   * time; callable from a rebalance listener).
   *
   * @param partitions assigned partitions
   * @throws IllegalStateException naming the partition if one of them is not assigned now
   *     (then nothing changes), or when closed
   */
  public void pause(Collection<TopicPartition> partitions) {
    pauseResume(partitions, true);
  }

  /**
   * Fetching of these partitions restarts at their positions ({@code KafkaConsumer.resume});
   * resuming a partition that is not paused does nothing.
   *
   * @param partitions assigned partitions
   * @throws IllegalStateException as {@link #pause}
   */
  public void resume(Collection<TopicPartition> partitions) {
    pauseResume(partitions, false);
  }

  /**
   * The partitions paused now ({@code KafkaConsumer.paused}), sorted by topic and partition.
   *
   * @return a new set
   */
  public Set<TopicPartition> paused() {
    long h = acquire();
    try {
      return parsePairs(ConveyorNative.cvj_consumer_paused(h));
    } finally {
      opLock.unlock();
    }
  }

  /** Partitions as the JNI layer takes them: topics joined by newlines, (partition, offset) pairs. */
  private static final class Encoded {
    final String topics;
    final long[] pairs;

    Encoded(String topics, long[] pairs) {
      this.topics = topics;
      this.pairs = pairs;
    }
  }

  private static Encoded encode(Collection<TopicPartition> partitions) {
    Objects.requireNonNull(partitions, "partitions must not be null");
    StringBuilder sb = new StringBuilder();
    long[] pairs = new long[partitions.size() * 2];
    int i = 0;
    for (TopicPartition tp : partitions) {
      if (tp == null) throw new NullPointerException("partition must not be null");
      if (i > 0) sb.append('\n');
      sb.append(tp.topic());
      pairs[2 * i] = tp.partition();
      pairs[2 * i + 1] = ConveyorNativeConstants.CONVEYOR_OFFSET_INVALID;
      i++;
    }
    return new Encoded(sb.toString(), pairs);
  }

  private void pauseResume(Collection<TopicPartition> partitions, boolean pause) {
    Encoded enc = encode(partitions);
    long h = acquire();
    try {
      ConveyorNative.cvj_consumer_pause(h, enc.topics, enc.pairs, pause ? 1 : 0);
    } catch (ConveyorException e) {
      // KafkaConsumer throws IllegalStateException("No current assignment for partition ...").
      if (e.errorCode() == ConveyorNativeConstants.CONVEYOR_ERR__STATE) {
        throw new IllegalStateException(e.getMessage(), e);
      }
      throw e;
    } finally {
      opLock.unlock();
    }
  }

  private static Set<TopicPartition> parsePairs(String s) {
    Set<TopicPartition> out = new LinkedHashSet<>();
    if (s == null || s.isEmpty()) return out;
    String[] parts = s.split("\n");
    for (int i = 0; i + 1 < parts.length; i += 2) {
      out.add(new TopicPartition(parts[i], Integer.parseInt(parts[i + 1])));
    }
    return out;
  }

  /**
   * For each partition, the earliest offset whose record timestamp is at or after the given
   * timestamp (ListOffsets by timestamp, KIP-79; {@code KafkaConsumer.offsetsForTimes}).
   * Shape: the values are plain offsets, not Kafka's {@code OffsetAndTimestamp} (the C ABI
   * returns only the offset); a partition without such a record maps to {@code null}, as in
   * Kafka. The partitions need not be assigned. Blocks up to {@code timeout}.
   *
   * @param timestampsToSearch partition to timestamp (epoch ms, &gt;= 0)
   * @param timeout how long to wait for all answers
   * @return a new map in the iteration order of the argument
   * @throws IllegalArgumentException for a negative timestamp
   * @throws TimeoutException if the answers did not come in time
   * @throws ConveyorException broker errors, e.g. {@link UnknownTopicOrPartitionException}
   */
  public Map<TopicPartition, Long> offsetsForTimes(Map<TopicPartition, Long> timestampsToSearch,
                                                   Duration timeout) {
    Objects.requireNonNull(timestampsToSearch, "timestampsToSearch must not be null");
    int ms = NativeConfig.timeoutMs(timeout);
    List<TopicPartition> keys = new ArrayList<>(timestampsToSearch.size());
    StringBuilder sb = new StringBuilder();
    long[] pairs = new long[timestampsToSearch.size() * 2];
    int i = 0;
    for (Map.Entry<TopicPartition, Long> e : timestampsToSearch.entrySet()) {
      if (e.getKey() == null || e.getValue() == null) {
        throw new NullPointerException("timestampsToSearch must not hold null");
      }
      if (e.getValue() < 0) {
        throw new IllegalArgumentException("The target time for partition " + e.getKey()
            + " is " + e.getValue() + ". The target time cannot be negative.");
      }
      if (i > 0) sb.append('\n');
      sb.append(e.getKey().topic());
      pairs[2 * i] = e.getKey().partition();
      pairs[2 * i + 1] = e.getValue();
      keys.add(e.getKey());
      i++;
    }
    Map<TopicPartition, Long> out = new LinkedHashMap<>();
    if (keys.isEmpty()) return out;
    long h = acquire();
    try {
      ConveyorNative.cvj_consumer_offsets_for_times(h, sb.toString(), pairs, ms);
    } finally {
      opLock.unlock();
    }
    for (int j = 0; j < keys.size(); j++) {
      long off = pairs[2 * j + 1];
      out.put(keys.get(j), off >= 0 ? Long.valueOf(off) : null);
    }
    return out;
  }

  private void seekRaw(TopicPartition tp, long offset) {
    Objects.requireNonNull(tp, "partition must not be null");
    long h = acquire();
    try {
      ConveyorNative.cvj_consumer_seek(h, tp.topic(), tp.partition(), offset);
    } finally {
      opLock.unlock();
    }
  }

  /**
   * Makes the current (or next) {@link #poll} throw {@link WakeupException}. Thread-safe: meant
   * for another thread (e.g. a shutdown hook). No-op after close.
   */
  public void wakeup() {
    wakeupRequested.set(true);
    synchronized (wakeupGuard) {
      long h = handle;
      if (h != 0) ConveyorNative.cvj_consumer_wakeup(h);
    }
  }

  /**
   * Commits (if {@code enable.auto.commit}), revokes partitions through the listener, leaves
   * the group and frees the consumer. Idempotent.
   */
  @Override
  public void close() {
    opLock.lock();
    try {
      long h = handle;
      if (h == 0) return;
      try {
        ConveyorNative.cvj_consumer_close(h);
      } finally {
        synchronized (wakeupGuard) {
          handle = 0;
        }
        ConveyorNative.cvj_consumer_destroy(h);
      }
    } finally {
      opLock.unlock();
    }
  }

  /** The native handle for the retry handler; caller holds nothing. */
  long nativeHandle() {
    long h = handle;
    if (h == 0) throw new IllegalStateException("This consumer has already been closed.");
    return h;
  }

  ReentrantLock opLock() { return opLock; }

  private long acquire() {
    if (!opLock.tryLock()) {
      throw new ConcurrentModificationException("Consumer is not safe for multi-threaded access");
    }
    long h = handle;
    if (h == 0) {
      opLock.unlock();
      throw new IllegalStateException("This consumer has already been closed.");
    }
    return h;
  }
}
