#pragma once
// Broker configuration parsed from Kafka-named properties (Kafka docs, "Broker Configs").
// Internal to the broker; the key list with defaults and docs is broker_config_schema().
#include <cstdint>
#include <string>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/group/coordinator.h"

namespace conveyor::broker {

// One entry of `listeners` / `advertised.listeners`: NAME://host:port (or bare host:port,
// taken as PLAINTEXT). An empty host means every interface (listeners) or "the bound host"
// (advertised.listeners).
struct ListenerSpec {
  std::string name = "PLAINTEXT";
  std::string host;
  int port = 9092;
};

// Parses a comma-separated listener list. Errors: invalid_config naming `key`.
Result<std::vector<ListenerSpec>> parse_listeners(const std::string& key, const std::string& text);

struct BrokerConfig {
  ListenerSpec listener;                 // the one listener conveyor binds (not CONTROLLER)
  std::optional<ListenerSpec> advertised;  // from advertised.listeners, same listener name
  std::vector<std::string> log_dirs;     // empty: use a temporary directory
  int32_t node_id = 1;
  int32_t num_partitions = 1;
  int16_t default_replication_factor = 1;
  bool auto_create_topics_enable = true;
  bool delete_topic_enable = true;
  int32_t message_max_bytes = 1048588;
  int32_t socket_request_max_bytes = 104857600;
  int32_t fetch_max_bytes = 57671680;    // fetch.max.bytes: cap of one Fetch response
  int num_network_threads = 2;
  int num_io_threads = 2;
  int64_t flush_scheduler_interval_ms = 1000;  // log.flush.scheduler.interval.ms (tick)
  int64_t retention_check_interval_ms = 300000;  // log.retention.check.interval.ms
  int64_t producer_id_expiration_check_interval_ms = 600000;  // producer.id.expiration.check.interval.ms
  int32_t max_connections = 10000;       // max.connections
  int32_t producer_id_block_size = 1000;  // conveyor.producer.id.block.size
  group::CoordinatorConfig group;        // group.*, offset.metadata.max.bytes, offsets.*
  int32_t offsets_topic_segment_bytes = 104857600;  // offsets.topic.segment.bytes
  Properties properties;                 // everything as given (log keys go to storage)
};

Result<BrokerConfig> parse_broker_config(const Properties& props);

}  // namespace conveyor::broker
