package io.conveyor;

import java.util.List;

/**
 * A topic as Metadata describes it (Kafka's {@code TopicDescription}). Immutable.
 *
 * @param name topic name
 * @param topicId topic id as UUID text ("" if the broker sent none)
 * @param internal whether it is an internal topic
 * @param partitions partitions sorted by id
 */
public record TopicDescription(String name, String topicId, boolean internal,
                               List<PartitionInfo> partitions) {
  /**
   * One partition of a topic. Immutable.
   *
   * @param partition partition id
   * @param leader node id of the leader (-1 if none)
   */
  public record PartitionInfo(int partition, int leader) {}
}
