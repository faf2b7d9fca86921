#include "conveyor/io/server.h"

#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "conveyor/base/assert.h"
#include "conveyor/base/log.h"
#include "conveyor/base/thread_name.h"

namespace conveyor::io {
namespace {

constexpr std::string_view kLog = "server";

using Strand = asio::strand<asio::io_context::executor_type>;

struct Core;

class ConnectionImpl final : public Connection, public std::enable_shared_from_this<ConnectionImpl> {
 public:
  ConnectionImpl(std::shared_ptr<Core> core, uint64_t id);

  void respond(Frame frame) override;
  void finish() override;
  void close() override;
  bool is_open() const override { return !closed_.load(std::memory_order_acquire); }
  uint64_t id() const override { return id_; }
  const std::string& peer() const override { return peer_; }

  asio::ip::tcp::socket& socket() { return socket_; }
  // Called once after accept, on any thread.
  void begin();

 private:
  void pump();
  void ensure_space(size_t needed);
  void start_read();
  void start_write();
  void do_close(std::string_view why);

  std::shared_ptr<Core> core_;
  uint64_t id_;
  Strand strand_;
  asio::ip::tcp::socket socket_;
  std::string peer_;
  std::atomic<bool> closed_{false};

  // Strand-only state.
  Frame rbuf_;
  size_t rstart_ = 0;
  size_t rend_ = 0;
  bool busy_ = false;     // a request is with the handler
  bool reading_ = false;  // an async_read_some is in flight
  bool writing_ = false;
  std::deque<Frame> wqueue_;
  std::vector<Frame> in_flight_;
};

class TimerImpl final : public Timer, public std::enable_shared_from_this<TimerImpl> {
 public:
  TimerImpl(std::shared_ptr<Core> core, uint64_t id, std::function<void()> fn)
      : core_(std::move(core)), id_(id), timer_(core_ctx()), fn_(std::move(fn)) {}
  void arm(std::chrono::milliseconds delay);
  bool cancel() override;

 private:
  asio::io_context& core_ctx();
  void fire();

  std::shared_ptr<Core> core_;
  uint64_t id_;
  std::mutex mu_;
  asio::steady_timer timer_;
  std::function<void()> fn_;
  bool done_ = false;
};

// One io_context per io thread (asio's io_context-per-thread pattern): a connection, a timer
// or a posted task belongs to one context and always runs on that context's thread. With one
// context shared by several threads, the thread waiting in epoll hands each ready event to
// another thread through a condition variable — one more context switch per request, the
// largest part of the produce latency tail on a loaded 2-core machine (docs/benchmarks.md S9).
struct Core {
  std::vector<std::unique_ptr<asio::io_context>> contexts;  // options.num_threads of them
  std::atomic<uint64_t> next_post{0};
  asio::io_context& context_for(uint64_t id) { return *contexts[id % contexts.size()]; }
  ServerOptions options;
  FrameHandler handler;
  std::atomic<bool> stopped{false};
  std::atomic<uint64_t> next_id{1};

  mutable std::mutex mu;
  std::unordered_map<uint64_t, std::weak_ptr<ConnectionImpl>> connections;
  std::unordered_map<uint64_t, std::weak_ptr<TimerImpl>> timers;

