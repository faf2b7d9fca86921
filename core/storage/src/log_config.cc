#include "conveyor/storage/log_config.h"

#include <charconv>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>

namespace conveyor::storage {
namespace {

ConfigKey make_key(std::string name, ConfigType type, std::string default_value, std::string doc,
                   int64_t min = INT64_MIN, int64_t max = INT64_MAX, bool has_default = true) {
  ConfigKey k;
  k.name = std::move(name);
  k.type = type;
  k.default_value = std::move(default_value);
  k.has_default = has_default;
  k.doc = std::move(doc);
  k.min = min;
  k.max = max;
  return k;
}

constexpr int64_t kDay = 24LL * 3600 * 1000;

ConfigSchema build_topic_schema() {
  ConfigSchema s;
  s.add(make_key("segment.bytes", ConfigType::integer, "1073741824", "Roll to a new segment file when the active one reaches this size", 14, INT32_MAX, true));
  s.add(make_key("segment.index.bytes", ConfigType::integer, "10485760", "Maximum size of a segment's offset index", 4, INT32_MAX, true));
  s.add(make_key("index.interval.bytes", ConfigType::integer, "4096", "Bytes of batches between two index entries", 0, INT32_MAX, true));
  s.add(make_key("flush.messages", ConfigType::integer, "9223372036854775807", "fsync the log after this many records", 1, INT64_MAX, true));
  s.add(make_key("flush.ms", ConfigType::integer, "9223372036854775807", "fsync the log when unflushed data is this old", 0, INT64_MAX, true));
  s.add(make_key("max.message.bytes", ConfigType::integer, "1048588", "Largest record batch accepted", 0, INT32_MAX, true));
  s.add([&] { auto k = make_key("message.timestamp.type", ConfigType::string, "CreateTime", "CreateTime or LogAppendTime", INT64_MIN, INT64_MAX, true); k.choices = {"createtime", "logappendtime"}; return k; }());
  s.add(make_key("preallocate", ConfigType::boolean, "false", "Preallocate segment files", INT64_MIN, INT64_MAX, true));
  s.add(make_key("segment.ms", ConfigType::integer, std::to_string(7 * kDay), "Roll the active segment when an append is this much newer than its first batch", 1, INT64_MAX, true));
  s.add(make_key("retention.ms", ConfigType::integer, std::to_string(7 * kDay), "Delete closed segments whose newest record is older than this (-1 = forever)", -1, INT64_MAX, true));
  s.add(make_key("retention.bytes", ConfigType::integer, "-1", "Delete the oldest segments while the partition stays above this size (-1 = unlimited)", -1, INT64_MAX, true));
  // Durable mode (conveyor's own key; Kafka has none): see LogConfig::fsync_before_ack.
  s.add(make_key("conveyor.fsync.before.ack", ConfigType::boolean, "false", "conveyor's own: answer acks=1/all produces only after the batches are fsync'd (group commit)", INT64_MIN, INT64_MAX, true));
  s.add(make_key("cleanup.policy", ConfigType::list, "delete", "delete (retention) and/or compact (keep the latest record per key)", INT64_MIN, INT64_MAX, true));
  // Compaction (cleaner.h).
  s.add(make_key("delete.retention.ms", ConfigType::integer, std::to_string(kDay), "How long tombstones and transaction markers of a compacted topic stay after the cleaner first saw them", 0, INT64_MAX, true));
  s.add(make_key("min.cleanable.dirty.ratio", ConfigType::floating, "0.5", "Clean a compacted log when its dirty share of bytes reaches this ratio (0..1)", INT64_MIN, INT64_MAX, true));
  s.add(make_key("min.compaction.lag.ms", ConfigType::integer, "0", "Records newer than this are not compacted", 0, INT64_MAX, true));
  s.add(make_key("max.compaction.lag.ms", ConfigType::integer, "9223372036854775807", "Clean a compacted log whose dirty part is older than this, whatever the ratio", 1, INT64_MAX, true));
  for (const char* k : {"compression.type", "min.insync.replicas", "unclean.leader.election.enable",
                        "file.delete.delay.ms", "segment.jitter.ms",
                        "message.timestamp.difference.max.ms", "message.timestamp.before.max.ms",
                        "message.timestamp.after.max.ms", "message.downconversion.enable",
                        "message.format.version", "follower.replication.throttled.replicas",
                        "leader.replication.throttled.replicas", "local.retention.ms",
                        "local.retention.bytes", "remote.storage.enable"})
    s.ignore(k);
  return s;
}

// Broker key → topic key, for the keys that map one to one.
struct BrokerKey {
  const char* broker;
  const char* topic;
};
constexpr BrokerKey kBrokerKeys[] = {
    {"log.segment.bytes", "segment.bytes"},
    {"log.index.size.max.bytes", "segment.index.bytes"},
    {"log.index.interval.bytes", "index.interval.bytes"},
    {"log.flush.interval.messages", "flush.messages"},
    {"log.flush.interval.ms", "flush.ms"},
    {"message.max.bytes", "max.message.bytes"},
    {"log.message.timestamp.type", "message.timestamp.type"},
    {"log.preallocate", "preallocate"},
    {"log.roll.ms", "segment.ms"},
    {"log.retention.ms", "retention.ms"},
    {"log.retention.bytes", "retention.bytes"},
    {"log.cleanup.policy", "cleanup.policy"},
    {"conveyor.log.fsync.before.ack", "conveyor.fsync.before.ack"},  // durable mode
    // Compaction.
    {"log.cleaner.delete.retention.ms", "delete.retention.ms"},
    {"log.cleaner.min.cleanable.ratio", "min.cleanable.dirty.ratio"},
    {"log.cleaner.min.compaction.lag.ms", "min.compaction.lag.ms"},
    {"log.cleaner.max.compaction.lag.ms", "max.compaction.lag.ms"},
};

ConfigSchema build_broker_schema() {
  ConfigSchema s;
  add_broker_log_config_keys(s);
  return s;
}

}  // namespace

Result<double> parse_config_double(std::string_view key, std::string_view text, double min, double max) {
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || !(v >= min && v <= max))
    return fail(ErrorCode::invalid_config,
                fmt::format("{}: expected a number in [{}, {}], got \"{}\"", key, min, max, text));
  return v;
}

