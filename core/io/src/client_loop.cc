#include "conveyor/io/client_loop.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include <asio.hpp>
#include <fmt/format.h>

#include "conveyor/base/assert.h"
#include "conveyor/base/log.h"
#include "conveyor/base/thread_name.h"

namespace conveyor::io {

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t random_u64() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen();
}

struct ClientLoop::Impl {
  asio::io_context ctx{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ctx.get_executor()};
  std::thread thread;
  std::thread::id thread_id;
  std::atomic<bool> stopped{false};
  std::atomic<uint64_t> next_timer_id{1};
  // Loop thread only.
  std::unordered_map<uint64_t, std::unique_ptr<asio::steady_timer>> timers;
  std::string name;
};

ClientLoop::ClientLoop(std::string name) : impl_(std::make_unique<Impl>()) {
  impl_->name = std::move(name);
  Impl* impl = impl_.get();
  impl_->thread = std::thread([impl] {
    set_current_thread_name(impl->name);
    try {
      impl->ctx.run();
    } catch (const std::exception& e) {
      log::error("io", "client loop {} stopped by exception: {}", impl->name, e.what());
    }
  });
  impl_->thread_id = impl_->thread.get_id();
}

ClientLoop::~ClientLoop() { stop(); }

void ClientLoop::post(std::function<void()> fn) {
  if (impl_->stopped.load(std::memory_order_acquire)) return;
  asio::post(impl_->ctx, std::move(fn));
}

uint64_t ClientLoop::schedule(int64_t delay_ms, std::function<void()> fn) {
  uint64_t id = impl_->next_timer_id.fetch_add(1, std::memory_order_relaxed);
  Impl* impl = impl_.get();
  auto arm = [impl, id, delay_ms, fn = std::move(fn)]() mutable {
    auto timer = std::make_unique<asio::steady_timer>(impl->ctx);
    // Capped like Server timers: now + INT64_MAX ms overflows steady_clock and fires at once.
    constexpr int64_t kMaxDelayMs = int64_t{365} * 24 * 3600 * 1000;
    timer->expires_after(std::chrono::milliseconds(std::clamp<int64_t>(delay_ms, 0, kMaxDelayMs)));
    timer->async_wait([impl, id, fn = std::move(fn)](const asio::error_code& ec) {
      if (ec) return;  // cancelled
      auto it = impl->timers.find(id);
      if (it == impl->timers.end()) return;
      // Keep the timer alive until this handler returns.
      auto owned = std::move(it->second);
      impl->timers.erase(it);
      fn();
    });
    impl->timers.emplace(id, std::move(timer));
  };
  if (in_loop()) {
    arm();
  } else {
    post(std::move(arm));
  }
  return id;
}

void ClientLoop::cancel(uint64_t timer_id) {
  Impl* impl = impl_.get();
  auto do_cancel = [impl, timer_id] {
    auto it = impl->timers.find(timer_id);
    if (it == impl->timers.end()) return;
    it->second->cancel();
    impl->timers.erase(it);  // the aborted handler finds no entry and returns
  };
  if (in_loop()) {
    do_cancel();
  } else {
    post(do_cancel);
  }
}

bool ClientLoop::in_loop() const { return std::this_thread::get_id() == impl_->thread_id; }

void ClientLoop::stop() {
  if (impl_->stopped.exchange(true)) return;
  CONVEYOR_ASSERT_MSG(!in_loop(), "ClientLoop::stop() called from its own thread");
  impl_->work.reset();
  impl_->ctx.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->timers.clear();
}

// ---------------------------------------------------------------------------------------

struct ClientConnection::Impl : std::enable_shared_from_this<ClientConnection::Impl> {
  Impl(ClientLoop::Impl& l, std::string h, uint16_t p, Options o)
      : loop(l), socket(l.ctx), resolver(l.ctx), connect_timer(l.ctx), host(std::move(h)), port(p),
        options(o) {}

