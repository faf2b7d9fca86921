#pragma once
// conveyor's Kafka admin client: topics (CreateTopics, DeleteTopics, Metadata, CreatePartitions),
// topic and broker configs (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs), partition
// offsets (ListOffsets) and consumer groups (ListGroups, DescribeGroups, OffsetFetch,
// OffsetCommit, DeleteGroups, OffsetDelete), as Kafka's AdminClient does them.
//
// Configuration: bootstrap.servers (required), client.id, request.timeout.ms,
// metadata.max.age.ms, reconnect.backoff.ms, socket.connection.setup.timeout.ms; accepted and
// ignored keys as in core/client/README.md; unknown keys → invalid_config.
//
// Threading: every method is thread-safe and blocking (up to its timeout_ms). Requests go to
// the controller the Metadata response names (any broker if none), as Kafka's AdminClient does.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/client/types.h"

namespace conveyor::client {

// One group as ListGroups reports it. Kafka source: ConsumerGroupListing (Java AdminClient).
struct GroupListing {
  std::string group_id;
  std::string protocol_type;  // "consumer" for consumer groups; "" for offsets-only groups
  std::string state;          // "Stable", "Empty", ...; "" when the broker answers ListGroups < v4
  int32_t coordinator = -1;   // node id of the broker that listed it
};

// One member of a group (DescribeGroups). `assignment` is decoded from member_assignment with
// the embedded consumer protocol (protocol/consumer_protocol.h) when the group's protocol type
// is "consumer"; it is empty otherwise or when the bytes do not decode.
struct MemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;  // static membership (KIP-345); DescribeGroups v4+
  std::string client_id;
  std::string host;  // the client's address as the coordinator saw it, e.g. "/127.0.0.1"
  std::vector<TopicPartition> assignment;  // sorted
};

// A group as DescribeGroups reports it. A group the coordinator does not know has state
// "Dead", no members and error none (Kafka's behaviour); a group-level error (e.g.
// group_authorization_failed) is in `error`.
struct GroupDescription {
  std::string group_id;
  ErrorCode error = ErrorCode::none;
  std::string state;          // Empty, PreparingRebalance, CompletingRebalance, Stable, Dead
  std::string protocol_type;  // "consumer", or "" (no members yet)
  std::string protocol;       // the chosen assignor (e.g. "range"), "" when not Stable
  std::vector<MemberDescription> members;
  BrokerDescription coordinator;
};

// A group's committed offset for one partition (OffsetFetch). offset -1 = nothing committed.
struct GroupOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;  // the committed metadata string, exactly as committed
  ErrorCode error = ErrorCode::none;
};

// One row of a group's lag (what kafka-consumer-groups --describe prints per partition).
// lag = log_end_offset - current_offset; -1 when either is unknown (nothing committed, or
// ListOffsets failed for the partition: see `error`). consumer_id/host/client_id are "" for
// a partition no member owns.
struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t current_offset = -1;
  int64_t log_end_offset = -1;
  int64_t lag = -1;
  std::string consumer_id;
  std::string host;
  std::string client_id;
  ErrorCode error = ErrorCode::none;
};

struct GroupLag {
  GroupDescription group;
  std::vector<PartitionLag> partitions;  // sorted by topic, partition
};

// ListOffsets answer for one partition: `offset` is -1 when no record has a timestamp >=
// the one asked for; timestamp_ms -1 for the earliest/latest specs.
struct PartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int64_t timestamp_ms = -1;
  ErrorCode error = ErrorCode::none;
};

// Per-group outcome of delete_groups.
struct GroupResult {
  std::string group_id;
  Error error{ErrorCode::none, {}};
};


// ---- topic configuration (DescribeConfigs, IncrementalAlterConfigs, CreatePartitions) ----

// Kafka's config resource types (protocol guide, config APIs).
enum class ConfigResourceType : int8_t { topic = 2, broker = 4 };

struct ConfigResource {
  ConfigResourceType type = ConfigResourceType::topic;
  std::string name;  // topic name, or a broker's node id as text ("" = the cluster default)
};

// Kafka's ConfigSource (KIP-226): where an entry's value comes from.
enum class ConfigSource : int8_t {
  unknown = 0,
  dynamic_topic = 1,            // a topic override
  dynamic_broker = 2,
  dynamic_default_broker = 3,
  static_broker = 4,            // the broker's properties file / overrides
  default_config = 5,           // Kafka's default
  dynamic_broker_logger = 6,
};

struct ConfigSynonym {
  std::string name;
  std::optional<std::string> value;
  ConfigSource source = ConfigSource::unknown;
};