  void forget_connection(uint64_t id) {
    std::lock_guard lock(mu);
    connections.erase(id);
  }
  void forget_timer(uint64_t id) {
    std::lock_guard lock(mu);
    timers.erase(id);
  }
};

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// ---------------------------------------------------------------- ConnectionImpl

ConnectionImpl::ConnectionImpl(std::shared_ptr<Core> core, uint64_t id)
    : core_(std::move(core)),
      id_(id),
      strand_(asio::make_strand(core_->context_for(id_))),
      socket_(strand_) {}

void ConnectionImpl::begin() {
  std::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) peer_ = fmt::format("{}:{}", ep.address().to_string(), ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  rbuf_.resize(core_->options.read_buffer_bytes);
  asio::dispatch(strand_, [self = shared_from_this()] { self->pump(); });
}

void ConnectionImpl::respond(Frame frame) {
  if (core_->stopped.load(std::memory_order_acquire)) return;
  asio::post(strand_, [self = shared_from_this(), f = std::move(frame)]() mutable {
    if (self->closed_) return;
    CONVEYOR_ASSERT(self->busy_);
    self->wqueue_.push_back(std::move(f));
    self->start_write();
    self->busy_ = false;
    self->pump();
  });
}

void ConnectionImpl::finish() {
  if (core_->stopped.load(std::memory_order_acquire)) return;
  asio::post(strand_, [self = shared_from_this()] {
    if (self->closed_) return;
    CONVEYOR_ASSERT(self->busy_);
    self->busy_ = false;
    self->pump();
  });
}

void ConnectionImpl::close() {
  asio::post(strand_, [self = shared_from_this()] { self->do_close("closed by the handler"); });
}

void ConnectionImpl::pump() {
  if (closed_ || busy_ || reading_) return;
  const size_t max = static_cast<size_t>(core_->options.max_request_bytes);
  size_t avail = rend_ - rstart_;
  if (avail >= 4) {
    auto size = static_cast<int32_t>(read_be32(rbuf_.data() + rstart_));
    if (size <= 0 || static_cast<size_t>(size) > max) {
      do_close(fmt::format("request size {} outside [1, {}] (socket.request.max.bytes)", size, max));
      return;
    }
    size_t needed = 4 + static_cast<size_t>(size);
    if (avail >= needed) {
      Frame frame(rbuf_.begin() + static_cast<ptrdiff_t>(rstart_ + 4),
                  rbuf_.begin() + static_cast<ptrdiff_t>(rstart_ + needed));
      rstart_ += needed;
      if (rstart_ == rend_) {
        rstart_ = rend_ = 0;
        // Give back a buffer grown for one large request.
        if (rbuf_.size() > 4 * core_->options.read_buffer_bytes) {
          Frame fresh(core_->options.read_buffer_bytes);
          rbuf_.swap(fresh);
        }
      }
      busy_ = true;
      core_->handler(shared_from_this(), std::move(frame));
      return;
    }
    ensure_space(needed);
  } else {
    ensure_space(4);
  }
  start_read();
}

void ConnectionImpl::ensure_space(size_t needed) {
  if (rbuf_.size() - rstart_ >= needed && rend_ < rbuf_.size()) return;
  size_t avail = rend_ - rstart_;
  if (rstart_ > 0) {
    std::memmove(rbuf_.data(), rbuf_.data() + rstart_, avail);
    rstart_ = 0;
    rend_ = avail;
  }
  if (rbuf_.size() < needed) rbuf_.resize(needed);
}

void ConnectionImpl::start_read() {
  if (reading_ || closed_) return;
  CONVEYOR_ASSERT(rend_ < rbuf_.size());
  reading_ = true;
  socket_.async_read_some(asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_),
                          asio::bind_executor(strand_, [self = shared_from_this()](std::error_code ec, size_t n) {
                            self->reading_ = false;
                            if (ec) {
                              self->do_close(ec == asio::error::eof ? "peer closed" : ec.message());
                              return;
                            }
                            self->rend_ += n;
                            self->pump();
                          }));
}

void ConnectionImpl::start_write() {
  if (writing_ || closed_ || wqueue_.empty()) return;
  writing_ = true;
  in_flight_.clear();
  std::vector<asio::const_buffer> buffers;
  while (!wqueue_.empty()) {
    in_flight_.push_back(std::move(wqueue_.front()));
    wqueue_.pop_front();
  }
  buffers.reserve(in_flight_.size());
  for (const auto& f : in_flight_) buffers.emplace_back(asio::buffer(f));
  asio::async_write(socket_, buffers,
                    asio::bind_executor(strand_, [self = shared_from_this()](std::error_code ec, size_t) {
                      self->writing_ = false;
                      self->in_flight_.clear();
                      if (ec) {
                        self->do_close(ec.message());
                        return;
                      }
                      self->start_write();
                    }));
}

void ConnectionImpl::do_close(std::string_view why) {
  if (closed_.exchange(true)) return;
  log::debug(kLog, "connection {} from {} closed: {}", id_, peer_, why);
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  wqueue_.clear();
  core_->forget_connection(id_);
}

// ---------------------------------------------------------------- TimerImpl

asio::io_context& TimerImpl::core_ctx() { return core_->context_for(id_); }

void TimerImpl::arm(std::chrono::milliseconds delay) {
  // now + a huge delay (Kafka's Long.MAX_VALUE intervals) overflows steady_clock into the
  // past, so the timer would fire at once; cap it (a timer a year out never fires in practice).
  constexpr std::chrono::milliseconds kMaxTimerDelay = std::chrono::hours(24 * 365);
  delay = std::clamp(delay, std::chrono::milliseconds(0), kMaxTimerDelay);
  std::lock_guard lock(mu_);
  timer_.expires_after(delay);
  timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->fire();
  });
}

