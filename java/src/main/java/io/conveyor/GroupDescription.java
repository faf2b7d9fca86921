package io.conveyor;

import java.util.List;

/**
 * A consumer group as DescribeGroups reports it (Kafka's {@code ConsumerGroupDescription}). A
 * group the coordinator does not know is described as state "Dead" with no members. Immutable.
 *
 * @param groupId group id
 * @param state "Empty", "PreparingRebalance", "CompletingRebalance", "Stable" or "Dead"
 * @param protocolType "consumer", or "" while the group has no members
 * @param assignor the assignor chosen (e.g. "range"), "" unless Stable
 * @param coordinator node id of the group coordinator
 * @param members the members
 */
public record GroupDescription(String groupId, String state, String protocolType,
                               String assignor, int coordinator, List<Member> members) {
  /**
   * One member of a group. Immutable.
   *
   * @param memberId member id
   * @param clientId client.id of the member
   * @param host the member's address as the coordinator saw it
   */
  public record Member(String memberId, String clientId, String host) {}
}
