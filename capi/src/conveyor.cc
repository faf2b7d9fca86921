// conveyor.h: version, errors, configuration, messages and the embedded broker.
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "conveyor/broker/broker.h"
#include "conveyor/client/admin.h"
#include "conveyor/client/consumer.h"
#include "conveyor/client/producer.h"
#include "conveyor/client/retry_handler.h"
#include "conveyor/storage/log_config.h"
#include "internal.h"

#define CONVEYOR_STR2(x) #x
#define CONVEYOR_STR(x) CONVEYOR_STR2(x)

namespace conveyor::capi {

conveyor_err_t set_error(conveyor_error_t** errp, const Error& error, bool fatal) {
  auto code = static_cast<conveyor_err_t>(error.code);
  if (code == CONVEYOR_OK) code = CONVEYOR_ERR__FAIL;  // a failure must never read as OK
  if (errp) {
    try {
      auto* e = new conveyor_error_s;
      e->code = code;
      e->name = std::string(error_name(static_cast<ErrorCode>(code)));
      e->message = error.message.empty() ? e->name : error.message;
      e->retriable = error_retriable(static_cast<ErrorCode>(code));
      e->fatal = fatal;
      *errp = e;
    } catch (...) {
      *errp = nullptr;
    }
  }
  return code;
}

conveyor_err_t set_error(conveyor_error_t** errp, ErrorCode code, std::string message) {
  return set_error(errp, Error{code, std::move(message)});
}

conveyor_err_t null_arg(conveyor_error_t** errp, const char* function, const char* argument) {
  if (errp) *errp = nullptr;
  return set_error(errp, ErrorCode::local_invalid_arg,
                   fmt::format("{}: {} must not be NULL", function, argument));
}

Properties to_properties(const conveyor_config_t* conf) {
  if (!conf) return {};
  return Properties(conf->values);
}

const uint8_t* data_or_empty(const Bytes& b) {
  static const uint8_t kEmpty[1] = {0};
  return b.empty() ? kEmpty : b.data();
}

void bind_owned(conveyor_message_s& msg) { bind_view(msg, *msg.owned); }

void bind_view(conveyor_message_s& msg, const client::ConsumerRecord& r) {
  msg.topic = r.topic.c_str();
  msg.partition = r.partition;
  msg.offset = r.offset;
  msg.timestamp_ms = r.timestamp_ms;
  msg.timestamp_type = r.timestamp_type == protocol::TimestampType::log_append_time
                           ? CONVEYOR_TIMESTAMP_LOG_APPEND_TIME
                           : CONVEYOR_TIMESTAMP_CREATE_TIME;
  if (r.key) {
    msg.key = data_or_empty(*r.key);
    msg.key_len = r.key->size();
  }
  if (r.value) {
    msg.value = data_or_empty(*r.value);
    msg.value_len = r.value->size();
  }
  msg.headers = &r.headers;
}

namespace {

// Every schema a config key may belong to; conveyor_config_set accepts a key any of them knows.
const ConfigSchema* const* all_schemas() {
  static const ConfigSchema* schemas[] = {
      &broker::broker_config_schema(),     &client::Producer::config_schema(),
      &client::Consumer::config_schema(), &client::Admin::config_schema(),
      &storage::topic_config_schema(),     &client::RetryHandlerConfig::schema(),
      nullptr};
  return schemas;
}

}  // namespace
}  // namespace conveyor::capi

using namespace conveyor;
using namespace conveyor::capi;

// ---- version and errors ---------------------------------------------------------------

extern "C" const char* conveyor_version(void) {
  return CONVEYOR_STR(CONVEYOR_VERSION_MAJOR) "." CONVEYOR_STR(
      CONVEYOR_VERSION_MINOR) "." CONVEYOR_STR(CONVEYOR_VERSION_PATCH);
}

extern "C" const char* conveyor_err_name(conveyor_err_t code) {
  if (code < INT16_MIN || code > INT16_MAX) return "UNKNOWN_ERROR_CODE";
  return error_name(static_cast<ErrorCode>(code)).data();
}