void TimerImpl::fire() {
  std::function<void()> fn;
  {
    std::lock_guard lock(mu_);
    if (done_) return;
    done_ = true;
    fn = std::move(fn_);
  }
  core_->forget_timer(id_);
  if (fn && !core_->stopped.load(std::memory_order_acquire)) fn();
}

bool TimerImpl::cancel() {
  std::lock_guard lock(mu_);
  if (done_) return false;
  done_ = true;
  fn_ = nullptr;
  timer_.cancel();
  core_->forget_timer(id_);
  return true;
}

class NoopTimer final : public Timer {
 public:
  bool cancel() override { return false; }
};

// ---------------------------------------------------------------- ServerImpl

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(std::shared_ptr<Core> core)
      : core_(std::move(core)),
        acceptor_strand_(asio::make_strand(*core_->contexts.front())),
        acceptor_(acceptor_strand_) {
    for (auto& ctx : core_->contexts) work_.push_back(asio::make_work_guard(*ctx));
  }

  ~ServerImpl() override { stop(); }

  Result<void> bind();
  void run_threads();

  int port() const override { return port_; }
  const std::string& host() const override { return host_; }

  std::shared_ptr<Timer> run_after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    if (core_->stopped.load(std::memory_order_acquire)) return std::make_shared<NoopTimer>();
    uint64_t id = core_->next_id.fetch_add(1);
    auto t = std::make_shared<TimerImpl>(core_, id, std::move(fn));
    {
      std::lock_guard lock(core_->mu);
      core_->timers.emplace(id, t);
    }
    t->arm(delay);
    return t;
  }

  void post(std::function<void()> fn) override {
    if (core_->stopped.load(std::memory_order_acquire)) return;
    asio::post(core_->context_for(core_->next_post.fetch_add(1, std::memory_order_relaxed)),
               [core = core_, fn = std::move(fn)] {
      if (!core->stopped.load(std::memory_order_acquire)) fn();
    });
  }

  size_t connection_count() const override {
    std::lock_guard lock(core_->mu);
    return core_->connections.size();
  }

  void stop() override;

 private:
  void accept_next();

  std::shared_ptr<Core> core_;
  Strand acceptor_strand_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::string host_;
  int port_ = 0;
  std::once_flag stop_once_;
};