// One config of a resource as DescribeConfigs reports it. type is KIP-569's config_type
// (1 BOOLEAN, 2 STRING, 3 INT, 4 SHORT, 5 LONG, 6 DOUBLE, 7 LIST, 8 CLASS, 9 PASSWORD; 0 when
// the broker answered DescribeConfigs < v3). value is null for sensitive configs.
struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;
  ConfigSource source = ConfigSource::unknown;
  bool read_only = false;
  bool is_sensitive = false;
  int8_t type = 0;
  std::optional<std::string> documentation;  // with include_documentation (v3+)
  std::vector<ConfigSynonym> synonyms;       // with include_synonyms, most specific first
  bool is_default() const { return source == ConfigSource::default_config; }
};

// A resource's configs, or its error (unknown_topic_or_partition, invalid_request, ...).
struct ConfigResourceResult {
  ConfigResource resource;
  Error error{ErrorCode::none, {}};
  std::vector<ConfigEntry> entries;  // sorted by name
};

// IncrementalAlterConfigs operations (KIP-339).
enum class AlterConfigOpType : int8_t { set = 0, remove = 1 /* Kafka's DELETE */, append = 2, subtract = 3 };

struct AlterConfigOp {
  std::string name;
  AlterConfigOpType op = AlterConfigOpType::set;
  std::optional<std::string> value;  // ignored (sent as null) for remove
};

// Outcome of an alter or create-partitions for one resource / topic.
struct ResourceResult {
  ConfigResource resource;
  Error error{ErrorCode::none, {}};
};

// CreatePartitions for one topic: total_count is the NEW TOTAL number of partitions (Kafka's
// NewPartitions.increaseTo); assignments: replicas of each new partition (nullopt = the
// broker chooses).
struct NewPartitions {
  std::string topic;
  int32_t total_count = 0;
  std::optional<std::vector<std::vector<int32_t>>> assignments;
};

class Admin {
 public:
  static const ConfigSchema& config_schema();
  static Result<std::unique_ptr<Admin>> create(const Properties& config);

