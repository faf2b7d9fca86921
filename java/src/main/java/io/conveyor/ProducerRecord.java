package io.conveyor;

import java.util.List;
import java.util.Objects;

/**
 * A record to send (Kafka's {@code ProducerRecord}, with byte[] key and value). Immutable.
 *
 * @param topic topic name, not null
 * @param partition partition, or null to let the partitioner choose (murmur2 of the key like
 *     the Java client; sticky for null keys)
 * @param timestamp epoch milliseconds, or null for now
 * @param key key bytes, or null
 * @param value value bytes, or null (a tombstone)
 * @param headers headers, or null/empty
 */
public record ProducerRecord(String topic, Integer partition, Long timestamp, byte[] key,
                             byte[] value, List<Header> headers) {
  /** @throws NullPointerException if topic is null */
  public ProducerRecord {
    Objects.requireNonNull(topic, "topic must not be null");
  }

  /**
   * @param topic topic name
   * @param key key bytes or null
   * @param value value bytes or null
   */
  public ProducerRecord(String topic, byte[] key, byte[] value) {
    this(topic, null, null, key, value, null);
  }
}
