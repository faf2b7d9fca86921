#include "config.h"

#include <fmt/format.h>

#include "conveyor/broker/broker.h"
#include "conveyor/storage/cleaner.h"
#include "conveyor/storage/log_config.h"

namespace conveyor::broker {
namespace {

ConfigKey int_key(std::string name, int64_t def, std::string doc, int64_t min = INT64_MIN,
                  int64_t max = INT64_MAX) {
  ConfigKey k;
  k.name = std::move(name);
  k.type = ConfigType::integer;
  k.default_value = std::to_string(def);
  k.doc = std::move(doc);
  k.min = min;
  k.max = max;
  return k;
}

ConfigKey str_key(std::string name, std::string def, std::string doc, bool has_default = true,
                  ConfigType type = ConfigType::string) {
  ConfigKey k;
  k.name = std::move(name);
  k.type = type;
  k.default_value = std::move(def);
  k.has_default = has_default;
  k.doc = std::move(doc);
  return k;
}

ConfigKey bool_key(std::string name, bool def, std::string doc) {
  ConfigKey k;
  k.name = std::move(name);
  k.type = ConfigType::boolean;
  k.default_value = def ? "true" : "false";
  k.doc = std::move(doc);
  return k;
}

ConfigSchema build_schema() {
  ConfigSchema all;
  // Log keys first (log.segment.bytes, log.flush.interval.*, message.max.bytes, ...): the
  // storage subsystem declares them with Kafka's defaults.
  storage::add_broker_log_config_keys(all);
  struct Adder {
    ConfigSchema& schema;
    Adder& add(ConfigKey k) {
      if (!schema.find(k.name)) schema.add(std::move(k));
      return *this;
    }
    Adder& ignore(std::string k) {
      if (!schema.find(k) && !schema.ignored(k)) schema.ignore(std::move(k));
      return *this;
    }
    const ConfigKey* find(std::string_view k) const { return schema.find(k); }
  } s{all};
  s.add(str_key("listeners", "PLAINTEXT://127.0.0.1:9092",
                "Comma-separated NAME://host:port (or host:port) to listen on; port 0 = ephemeral; "
                "an empty host = every interface. CONTROLLER listeners are ignored.",
                true, ConfigType::list));
  s.add(str_key("advertised.listeners", "",
                "Addresses given to clients in Metadata, NAME://host:port; default: the bound listener "
                "(a wildcard host is advertised as 127.0.0.1).",
                false, ConfigType::list));
  s.add(str_key("log.dirs", "",
                "Comma-separated data directories; unset (and log.dir unset) = a fresh temporary directory "
                "removed when the broker stops.",
                false, ConfigType::list));
  s.add(str_key("log.dir", "", "A single data directory, used when log.dirs is unset.", false));
  s.add(int_key("node.id", 1, "This broker's node id (also accepted as broker.id).", 0, INT32_MAX));
  s.add(int_key("broker.id", 1, "Alias of node.id (ZooKeeper-era name).", 0, INT32_MAX));
  s.add(int_key("num.partitions", 1, "Partitions of an auto-created topic or a CreateTopics request with -1.",
                1, 1000000));
  s.add(int_key("default.replication.factor", 1,
                "Replication factor of auto-created topics; a single node supports only 1.", 1, INT16_MAX));
  s.add(bool_key("auto.create.topics.enable", true,
                 "Create a topic when Metadata (if the request allows it) or Produce names an unknown one."));
  s.add(bool_key("delete.topic.enable", true, "Whether DeleteTopics may delete topics."));
  s.add(int_key("socket.request.max.bytes", 104857600,
                "Largest request frame accepted; a larger size prefix closes the connection.", 1, INT32_MAX));
  s.add(int_key("fetch.max.bytes", 57671680, "Upper bound of the record bytes in one Fetch response.", 1024,
                INT32_MAX));
  s.add(int_key("num.network.threads", 2, "Threads running the network event loop and the request handlers.",
                1, 256));
  s.add(int_key("num.io.threads", 2,
                "Accepted for compatibility; requests currently run on the network threads.", 1, 256));
  s.add(int_key("log.flush.scheduler.interval.ms", 1000,
                "How often the broker checks partitions for flush.ms-based flushing.", 1, INT32_MAX));
  s.add(int_key("log.retention.check.interval.ms", 300000,
                "How often the retention task deletes segments past retention.ms / retention.bytes / the log start offset.",
                1, INT64_MAX));
  // KIP-854 (Kafka's type INT, at least 1); producer.id.expiration.ms itself is a log key
  // declared by storage (LogConfig::producer_id_expiration_ms).
  s.add(int_key("producer.id.expiration.check.interval.ms", 600000,
                "How often the idempotent state of every partition is checked for producer ids whose last batch "
                "is producer.id.expiration.ms old; those are removed.",
                1, INT32_MAX));
  s.add(int_key("max.connections", 10000, "Connections accepted at once; more are closed on accept.", 1,
                INT32_MAX));
  s.add(int_key("conveyor.producer.id.block.size", 1000,
                "Producer ids reserved on disk at a time (the next block is persisted before use).", 1,
                1000000));
  // Group coordinator (core/group; Kafka's names, defaults and meaning).
  s.add(int_key("group.min.session.timeout.ms", 6000,
                "Smallest session.timeout.ms a JoinGroup may ask for; less gets INVALID_SESSION_TIMEOUT.", 1,
                INT32_MAX));
  s.add(int_key("group.max.session.timeout.ms", 1800000,
                "Largest session.timeout.ms a JoinGroup may ask for; more gets INVALID_SESSION_TIMEOUT.", 1,
                INT32_MAX));
  s.add(int_key("group.initial.rebalance.delay.ms", 3000,
                "How long the first rebalance of an empty group waits for more members; extended by this much "
                "as members join, up to the rebalance timeout.",
                0, INT32_MAX));
  s.add(int_key("group.max.size", INT32_MAX,
                "Most members one group may have; further joins get GROUP_MAX_SIZE_REACHED.", 1, INT32_MAX));
  s.add(int_key("offset.metadata.max.bytes", 4096,
                "Largest metadata string of one committed offset; more gets OFFSET_METADATA_TOO_LARGE.", 0,
                INT32_MAX));
  s.add(int_key("offsets.retention.minutes", 10080,
                "Committed offsets of a group that has been empty this long (or, without group management, "
                "committed this long ago) are deleted.",
                1, INT32_MAX));
  s.add(int_key("offsets.retention.check.interval.ms", 600000, "How often offset retention is checked.", 1,
                INT64_MAX));
  s.add(int_key("offsets.topic.num.partitions", 50,
                "Partitions of the internal __consumer_offsets topic (fixed once it exists).", 1, 10000));
  s.add(int_key("offsets.topic.segment.bytes", 104857600, "segment.bytes of the __consumer_offsets topic.", 14,
                INT32_MAX));
  // Declared by storage; repeated here only in case its list lacks them.
  s.add(int_key("message.max.bytes", 1048588, "Largest record batch accepted (bytes, whole batch).", 0,
                INT32_MAX));
  s.add(int_key("log.segment.bytes", int64_t{1} << 30, "Size at which a log segment rolls.", 14, INT32_MAX));
  s.add(int_key("log.flush.interval.messages", INT64_MAX, "fsync a partition after this many records.", 1));
  s.add(int_key("log.flush.interval.ms", INT64_MAX, "fsync a partition when its oldest unflushed append is this old.", 0));
  // Kafka keys found in typical server.properties that conveyor accepts and does not act on
  // (single node, no KRaft quorum, no SASL/SSL yet, no retention yet); see README.md.
  for (const char* k : {"process.roles", "controller.quorum.voters", "controller.quorum.bootstrap.servers",
                        "controller.listener.names", "listener.security.protocol.map",
                        "inter.broker.listener.name", "security.inter.broker.protocol", "zookeeper.connect",
                        "zookeeper.connection.timeout.ms", "cluster.id", "offsets.topic.replication.factor",
                        "transaction.state.log.replication.factor", "transaction.state.log.min.isr",
                        "log.retention.check.interval.ms", "num.recovery.threads.per.data.dir",
                        "socket.send.buffer.bytes", "socket.receive.buffer.bytes", "min.insync.replicas",
                        "log.segment.delete.delay.ms", "unclean.leader.election.enable",
                        "replica.lag.time.max.ms", "auto.leader.rebalance.enable", "num.replica.fetchers",
                        "share.coordinator.state.topic.replication.factor",
                        "share.coordinator.state.topic.min.isr", "log.retention.minutes",
                        "log.retention.hours", "log.retention.ms", "log.retention.bytes",
                        "compression.type",
                        "connections.max.idle.ms", "queued.max.requests"}) {
    s.ignore(k);
  }
  return all;
}

// host:port, [v6]:port. Errors name `key`.
Result<ListenerSpec> parse_one(const std::string& key, std::string_view item) {
  ListenerSpec spec;
  auto sep = item.find("://");
  std::string_view rest = item;
  if (sep != std::string_view::npos) {
    spec.name = std::string(item.substr(0, sep));
    rest = item.substr(sep + 3);
    if (spec.name.empty())
      return fail(ErrorCode::invalid_config, fmt::format("{}: listener \"{}\" has no name", key, item));
    for (auto& c : spec.name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::string_view host;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return fail(ErrorCode::invalid_config, fmt::format("{}: bad listener \"{}\"", key, item));
    host = rest.substr(1, close - 1);
    port_text = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos)
      return fail(ErrorCode::invalid_config,
                  fmt::format("{}: listener \"{}\" needs host:port (the port may be 0)", key, item));
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  }
  int port = -1;
  if (port_text.empty() || port_text.size() > 5) port = -1;
  else {
    port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') {
        port = -1;
        break;
      }
      port = port * 10 + (c - '0');
    }
  }
  if (port < 0 || port > 65535)
    return fail(ErrorCode::invalid_config, fmt::format("{}: bad port in listener \"{}\"", key, item));
  spec.host = std::string(host);
  spec.port = port;
  return spec;
}

}  // namespace