extern "C" int conveyor_err_retriable(conveyor_err_t code) {
  if (code < INT16_MIN || code > INT16_MAX) return 0;
  return error_retriable(static_cast<ErrorCode>(code)) ? 1 : 0;
}

extern "C" conveyor_err_t conveyor_error_code(const conveyor_error_t* err) {
  return err ? err->code : CONVEYOR_OK;
}
extern "C" const char* conveyor_error_name(const conveyor_error_t* err) {
  return err ? err->name.c_str() : "NONE";
}
extern "C" const char* conveyor_error_message(const conveyor_error_t* err) {
  return err ? err->message.c_str() : "";
}
extern "C" int conveyor_error_retriable(const conveyor_error_t* err) {
  return err && err->retriable ? 1 : 0;
}
extern "C" int conveyor_error_fatal(const conveyor_error_t* err) { return err && err->fatal ? 1 : 0; }
extern "C" void conveyor_error_destroy(conveyor_error_t* err) { delete err; }

// ---- configuration ----------------------------------------------------------------------

extern "C" conveyor_config_t* conveyor_config_new(void) {
  try {
    return new conveyor_config_s;
  } catch (...) {
    return nullptr;
  }
}

extern "C" conveyor_config_t* conveyor_config_dup(const conveyor_config_t* conf) {
  if (!conf) return nullptr;
  try {
    return new conveyor_config_s(*conf);
  } catch (...) {
    return nullptr;
  }
}

extern "C" void conveyor_config_destroy(conveyor_config_t* conf) { delete conf; }

extern "C" conveyor_err_t conveyor_config_set(conveyor_config_t* conf, const char* key,
                                              const char* value, conveyor_error_t** errp) {
  if (!conf) return null_arg(errp, "conveyor_config_set", "conf");
  if (!key) return null_arg(errp, "conveyor_config_set", "key");
  if (!value) return null_arg(errp, "conveyor_config_set", "value");
  return guard(errp, [&]() -> Result<void> {
    std::string k(key);
    if (k.empty()) return fail(ErrorCode::invalid_config, "config key must not be empty");
    bool known = false;
    std::optional<Error> bad_value;
    Properties one{{k, std::string(value)}};
    for (auto* const* s = all_schemas(); *s; ++s) {
      if (!(*s)->find(k) && !(*s)->ignored(k)) continue;
      known = true;
      auto r = one.validate(**s);
      if (r) {
        bad_value.reset();
        break;
      }
      if (!bad_value) bad_value = r.error();
    }
    if (!known)
      return fail(ErrorCode::invalid_config, fmt::format("unknown config key \"{}\"", k));
    if (bad_value) return fail(*bad_value);
    conf->values[k] = value;
    return {};
  });
}

extern "C" const char* conveyor_config_get(const conveyor_config_t* conf, const char* key) {
  if (!conf || !key) return nullptr;
  auto it = conf->values.find(key);
  return it == conf->values.end() ? nullptr : it->second.c_str();
}

extern "C" size_t conveyor_config_count(const conveyor_config_t* conf) {
  return conf ? conf->values.size() : 0;
}

static const std::pair<const std::string, std::string>* config_at(const conveyor_config_t* conf,
                                                                  size_t i) {
  if (!conf || i >= conf->values.size()) return nullptr;
  auto it = conf->values.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(i));
  return &*it;
}

extern "C" const char* conveyor_config_key_at(const conveyor_config_t* conf, size_t i) {
  auto* kv = config_at(conf, i);
  return kv ? kv->first.c_str() : nullptr;
}

extern "C" const char* conveyor_config_value_at(const conveyor_config_t* conf, size_t i) {
  auto* kv = config_at(conf, i);
  return kv ? kv->second.c_str() : nullptr;
}

// ---- embedded broker ----------------------------------------------------------------------

struct conveyor_broker_s {
  std::unique_ptr<broker::Broker> broker;
  std::string bootstrap_servers;
  std::string data_dir;
};

