#include "conveyor/io/server.h"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace conveyor::io {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;

// Blocking test client.
class Client {
 public:
  explicit Client(int port) : socket_(ctx_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
    socket_.set_option(tcp::no_delay(true));
  }
  void send_raw(const std::vector<uint8_t>& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  void send_frame(std::string_view payload) {
    std::vector<uint8_t> b(4);
    auto n = static_cast<uint32_t>(payload.size());
    b = {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
    b.insert(b.end(), payload.begin(), payload.end());
    send_raw(b);
  }
  void send_size(int32_t size) {
    auto n = static_cast<uint32_t>(size);
    send_raw({uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)});
  }
  // Reads one frame, or nullopt on EOF / error / timeout.
  std::optional<std::string> read_frame(std::chrono::milliseconds timeout = 2000ms) {
    if (!wait_readable(timeout)) return std::nullopt;
    uint8_t h[4];
    std::error_code ec;
    asio::read(socket_, asio::buffer(h), ec);
    if (ec) return std::nullopt;
    uint32_t n = (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
    std::string s(n, '\0');
    asio::read(socket_, asio::buffer(s), ec);
    if (ec) return std::nullopt;
    return s;
  }
  // True if the server closed the connection (EOF) within the timeout.
  // Generous: returns as soon as the close arrives, but a loaded 2-core CI machine can be slow.
  bool closed_by_peer(std::chrono::milliseconds timeout = 10000ms) {
    if (!wait_readable(timeout)) return false;
    char c;
    std::error_code ec;
    socket_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  bool wait_readable(std::chrono::milliseconds timeout) {
    pollfd p{socket_.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }

 private:
  asio::io_context ctx_;
  tcp::socket socket_;
};

Frame frame_of(std::string_view payload) {
  Frame f(4);
  f.insert(f.end(), payload.begin(), payload.end());
  patch_frame_size(f);
  return f;
}

// Echo server: "noreply..." finishes without answer, "close" closes, "later:N..." answers
// after N ms from a timer, anything else echoes.
struct EchoServer {
  std::unique_ptr<Server> server;
  std::atomic<int> frames{0};

  explicit EchoServer(int32_t max_request_bytes = 1024) {
    ServerOptions o;
    o.port = 0;
    o.max_request_bytes = max_request_bytes;
    o.read_buffer_bytes = 64;  // small, to exercise buffer growth
    auto r = Server::start(o, [this](const std::shared_ptr<Connection>& c, Frame f) {
      ++frames;
      std::string s(f.begin(), f.end());
      if (s.starts_with("noreply")) return c->finish();
      if (s == "close") return c->close();
      if (s.starts_with("later:")) {
        int ms = std::stoi(s.substr(6));
        server->run_after(std::chrono::milliseconds(ms), [c, s] { c->respond(frame_of(s)); });
        return;
      }
      c->respond(frame_of(s));
    });
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
    server = std::move(*r);
  }
};

TEST(Server, EchoesAndBindsEphemeralPort) {
  EchoServer s;
  ASSERT_GT(s.server->port(), 0);
  Client c(s.server->port());
  c.send_frame("hello");
  EXPECT_EQ(c.read_frame(), "hello");
}

TEST(Server, EachConnectionStaysOnOneIoThreadAndConnectionsSpreadOverThem) {
  std::mutex mu;
  std::map<std::string, std::set<std::thread::id>> threads_of;  // connection tag -> handler threads
  ServerOptions o;
  o.port = 0;
  o.num_threads = 3;
  auto server = Server::start(o, [&](const std::shared_ptr<Connection>& c, Frame f) {
    std::string s(f.begin(), f.end());
    {
      std::lock_guard lock(mu);
      threads_of[s.substr(0, s.find('/'))].insert(std::this_thread::get_id());
    }
    c->respond(frame_of(s));
  });
  ASSERT_TRUE(server.has_value()) << server.error().to_string();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(std::make_unique<Client>((*server)->port()));
  for (int round = 0; round < 20; ++round)
    for (int i = 0; i < 6; ++i) {
      std::string msg = "c" + std::to_string(i) + "/" + std::to_string(round);
      clients[i]->send_frame(msg);
      ASSERT_EQ(clients[i]->read_frame(), msg);
    }
  std::set<std::thread::id> all;
  std::lock_guard lock(mu);
  ASSERT_EQ(threads_of.size(), 6u);
  for (const auto& [tag, ids] : threads_of) {
    EXPECT_EQ(ids.size(), 1u) << tag << " ran on " << ids.size() << " threads";
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), 3u) << "six connections should use all three io threads";
}

TEST(Server, PipelinedResponsesKeepRequestOrder) {
  EchoServer s;
  Client c(s.server->port());
  // The first answer is delayed; the others must wait behind it.
  c.send_frame("later:150");
  c.send_frame("b");
  c.send_frame("noreply");
  c.send_frame(std::string(300, 'x'));  // larger than the read buffer
  EXPECT_EQ(c.read_frame(), "later:150");
  EXPECT_EQ(c.read_frame(), "b");
  EXPECT_EQ(c.read_frame(), std::string(300, 'x'));
  EXPECT_EQ(s.frames.load(), 4);
}

TEST(Server, BadSizePrefixesCloseOnlyThatConnection) {
  EchoServer s(1024);
  Client good(s.server->port());
  for (int32_t size : {-1, 0, 1025, INT32_MAX, INT32_MIN}) {
    Client bad(s.server->port());
    bad.send_size(size);
    EXPECT_TRUE(bad.closed_by_peer()) << "size " << size;
    good.send_frame("still here");
    EXPECT_EQ(good.read_frame(), "still here");
  }
  EXPECT_EQ(s.frames.load(), 5);
  // Exactly the maximum is fine.
  good.send_frame(std::string(1024, 'm'));
  EXPECT_EQ(good.read_frame(), std::string(1024, 'm'));
}

TEST(Server, HandlerCloseClosesConnection) {
  EchoServer s;
  Client c(s.server->port());
  c.send_frame("close");
  EXPECT_TRUE(c.closed_by_peer());
  // Connection count drops back.
  for (int i = 0; i < 100 && s.server->connection_count() != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(s.server->connection_count(), 0u);
}

TEST(Server, TimerCancelPreventsCallback) {
  EchoServer s;
  std::atomic<int> fired{0};
  auto t1 = s.server->run_after(50ms, [&] { ++fired; });
  auto t2 = s.server->run_after(50ms, [&] { fired += 10; });
  EXPECT_TRUE(t2->cancel());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(fired.load(), 1);
  EXPECT_FALSE(t1->cancel());
}

TEST(Server, HugeTimerDelayDoesNotFireAtOnce) {
  // log.flush.scheduler.interval.ms defaults to INT64_MAX: such a timer must wait, not
  // overflow steady_clock into the past and fire immediately.
  EchoServer s;
  std::atomic<int> fired{0};
  auto t1 = s.server->run_after(std::chrono::milliseconds::max(), [&] { ++fired; });
  auto t2 = s.server->run_after(std::chrono::milliseconds(INT64_MAX / 2), [&] { ++fired; });
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(fired.load(), 0);
  EXPECT_TRUE(t1->cancel());
  EXPECT_TRUE(t2->cancel());
}

TEST(Server, StopClosesConnectionsAndIsIdempotent) {
  EchoServer s;
  Client c(s.server->port());
  c.send_frame("later:10000");  // a request held by a timer
  std::this_thread::sleep_for(50ms);
  auto start = std::chrono::steady_clock::now();
  s.server->stop();
  s.server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(Server, MaxConnectionsClosesExtraConnections) {
  ServerOptions o;
  o.port = 0;
  o.max_connections = 1;
  auto r = Server::start(o, [](const std::shared_ptr<Connection>& c, Frame f) {
    Frame out(4);
    out.insert(out.end(), f.begin(), f.end());
    patch_frame_size(out);
    c->respond(std::move(out));
  });
  ASSERT_TRUE(r.has_value());
  auto& server = *r;
  Client first(server->port());
  first.send_frame("one");
  EXPECT_EQ(first.read_frame(), "one");
  Client second(server->port());
  EXPECT_TRUE(second.closed_by_peer());
  first.send_frame("still");
  EXPECT_EQ(first.read_frame(), "still");
}

TEST(Server, PortInUseFails) {
  EchoServer s;
  ServerOptions o;
  o.port = s.server->port();
  auto r = Server::start(o, [](const std::shared_ptr<Connection>& c, Frame) { c->finish(); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::network_exception);
}

}  // namespace
}  // namespace conveyor::io