const ConfigSchema& topic_config_schema() {
  static const ConfigSchema schema = build_topic_schema();
  return schema;
}

void add_broker_log_config_keys(ConfigSchema& schema) {
  const auto& topic = topic_config_schema();
  for (const auto& [broker, topic_key] : kBrokerKeys) {
    ConfigKey key = *topic.find(topic_key);
    key.name = broker;
    if (key.name == "log.roll.ms" || key.name == "log.retention.ms" || key.name == "log.flush.interval.ms") {
      key.has_default = false;  // derived from the .hours/.minutes forms when unset
      key.default_value.clear();
    }
    schema.add(std::move(key));
  }
  schema.add(make_key("log.roll.hours", ConfigType::integer, "168", "Roll a segment after this many hours (when log.roll.ms is unset)", 1, INT64_MAX, true));
  schema.add(make_key("log.retention.minutes", ConfigType::integer, "", "Retention in minutes (when log.retention.ms is unset)", -1, INT64_MAX, false));
  schema.add(make_key("log.retention.hours", ConfigType::integer, "168", "Retention in hours (when log.retention.ms/minutes are unset)", -1, INT64_MAX, true));
  // The log cleaner's broker keys (cleaner.h, make_cleaner_config).
  schema.add(make_key("log.cleaner.enable", ConfigType::boolean, "true", "Run the log cleaner (compaction of cleanup.policy=compact topics)", INT64_MIN, INT64_MAX, true));
  schema.add(make_key("log.cleaner.threads", ConfigType::integer, "1", "Threads of the log cleaner", 1, 64, true));
  schema.add(make_key("log.cleaner.backoff.ms", ConfigType::integer, "15000", "How long the cleaner sleeps when no log needs cleaning", 1, INT64_MAX, true));
  schema.add(make_key("log.cleaner.dedupe.buffer.size", ConfigType::integer, "134217728", "Memory bound of the cleaner's key-to-offset maps (bytes, shared by the threads)", 1024, INT64_MAX, true));
  schema.add(make_key("log.cleaner.io.max.bytes.per.second", ConfigType::floating, "1.7976931348623157E308", "Throttle of the cleaner's reads plus writes (bytes per second, all threads)", INT64_MIN, INT64_MAX, true));
  schema.add(make_key("log.flush.scheduler.interval.ms", ConfigType::integer, "9223372036854775807", "flush.ms default when log.flush.interval.ms is unset", 0, INT64_MAX, true));
  // KIP-854: Kafka's type INT, at least 1 (the broker's check runs every
  // producer.id.expiration.check.interval.ms, declared by the broker).
  schema.add(make_key("producer.id.expiration.ms", ConfigType::integer, std::to_string(kDay), "The idempotent state of a producer id in a partition is removed when its last batch's max timestamp is at least this old (checked every producer.id.expiration.check.interval.ms); a later batch of that producer id is then accepted with any sequence (KIP-360)", 1, INT32_MAX, true));
}

