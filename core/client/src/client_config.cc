#include "client_config.h"

#include "conveyor/base/assert.h"

namespace conveyor::client {

void add_common_keys(ConfigSchema& s) {
  s.add({.name = "bootstrap.servers", .type = ConfigType::list, .has_default = false,
         .doc = "host:port pairs used to discover the cluster"});
  s.add({.name = "client.id", .default_value = "conveyor", .doc = "client id sent in every request header"});
  s.add({.name = "request.timeout.ms", .type = ConfigType::integer, .default_value = "30000",
         .doc = "how long to wait for a response before failing the request", .min = 1, .max = INT32_MAX});
  s.add({.name = "reconnect.backoff.ms", .type = ConfigType::integer, .default_value = "50",
         .doc = "wait before reconnecting to a broker", .min = 0, .max = INT32_MAX});
  s.add({.name = "socket.connection.setup.timeout.ms", .type = ConfigType::integer, .default_value = "10000",
         .doc = "how long a TCP connect may take", .min = 1, .max = INT32_MAX});
  s.add({.name = "metadata.max.age.ms", .type = ConfigType::integer, .default_value = "300000",
         .doc = "refresh metadata at least this often", .min = 0, .max = INT32_MAX});
  s.add({.name = "retry.backoff.ms", .type = ConfigType::integer, .default_value = "100",
         .doc = "wait before retrying a failed request", .min = 0, .max = INT32_MAX});
  s.add({.name = "security.protocol", .default_value = "plaintext",
         .doc = "only plaintext is supported", .choices = {"plaintext"}});
  // Accepted and ignored (no effect in conveyor's client yet); see README.md.
  for (const char* k :
       {"socket.keepalive.enable", "socket.timeout.ms", "socket.send.buffer.bytes", "socket.receive.buffer.bytes",
        "send.buffer.bytes", "receive.buffer.bytes", "connections.max.idle.ms", "metadata.max.idle.ms",
        "reconnect.backoff.max.ms", "retry.backoff.max.ms", "api.version.request", "api.version.request.timeout.ms",
        "broker.version.fallback", "statistics.interval.ms", "debug", "log_level", "log.connection.close",
        "client.dns.lookup", "client.rack", "metric.reporters", "metrics.num.samples", "metrics.sample.window.ms",
        "metrics.recording.level", "topic.metadata.refresh.interval.ms", "enable.ssl.certificate.verification",
        "auto.include.jmx.reporter", "key.serializer", "value.serializer", "key.deserializer",
        "value.deserializer"})
    s.ignore(k);
}

int64_t get_int(const Properties& config, const ConfigSchema& schema, std::string_view key) {
  auto r = config.get_int(schema, key);
  CONVEYOR_ASSERT_MSG(r.has_value(), "config key read before validate()");
  return *r;
}

bool get_bool(const Properties& config, const ConfigSchema& schema, std::string_view key) {
  auto r = config.get_bool(schema, key);
  CONVEYOR_ASSERT_MSG(r.has_value(), "config key read before validate()");
  return *r;
}

std::string get_string(const Properties& config, const ConfigSchema& schema, std::string_view key) {
  auto r = config.get_string(schema, key);
  CONVEYOR_ASSERT_MSG(r.has_value(), "config key read before validate()");
  return *r;
}

Result<NetworkConfig> read_network_config(const Properties& config, const ConfigSchema& schema) {
  if (auto v = config.validate(schema); !v) return fail(v.error());
  auto servers = config.get_raw("bootstrap.servers");
  if (!servers) return fail(ErrorCode::invalid_config, "bootstrap.servers: required and not set");
  auto bootstrap = parse_bootstrap(*servers);
  if (!bootstrap) return fail(bootstrap.error());
  NetworkConfig n;
  n.bootstrap = std::move(*bootstrap);
  n.client_id = get_string(config, schema, "client.id");
  n.request_timeout_ms = get_int(config, schema, "request.timeout.ms");
  n.reconnect_backoff_ms = get_int(config, schema, "reconnect.backoff.ms");
  n.connect_timeout_ms = get_int(config, schema, "socket.connection.setup.timeout.ms");
  n.metadata_max_age_ms = get_int(config, schema, "metadata.max.age.ms");
  n.retry_backoff_ms = get_int(config, schema, "retry.backoff.ms");
  return n;
}

}  // namespace conveyor::client
