package io.conveyor;

import java.util.Collection;

/**
 * Told about partitions a group rebalance takes away or hands over (Kafka's
 * {@code ConsumerRebalanceListener}). Called only inside {@link Consumer#poll},
 * {@link Consumer#unsubscribe()} or {@link Consumer#close()}, on the thread calling them; it may
 * call the consumer (e.g. {@code commitSync} on revocation, {@code seek} on assignment). An
 * exception it throws is rethrown from that call.
 */
public interface ConsumerRebalanceListener {
  /**
   * Partitions given up; still assigned during the call (commit their offsets here).
   *
   * @param partitions the revoked partitions
   */
  void onPartitionsRevoked(Collection<TopicPartition> partitions);

  /**
   * Partitions added by a rebalance (may be empty).
   *
   * @param partitions the newly assigned partitions
   */
  void onPartitionsAssigned(Collection<TopicPartition> partitions);

  /**
   * The generation was lost: the partitions may already be owned by another member, so do not
   * commit. Defaults to {@link #onPartitionsRevoked}, as in Kafka.
   *
   * @param partitions the lost partitions
   */
  default void onPartitionsLost(Collection<TopicPartition> partitions) {
    onPartitionsRevoked(partitions);
  }
}
