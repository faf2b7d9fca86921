// Tests for the client event loop and connection (core/io/src/client_loop.cc) against a small
// asio echo-style server in the test.
#include "conveyor/io/client_loop.h"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <future>
#include <thread>

using namespace conveyor;
using namespace conveyor::io;

namespace {

// Accepts one connection; for each frame (payloads are >= 4 bytes like a correlation id) whose payload starts with 'R' answers with the same
// payload; frames starting with 'N' get no answer; 'B' answers with a bogus size prefix.
class TestServer {
 public:
  TestServer() : acceptor_(ctx_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      try {
        auto& s = socket_;
        acceptor_.accept(s);
        for (;;) {
          uint8_t sz[4];
          asio::read(s, asio::buffer(sz, 4));
          uint32_t n = (uint32_t(sz[0]) << 24) | (uint32_t(sz[1]) << 16) | (uint32_t(sz[2]) << 8) | sz[3];
          std::vector<uint8_t> body(n);
          asio::read(s, asio::buffer(body));
          if (body.empty() || body[0] == 'N') continue;
          if (body[0] == 'B') {
            uint8_t bad[4] = {0xff, 0xff, 0xff, 0xff};
            asio::write(s, asio::buffer(bad, 4));
            continue;
          }
          asio::write(s, asio::buffer(sz, 4));
          asio::write(s, asio::buffer(body));
        }
      } catch (...) {
      }
    });
  }
  ~TestServer() {
    asio::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    if (thread_.joinable()) thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  asio::io_context ctx_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket socket_{ctx_};
  uint16_t port_;
  std::thread thread_;
};

