package io.conveyor;

import io.conveyor.internal.ConveyorNative;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Topic and consumer-group administration (the blocking subset of Kafka's {@code Admin}
 * client): create, delete, list and describe topics; list, describe and delete groups.
 *
 * <p>Configuration: {@code bootstrap.servers}, {@code request.timeout.ms}, ... (Kafka's
 * "Admin Configs" names). Every call blocks up to {@code timeout} (default 30 s) and throws a
 * {@link ConveyorException} mirroring the Kafka error code ({@link TopicExistsException},
 * {@link UnknownTopicOrPartitionException}, {@link TimeoutException}, ...).
 *
 * <p>Thread-safe; {@link #close()} is idempotent and must not race with calls in flight.
 */
public final class Admin implements AutoCloseable {
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  private volatile long handle;

  /**
   * @param config admin properties (Kafka's names); must contain {@code bootstrap.servers}
   * @throws InvalidConfigException naming the key
   */
  public Admin(Map<String, String> config) {
    try (NativeConfig conf = new NativeConfig(config, "admin")) {
      handle = ConveyorNative.cvj_admin_new(conf.handle);
    }
  }

  /**
   * CreateTopics for one topic.
   *
   * @param name topic name
   * @param partitions partition count, or -1 for the broker default
   * @param replicationFactor replication factor, or -1 for the broker default
   * @param configs topic configs (cleanup.policy, retention.ms, ...), or null
   * @throws TopicExistsException if it exists
   */
  public void createTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
    Objects.requireNonNull(name, "topic name must not be null");
    long h = open();
    if (configs == null || configs.isEmpty()) {
      ConveyorNative.cvj_admin_create_topic(h, name, partitions, replicationFactor, 0,
          NativeConfig.timeoutMs(DEFAULT_TIMEOUT));
      return;
    }
    try (NativeConfig conf = new NativeConfig(configs, "topic")) {
      ConveyorNative.cvj_admin_create_topic(h, name, partitions, replicationFactor, conf.handle,
          NativeConfig.timeoutMs(DEFAULT_TIMEOUT));
    }
  }

  /**
   * CreateTopics with broker defaults for the replication factor and no topic configs.
   *
   * @param name topic name
   * @param partitions partition count
   */
  public void createTopic(String name, int partitions) {
    createTopic(name, partitions, -1, null);
  }

  /** DeleteTopics for one topic. @param name topic name */
  public void deleteTopic(String name) {
    Objects.requireNonNull(name, "topic name must not be null");
    ConveyorNative.conveyor_admin_delete_topic(open(), name, NativeConfig.timeoutMs(DEFAULT_TIMEOUT));
  }

  /** Names of every topic, internal ones excluded (Kafka's listTopics), sorted. */
  public Set<String> listTopics() {
    long list = ConveyorNative.cvj_admin_list_topics(open(), NativeConfig.timeoutMs(DEFAULT_TIMEOUT));
    try {
      Set<String> out = new TreeSet<>();
      long n = ConveyorNative.conveyor_topic_list_count(list);
      for (long t = 0; t < n; t++) {
        if (ConveyorNative.conveyor_topic_list_is_internal(list, t) == 0) {
          out.add(ConveyorNative.conveyor_topic_list_name(list, t));
        }
      }
      return out;
    } finally {
      ConveyorNative.conveyor_topic_list_destroy(list);
    }
  }

  /**
   * Describes the named topics.
   *
   * @param names topic names (empty = every topic)
   * @return name to description, in the broker's order
   * @throws UnknownTopicOrPartitionException naming the first topic that does not exist
   */
  public Map<String, TopicDescription> describeTopics(Collection<String> names) {
    Objects.requireNonNull(names, "topic names must not be null");
    StringBuilder sb = new StringBuilder();
    for (String n : names) {
      if (n == null || n.isEmpty() || n.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("invalid topic name: " + n);
      }
      if (sb.length() > 0) sb.append('\n');
      sb.append(n);
    }
    long list = ConveyorNative.cvj_admin_describe_topics(open(), sb.toString(),
        NativeConfig.timeoutMs(DEFAULT_TIMEOUT));
    try {
      Map<String, TopicDescription> out = new LinkedHashMap<>();
      long n = ConveyorNative.conveyor_topic_list_count(list);
      for (long t = 0; t < n; t++) {
        String name = ConveyorNative.conveyor_topic_list_name(list, t);
        int err = ConveyorNative.conveyor_topic_list_error(list, t);
        if (err != 0) throw ConveyorException.forCode(err, "topic \"" + name + "\"");
        int pc = ConveyorNative.conveyor_topic_list_partition_count(list, t);
        List<TopicDescription.PartitionInfo> parts = new ArrayList<>(pc);
        for (long p = 0; p < pc; p++) {
          parts.add(new TopicDescription.PartitionInfo(
              ConveyorNative.conveyor_topic_list_partition_id(list, t, p),
              ConveyorNative.conveyor_topic_list_partition_leader(list, t, p)));
        }
        out.put(name, new TopicDescription(name, ConveyorNative.conveyor_topic_list_topic_id(list, t),
            ConveyorNative.conveyor_topic_list_is_internal(list, t) != 0, parts));
      }
      return out;
    } finally {
      ConveyorNative.conveyor_topic_list_destroy(list);
    }
  }

  /** Every group known to the cluster, sorted by id (ListGroups). */
  public List<GroupListing> listGroups() {
    long list = ConveyorNative.cvj_admin_list_groups(open(), NativeConfig.timeoutMs(DEFAULT_TIMEOUT));
    try {
      List<GroupListing> out = new ArrayList<>();
      long n = ConveyorNative.conveyor_group_list_count(list);
      for (long i = 0; i < n; i++) {
        out.add(new GroupListing(ConveyorNative.conveyor_group_list_group_id(list, i),
            ConveyorNative.conveyor_group_list_protocol_type(list, i),
            ConveyorNative.conveyor_group_list_state(list, i)));
      }
      return out;
    } finally {
      ConveyorNative.conveyor_group_list_destroy(list);
    }
  }

  /** DescribeGroups for one group. @param groupId the group @return its description */
  public GroupDescription describeGroup(String groupId) {
    Objects.requireNonNull(groupId, "group id must not be null");
    long d = ConveyorNative.cvj_admin_describe_group(open(), groupId, NativeConfig.timeoutMs(DEFAULT_TIMEOUT));
    try {
      List<GroupDescription.Member> members = new ArrayList<>();
      long n = ConveyorNative.conveyor_group_description_member_count(d);
      for (long m = 0; m < n; m++) {
        members.add(new GroupDescription.Member(
            ConveyorNative.conveyor_group_description_member_id(d, m),
            ConveyorNative.conveyor_group_description_member_client_id(d, m),
            ConveyorNative.conveyor_group_description_member_host(d, m)));
      }
      return new GroupDescription(ConveyorNative.conveyor_group_description_group_id(d),
          ConveyorNative.conveyor_group_description_state(d),
          ConveyorNative.conveyor_group_description_protocol_type(d),
          ConveyorNative.conveyor_group_description_protocol(d),
          ConveyorNative.conveyor_group_description_coordinator(d), members);
    } finally {
      ConveyorNative.conveyor_group_description_destroy(d);
    }
  }

  /** DeleteGroups for one group (its committed offsets go with it). @param groupId the group */
  public void deleteGroup(String groupId) {
    Objects.requireNonNull(groupId, "group id must not be null");
    ConveyorNative.conveyor_admin_delete_group(open(), groupId, NativeConfig.timeoutMs(DEFAULT_TIMEOUT));
  }

  /** Frees the admin client. Idempotent. */
  @Override
  public synchronized void close() {
    long h = handle;
    handle = 0;
    ConveyorNative.conveyor_admin_destroy(h);
  }

  private long open() {
    long h = handle;
    if (h == 0) throw new IllegalStateException("Admin client is closed");
    return h;
  }
}