Result<LogConfig> make_log_config(const Properties& broker, const Properties& topic_overrides) {
  static const ConfigSchema broker_schema = build_broker_schema();
  // Only the log keys of the broker's properties matter here; the broker validates the rest.
  Properties broker_log;
  for (const auto& [k, v] : broker.values())
    if (broker_schema.find(k)) broker_log.set(k, v);
  if (auto r = broker_log.validate(broker_schema); !r) return fail(r.error());
  const auto& topic_schema = topic_config_schema();
  if (auto r = topic_overrides.validate(topic_schema); !r) return fail(r.error());

  // Effective topic-level properties: broker values first, then overrides.
  Properties merged;
  for (const auto& [b, t] : kBrokerKeys)
    if (auto v = broker_log.get_raw(b)) merged.set(t, *v);
  if (!broker_log.contains("log.roll.ms"))
    merged.set("segment.ms", std::to_string(*broker_log.get_int(broker_schema, "log.roll.hours") * 3600 * 1000));
  if (!broker_log.contains("log.retention.ms")) {
    if (broker_log.contains("log.retention.minutes")) {
      auto m = *broker_log.get_int(broker_schema, "log.retention.minutes");
      merged.set("retention.ms", std::to_string(m < 0 ? -1 : m * 60 * 1000));
    } else {
      auto h = *broker_log.get_int(broker_schema, "log.retention.hours");
      merged.set("retention.ms", std::to_string(h < 0 ? -1 : h * 3600 * 1000));
    }
  }
  if (!broker_log.contains("log.flush.interval.ms"))
    merged.set("flush.ms", std::to_string(*broker_log.get_int(broker_schema, "log.flush.scheduler.interval.ms")));
  for (const auto& [k, v] : topic_overrides.values())
    if (topic_schema.find(k)) merged.set(k, v);

  LogConfig c;
  auto get_int = [&](const char* key) { return merged.get_int(topic_schema, key); };
#define CONVEYOR_GET(field, key)                 \
  do {                                           \
    auto v = get_int(key);                       \
    if (!v) return fail(v.error());              \
    c.field = static_cast<decltype(c.field)>(*v); \
  } while (0)
  CONVEYOR_GET(segment_bytes, "segment.bytes");
  CONVEYOR_GET(segment_index_bytes, "segment.index.bytes");
  CONVEYOR_GET(index_interval_bytes, "index.interval.bytes");
  CONVEYOR_GET(flush_messages, "flush.messages");
  CONVEYOR_GET(flush_ms, "flush.ms");
  CONVEYOR_GET(max_message_bytes, "max.message.bytes");
  CONVEYOR_GET(segment_ms, "segment.ms");
  CONVEYOR_GET(retention_ms, "retention.ms");
  CONVEYOR_GET(retention_bytes, "retention.bytes");
  CONVEYOR_GET(delete_retention_ms, "delete.retention.ms");
  CONVEYOR_GET(min_compaction_lag_ms, "min.compaction.lag.ms");
  CONVEYOR_GET(max_compaction_lag_ms, "max.compaction.lag.ms");
#undef CONVEYOR_GET
  {
    auto ratio = merged.get_string(topic_schema, "min.cleanable.dirty.ratio");
    if (!ratio) return fail(ratio.error());
    auto parsed = parse_config_double("min.cleanable.dirty.ratio", *ratio, 0.0, 1.0);
    if (!parsed) return fail(parsed.error());
    c.min_cleanable_dirty_ratio = *parsed;
  }
  auto ts = merged.get_string(topic_schema, "message.timestamp.type");
  if (!ts) return fail(ts.error());
  std::string lowered;
  for (char ch : *ts) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  c.message_timestamp_type = lowered.find("logappendtime") != std::string::npos
                                 ? protocol::TimestampType::log_append_time
                                 : protocol::TimestampType::create_time;
  auto pre = merged.get_bool(topic_schema, "preallocate");
  if (!pre) return fail(pre.error());
  c.preallocate = *pre;
  auto durable = merged.get_bool(topic_schema, "conveyor.fsync.before.ack");
  if (!durable) return fail(durable.error());
  c.fsync_before_ack = *durable;
  auto policy = merged.get_list(topic_schema, "cleanup.policy");
  if (!policy) return fail(policy.error());
  c.cleanup_policy.clear();
  for (const auto& p : *policy) {
    if (p != "delete" && p != "compact")
      return fail(ErrorCode::invalid_config, fmt::format("cleanup.policy: \"{}\" is not delete or compact", p));
    c.cleanup_policy += (c.cleanup_policy.empty() ? "" : ",") + p;
  }
  auto expiration = broker_log.get_int(broker_schema, "producer.id.expiration.ms");
  if (!expiration) return fail(expiration.error());
  c.producer_id_expiration_ms = *expiration;
  return c;
}

