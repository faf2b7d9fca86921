#include "conveyor/broker/broker.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "broker_state.h"
#include "config.h"
#include "conveyor/base/log.h"
#include "conveyor/base/thread_name.h"
#include "conveyor/io/file.h"
#include "dispatcher.h"
#include "group_service.h"

namespace conveyor::broker {

namespace {
constexpr std::string_view kLog = "broker";
constexpr const char* kMetaProperties = "meta.properties";

// Kafka's meta.properties (version 1: cluster.id, node.id). Returns the cluster id, creating
// the file with a fresh one in a new log dir.
Result<std::string> load_or_create_cluster_id(const std::string& log_dir, int32_t node_id) {
  std::string path = io::join_path(log_dir, kMetaProperties);
  if (io::path_exists(path)) {
    auto text = io::read_file(path, 64 * 1024);
    if (!text) return fail(text.error());
    auto props = Properties::parse(*text);
    if (!props) return fail(ErrorCode::kafka_storage_error, fmt::format("{}: {}", path, props.error().message));
    if (auto id = props->get_raw("cluster.id"); id && !id->empty()) {
      if (auto stored = props->get_raw("node.id"); stored && *stored != std::to_string(node_id))
        log::warn(kLog, "{} has node.id={} but this broker is node {}", path, *stored, node_id);
      return *id;
    }
  }
  std::string id = storage::topic_id_to_string(random_topic_id());
  auto r = io::write_file_atomic(path, fmt::format("#conveyor\nversion=1\ncluster.id={}\nnode.id={}\n", id, node_id));
  if (!r) return fail(r.error());
  return id;
}

Result<std::string> make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/conveyor-broker-XXXXXX", base && *base ? base : "/tmp");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  // mkdtemp is the one file-system call outside io/: io has no temp-dir helper yet.
  if (!::mkdtemp(buf.data()))
    return fail(ErrorCode::kafka_storage_error, fmt::format("cannot create a temporary log dir from {}", pattern));
  return std::string(buf.data());
}
}  // namespace

constexpr int64_t kMaxFlushTickMs = 1000;  // slowest periodic flush check
constexpr int64_t kMaxTaskIntervalMs = 365LL * 24 * 3600 * 1000;  // a longer wait overflows steady_clock

// A task run every `interval_ms` on its own thread (never on an io thread) until stop(); the
// first run is one interval after start(). stop() waits for a running pass to finish.
class PeriodicTask {
 public:
  ~PeriodicTask() { stop(); }
  void start(const char* thread_name, int64_t interval_ms, std::function<void()> run) {
    interval_ms = std::clamp<int64_t>(interval_ms, 1, kMaxTaskIntervalMs);
    thread_ = std::thread([this, thread_name, interval_ms, run = std::move(run)] {
      set_current_thread_name(thread_name);
      std::unique_lock lock(mutex_);
      while (!cv_.wait_for(lock, std::chrono::milliseconds(interval_ms), [this] { return stop_; })) {
        lock.unlock();
        run();
        lock.lock();
      }
    });
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
};

class BrokerImpl {
 public:
  BrokerState state;
  std::unique_ptr<io::Server> server;
  std::string temp_dir;  // removed at stop
  std::once_flag stop_once;
  std::shared_ptr<io::Timer> flush_timer;
  std::mutex flush_mutex;
  int64_t tick_ms = 1000;

  void schedule_flush_tick() {
    std::lock_guard lock(flush_mutex);
    flush_timer = server->run_after(std::chrono::milliseconds(tick_ms), [this] {
      if (auto r = state.logs->maybe_flush_all(BrokerState::now_ms()); !r)
        log::error(kLog, "periodic flush failed: {}", r.error().to_string());
      schedule_flush_tick();
    });
  }

  // The retention task (log.retention.check.interval.ms): its own thread, so deleting
  // segments never runs on an io thread that serves produce/fetch; each partition's mutex is
  // held only while the deleted segments are renamed.
  PeriodicTask retention_task;
  // Producer state expiry (producer.id.expiration.check.interval.ms, KIP-854): its own thread
  // too; each partition's mutex is held for one walk over its producer ids.
  PeriodicTask producer_expiry_task;

