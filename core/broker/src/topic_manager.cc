#include "topic_manager.h"

#include <random>

#include <fmt/format.h>

#include "conveyor/base/log.h"
#include "conveyor/storage/log_config.h"

namespace conveyor::broker {

bool is_internal_topic(const std::string& name) {
  return name == "__consumer_offsets" || name == "__transaction_state";
}

TopicId random_topic_id() {
  static thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  for (;;) {
    TopicId id{};
    uint64_t hi = rng(), lo = rng();
    for (int i = 0; i < 8; ++i) {
      id[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
      id[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
    }
    id[6] = static_cast<uint8_t>((id[6] & 0x0f) | 0x40);  // version 4
    id[8] = static_cast<uint8_t>((id[8] & 0x3f) | 0x80);  // IETF variant
    // The first base64url character is '-' when the top 6 bits are 62.
    if ((id[0] >> 2) == 62) continue;
    return id;
  }
}

TopicManager::TopicManager(storage::LogManager& logs, int32_t node_id, int32_t default_num_partitions,
                           const Properties& broker_properties)
    : logs_(logs),
      node_id_(node_id),
      default_num_partitions_(default_num_partitions),
      broker_properties_(broker_properties) {}

Result<TopicManager::Created> TopicManager::create(const CreateRequest& request) {
  std::lock_guard lock(mutex_);
  return create_locked(request);
}

Result<TopicManager::Created> TopicManager::create_locked(const CreateRequest& req) {
  if (auto r = storage::validate_topic_name(req.name); !r)
    return fail(ErrorCode::invalid_topic_exception, r.error().message);
  if (logs_.topic(req.name))
    return fail(ErrorCode::topic_already_exists, fmt::format("Topic '{}' already exists.", req.name));

  int32_t partitions = req.num_partitions;
  int16_t replication = req.replication_factor;
  if (req.has_assignments) {
    if (partitions != -1 || replication != -1)
      return fail(ErrorCode::invalid_request,
                  "Both numPartitions or replicationFactor and replicasAssignments were set.");
    if (req.assignments.empty()) return fail(ErrorCode::invalid_replica_assignment, "empty replica assignment");
    for (const auto& replicas : req.assignments) {
      if (replicas.size() != 1 || replicas[0] != node_id_)
        return fail(ErrorCode::invalid_replica_assignment,
                    fmt::format("replica assignment must be [{}] on this single-node broker", node_id_));
    }
    partitions = static_cast<int32_t>(req.assignments.size());
    replication = 1;
  }
  if (partitions == -1) partitions = default_num_partitions_;
  if (partitions <= 0)
    return fail(ErrorCode::invalid_partitions, "Number of partitions must be larger than 0.");
  if (partitions > kMaxPartitionsPerTopic)
    return fail(ErrorCode::invalid_partitions,
                fmt::format("Number of partitions {} is above the limit {}.", partitions, kMaxPartitionsPerTopic));
  if (replication == -1) replication = 1;
  if (replication <= 0)
    return fail(ErrorCode::invalid_replication_factor, "Replication factor must be larger than 0.");
  if (replication != 1)
    return fail(ErrorCode::invalid_replication_factor,
                fmt::format("Replication factor: {} larger than available brokers: 1.", replication));

  const ConfigSchema& topic_schema = storage::topic_config_schema();
  if (auto r = req.configs.validate(topic_schema); !r) return fail(r.error());
  if (auto r = storage::make_log_config(broker_properties_, req.configs); !r) return fail(r.error());

  Created created;
  created.topic_id = random_topic_id();
  created.num_partitions = partitions;
  created.replication_factor = replication;
  if (req.validate_only) return created;

  for (int32_t p = 0; p < partitions; ++p) {
    auto log = logs_.create_partition(req.name, p, created.topic_id, req.configs);
    if (!log) {
      log::error("broker", "creating {}-{} failed: {}; removing the topic", req.name, p, log.error().to_string());
      (void)logs_.delete_topic(req.name);
      return fail(log.error());
    }
  }
  log::info("broker", "created topic {} with {} partition(s), id {}", req.name, partitions,
            storage::topic_id_to_string(created.topic_id));
  return created;
}

Result<storage::TopicInfo> TopicManager::get_or_create(const std::string& name) {
  if (auto t = logs_.topic(name)) return std::move(*t);
  std::lock_guard lock(mutex_);
  if (auto t = logs_.topic(name)) return std::move(*t);
  CreateRequest req;
  req.name = name;
  if (auto r = create_locked(req); !r) return fail(r.error());
  auto t = logs_.topic(name);
  if (!t) return fail(ErrorCode::unknown_topic_or_partition, fmt::format("topic {} vanished", name));
  return std::move(*t);
}

Result<void> TopicManager::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (!logs_.topic(name))
    return fail(ErrorCode::unknown_topic_or_partition, "This server does not host this topic.");
  if (auto r = logs_.delete_topic(name); !r) return r;
  log::info("broker", "deleted topic {}", name);
  return {};
}

std::optional<storage::TopicInfo> TopicManager::find(const std::string& name) const { return logs_.topic(name); }

std::optional<storage::TopicInfo> TopicManager::find_by_id(const TopicId& id) const {
  for (auto& t : logs_.topics())
    if (t.topic_id == id) return std::move(t);
  return std::nullopt;
}

std::vector<storage::TopicInfo> TopicManager::all() const { return logs_.topics(); }

std::shared_ptr<storage::PartitionLog> TopicManager::partition(const std::string& topic, int32_t partition) const {
  return logs_.get(topic, partition);
}

}  // namespace conveyor::broker