  ClientLoop::Impl& loop;
  asio::ip::tcp::socket socket;
  asio::ip::tcp::resolver resolver;
  asio::steady_timer connect_timer;
  std::string host;
  uint16_t port;
  Options options;
  State state = State::idle;
  std::function<void(Result<void>)> on_connect;
  std::deque<Bytes> write_queue;
  std::vector<Bytes> writing;
  bool write_active = false;
  std::deque<ResponseHandler> pending;
  // Read buffer: [rstart, rend) is received but not yet delivered.
  static constexpr size_t kReadBufferBytes = 64 * 1024;
  Bytes rbuf = Bytes(kReadBufferBytes);
  size_t rstart = 0, rend = 0;

  // Limit on frames gathered into one write call.
  static constexpr size_t kMaxGather = 64;

  void connect(std::function<void(Result<void>)> done) {
    CONVEYOR_ASSERT(state == State::idle);
    state = State::connecting;
    on_connect = std::move(done);
    auto self = shared_from_this();
    connect_timer.expires_after(std::chrono::milliseconds(options.connect_timeout_ms));
    connect_timer.async_wait([self](const asio::error_code& ec) {
      if (ec || self->state != State::connecting) return;
      self->close(Error{ErrorCode::local_timed_out,
                        fmt::format("connect to {}:{} timed out", self->host, self->port)});
    });
    resolver.async_resolve(host, std::to_string(port),
                           [self](const asio::error_code& ec, asio::ip::tcp::resolver::results_type results) {
                             if (self->state != State::connecting) return;
                             if (ec) {
                               return self->close(Error{ErrorCode::local_transport,
                                                        fmt::format("resolve {}: {}", self->host, ec.message())});
                             }
                             asio::async_connect(self->socket, results,
                                                 [self](const asio::error_code& ec2, const asio::ip::tcp::endpoint&) {
                                                   self->on_connected(ec2);
                                                 });
                           });
  }

  void on_connected(const asio::error_code& ec) {
    if (state != State::connecting) return;
    if (ec) {
      return close(Error{ErrorCode::local_transport,
                         fmt::format("connect to {}:{}: {}", host, port, ec.message())});
    }
    connect_timer.cancel();
    asio::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    state = State::connected;
    auto done = std::move(on_connect);
    on_connect = nullptr;
    read_more();
    flush_writes();
    if (done) done(Result<void>{});
  }

  void send(Bytes frame, bool expect_response, ResponseHandler handler) {
    if (state == State::closed) {
      if (handler) handler(fail(ErrorCode::local_transport, fmt::format("connection to {}:{} is closed", host, port)));
      return;
    }
    write_queue.push_back(std::move(frame));
    if (expect_response) pending.push_back(std::move(handler));
    if (state == State::connected) flush_writes();
  }

  void flush_writes() {
    if (write_active || write_queue.empty() || state != State::connected) return;
    writing.clear();
    while (!write_queue.empty() && writing.size() < kMaxGather) {
      writing.push_back(std::move(write_queue.front()));
      write_queue.pop_front();
    }
    std::vector<asio::const_buffer> bufs;
    bufs.reserve(writing.size());
    for (const auto& b : writing) bufs.emplace_back(b.data(), b.size());
    write_active = true;
    auto self = shared_from_this();
    asio::async_write(socket, bufs, [self](const asio::error_code& ec, size_t) {
      self->write_active = false;
      if (self->state != State::connected) return;
      if (ec) {
        return self->close(Error{ErrorCode::local_transport,
                                 fmt::format("write to {}:{}: {}", self->host, self->port, ec.message())});
      }
      self->writing.clear();
      self->flush_writes();
    });
  }

  // Responses are read into rbuf with read_some and cut into frames there, so a small
  // response costs one recv (a 4-byte size read, a body read and a speculative read that
  // finds nothing cost three). A body that does not fit is read straight into its own buffer.
  void read_more() {
    auto self = shared_from_this();
    if (rend == rbuf.size()) {
      // Keep the unparsed tail (less than one size prefix or a partial small body).
      std::memmove(rbuf.data(), rbuf.data() + rstart, rend - rstart);
      rend -= rstart;
      rstart = 0;
    }
    socket.async_read_some(asio::buffer(rbuf.data() + rend, rbuf.size() - rend),
                           [self](const asio::error_code& ec, size_t n) {
                             if (self->state != State::connected) return;
                             if (ec) return self->read_failed(ec);
                             self->rend += n;
                             self->parse_frames();
                           });
  }