Result<void> ServerImpl::bind() {
  const auto& o = core_->options;
  std::error_code ec;
  asio::ip::address address;
  if (o.host.empty() || o.host == "0.0.0.0") {
    address = asio::ip::address_v4::any();
  } else {
    address = asio::ip::make_address(o.host, ec);
    if (ec) {
      asio::ip::tcp::resolver resolver(*core_->contexts.front());
      auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
      if (ec || results.empty())
        return fail(ErrorCode::network_exception, fmt::format("cannot resolve listener host \"{}\": {}", o.host,
                                                              ec ? ec.message() : "no address"));
      address = results.begin()->endpoint().address();
      ec.clear();
    }
  }
  if (o.port < 0 || o.port > 65535)
    return fail(ErrorCode::network_exception, fmt::format("listener port {} out of range", o.port));
  asio::ip::tcp::endpoint endpoint(address, static_cast<uint16_t>(o.port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(o.listen_backlog, ec);
  if (ec)
    return fail(ErrorCode::network_exception,
                fmt::format("cannot listen on {}:{}: {}", address.to_string(), o.port, ec.message()));
  auto local = acceptor_.local_endpoint(ec);
  host_ = address.to_string();
  port_ = local.port();
  return {};
}

void ServerImpl::accept_next() {
  if (core_->stopped.load(std::memory_order_acquire)) return;
  auto conn = std::make_shared<ConnectionImpl>(core_, core_->next_id.fetch_add(1));
  acceptor_.async_accept(conn->socket(), asio::bind_executor(acceptor_strand_, [this, conn](std::error_code ec) {
                           if (ec == asio::error::operation_aborted || core_->stopped) return;
                           if (!ec) {
                             bool full;
                             {
                               std::lock_guard lock(core_->mu);
                               full = core_->connections.size() >=
                                      static_cast<size_t>(std::max(core_->options.max_connections, 0));
                               if (!full) core_->connections.emplace(conn->id(), conn);
                             }
                             if (full) {
                               log::warn(kLog, "max.connections ({}) reached: closing a new connection",
                                         core_->options.max_connections);
                               std::error_code ignored;
                               conn->socket().close(ignored);
                             } else {
                               conn->begin();
                             }
                           } else {
                             log::warn(kLog, "accept failed: {}", ec.message());
                           }
                           accept_next();
                         }));
}

void ServerImpl::run_threads() {
  accept_next();
  for (size_t i = 0; i < core_->contexts.size(); ++i) {
    threads_.emplace_back([core = core_, i] {
      set_current_thread_name("cv-io-" + std::to_string(i));
      for (;;) {
        try {
          core->contexts[i]->run();
          return;
        } catch (const std::exception& e) {
          log::error(kLog, "io thread: uncaught exception: {}", e.what());
        }
      }
    });
  }
}

void ServerImpl::stop() {
  std::call_once(stop_once_, [this] {
    core_->stopped.store(true, std::memory_order_release);
    asio::post(acceptor_strand_, [this] {
      std::error_code ec;
      acceptor_.close(ec);
    });
    std::vector<std::shared_ptr<ConnectionImpl>> conns;
    std::vector<std::shared_ptr<TimerImpl>> timers;
    {
      std::lock_guard lock(core_->mu);
      for (auto& [id, w] : core_->connections)
        if (auto c = w.lock()) conns.push_back(std::move(c));
      for (auto& [id, w] : core_->timers)
        if (auto t = w.lock()) timers.push_back(std::move(t));
    }
    for (auto& c : conns) c->close();
    for (auto& t : timers) t->cancel();
    for (auto& w : work_) w.reset();
    for (auto& t : threads_) t.join();
    threads_.clear();
    // Anything that raced in after the threads left (handlers hold connections, which hold
    // the core): run it so the references go away.
    for (auto& ctx : core_->contexts) {
      ctx->restart();
      ctx->poll();
    }
    std::lock_guard lock(core_->mu);
    core_->connections.clear();
    core_->timers.clear();
  });
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options, FrameHandler handler) {
  CONVEYOR_ASSERT(handler);
  if (options.max_request_bytes <= 0)
    return fail(ErrorCode::invalid_config, "socket.request.max.bytes must be positive");
  auto core = std::make_shared<Core>();
  core->options = options;
  for (int i = 0; i < std::max(1, options.num_threads); ++i)
    core->contexts.push_back(std::make_unique<asio::io_context>(1));  // one thread runs each
  if (core->options.read_buffer_bytes < 16) core->options.read_buffer_bytes = 16;
  core->handler = std::move(handler);
  auto server = std::make_unique<ServerImpl>(core);
  if (auto r = server->bind(); !r) return fail(r.error());
  server->run_threads();
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace conveyor::io
