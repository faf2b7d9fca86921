#pragma once
// Topics of this broker: creation (with a fresh UUID topic id, KIP-516), auto-creation,
// deletion and lookup, over storage's LogManager which persists partitions and topic ids.
//
// Thread-safety: all methods are thread-safe; create/delete are serialised by one mutex so
// two concurrent auto-creations of a topic create it once.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/storage/log_manager.h"

namespace conveyor::broker {

using storage::TopicId;

// Upper bound of partitions in one topic creation (a named limit: each partition is a
// directory and open files).
inline constexpr int32_t kMaxPartitionsPerTopic = 10000;

// Kafka's internal topics (flagged is_internal in Metadata).
bool is_internal_topic(const std::string& name);

// A random version-4 UUID that is not zero and whose base64 text does not start with '-'
// (Kafka's Uuid.randomUuid rule, so ids never look like command-line flags).
TopicId random_topic_id();

class TopicManager {
 public:
  TopicManager(storage::LogManager& logs, int32_t node_id, int32_t default_num_partitions,
               const Properties& broker_properties);

  struct CreateRequest {
    std::string name;
    int32_t num_partitions = -1;        // -1: num.partitions
    int16_t replication_factor = -1;    // -1: default.replication.factor (1)
    bool has_assignments = false;       // explicit replica assignment given
    std::vector<std::vector<int32_t>> assignments;  // partition i → broker ids
    Properties configs;                 // topic config overrides
    bool validate_only = false;
  };
  struct Created {
    TopicId topic_id{};
    int32_t num_partitions = 0;
    int16_t replication_factor = 1;
  };
  // Errors: invalid_topic_exception, topic_already_exists, invalid_partitions,
  // invalid_replication_factor, invalid_replica_assignment, invalid_request, invalid_config,
  // kafka_storage_error.
  Result<Created> create(const CreateRequest& request);

  // Creates `name` with num.partitions if it does not exist (auto.create.topics.enable is the
  // caller's check). Errors as create().
  Result<storage::TopicInfo> get_or_create(const std::string& name);

  // Errors: unknown_topic_or_partition, kafka_storage_error.
  Result<void> remove(const std::string& name);

  std::optional<storage::TopicInfo> find(const std::string& name) const;
  std::optional<storage::TopicInfo> find_by_id(const TopicId& id) const;
  std::vector<storage::TopicInfo> all() const;

  // The log of one partition, or nullptr.
  std::shared_ptr<storage::PartitionLog> partition(const std::string& topic, int32_t partition) const;

  // ---- topic configuration (AlterConfigs, IncrementalAlterConfigs, CreatePartitions) ----
  // Each change is validated completely before anything is written, then persisted by
  // storage (topic-config.properties per partition, replaced atomically) and applied to the
  // running logs (PartitionLog::update_config). Changes of one topic are serialised with
  // creation and deletion by this manager's mutex.

  const Properties& broker_properties() const { return broker_properties_; }

  // AlterConfigs: `overrides` becomes the topic's whole override set. Errors:
  // unknown_topic_or_partition, invalid_topic_exception, invalid_config (naming the key),
  // kafka_storage_error.
  Result<void> alter_config(const std::string& name, const Properties& overrides, bool validate_only);

  // One IncrementalAlterConfigs operation (KIP-339).
  enum class ConfigOp : int8_t { set = 0, remove = 1, append = 2, subtract = 3 };
  struct ConfigChange {
    std::string name;
    int8_t op = 0;  // ConfigOp; other values → invalid_request
    std::optional<std::string> value;
  };
  // IncrementalAlterConfigs: SET / DELETE one key, APPEND / SUBTRACT items of a list key
  // (starting from the override, else the key's default). Errors: as alter_config, plus
  // invalid_request (duplicate key, unknown operation, null value for SET/APPEND/SUBTRACT) and
  // invalid_config for APPEND/SUBTRACT on a key that is not a list.
  Result<void> incremental_alter_config(const std::string& name, const std::vector<ConfigChange>& changes,
                                        bool validate_only);

  // CreatePartitions: grows `name` to `count` partitions (new dirs with the topic's id and
  // overrides; visible in Metadata at once). assignments: replicas of each new partition
  // (nullopt = this node). Errors: unknown_topic_or_partition, invalid_partitions (count not
  // larger, above kMaxPartitionsPerTopic), invalid_replica_assignment (wrong number of
  // assignments, replicas other than [node.id]), invalid_request (internal topic),
  // kafka_storage_error (partitions created by the call are removed again).
  Result<void> create_partitions(const std::string& name, int32_t count,
                                 const std::optional<std::vector<std::vector<int32_t>>>& assignments,
                                 bool validate_only);

 private:
  Result<Created> create_locked(const CreateRequest& request);

  storage::LogManager& logs_;
  int32_t node_id_;
  int32_t default_num_partitions_;
  Properties broker_properties_;
  mutable std::mutex mutex_;
};

}  // namespace conveyor::broker