// ---- Topic configuration APIs ---------------------------------------------------------------

std::vector<std::string> broker_synonyms(std::string_view topic_key) {
  if (topic_key == "retention.ms") return {"log.retention.ms", "log.retention.minutes", "log.retention.hours"};
  if (topic_key == "segment.ms") return {"log.roll.ms", "log.roll.hours"};
  if (topic_key == "flush.ms") return {"log.flush.interval.ms", "log.flush.scheduler.interval.ms"};
  std::vector<std::string> out;
  for (const auto& [b, t] : kBrokerKeys)
    if (topic_key == t) out.emplace_back(b);
  return out;
}

std::optional<TopicKeyDefault> topic_default(const Properties& broker, std::string_view topic_key) {
  const ConfigKey* key = topic_config_schema().find(topic_key);
  if (!key) return std::nullopt;
  for (const auto& b : broker_synonyms(topic_key)) {
    auto raw = broker.get_raw(b);
    if (!raw) continue;
    std::string value = *raw;
    int64_t n = 0;
    auto scaled = [&](int64_t unit_ms) {
      auto [p, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), n);
      if (ec == std::errc() && p == raw->data() + raw->size()) value = std::to_string(n < 0 ? -1 : n * unit_ms);
    };
    if (b == "log.retention.minutes") scaled(60 * 1000);
    if (b == "log.retention.hours" || b == "log.roll.hours") scaled(3600 * 1000);
    return TopicKeyDefault{value, b};
  }
  return TopicKeyDefault{key->default_value, ""};
}

}  // namespace conveyor::storage
