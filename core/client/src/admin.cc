#include "conveyor/client/admin.h"

#include <algorithm>
#include <future>
#include <mutex>

#include <fmt/format.h>

#include "client_config.h"
#include "conveyor/base/log.h"
#include "conveyor/io/client_loop.h"
#include "network_client.h"

namespace conveyor::client {
namespace {
constexpr int64_t kPollMetadataMs = 50;  // while waiting for a created/deleted topic to settle

template <class T>
using Promise = std::shared_ptr<std::promise<Result<T>>>;

bool transient(ErrorCode c) {
  return c == ErrorCode::local_transport || c == ErrorCode::request_timed_out || c == ErrorCode::not_controller ||
         c == ErrorCode::leader_not_available || c == ErrorCode::local_all_brokers_down;
}
}  // namespace

struct Admin::Impl {
  NetworkConfig net_config;
  std::unique_ptr<io::ClientLoop> loop;
  std::unique_ptr<NetworkClient> net;
  std::mutex mu;
  bool closed = false;
  bool stopping = false;  // loop thread

  // Runs fn(promise, deadline_ms) on the loop and waits for its result.
  template <class T, class Fn>
  Result<T> run(int timeout_ms, Fn fn) {
    {
      std::lock_guard lock(mu);
      if (closed) return fail(ErrorCode::local_state, "admin client is closed");
    }
    auto done = std::make_shared<std::promise<Result<T>>>();
    auto fut = done->get_future();
    int64_t budget = timeout_ms < 0 ? INT32_MAX : timeout_ms;
    int64_t deadline = io::steady_now_ms() + budget;
    loop->post([this, done, deadline, fn] {
      if (stopping) return done->set_value(fail(ErrorCode::local_destroy, "admin client closed"));
      fn(done, deadline);
    });
    if (fut.wait_for(std::chrono::milliseconds(budget + 2000)) != std::future_status::ready)
      return fail(ErrorCode::local_timed_out, "admin request: no answer in time");
    try {
      return fut.get();
    } catch (const std::future_error&) {
      return fail(ErrorCode::local_destroy, "admin client closed");
    }
  }

  // Metadata for `topics` (null = all), retrying transient failures until the deadline.
  void metadata(std::optional<std::vector<std::string>> topics, int64_t deadline,
                std::function<void(Result<protocol::MetadataResponse>)> done) {
    net->fetch_metadata(topics, false, [this, topics, deadline, done](Result<protocol::MetadataResponse> r) {
      if (!r && !stopping && transient(r.error().code) && io::steady_now_ms() + net_config.retry_backoff_ms < deadline) {
        loop->schedule(net_config.retry_backoff_ms, [this, topics, deadline, done] { metadata(topics, deadline, done); });
        return;
      }
      if (!r && transient(r.error().code)) return done(fail(ErrorCode::local_timed_out, r.error().message));
      done(std::move(r));
    });
  }

  int32_t controller() const {
    const auto& md = net->metadata();
    if (md.controller_id >= 0 && md.brokers.count(md.controller_id)) return md.controller_id;
    return NetworkClient::kAnyNode;
  }