const ConfigSchema& broker_config_schema() {
  static const ConfigSchema schema = build_schema();
  return schema;
}

Result<std::vector<ListenerSpec>> parse_listeners(const std::string& key, const std::string& text) {
  std::vector<ListenerSpec> out;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      auto spec = parse_one(key, item);
      if (!spec) return fail(spec.error());
      out.push_back(std::move(*spec));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

Result<BrokerConfig> parse_broker_config(const Properties& props) {
  const ConfigSchema& schema = broker_config_schema();
  if (auto r = props.validate(schema); !r) return fail(r.error());
  BrokerConfig c;
  c.properties = props;

#define CONVEYOR_GET(kind, key, target)                     \
  do {                                                      \
    auto v = props.get_##kind(schema, key);                 \
    if (!v) return fail(v.error());                         \
    target = static_cast<decltype(target)>(*v);             \
  } while (0)

  std::string listeners_text;
  CONVEYOR_GET(string, "listeners", listeners_text);
  auto listeners = parse_listeners("listeners", listeners_text);
  if (!listeners) return fail(listeners.error());
  bool found = false;
  for (const auto& l : *listeners) {
    if (l.name == "CONTROLLER") continue;
    if (l.name == "SSL" || l.name.starts_with("SASL"))
      return fail(ErrorCode::invalid_config,
                  fmt::format("listeners: {} is not supported yet (PLAINTEXT only)", l.name));
    c.listener = l;
    found = true;
    break;
  }
  if (!found) return fail(ErrorCode::invalid_config, "listeners: no PLAINTEXT listener given");

  if (auto adv = props.get_raw("advertised.listeners"); adv && !adv->empty()) {
    auto advertised = parse_listeners("advertised.listeners", *adv);
    if (!advertised) return fail(advertised.error());
    for (const auto& l : *advertised)
      if (l.name == c.listener.name) c.advertised = l;
    if (!c.advertised && !advertised->empty() && advertised->front().name != "CONTROLLER")
      c.advertised = advertised->front();
  }

  if (auto dirs = props.get_raw("log.dirs"); dirs && !dirs->empty()) {
    auto list = props.get_list(schema, "log.dirs");
    if (!list) return fail(list.error());
    c.log_dirs = *list;
  } else if (auto dir = props.get_raw("log.dir"); dir && !dir->empty()) {
    c.log_dirs = {*dir};
  }

  if (props.contains("node.id")) CONVEYOR_GET(int, "node.id", c.node_id);
  else if (props.contains("broker.id")) CONVEYOR_GET(int, "broker.id", c.node_id);
  CONVEYOR_GET(int, "num.partitions", c.num_partitions);
  CONVEYOR_GET(int, "default.replication.factor", c.default_replication_factor);
  CONVEYOR_GET(bool, "auto.create.topics.enable", c.auto_create_topics_enable);
  CONVEYOR_GET(bool, "delete.topic.enable", c.delete_topic_enable);
  CONVEYOR_GET(int, "message.max.bytes", c.message_max_bytes);
  CONVEYOR_GET(int, "socket.request.max.bytes", c.socket_request_max_bytes);
  CONVEYOR_GET(int, "fetch.max.bytes", c.fetch_max_bytes);
  CONVEYOR_GET(int, "num.network.threads", c.num_network_threads);
  CONVEYOR_GET(int, "num.io.threads", c.num_io_threads);
  CONVEYOR_GET(int, "log.flush.scheduler.interval.ms", c.flush_scheduler_interval_ms);
  CONVEYOR_GET(int, "log.retention.check.interval.ms", c.retention_check_interval_ms);
  CONVEYOR_GET(int, "producer.id.expiration.check.interval.ms", c.producer_id_expiration_check_interval_ms);
  CONVEYOR_GET(int, "max.connections", c.max_connections);
  CONVEYOR_GET(int, "conveyor.producer.id.block.size", c.producer_id_block_size);
  CONVEYOR_GET(int, "group.min.session.timeout.ms", c.group.min_session_timeout_ms);
  CONVEYOR_GET(int, "group.max.session.timeout.ms", c.group.max_session_timeout_ms);
  CONVEYOR_GET(int, "group.initial.rebalance.delay.ms", c.group.initial_rebalance_delay_ms);
  CONVEYOR_GET(int, "group.max.size", c.group.max_group_size);
  CONVEYOR_GET(int, "offset.metadata.max.bytes", c.group.offset_metadata_max_bytes);
  int64_t retention_minutes = 0;
  CONVEYOR_GET(int, "offsets.retention.minutes", retention_minutes);
  c.group.offsets_retention_ms = retention_minutes * 60 * 1000;
  CONVEYOR_GET(int, "offsets.retention.check.interval.ms", c.group.offsets_retention_check_interval_ms);
  CONVEYOR_GET(int, "offsets.topic.num.partitions", c.group.offsets_topic_num_partitions);
  CONVEYOR_GET(int, "offsets.topic.segment.bytes", c.offsets_topic_segment_bytes);
#undef CONVEYOR_GET
  if (c.group.min_session_timeout_ms > c.group.max_session_timeout_ms)
    return fail(ErrorCode::invalid_config,
                "group.min.session.timeout.ms: must not exceed group.max.session.timeout.ms");
  if (c.default_replication_factor != 1)
    return fail(ErrorCode::invalid_config,
                "default.replication.factor: a single-node broker supports only 1");
  // The log cleaner's keys (log.cleaner.*): a bad value names its key before anything starts.
  if (auto cleaner = storage::make_cleaner_config(props); !cleaner) return fail(cleaner.error());
  return c;
}

}  // namespace conveyor::broker