Bytes frame(std::string_view payload) {
  Bytes out;
  uint32_t n = static_cast<uint32_t>(payload.size());
  out = {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace

TEST(ClientLoop, PostAndScheduleRunOnLoopThread) {
  ClientLoop loop("test-loop");
  std::promise<bool> posted;
  loop.post([&] { posted.set_value(loop.in_loop()); });
  EXPECT_TRUE(posted.get_future().get());
  EXPECT_FALSE(loop.in_loop());

  std::promise<int64_t> fired;
  int64_t start = steady_now_ms();
  loop.schedule(30, [&] { fired.set_value(steady_now_ms()); });
  EXPECT_GE(fired.get_future().get() - start, 25);
}

TEST(ClientLoop, CancelledTimerDoesNotRun) {
  ClientLoop loop("test-loop");
  std::atomic<int> runs{0};
  uint64_t id = loop.schedule(50, [&] { runs++; });
  loop.cancel(id);
  std::promise<void> later;
  loop.schedule(100, [&] { later.set_value(); });
  later.get_future().get();
  EXPECT_EQ(runs.load(), 0);
}

TEST(ClientLoop, HugeTimerDelayDoesNotFireAtOnce) {
  // A delay of INT64_MAX ms must wait, not overflow steady_clock and run immediately.
  ClientLoop loop("test-loop");
  std::atomic<int> runs{0};
  uint64_t id = loop.schedule(INT64_MAX, [&] { runs++; });
  std::promise<void> later;
  loop.schedule(200, [&] { later.set_value(); });
  later.get_future().get();
  EXPECT_EQ(runs.load(), 0);
  loop.cancel(id);
}

TEST(ClientConnection, PipelinedResponsesMatchInOrder) {
  TestServer server;
  ClientLoop loop("test-loop");
  std::unique_ptr<ClientConnection> conn;
  std::promise<std::vector<std::string>> done;
  std::vector<std::string> got;
  loop.post([&] {
    conn = std::make_unique<ClientConnection>(loop, "127.0.0.1", server.port(), ClientConnection::Options{});
    conn->connect([](Result<void> r) { EXPECT_TRUE(r.has_value()) << r.error().to_string(); });
    for (int i = 0; i < 5; ++i) {
      // 'N' frames have no response and must not shift the matching of later ones.
      conn->send(frame("Nnoise"), false, nullptr);
      conn->send(frame("R00" + std::to_string(i)), true, [&, i](Result<Bytes> r) {
        got.push_back(r ? text(*r) : r.error().to_string());
        if (i == 4) done.set_value(got);
      });
    }
    EXPECT_EQ(conn->in_flight(), 5u);
  });
  auto result = done.get_future().get();
  EXPECT_EQ(result, (std::vector<std::string>{"R000", "R001", "R002", "R003", "R004"}));
  std::promise<void> closed;
  loop.post([&] {
    conn.reset();
    closed.set_value();
  });
  closed.get_future().get();
}

TEST(ClientConnection, ResponsesCutAtAnyByteOrLargerThanTheReadBufferArriveWhole) {
  // The client reads into a 64 KiB buffer and cuts frames out of it; bodies larger than what
  // is left of it are read in place. Send responses of 4 B to 300 KB as one stream, in
  // chunks of 1 byte up to 100 KB with pauses between them so they arrive as separate reads.
  std::vector<Bytes> bodies;
  for (size_t size : {4u, 9u, 300000u, 5u, 65531u, 65536u, 70000u, 6u, 1000u}) {
    Bytes b(size);
    for (size_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>((i * 131 + size) & 0xff);
    bodies.push_back(std::move(b));
  }
  Bytes stream;
  for (const auto& b : bodies) {
    Bytes f = frame(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  asio::io_context sctx;
  asio::ip::tcp::acceptor acceptor(sctx, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::thread server([&] {
    asio::ip::tcp::socket s(sctx);
    acceptor.accept(s);
    s.set_option(asio::ip::tcp::no_delay(true));
    const size_t chunks[] = {1, 1, 1, 2, 3, 7, 100, 65536, 1, 100000, 5, 4096, 30000};
    size_t pos = 0, i = 0;
    while (pos < stream.size()) {
      size_t n = std::min(chunks[i++ % std::size(chunks)], stream.size() - pos);
      asio::write(s, asio::buffer(stream.data() + pos, n));
      pos += n;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    uint8_t byte;
    asio::error_code ec;
    s.read_some(asio::buffer(&byte, 1), ec);  // until the client closes
  });

  ClientLoop loop("test-loop");
  std::unique_ptr<ClientConnection> conn;
  std::promise<std::vector<Bytes>> done;
  std::vector<Bytes> got;
  loop.post([&] {
    conn = std::make_unique<ClientConnection>(loop, "127.0.0.1", acceptor.local_endpoint().port(),
                                              ClientConnection::Options{});
    conn->connect([](Result<void> r) { EXPECT_TRUE(r.has_value()) << r.error().to_string(); });
    for (size_t i = 0; i < bodies.size(); ++i) {
      conn->send(frame("Rreq"), true, [&, i](Result<Bytes> r) {
        ASSERT_TRUE(r.has_value()) << r.error().to_string();
        got.push_back(std::move(*r));
        if (i + 1 == bodies.size()) done.set_value(got);
      });
    }
  });
  auto result = done.get_future().get();
  ASSERT_EQ(result.size(), bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) EXPECT_TRUE(result[i] == bodies[i]) << "response " << i;
  std::promise<void> closed;
  loop.post([&] {
    conn.reset();
    closed.set_value();
  });
  closed.get_future().get();
  server.join();
}

TEST(ClientConnection, BadResponseSizeFailsPendingRequests) {
  TestServer server;
  ClientLoop loop("test-loop");
  std::unique_ptr<ClientConnection> conn;
  std::promise<ErrorCode> first, second;
  loop.post([&] {
    conn = std::make_unique<ClientConnection>(loop, "127.0.0.1", server.port(), ClientConnection::Options{});
    conn->connect([](Result<void>) {});
    conn->send(frame("Bbad!"), true, [&](Result<Bytes> r) { first.set_value(r ? ErrorCode::none : r.error().code); });
    conn->send(frame("Rok!"), true, [&](Result<Bytes> r) { second.set_value(r ? ErrorCode::none : r.error().code); });
  });
  EXPECT_EQ(first.get_future().get(), ErrorCode::local_transport);
  EXPECT_EQ(second.get_future().get(), ErrorCode::local_transport);
  std::promise<ClientConnection::State> state;
  loop.post([&] {
    auto st = conn->state();
    conn.reset();
    state.set_value(st);
  });
  EXPECT_EQ(state.get_future().get(), ClientConnection::State::closed);
}

TEST(ClientConnection, RefusedConnectionReportsTransportError) {
  uint16_t port;
  {
    asio::io_context ctx;
    asio::ip::tcp::acceptor a(ctx, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  ClientLoop loop("test-loop");
  std::unique_ptr<ClientConnection> conn;
  std::promise<ErrorCode> connected, request;
  loop.post([&] {
    conn = std::make_unique<ClientConnection>(loop, "127.0.0.1", port, ClientConnection::Options{});
    conn->connect([&](Result<void> r) { connected.set_value(r ? ErrorCode::none : r.error().code); });
    conn->send(frame("Rxyz"), true, [&](Result<Bytes> r) { request.set_value(r ? ErrorCode::none : r.error().code); });
  });
  EXPECT_EQ(connected.get_future().get(), ErrorCode::local_transport);
  EXPECT_EQ(request.get_future().get(), ErrorCode::local_transport);
  std::promise<void> closed;
  loop.post([&] {
    conn.reset();
    closed.set_value();
  });
  closed.get_future().get();
}
