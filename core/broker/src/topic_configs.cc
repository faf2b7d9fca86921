#include "topic_configs.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "conveyor/broker/broker.h"
#include "conveyor/storage/log_config.h"

namespace conveyor::broker {
namespace {

// A Kafka topic key conveyor stores and reports without acting on it.
struct StoredOnlyKey {
  const char* name;
  ConfigType type;
  KafkaConfigType kafka_type;
  const char* default_value;
  const char* broker_key;  // the broker-wide default's key, "" if none
  int64_t min;
  int64_t max;
  const char* doc;
};

constexpr int64_t kMax = INT64_MAX;

// Kafka's defaults (Kafka 4.x docs, "Topic Configs"). Keys Kafka 4 dropped (message.format.version,
// message.downconversion.enable, message.timestamp.difference.max.ms) stay accepted through
// storage's ignore list but are not reported, as Kafka 4.1 does not report them.
constexpr StoredOnlyKey kStoredOnly[] = {
    {"compression.type", ConfigType::string, KafkaConfigType::string, "producer", "compression.type", 0, 0,
     "Codec of stored batches; stored only (conveyor keeps the producer's codec)"},
    {"min.insync.replicas", ConfigType::integer, KafkaConfigType::int32, "1", "min.insync.replicas", 1, INT32_MAX,
     "Replicas that must have a write for acks=all; stored only (a single node is its own ISR)"},
    {"unclean.leader.election.enable", ConfigType::boolean, KafkaConfigType::boolean, "false",
     "unclean.leader.election.enable", 0, 0, "Elect an out-of-sync leader as a last resort; stored only (single node)"},
    {"min.cleanable.dirty.ratio", ConfigType::floating, KafkaConfigType::float64, "0.5", "log.cleaner.min.cleanable.ratio",
     0, 0, "Dirty share of a compacted log that makes it eligible for cleaning; stored only"},
    {"min.compaction.lag.ms", ConfigType::integer, KafkaConfigType::int64, "0", "log.cleaner.min.compaction.lag.ms", 0,
     kMax, "Minimum age of a record before compaction may remove it; stored only"},
    {"max.compaction.lag.ms", ConfigType::integer, KafkaConfigType::int64, "9223372036854775807",
     "log.cleaner.max.compaction.lag.ms", 1, kMax, "Maximum time a record stays uncompacted; stored only"},
    {"delete.retention.ms", ConfigType::integer, KafkaConfigType::int64, "86400000", "log.cleaner.delete.retention.ms",
     0, kMax, "How long tombstones of a compacted topic are kept; stored only"},
    {"file.delete.delay.ms", ConfigType::integer, KafkaConfigType::int64, "60000", "log.segment.delete.delay.ms", 0,
     kMax, "Delay before a deleted segment's files are removed; stored only (removed at once)"},
    {"segment.jitter.ms", ConfigType::integer, KafkaConfigType::int64, "0", "log.roll.jitter.ms", 0, kMax,
     "Random jitter subtracted from segment.ms; stored only"},
    {"message.timestamp.before.max.ms", ConfigType::integer, KafkaConfigType::int64, "9223372036854775807",
     "log.message.timestamp.before.max.ms", 0, kMax, "How far a record timestamp may lie in the past; stored only"},
    {"message.timestamp.after.max.ms", ConfigType::integer, KafkaConfigType::int64, "3600000",
     "log.message.timestamp.after.max.ms", 0, kMax, "How far a record timestamp may lie in the future; stored only"},
    {"follower.replication.throttled.replicas", ConfigType::list, KafkaConfigType::list, "", "", 0, 0,
     "Replicas whose follower fetches are throttled; stored only (single node)"},
    {"leader.replication.throttled.replicas", ConfigType::list, KafkaConfigType::list, "", "", 0, 0,
     "Replicas whose leader side is throttled; stored only (single node)"},
    {"local.retention.ms", ConfigType::integer, KafkaConfigType::int64, "-2", "log.local.retention.ms", -2, kMax,
     "Local retention with tiered storage (-2 = retention.ms); stored only"},
    {"local.retention.bytes", ConfigType::integer, KafkaConfigType::int64, "-2", "log.local.retention.bytes", -2, kMax,
     "Local retention bytes with tiered storage (-2 = retention.bytes); stored only"},
    {"remote.storage.enable", ConfigType::boolean, KafkaConfigType::boolean, "false", "", 0, 0,
     "Tiered storage for the topic; stored only"},
};

const StoredOnlyKey* stored_only(std::string_view name) {
  for (const auto& k : kStoredOnly)
    if (name == k.name) return &k;
  return nullptr;
}

ConfigSchema build_full_schema() {
  const ConfigSchema& storage = storage::topic_config_schema();
  ConfigSchema s;
  for (const auto& k : storage.keys()) s.add(k);
  for (const auto& k : kStoredOnly) {
    if (storage.find(k.name)) continue;  // storage acts on it now: its declaration wins
    ConfigKey key;
    key.name = k.name;
    key.type = k.type;
    key.default_value = k.default_value;
    key.doc = k.doc;
    if (k.type == ConfigType::integer) {
      key.min = k.min;
      key.max = k.max;
    }
    if (key.name == "compression.type") key.choices = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"};
    s.add(std::move(key));
  }
  return s;
}

KafkaConfigType type_of(const ConfigKey& k) {
  switch (k.type) {
    case ConfigType::boolean: return KafkaConfigType::boolean;
    case ConfigType::list: return KafkaConfigType::list;
    case ConfigType::password: return KafkaConfigType::password;
    case ConfigType::string: return KafkaConfigType::string;
    case ConfigType::floating: return KafkaConfigType::float64;
    case ConfigType::integer:
      return k.max <= INT32_MAX && k.min >= INT32_MIN ? KafkaConfigType::int32 : KafkaConfigType::int64;
  }
  return KafkaConfigType::unknown;
}

std::vector<std::string> synonyms_of(std::string_view key) {
  if (topic_key_acted_on(key)) return storage::broker_synonyms(key);
  if (auto s = stored_only(key); s && *s->broker_key) return {s->broker_key};
  return {};
}

}  // namespace

const ConfigSchema& full_topic_config_schema() {
  static const ConfigSchema schema = build_full_schema();
  return schema;
}

bool topic_key_acted_on(std::string_view key) { return storage::topic_config_schema().find(key) != nullptr; }

KafkaConfigType topic_key_type(std::string_view key) {
  if (auto s = stored_only(key); s && !topic_key_acted_on(key)) return s->kafka_type;
  if (auto k = full_topic_config_schema().find(key)) return type_of(*k);
  return KafkaConfigType::unknown;
}

Result<void> validate_topic_overrides(const Properties& broker, const Properties& overrides) {
  const ConfigSchema& schema = full_topic_config_schema();
  for (const auto& [key, value] : overrides.values()) {
    if (!schema.find(key)) {
      if (storage::topic_config_schema().ignored(key)) continue;  // accepted and ignored, never reported
      return fail(ErrorCode::invalid_config, fmt::format("Unknown topic config name: {}", key));
    }
    if (value.find_first_of("\r\n") != std::string::npos)
      return fail(ErrorCode::invalid_config, fmt::format("{}: a value may not contain a line break", key));
    if (topic_key_type(key) == KafkaConfigType::float64) {
      double d = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
      if (ec != std::errc() || p != value.data() + value.size() || !(d >= 0.0 && d <= 1.0))
        return fail(ErrorCode::invalid_config, fmt::format("{}: expected a number in [0, 1], got \"{}\"", key, value));
    }
  }
  Properties known;
  for (const auto& [key, value] : overrides.values())
    if (schema.find(key)) known.set(key, value);
  if (auto r = known.validate(schema); !r) return fail(r.error());
  if (auto r = storage::make_log_config(broker, overrides); !r) return fail(r.error());
  return {};
}

std::vector<DescribedConfig> describe_topic_configs(const Properties& broker, const Properties& overrides) {
  const ConfigSchema& broker_schema = broker_config_schema();
  std::vector<DescribedConfig> out;
  for (const auto& key : full_topic_config_schema().keys()) {
    DescribedConfig c;
    c.name = key.name;
    c.type = topic_key_type(key.name);
    c.documentation = key.doc;
    auto synonyms = synonyms_of(key.name);
    if (auto v = overrides.get_raw(key.name)) {
      c.value = *v;
      c.source = ConfigSource::dynamic_topic;
      c.synonyms.push_back(ConfigSynonym{key.name, *v, ConfigSource::dynamic_topic});
    }
    // The broker-wide value: the first synonym set in the broker's properties.
    std::optional<std::string> broker_value;
    if (topic_key_acted_on(key.name)) {
      auto d = storage::topic_default(broker, key.name);
      if (d && !d->broker_key.empty()) broker_value = d->value;
    } else {
      for (const auto& b : synonyms)
        if (auto raw = broker.get_raw(b)) {
          broker_value = *raw;
          break;
        }
    }
    if (!c.value) {
      c.value = broker_value.value_or(key.default_value);
      c.source = broker_value ? ConfigSource::static_broker : ConfigSource::default_config;
    }
    // Per broker key, in precedence order: its static value, then its default (as Kafka lists them).
    bool default_listed = false;
    for (const auto& b : synonyms) {
      if (auto raw = broker.get_raw(b)) c.synonyms.push_back(ConfigSynonym{b, *raw, ConfigSource::static_broker});
      if (auto bk = broker_schema.find(b); bk && bk->has_default) {
        c.synonyms.push_back(ConfigSynonym{b, bk->default_value, ConfigSource::default_config});
        default_listed = true;
      }
    }
    if (!default_listed)  // a broker key outside the broker schema: Kafka's default under its name
      c.synonyms.push_back(ConfigSynonym{synonyms.empty() ? key.name : synonyms.back(), key.default_value,
                                         ConfigSource::default_config});
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::vector<DescribedConfig> describe_broker_configs(const Properties& broker) {
  std::vector<DescribedConfig> out;
  for (const auto& key : broker_config_schema().keys()) {
    DescribedConfig c;
    c.name = key.name;
    c.read_only = true;  // no dynamic broker configs
    c.type = type_of(key);
    c.documentation = key.doc;
    c.is_sensitive = key.type == ConfigType::password;
    auto raw = broker.get_raw(key.name);
    if (raw) {
      c.value = *raw;
      c.source = ConfigSource::static_broker;
      c.synonyms.push_back(ConfigSynonym{key.name, c.is_sensitive ? std::nullopt : c.value, ConfigSource::static_broker});
    } else {
      if (key.has_default) c.value = key.default_value;
      c.source = ConfigSource::default_config;
    }
    if (key.has_default)
      c.synonyms.push_back(ConfigSynonym{key.name, c.is_sensitive ? std::nullopt : std::optional<std::string>(key.default_value),
                                         ConfigSource::default_config});
    if (c.is_sensitive) c.value = std::nullopt;
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace conveyor::broker