extern "C" conveyor_err_t conveyor_broker_new(const conveyor_config_t* conf,
                                              conveyor_broker_t** brokerp,
                                              conveyor_error_t** errp) {
  if (!brokerp) return null_arg(errp, "conveyor_broker_new", "brokerp");
  *brokerp = nullptr;
  return guard(errp, [&]() -> Result<void> {
    Properties props = to_properties(conf);
    if (!props.contains("listeners")) props.set("listeners", "PLAINTEXT://127.0.0.1:0");
    auto started = broker::Broker::start(props);
    if (!started) return fail(started.error());
    auto handle = std::make_unique<conveyor_broker_s>();
    handle->broker = std::move(*started);
    handle->bootstrap_servers = handle->broker->bootstrap_servers();
    handle->data_dir = handle->broker->log_dir();
    *brokerp = handle.release();
    return {};
  });
}

extern "C" const char* conveyor_broker_bootstrap_servers(const conveyor_broker_t* b) {
  return b ? b->bootstrap_servers.c_str() : "";
}

extern "C" int conveyor_broker_port(const conveyor_broker_t* b) {
  return b && b->broker ? b->broker->port() : -1;
}

extern "C" const char* conveyor_broker_data_dir(const conveyor_broker_t* b) {
  return b ? b->data_dir.c_str() : "";
}

extern "C" conveyor_err_t conveyor_broker_stop(conveyor_broker_t* b, conveyor_error_t** errp) {
  if (!b) return null_arg(errp, "conveyor_broker_stop", "broker");
  return guard(errp, [&]() -> Result<void> {
    b->broker->stop();
    return {};
  });
}

extern "C" void conveyor_broker_destroy(conveyor_broker_t* b) {
  if (!b) return;
  try {
    b->broker->stop();
  } catch (...) {
  }
  try {
    delete b;
  } catch (...) {
  }
}

// ---- messages ---------------------------------------------------------------------------

extern "C" const char* conveyor_message_topic(const conveyor_message_t* m) {
  return m ? m->topic : "";
}
extern "C" int32_t conveyor_message_partition(const conveyor_message_t* m) {
  return m ? m->partition : -1;
}
extern "C" int64_t conveyor_message_offset(const conveyor_message_t* m) { return m ? m->offset : -1; }
extern "C" int64_t conveyor_message_timestamp(const conveyor_message_t* m) {
  return m ? m->timestamp_ms : -1;
}
extern "C" int conveyor_message_timestamp_type(const conveyor_message_t* m) {
  return m ? m->timestamp_type : CONVEYOR_TIMESTAMP_CREATE_TIME;
}
extern "C" const void* conveyor_message_key(const conveyor_message_t* m, size_t* lenp) {
  if (lenp) *lenp = m ? m->key_len : 0;
  return m ? m->key : nullptr;
}
extern "C" const void* conveyor_message_value(const conveyor_message_t* m, size_t* lenp) {
  if (lenp) *lenp = m ? m->value_len : 0;
  return m ? m->value : nullptr;
}
extern "C" size_t conveyor_message_header_count(const conveyor_message_t* m) {
  return m && m->headers ? m->headers->size() : 0;
}
extern "C" conveyor_err_t conveyor_message_header(const conveyor_message_t* m, size_t i,
                                                  const char** keyp, const void** valuep,
                                                  size_t* value_lenp) {
  if (!m) return set_error(nullptr, ErrorCode::local_invalid_arg, {});
  if (!m->headers || i >= m->headers->size())
    return static_cast<conveyor_err_t>(ErrorCode::local_invalid_arg);
  const auto& h = (*m->headers)[i];
  if (keyp) *keyp = h.key.c_str();
  if (valuep) *valuep = h.value ? data_or_empty(*h.value) : nullptr;
  if (value_lenp) *value_lenp = h.value ? h.value->size() : 0;
  return CONVEYOR_OK;
}
extern "C" void* conveyor_message_opaque(const conveyor_message_t* m) {
  return m ? m->opaque : nullptr;
}
extern "C" void conveyor_message_destroy(conveyor_message_t* m) {
  if (m && m->owned) delete m;  // borrowed delivery reports are not ours to free
}
