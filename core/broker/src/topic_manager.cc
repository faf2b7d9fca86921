#include "topic_manager.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "conveyor/base/log.h"
#include "conveyor/storage/log_config.h"
#include "topic_configs.h"

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

  if (auto r = validate_topic_overrides(broker_properties_, req.configs); !r) return fail(r.error());

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

// Under the mutex: a topic being created (or gaining partitions) is seen only once all its
// partitions exist — the group coordinator once wrote to partition 4 of a __consumer_offsets
// another request was still creating ("has no partition 4").
std::optional<storage::TopicInfo> TopicManager::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return logs_.topic(name);
}

std::optional<storage::TopicInfo> TopicManager::find_by_id(const TopicId& id) const {
  for (auto& t : logs_.topics())
    if (t.topic_id == id) return std::move(t);
  return std::nullopt;
}

std::vector<storage::TopicInfo> TopicManager::all() const { return logs_.topics(); }

std::shared_ptr<storage::PartitionLog> TopicManager::partition(const std::string& topic, int32_t partition) const {
  return logs_.get(topic, partition);
}

// ---- topic configuration --------------------------------------------------------------------

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<void> TopicManager::alter_config(const std::string& name, const Properties& overrides, bool validate_only) {
  std::lock_guard lock(mutex_);
  if (auto r = storage::validate_topic_name(name); !r) return fail(ErrorCode::invalid_topic_exception, r.error().message);
  if (!logs_.topic(name))
    return fail(ErrorCode::unknown_topic_or_partition, fmt::format("Topic {} does not exist.", name));
  if (auto r = validate_topic_overrides(broker_properties_, overrides); !r) return r;
  if (validate_only) return {};
  if (auto r = logs_.alter_topic_config(name, overrides); !r) return r;
  log::info("broker", "topic {}: config overrides replaced ({} key(s))", name, overrides.values().size());
  return {};
}

Result<void> TopicManager::incremental_alter_config(const std::string& name, const std::vector<ConfigChange>& changes,
                                                    bool validate_only) {
  std::lock_guard lock(mutex_);
  if (auto r = storage::validate_topic_name(name); !r) return fail(ErrorCode::invalid_topic_exception, r.error().message);
  auto topic = logs_.topic(name);
  if (!topic) return fail(ErrorCode::unknown_topic_or_partition, fmt::format("Topic {} does not exist.", name));
  const ConfigSchema& schema = full_topic_config_schema();
  std::map<std::string, std::string> next = topic->config_overrides.values();
  std::set<std::string> seen;
  for (const auto& c : changes) {
    if (!seen.insert(c.name).second)
      return fail(ErrorCode::invalid_request, fmt::format("Error due to duplicate config keys: {}", c.name));
    const ConfigKey* key = schema.find(c.name);
    if (!key) return fail(ErrorCode::invalid_config, fmt::format("Unknown topic config name: {}", c.name));
    auto op = static_cast<ConfigOp>(c.op);
    if (c.op < 0 || c.op > 3)
      return fail(ErrorCode::invalid_request, fmt::format("{}: unknown config operation {}", c.name, c.op));
    if (op != ConfigOp::remove && !c.value)
      return fail(ErrorCode::invalid_request, fmt::format("Null value not supported for: {}", c.name));
    switch (op) {
      case ConfigOp::set:
        next[c.name] = *c.value;
        break;
      case ConfigOp::remove:
        next.erase(c.name);
        break;
      case ConfigOp::append:
      case ConfigOp::subtract: {
        if (key->type != ConfigType::list)
          return fail(ErrorCode::invalid_config,
                      fmt::format("{}: {} is only allowed for list configs", c.name,
                                  op == ConfigOp::append ? "APPEND" : "SUBTRACT"));
        auto it = next.find(c.name);
        auto items = split_list(it != next.end() ? it->second : key->default_value);
        for (const auto& v : split_list(*c.value)) {
          auto pos = std::find(items.begin(), items.end(), v);
          if (op == ConfigOp::append && pos == items.end()) items.push_back(v);
          if (op == ConfigOp::subtract && pos != items.end()) items.erase(pos);
        }
        std::string joined;
        for (const auto& v : items) joined += (joined.empty() ? "" : ",") + v;
        next[c.name] = joined;
        break;
      }
    }
  }
  Properties overrides(std::move(next));
  if (auto r = validate_topic_overrides(broker_properties_, overrides); !r) return r;
  if (validate_only) return {};
  if (auto r = logs_.alter_topic_config(name, overrides); !r) return r;
  log::info("broker", "topic {}: {} config change(s) applied", name, changes.size());
  return {};
}

Result<void> TopicManager::create_partitions(const std::string& name, int32_t count,
                                             const std::optional<std::vector<std::vector<int32_t>>>& assignments,
                                             bool validate_only) {
  std::lock_guard lock(mutex_);
  auto topic = logs_.topic(name);
  if (!topic) return fail(ErrorCode::unknown_topic_or_partition, fmt::format("The topic '{}' does not exist.", name));
  if (is_internal_topic(name))
    return fail(ErrorCode::invalid_request, fmt::format("Partitions of the internal topic {} cannot be added.", name));
  int32_t current = static_cast<int32_t>(topic->partitions.size());
  if (count < current)
    return fail(ErrorCode::invalid_partitions,
                fmt::format("Topic currently has {} partitions, which is higher than the requested {}.", current, count));
  if (count == current)
    return fail(ErrorCode::invalid_partitions, fmt::format("Topic already has {} partitions.", current));
  if (count > kMaxPartitionsPerTopic)
    return fail(ErrorCode::invalid_partitions,
                fmt::format("Number of partitions {} is above the limit {}.", count, kMaxPartitionsPerTopic));
  if (assignments) {
    if (static_cast<int64_t>(assignments->size()) != count - current)
      return fail(ErrorCode::invalid_replica_assignment,
                  fmt::format("Attempted to add {} additional partitions, but {} assignment(s) were given.",
                              count - current, assignments->size()));
    for (const auto& replicas : *assignments)
      if (replicas.size() != 1 || replicas[0] != node_id_)
        return fail(ErrorCode::invalid_replica_assignment,
                    fmt::format("replica assignment must be [{}] on this single-node broker", node_id_));
  }
  if (validate_only) return {};
  for (int32_t p = current; p < count; ++p) {
    auto log = logs_.create_partition(name, p, topic->topic_id, topic->config_overrides);
    if (!log) {
      log::error("broker", "adding {}-{} failed: {}; removing the partitions added", name, p, log.error().to_string());
      for (int32_t q = current; q < p; ++q) (void)logs_.delete_partition(name, q);
      return fail(log.error());
    }
  }
  log::info("broker", "topic {}: partitions {} -> {}", name, current, count);
  return {};
}

}  // namespace conveyor::broker
