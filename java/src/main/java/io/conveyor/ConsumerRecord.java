package io.conveyor;

import java.util.List;

/**
 * A consumed record (Kafka's {@code ConsumerRecord} with byte[] key and value). Immutable
 * (arrays are not copied: do not modify them).
 *
 * @param topic topic name
 * @param partition partition
 * @param offset offset in the partition
 * @param timestamp epoch milliseconds
 * @param logAppendTime true if {@code timestamp} is the broker's log-append time, false for
 *     the producer's create time
 * @param key key bytes or null
 * @param value value bytes or null
 * @param headers headers in record order (empty if none)
 */
public record ConsumerRecord(String topic, int partition, long offset, long timestamp,
                             boolean logAppendTime, byte[] key, byte[] value,
                             List<Header> headers) {
  /** The record's topic and partition. */
  public TopicPartition topicPartition() { return new TopicPartition(topic, partition); }
}