  void start_retention_task(int64_t interval_ms) {
    retention_task.start("cv-retention", interval_ms, [this] {
      auto r = state.logs->apply_retention_all(BrokerState::now_ms());
      if (!r)
        log::error(kLog, "retention task: {}", r.error().to_string());
      else if (r->segments_deleted > 0)
        log::info(kLog, "retention deleted {} segment(s), {} bytes, in {} partition(s)", r->segments_deleted,
                  r->bytes_deleted, r->partitions_changed);
    });
  }

  void start_producer_expiry_task(int64_t interval_ms) {
    producer_expiry_task.start("cv-pid-expiry", interval_ms, [this] {
      int64_t removed = state.logs->remove_expired_producers_all(BrokerState::now_ms());
      if (removed > 0) log::info(kLog, "expired the idempotent state of {} producer id(s) (partitions summed)", removed);
    });
  }

  void stop() {
    std::call_once(stop_once, [this] {
      retention_task.stop();
      producer_expiry_task.stop();
      // Requests parked in ready.wait() must not block the server's stop.
      state.ready.store(true, std::memory_order_release);
      state.ready.notify_all();
      if (server) {
        {
          std::lock_guard lock(flush_mutex);
          if (flush_timer) flush_timer->cancel();
        }
        server->stop();
      }
      if (state.groups) state.groups->stop();
      if (state.purgatory) state.purgatory->clear();
      if (state.logs) {
        if (auto r = state.logs->close(); !r) log::error(kLog, "closing the logs failed: {}", r.error().to_string());
      }
      if (!temp_dir.empty()) {
        if (auto r = io::remove_all(temp_dir); !r) log::warn(kLog, "{}", r.error().to_string());
      }
      log::info(kLog, "broker {} stopped", state.config.node_id);
    });
  }
};

Broker::Broker(std::unique_ptr<BrokerImpl> impl) : impl_(std::move(impl)) {}

Broker::~Broker() { stop(); }

void Broker::stop() {
  if (impl_) impl_->stop();
}

std::string Broker::bootstrap_servers() const {
  const auto& host = impl_->state.advertised_host;
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, impl_->state.advertised_port);
  return fmt::format("{}:{}", host, impl_->state.advertised_port);
}

int Broker::port() const { return impl_->server ? impl_->server->port() : 0; }

std::string Broker::log_dir() const {
  const auto& dirs = impl_->state.config.log_dirs;
  return dirs.empty() ? std::string() : dirs.front();
}

