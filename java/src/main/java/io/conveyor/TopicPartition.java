package io.conveyor;

import java.util.Objects;

/**
 * A topic name and partition number (Kafka's {@code TopicPartition}). Immutable.
 *
 * @param topic topic name, not null
 * @param partition partition number
 */
public record TopicPartition(String topic, int partition) {
  /** @throws NullPointerException if topic is null */
  public TopicPartition {
    Objects.requireNonNull(topic, "topic must not be null");
  }

  @Override
  public String toString() { return topic + "-" + partition; }
}
