package io.conveyor;

import java.util.Map;

/**
 * Outcome of {@link Consumer#commitAsync} (Kafka's {@code OffsetCommitCallback}). Runs inside a
 * later {@link Consumer#poll} (or close) on the thread calling it.
 */
@FunctionalInterface
public interface OffsetCommitCallback {
  /**
   * @param offsets the offsets sent (next offset to consume per partition)
   * @param exception null on success
   */
  void onComplete(Map<TopicPartition, Long> offsets, Exception exception);
}