Result<std::unique_ptr<Broker>> Broker::start(const Properties& props) {
  auto config = parse_broker_config(props);
  if (!config) return fail(config.error());
  auto impl = std::make_unique<BrokerImpl>();
  BrokerState& s = impl->state;
  s.config = std::move(*config);

  if (s.config.log_dirs.empty()) {
    auto dir = make_temp_dir();
    if (!dir) return fail(dir.error());
    impl->temp_dir = *dir;
    s.config.log_dirs = {*dir};
  }
  // From here on, a failure must undo what was started: BrokerImpl::stop() does.
  auto undo = [&](Error e) -> Result<std::unique_ptr<Broker>> {
    impl->stop();
    return fail(std::move(e));
  };

  for (const auto& dir : s.config.log_dirs)
    if (auto r = io::create_directories(dir); !r) return undo(r.error());
  auto cluster_id = load_or_create_cluster_id(s.config.log_dirs.front(), s.config.node_id);
  if (!cluster_id) return undo(cluster_id.error());
  s.cluster_id = *cluster_id;

  // Storage reads the log keys (log.segment.bytes, message.max.bytes, ...) from the same
  // properties; the broker keys in them are ignored there.
  auto logs = storage::LogManager::open(s.config.log_dirs, s.config.properties);
  if (!logs) return undo(logs.error());
  s.logs = std::move(*logs);
  s.topics = std::make_unique<TopicManager>(*s.logs, s.config.node_id, s.config.num_partitions, s.config.properties);
  auto ids = ProducerIdManager::open(s.config.log_dirs.front(), s.config.producer_id_block_size);
  if (!ids) return undo(ids.error());
  s.producer_ids = std::move(*ids);
  // The group coordinator rebuilds its groups and committed offsets from __consumer_offsets
  // before the listener opens.
  s.groups = std::make_unique<GroupService>(s, s.config.group);
  if (auto r = s.groups->load(); !r) return undo(r.error());

  io::ServerOptions options;
  options.host = s.config.listener.host;
  options.port = s.config.listener.port;
  options.max_request_bytes = s.config.socket_request_max_bytes;
  options.num_threads = s.config.num_network_threads;
  options.max_connections = s.config.max_connections;
  BrokerState* state = &s;
  auto server = io::Server::start(options, [state](const std::shared_ptr<io::Connection>& c, io::Frame f) {
    // A request arriving in the microseconds before start() finished waits for it.
    state->ready.wait(false, std::memory_order_acquire);
    dispatch(*state, c, std::move(f));
  });
  if (!server) return undo(server.error());
  impl->server = std::move(*server);
  s.server = impl->server.get();
  s.purgatory = std::make_unique<FetchPurgatory>(*impl->server);

  // Advertised address: advertised.listeners if given, else the bound listener (a wildcard
  // host advertised as 127.0.0.1).
  std::string bound_host = impl->server->host();
  if (bound_host == "0.0.0.0" || bound_host == "::") bound_host = "127.0.0.1";
  s.advertised_host = bound_host;
  s.advertised_port = impl->server->port();
  if (s.config.advertised) {
    if (!s.config.advertised->host.empty()) s.advertised_host = s.config.advertised->host;
    if (s.config.advertised->port != 0) s.advertised_port = s.config.advertised->port;
  } else if (!s.config.listener.host.empty() && s.config.listener.host != "0.0.0.0") {
    s.advertised_host = s.config.listener.host;  // keep a name such as "localhost" as given
  }

  // Periodic flush check (log.flush.interval.ms / flush.ms), at least as often as the
  // smallest configured flush interval.
  // log.flush.scheduler.interval.ms defaults to INT64_MAX in the log schema (Kafka's
  // Long.MAX_VALUE); a timer that far out overflows steady_clock and fires at once, which
  // made this tick re-arm itself in a busy loop (~10k wake-ups/s on an idle broker, S7 in
  // docs/benchmarks.md). Check at least once a second and never more often than each 1 ms.
  impl->tick_ms = std::clamp<int64_t>(s.config.flush_scheduler_interval_ms, 1, kMaxFlushTickMs);
  if (auto ms = s.config.properties.get_raw("log.flush.interval.ms")) {
    auto v = s.config.properties.get_int(broker_config_schema(), "log.flush.interval.ms");
    if (v && *v > 0) impl->tick_ms = std::min<int64_t>(impl->tick_ms, *v);
  }
  impl->schedule_flush_tick();
  impl->start_retention_task(s.config.retention_check_interval_ms);
  impl->start_producer_expiry_task(s.config.producer_id_expiration_check_interval_ms);
  // The log cleaner (log.cleaner.*; compaction of cleanup.policy=compact topics such as
  // __consumer_offsets): its own threads, stopped by LogManager::close.
  if (auto r = s.logs->start_cleaner(); !r) return undo(r.error());
  s.groups->start();
  s.ready.store(true, std::memory_order_release);
  s.ready.notify_all();

  log::info(kLog, "broker {} listening on {}:{} (advertised {}:{}), log dirs {}, {} topic(s)", s.config.node_id,
            impl->server->host(), impl->server->port(), s.advertised_host, s.advertised_port,
            fmt::join(s.config.log_dirs, ","), s.topics->all().size());
  return std::unique_ptr<Broker>(new Broker(std::move(impl)));
}

}  // namespace conveyor::broker

namespace conveyor::broker {

int run_until_stop_signal(const Properties& props) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto broker = Broker::start(props);
  if (!broker) {
    std::fprintf(stderr, "conveyor broker: %s\n", broker.error().to_string().c_str());
    return 1;
  }
  std::fprintf(stderr, "conveyor broker: data in %s\n", (*broker)->log_dir().c_str());
  std::printf("conveyor broker listening on %s\n", (*broker)->bootstrap_servers().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "conveyor broker: shutting down\n");
  (*broker)->stop();
  std::fprintf(stderr, "conveyor broker: stopped\n");
  return 0;
}

}  // namespace conveyor::broker
