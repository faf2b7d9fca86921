#pragma once
// Topic and broker configuration as DescribeConfigs reports it and AlterConfigs /
// IncrementalAlterConfigs / CreateTopics validate it (protocol guide "DescribeConfigs";
// KIP-226 synonyms and sources, KIP-569 types and documentation).
//
// Topic keys come in two kinds:
// - keys storage acts on (storage::topic_config_schema(): segment.*, retention.*, flush.*,
//   max.message.bytes, message.timestamp.type, preallocate, cleanup.policy, ...);
// - Kafka topic keys a single-node conveyor only stores and reports (min.insync.replicas,
//   compression.type, unclean.leader.election.enable, the cleaner keys until the cleaner
//   reads them, ...): declared here with Kafka's types and defaults, validated, persisted in
//   topic-config.properties, not acted on. A key storage starts declaring moves to the first
//   kind by itself (storage's declaration wins).
//
// Thread-safety: free functions over immutable tables.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"

namespace conveyor::broker {

// Kafka's resource types (protocol guide, "ResourceType" of the config APIs).
inline constexpr int8_t kResourceTopic = 2;
inline constexpr int8_t kResourceBroker = 4;

// DescribeConfigs config_source values (KIP-226).
enum class ConfigSource : int8_t {
  unknown = 0,
  dynamic_topic = 1,           // a topic override
  dynamic_broker = 2,
  dynamic_default_broker = 3,
  static_broker = 4,           // from the broker's properties (server.properties, --override)
  default_config = 5,          // Kafka's default
};

// DescribeConfigs config_type values (KIP-569, v3+).
enum class KafkaConfigType : int8_t {
  unknown = 0, boolean = 1, string = 2, int32 = 3, int16 = 4, int64 = 5, float64 = 6, list = 7,
  class_name = 8, password = 9,
};

struct ConfigSynonym {
  std::string name;
  std::optional<std::string> value;
  ConfigSource source = ConfigSource::default_config;
};

struct DescribedConfig {
  std::string name;
  std::optional<std::string> value;  // null for a sensitive key or a key without a value
  bool read_only = false;
  ConfigSource source = ConfigSource::default_config;
  bool is_sensitive = false;
  KafkaConfigType type = KafkaConfigType::unknown;
  std::string documentation;          // one line
  std::vector<ConfigSynonym> synonyms;  // most specific first (the entry's own source first)
};

// Every topic key conveyor accepts (both kinds above), as ConfigKeys with Kafka's defaults.
const ConfigSchema& full_topic_config_schema();
// false for the keys that are stored and reported only.
bool topic_key_acted_on(std::string_view key);
// Kafka's type of a topic key (integer keys bounded by INT32_MAX are INT, others LONG).
KafkaConfigType topic_key_type(std::string_view key);

// Validates a topic's complete override set against the broker's properties: every key known,
// every value well typed and in range, no line breaks, and a LogConfig that storage accepts.
// Errors: invalid_config whose message names the key ("Unknown topic config name: foo").
Result<void> validate_topic_overrides(const Properties& broker, const Properties& overrides);

// Every topic key (sorted by name) with its effective value for a topic with `overrides` on a
// broker with `broker` properties: the override (DYNAMIC_TOPIC_CONFIG), else the broker key
// that sets it (STATIC_BROKER_CONFIG, in the topic key's unit), else Kafka's default
// (DEFAULT_CONFIG). Synonyms: the override, the broker keys set, the broker key holding the
// default (e.g. retention.ms → log.retention.hours=168).
std::vector<DescribedConfig> describe_topic_configs(const Properties& broker, const Properties& overrides);

// Every broker key (broker_config_schema(), sorted by name), read-only: the value from the
// broker's properties (STATIC_BROKER_CONFIG) or the default (DEFAULT_CONFIG; null when there is
// none). Password keys are sensitive and reported with a null value.
std::vector<DescribedConfig> describe_broker_configs(const Properties& broker);

}  // namespace conveyor::broker
