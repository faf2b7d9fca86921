package io.conveyor;

/**
 * A consumer group as ListGroups reports it (Kafka's {@code ConsumerGroupListing}). Immutable.
 *
 * @param groupId group id
 * @param protocolType "consumer" for consumer groups; "" for groups that only hold offsets
 * @param state the group's state, e.g. "Stable" or "Empty"
 */
public record GroupListing(String groupId, String protocolType, String state) {}