  void read_failed(const asio::error_code& ec) {
    close(Error{ErrorCode::local_transport, fmt::format("read from {}:{}: {}", host, port, ec.message())});
  }

  // Delivers every complete frame in rbuf, then reads on.
  void parse_frames() {
    while (state == State::connected && rend - rstart >= 4) {
      const uint8_t* p = rbuf.data() + rstart;
      uint32_t u = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
      int32_t size = static_cast<int32_t>(u);
      if (size < 4 || size > options.max_response_bytes) {
        return close(Error{ErrorCode::local_transport,
                           fmt::format("bad response size {} from {}:{}", size, host, port)});
      }
      size_t have = rend - rstart - 4;
      if (have < static_cast<size_t>(size) && static_cast<size_t>(size) + 4 > rbuf.size() - rstart) {
        // Larger than what is left of rbuf: copy what arrived, read the rest in place.
        Bytes body(static_cast<size_t>(size));
        std::memcpy(body.data(), p + 4, have);
        rstart = rend = 0;
        return read_body_rest(std::move(body), have);
      }
      if (have < static_cast<size_t>(size)) break;
      Bytes body(p + 4, p + 4 + size);
      rstart += 4 + static_cast<size_t>(size);
      deliver(std::move(body));
    }
    if (state != State::connected) return;
    if (rstart == rend) rstart = rend = 0;
    read_more();
  }

  void read_body_rest(Bytes body, size_t have) {
    auto self = shared_from_this();
    auto shared = std::make_shared<Bytes>(std::move(body));
    asio::async_read(socket, asio::buffer(shared->data() + have, shared->size() - have),
                     [self, shared](const asio::error_code& ec, size_t) {
                       if (self->state != State::connected) return;
                       if (ec) return self->read_failed(ec);
                       self->deliver(std::move(*shared));
                       if (self->state == State::connected) self->read_more();
                     });
  }

  void deliver(Bytes payload) {
    if (pending.empty()) {
      return close(Error{ErrorCode::local_transport, fmt::format("unexpected response from {}:{}", host, port)});
    }
    auto handler = std::move(pending.front());
    pending.pop_front();
    if (handler) handler(std::move(payload));
  }

  void close(Error why) {
    if (state == State::closed) return;
    State was = state;
    state = State::closed;
    asio::error_code ignored;
    connect_timer.cancel();
    resolver.cancel();
    socket.close(ignored);
    write_queue.clear();
    auto handlers = std::move(pending);
    pending.clear();
    if (was == State::connecting && on_connect) {
      auto done = std::move(on_connect);
      on_connect = nullptr;
      done(fail(why));
    }
    for (auto& h : handlers)
      if (h) h(fail(why));
  }
};

ClientConnection::ClientConnection(ClientLoop& loop, std::string host, uint16_t port, Options options)
    : impl_(std::make_shared<Impl>(loop.impl(), std::move(host), port, options)) {}

ClientConnection::~ClientConnection() {
  if (impl_) impl_->close(Error{ErrorCode::local_destroy, "connection destroyed"});
}

void ClientConnection::connect(std::function<void(Result<void>)> on_done) { impl_->connect(std::move(on_done)); }

void ClientConnection::send(Bytes frame, bool expect_response, ResponseHandler on_response) {
  impl_->send(std::move(frame), expect_response, std::move(on_response));
}

void ClientConnection::close(Error why) { impl_->close(std::move(why)); }

ClientConnection::State ClientConnection::state() const { return impl_->state; }
size_t ClientConnection::in_flight() const { return impl_->pending.size(); }
const std::string& ClientConnection::host() const { return impl_->host; }
uint16_t ClientConnection::port() const { return impl_->port; }

}  // namespace conveyor::io