  // CreateTopics (v2–7). partitions / replication_factor -1 = the broker's defaults
  // (num.partitions, default.replication.factor; needs CreateTopics v4+ on the broker).
  // configs: topic-level configs, e.g. {"cleanup.policy", "delete"}.
  // Errors: the broker's per-topic error (topic_already_exists, invalid_partitions,
  // invalid_replication_factor, invalid_topic_exception, invalid_config, ...),
  // local_timed_out. Waits until the topic shows up in metadata (or timeout).
  Result<void> create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                            const std::map<std::string, std::string>& configs, int timeout_ms);

  // DeleteTopics (v1–6) by name. Errors: unknown_topic_or_partition, local_timed_out, ...
  Result<void> delete_topic(const std::string& name, int timeout_ms);

  // All topics the broker lists (Metadata with a null topic list), internal ones included
  // (check TopicDescription::is_internal), sorted by name.
  Result<std::vector<TopicDescription>> list_topics(int timeout_ms);

  // The named topics, in the order given. A missing topic is an entry with
  // error = unknown_topic_or_partition (the call itself succeeds). Never auto-creates.
  Result<std::vector<TopicDescription>> describe_topics(const std::vector<std::string>& names,
                                                        int timeout_ms);

  // Brokers from the latest Metadata response (node id, host, port, rack).
  Result<std::vector<BrokerDescription>> describe_cluster(int timeout_ms);

  // ---- offsets -------------------------------------------------------------------------

  // ListOffsets (v1+) to each partition's leader. spec: kOffsetEnd (-1) = log end offset,
  // kOffsetBeginning (-2) = log start offset, >= 0 = the earliest offset whose timestamp is
  // >= spec (epoch ms; offset -1 when none). Per-partition errors (unknown_topic_or_partition,
  // ...) are in the entries; leader changes are retried until the timeout. Same order as
  // `partitions`. isolation: read_uncommitted (Kafka's AdminClient default).
  Result<std::vector<PartitionOffset>> list_offsets(const std::vector<TopicPartition>& partitions, int64_t spec,
                                                    int timeout_ms);

  // DeleteRecords (v0–2, KIP-107) to each partition's leader: moves each partition's log start
  // offset up to `offset` (records below it are no longer served; -1 = the high watermark).
  // Returns one entry per partition in the same order: offset = the low watermark after the
  // call, or error (offset_out_of_range when the offset is beyond the high watermark,
  // unknown_topic_or_partition, invalid_topic_exception for internal topics, ...). Leader
  // changes are retried until the timeout. Errors of the call: local_invalid_arg (offset < -1),
  // local_timed_out (no metadata). Kafka: AdminClient.deleteRecords.
  Result<std::vector<PartitionOffset>> delete_records(const std::vector<TopicPartitionOffset>& offsets,
                                                      int timeout_ms);

  // ---- consumer groups ---------------------------------------------------------------------
  // Every group call goes to the group's coordinator (FindCoordinator, key type GROUP);
  // COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR and lost
  // connections are retried with exponential backoff (retry.backoff.ms doubling, capped at
  // kCoordinatorBackoffMaxMs) until timeout_ms, then local_timed_out naming the last error.

  // ListGroups (v0–4) on every broker, merged and sorted by group id. states: only groups in
  // one of these states (KIP-518, needs ListGroups v4; empty = all).
  Result<std::vector<GroupListing>> list_groups(const std::vector<std::string>& states, int timeout_ms);

  // DescribeGroups (v0–5), one entry per requested group in order.
  Result<std::vector<GroupDescription>> describe_groups(const std::vector<std::string>& groups, int timeout_ms);

  // OffsetFetch (v1–9): the group's committed offsets for `partitions`, or for every partition
  // it has committed when `partitions` is nullopt (needs v2+). Sorted by topic, partition.
  // Errors: the group-level error (group_authorization_failed, ...), local_timed_out.
  Result<std::vector<GroupOffset>> list_group_offsets(const std::string& group,
                                                      const std::optional<std::vector<TopicPartition>>& partitions,
                                                      int timeout_ms);

  // describe_groups + list_group_offsets + list_offsets(kOffsetEnd): one row per partition
  // that a member owns or the group has committed (kafka-consumer-groups --describe).
  Result<GroupLag> group_lag(const std::string& group, int timeout_ms);

  // Resets the group's committed offsets (OffsetCommit v2–9 with generation -1 and an empty
  // member id, as Kafka's AdminClient alterConsumerGroupOffsets does; metadata "" and leader
  // epoch -1 unless given). Refused locally with non_empty_group while DescribeGroups shows
  // members (the broker refuses such a commit too, with unknown_member_id or
  // illegal_generation). Offsets must be >= 0 (invalid_arg otherwise). Errors: the first
  // per-partition error (e.g. unknown_topic_or_partition), non_empty_group, local_timed_out.
  Result<void> alter_group_offsets(const std::string& group, const std::vector<TopicPartitionOffset>& offsets,
                                   int timeout_ms);

  // DeleteGroups (v0–2): per-group outcome (non_empty_group, group_id_not_found, ...), in the
  // order given. The call fails only when no answer could be had.
  Result<std::vector<GroupResult>> delete_groups(const std::vector<std::string>& groups, int timeout_ms);


  // ---- topic configuration -------------------------------------------------------------------
  // Kafka: AdminClient.describeConfigs / incrementalAlterConfigs / createPartitions. A broker
  // resource goes to that broker (its node id); everything else to any broker (config APIs) or
  // the controller (CreatePartitions). NOT_CONTROLLER, lost connections and request timeouts
  // are retried until timeout_ms.

  // DescribeConfigs (v1–4): one result per resource in the order given; a per-resource error
  // is in its result. keys: only these config names (empty = all). Errors of the call:
  // local_timed_out, local_invalid_arg (a broker resource whose name is not a node id).
  Result<std::vector<ConfigResourceResult>> describe_configs(const std::vector<ConfigResource>& resources,
                                                             const std::vector<std::string>& keys,
                                                             bool include_synonyms, bool include_documentation,
                                                             int timeout_ms);

  // IncrementalAlterConfigs (v0–1): per resource, SET / DELETE single configs and APPEND /
  // SUBTRACT items of list configs (cleanup.policy); validate_only checks without changing.
  // One result per resource in order: invalid_config naming the key (bad key or value),
  // unknown_topic_or_partition, invalid_request, ... Changes apply to a running conveyor broker
  // without a restart and persist.
  Result<std::vector<ResourceResult>> incremental_alter_configs(
      const std::vector<std::pair<ConfigResource, std::vector<AlterConfigOp>>>& changes, bool validate_only,
      int timeout_ms);

  // AlterConfigs (v0–2, deprecated by Kafka in favour of the incremental form): each
  // resource's whole override set becomes `configs` (keys left out go back to defaults).
  Result<std::vector<ResourceResult>> alter_configs(
      const std::vector<std::pair<ConfigResource, std::map<std::string, std::string>>>& configs, bool validate_only,
      int timeout_ms);

  // CreatePartitions (v0–3): one result per topic in order (invalid_partitions when the count
  // is not larger than now, unknown_topic_or_partition, invalid_replica_assignment, ...). Unless
  // validate_only, waits (bounded by timeout_ms) until Metadata lists the new partitions with
  // leaders.
  Result<std::vector<ResourceResult>> create_partitions(const std::vector<NewPartitions>& topics, bool validate_only,
                                                        int timeout_ms);

  static constexpr int64_t kCoordinatorBackoffMaxMs = 1000;

  void close();
  ~Admin();

  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  struct Impl;

 private:
  explicit Admin(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor::client
