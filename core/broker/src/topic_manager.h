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

 private:
  Result<Created> create_locked(const CreateRequest& request);

  storage::LogManager& logs_;
  int32_t node_id_;
  int32_t default_num_partitions_;
  Properties broker_properties_;
  std::mutex mutex_;
};

}  // namespace conveyor::broker
