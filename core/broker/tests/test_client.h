#pragma once
// Blocking Kafka test client for broker tests: real sockets on 127.0.0.1, requests built with
// the generated messages. Test-only code.
#include <gtest/gtest.h>
#include <poll.h>

#include <asio.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/broker/broker.h"
#include "conveyor/protocol/header.h"
#include "conveyor/protocol/messages.h"
#include "conveyor/protocol/record_batch.h"

namespace conveyor::broker::testing {

using namespace std::chrono_literals;

class TestClient {
 public:
  explicit TestClient(int port) : socket_(ctx_) {
    socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
    socket_.set_option(asio::ip::tcp::no_delay(true));
  }

  void send_raw(const Bytes& bytes) {
    std::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
  }

  // Sends a request; returns its correlation id.
  template <class Req>
  int32_t send(const Req& request, int16_t version) {
    protocol::RequestHeader h;
    h.api_key = Req::kApiKey;
    h.api_version = version;
    h.correlation_id = next_correlation_++;
    h.client_id = "conveyor-test";
    Bytes out;
    protocol::write_request_frame(out, h, request);
    send_raw(out);
    return h.correlation_id;
  }

  // Reads one frame (payload without size); nullopt on EOF/timeout.
  std::optional<Bytes> read_frame(std::chrono::milliseconds timeout = 5000ms) {
    if (!wait_readable(timeout)) return std::nullopt;
    uint8_t h[4];
    std::error_code ec;
    asio::read(socket_, asio::buffer(h), ec);
    if (ec) return std::nullopt;
    uint32_t n = (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
    Bytes payload(n);
    asio::read(socket_, asio::buffer(payload), ec);
    if (ec) return std::nullopt;
    return payload;
  }

  // Reads the response to a request of `version` with the given correlation id.
  template <class Resp>
  std::optional<Resp> receive(int16_t version, int32_t correlation_id, std::chrono::milliseconds timeout = 5000ms) {
    auto frame = read_frame(timeout);
    if (!frame) {
      ADD_FAILURE() << "no response";
      return std::nullopt;
    }
    protocol::Reader r(*frame);
    protocol::ResponseHeader header;
    if (!header.decode(r, protocol::response_header_version(Resp::kApiKey, version))) {
      ADD_FAILURE() << "bad response header";
      return std::nullopt;
    }
    EXPECT_EQ(header.correlation_id, correlation_id);
    Resp resp;
    if (auto ok = resp.decode(r, version); !ok) {
      ADD_FAILURE() << "bad response body: " << ok.error().to_string();
      return std::nullopt;
    }
    EXPECT_EQ(r.remaining(), 0u);
    return resp;
  }

  template <class Resp, class Req>
  Resp call(const Req& request, int16_t version, std::chrono::milliseconds timeout = 5000ms) {
    int32_t id = send(request, version);
    auto resp = receive<Resp>(version, id, timeout);
    if (!resp) throw std::runtime_error("no response");
    return std::move(*resp);
  }

  bool wait_readable(std::chrono::milliseconds timeout) {
    pollfd p{socket_.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }

  // True if the broker closed the connection within the timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout = 3000ms) {
    if (!wait_readable(timeout)) return false;
    uint8_t c;
    std::error_code ec;
    socket_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context ctx_;
  asio::ip::tcp::socket socket_;
  int32_t next_correlation_ = 1;
};

inline Bytes make_batch(int count, const std::string& prefix = "v", int64_t timestamp_ms = 1700000000000,
                        protocol::RecordBatchBuilder::Options options = {}) {
  protocol::RecordBatchBuilder builder(options);
  for (int i = 0; i < count; ++i) {
    std::string key = "k" + std::to_string(i);
    std::string value = prefix + std::to_string(i);
    builder.add(timestamp_ms + i, ByteView(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
                ByteView(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
  }
  auto built = builder.build();
  EXPECT_TRUE(built.has_value());
  return built ? *built : Bytes{};
}

// CreateTopics of one topic with `partitions` partitions, replication factor 1 and `configs`.
inline protocol::CreateTopicsRequest create_with(const std::string& name, int32_t partitions,
                                          std::vector<std::pair<std::string, std::string>> configs) {
  protocol::CreateTopicsRequest req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  for (auto& [k, v] : configs) {
    auto& c = t.configs.emplace_back();
    c.name = k;
    c.value = v;
  }
  return req;
}

inline protocol::ProduceRequest produce_request(const std::string& topic, int32_t partition, Bytes records,
                                                int16_t acks = 1) {
  protocol::ProduceRequest req;
  req.acks = acks;
  req.timeout_ms = 5000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = partition;
  p.records = std::move(records);
  return req;
}

inline protocol::FetchRequest fetch_request(const std::string& topic, int32_t partition, int64_t offset,
                                            int32_t max_wait_ms = 0, int32_t min_bytes = 1,
                                            int32_t partition_max_bytes = 1 << 20) {
  protocol::FetchRequest req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = min_bytes;
  req.max_bytes = 50 << 20;
  auto& t = req.topics.emplace_back();
  t.topic = topic;
  auto& p = t.partitions.emplace_back();
  p.partition = partition;
  p.fetch_offset = offset;
  p.partition_max_bytes = partition_max_bytes;
  return req;
}

inline std::string text(const std::optional<Bytes>& b) { return b ? std::string(b->begin(), b->end()) : "<null>"; }

// Embedded broker on an ephemeral port with a temporary log dir unless props say otherwise.
inline std::unique_ptr<Broker> start_broker(Properties props = {}) {
  if (!props.contains("listeners")) props.set("listeners", "PLAINTEXT://127.0.0.1:0");
  auto b = Broker::start(props);
  if (!b) {
    ADD_FAILURE() << "broker start failed: " << b.error().to_string();
    return nullptr;
  }
  return std::move(*b);
}

}  // namespace conveyor::broker::testing