  void create(protocol::CreateTopicsRequest req, int16_t min_version, int64_t deadline, Promise<void> done);
  void wait_created(std::string name, int64_t deadline, Promise<void> done);
  void remove(std::string name, int64_t deadline, Promise<void> done);
  void wait_deleted(std::string name, int64_t deadline, Promise<void> done);
};

void Admin::Impl::create(protocol::CreateTopicsRequest req, int16_t min_version, int64_t deadline,
                         Promise<void> done) {
  metadata(std::vector<std::string>{}, deadline, [=, this](Result<protocol::MetadataResponse> md) mutable {
    if (!md) return done->set_value(fail(md.error()));
    std::string name = req.topics.front().name;
    net->send<protocol::CreateTopicsRequest, protocol::CreateTopicsResponse>(
        controller(), req,
        [=, this](Result<protocol::CreateTopicsResponse> r, int16_t) {
          ErrorCode code = ErrorCode::none;
          std::string message;
          if (!r) {
            code = r.error().code;
            message = r.error().message;
          } else {
            code = ErrorCode::unknown_server_error;
            for (const auto& t : r->topics)
              if (t.name == name) {
                code = static_cast<ErrorCode>(t.error_code);
                message = t.error_message.value_or("");
              }
          }
          if (code == ErrorCode::none) return wait_created(name, deadline, done);
          if (transient(code) && !stopping && io::steady_now_ms() + net_config.retry_backoff_ms < deadline) {
            loop->schedule(net_config.retry_backoff_ms, [=, this] { create(req, min_version, deadline, done); });
            return;
          }
          if (message.empty()) message = fmt::format("create topic {}: {}", name, error_name(code));
          done->set_value(fail(transient(code) ? ErrorCode::local_timed_out : code, message));
        },
        protocol::CreateTopicsRequest::kMaxVersion, min_version);
  });
}

void Admin::Impl::wait_created(std::string name, int64_t deadline, Promise<void> done) {
  metadata(std::vector<std::string>{name}, deadline, [=, this](Result<protocol::MetadataResponse> r) {
    bool ready = false;
    if (r)
      for (const auto& t : r->topics)
        if (t.name == name && t.error_code == 0 && !t.partitions.empty()) {
          ready = std::all_of(t.partitions.begin(), t.partitions.end(), [](auto& p) { return p.leader_id >= 0; });
        }
    if (ready) return done->set_value({});
    if (stopping || io::steady_now_ms() + kPollMetadataMs >= deadline)
      return done->set_value(fail(ErrorCode::local_timed_out,
                                  fmt::format("topic {} was created but has no leaders yet", name)));
    loop->schedule(kPollMetadataMs, [=, this] { wait_created(name, deadline, done); });
  });
}

void Admin::Impl::remove(std::string name, int64_t deadline, Promise<void> done) {
  metadata(std::vector<std::string>{}, deadline, [=, this](Result<protocol::MetadataResponse> md) {
    if (!md) return done->set_value(fail(md.error()));
    protocol::DeleteTopicsRequest req;
    protocol::DeleteTopicsRequest::DeleteTopicState state;
    state.name = name;
    req.topics.push_back(state);
    req.topic_names.push_back(name);
    req.timeout_ms = static_cast<int32_t>(std::clamp<int64_t>(deadline - io::steady_now_ms(), 1, INT32_MAX));
    net->send<protocol::DeleteTopicsRequest, protocol::DeleteTopicsResponse>(
        controller(), req, [=, this](Result<protocol::DeleteTopicsResponse> r, int16_t) {
          ErrorCode code = ErrorCode::none;
          std::string message;
          if (!r) {
            code = r.error().code;
            message = r.error().message;
          } else {
            code = ErrorCode::unknown_server_error;
            for (const auto& t : r->responses)
              if (t.name == name) {
                code = static_cast<ErrorCode>(t.error_code);
                message = t.error_message.value_or("");
              }
          }
          if (code == ErrorCode::none) return wait_deleted(name, deadline, done);
          if (transient(code) && !stopping && io::steady_now_ms() + net_config.retry_backoff_ms < deadline) {
            loop->schedule(net_config.retry_backoff_ms, [=, this] { remove(name, deadline, done); });
            return;
          }
          if (message.empty()) message = fmt::format("delete topic {}: {}", name, error_name(code));
          done->set_value(fail(transient(code) ? ErrorCode::local_timed_out : code, message));
        });
  });
}

void Admin::Impl::wait_deleted(std::string name, int64_t deadline, Promise<void> done) {
  // Deletion is asynchronous in Kafka; wait (bounded) until metadata no longer lists it.
  metadata(std::nullopt, deadline, [=, this](Result<protocol::MetadataResponse> r) {
    bool gone = r && std::none_of(r->topics.begin(), r->topics.end(), [&](auto& t) { return t.name == name; });
    if (gone || stopping || io::steady_now_ms() + kPollMetadataMs >= deadline) return done->set_value({});
    loop->schedule(kPollMetadataMs, [=, this] { wait_deleted(name, deadline, done); });
  });
}

const ConfigSchema& Admin::config_schema() {
  static const ConfigSchema schema = [] {
    ConfigSchema s;
    add_common_keys(s);
    for (const char* k : {"default.api.timeout.ms", "retries"}) s.ignore(k);
    return s;
  }();
  return schema;
}

Result<std::unique_ptr<Admin>> Admin::create(const Properties& config) {
  auto net = read_network_config(config, config_schema());
  if (!net) return fail(net.error());
  auto impl = std::make_unique<Impl>();
  impl->net_config = std::move(*net);
  impl->net_config.allow_auto_topic_creation = false;
  impl->loop = std::make_unique<io::ClientLoop>("cv-admin");
  impl->net = std::make_unique<NetworkClient>(*impl->loop, impl->net_config);
  return std::unique_ptr<Admin>(new Admin(std::move(impl)));
}

Admin::Admin(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Admin::~Admin() { close(); }

Result<void> Admin::create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                                 const std::map<std::string, std::string>& configs, int timeout_ms) {
  if (name.empty()) return fail(ErrorCode::local_invalid_arg, "create_topic: empty name");
  if (partitions == 0 || partitions < -1) return fail(ErrorCode::invalid_partitions, "partitions must be > 0 or -1");
  if (replication_factor == 0 || replication_factor < -1)
    return fail(ErrorCode::invalid_replication_factor, "replication factor must be > 0 or -1");
  protocol::CreateTopicsRequest req;
  protocol::CreateTopicsRequest::CreatableTopic t;
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = replication_factor;
  for (const auto& [k, v] : configs) {
    protocol::CreateTopicsRequest::CreatableTopic::CreatableTopicConfig c;
    c.name = k;
    c.value = v;
    t.configs.push_back(std::move(c));
  }
  req.topics.push_back(std::move(t));
  req.timeout_ms = timeout_ms < 0 ? 60000 : timeout_ms;
  req.validate_only = false;
  int16_t min_version = (partitions == -1 || replication_factor == -1) ? 4 : 2;  // KIP-464
  Impl* im = impl_.get();
  return im->run<void>(timeout_ms, [im, req, min_version](Promise<void> done, int64_t deadline) {
    im->create(req, min_version, deadline, done);
  });
}

Result<void> Admin::delete_topic(const std::string& name, int timeout_ms) {
  if (name.empty()) return fail(ErrorCode::local_invalid_arg, "delete_topic: empty name");
  Impl* im = impl_.get();
  return im->run<void>(timeout_ms, [im, name](Promise<void> done, int64_t deadline) { im->remove(name, deadline, done); });
}

Result<std::vector<TopicDescription>> Admin::list_topics(int timeout_ms) {
  Impl* im = impl_.get();
  return im->run<std::vector<TopicDescription>>(
      timeout_ms, [im](Promise<std::vector<TopicDescription>> done, int64_t deadline) {
        im->metadata(std::nullopt, deadline, [done](Result<protocol::MetadataResponse> r) {
          if (!r) return done->set_value(fail(r.error()));
          std::vector<TopicDescription> out;
          for (const auto& t : r->topics)
            if (t.name) out.push_back(to_description(topic_from_response(t)));
          std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
          done->set_value(std::move(out));
        });
      });
}

Result<std::vector<TopicDescription>> Admin::describe_topics(const std::vector<std::string>& names, int timeout_ms) {
  if (names.empty()) return std::vector<TopicDescription>{};
  Impl* im = impl_.get();
  return im->run<std::vector<TopicDescription>>(
      timeout_ms, [im, names](Promise<std::vector<TopicDescription>> done, int64_t deadline) {
        im->metadata(names, deadline, [done, names](Result<protocol::MetadataResponse> r) {
          if (!r) return done->set_value(fail(r.error()));
          std::vector<TopicDescription> out;
          for (const auto& n : names) {
            TopicDescription d;
            d.name = n;
            d.topic_id = uuid_to_string(protocol::Uuid{});
            d.error = ErrorCode::unknown_topic_or_partition;
            for (const auto& t : r->topics)
              if (t.name == n) d = to_description(topic_from_response(t));
            out.push_back(std::move(d));
          }
          done->set_value(std::move(out));
        });
      });
}

Result<std::vector<BrokerDescription>> Admin::describe_cluster(int timeout_ms) {
  Impl* im = impl_.get();
  return im->run<std::vector<BrokerDescription>>(
      timeout_ms, [im](Promise<std::vector<BrokerDescription>> done, int64_t deadline) {
        im->metadata(std::vector<std::string>{}, deadline, [done](Result<protocol::MetadataResponse> r) {
          if (!r) return done->set_value(fail(r.error()));
          std::vector<BrokerDescription> out;
          for (const auto& b : r->brokers) out.push_back(BrokerDescription{b.node_id, b.host, b.port, b.rack});
          done->set_value(std::move(out));
        });
      });
}

void Admin::close() {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mu);
    if (im.closed) return;
    im.closed = true;
  }
  std::promise<void> done;
  auto fut = done.get_future();
  im.loop->post([&im, &done] {
    im.stopping = true;
    im.net->close();
    done.set_value();
  });
  fut.wait_for(std::chrono::seconds(10));
  im.loop->stop();
  im.net.reset();
  im.loop.reset();
}

}  // namespace conveyor::client
