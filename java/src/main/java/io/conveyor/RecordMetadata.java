package io.conveyor;

/**
 * Where an acknowledged record was written (Kafka's {@code RecordMetadata}). Immutable.
 *
 * @param topic topic name
 * @param partition partition the record went to
 * @param offset its offset in the partition
 * @param timestamp the record timestamp in epoch milliseconds (create time, or the broker's
 *     log-append time)
 */
public record RecordMetadata(String topic, int partition, long offset, long timestamp) {}
