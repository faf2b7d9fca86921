// The consumer's check.crcs against a broker that serves a batch whose CRC does not match its
// bytes (a disk bit flip the broker did not catch). conveyor's broker never serves one, so a
// small fake broker answers ApiVersions, Metadata and Fetch here.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <string>

#include "conveyor/client/consumer.h"
#include "conveyor/io/server.h"
#include "conveyor/protocol/header.h"
#include "conveyor/protocol/messages.h"
#include "conveyor/protocol/record_batch.h"

namespace conveyor::client {
namespace {

using protocol::ApiKey;

Bytes batch_at(int64_t base_offset, const std::string& prefix, int records) {
  protocol::RecordBatchBuilder builder({});
  for (int i = 0; i < records; ++i) {
    std::string value = fmt::format("{}-{}", prefix, i);
    builder.add(1000 + i, std::nullopt,
                ByteView(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
  }
  auto built = builder.build();
  EXPECT_TRUE(built.has_value());
  protocol::set_base_offset(*built, base_offset);
  return std::move(*built);
}

// Two batches of 3 records (offsets 0-2, 3-5); the last value byte of the second one flipped
// from '2' to '7' after its CRC was computed.
class FakeBroker {
 public:
  FakeBroker() {
    records_ = batch_at(0, "good", 3);
    Bytes second = batch_at(3, "bad", 3);
    second[second.size() - 2] ^= 0x05;  // the last byte is the header count
    records_.insert(records_.end(), second.begin(), second.end());
    auto server = io::Server::start(io::ServerOptions{.host = "127.0.0.1", .port = 0},
                                    [this](const std::shared_ptr<io::Connection>& c, io::Frame f) { serve(c, f); });
    EXPECT_TRUE(server.has_value()) << server.error().to_string();
    server_ = std::move(*server);
    port_ = server_->port();
  }
  std::string bootstrap() const { return fmt::format("127.0.0.1:{}", port_); }
  int fetches() const { return fetches_.load(); }

 private:
  void serve(const std::shared_ptr<io::Connection>& c, io::Frame f) {
    auto prefix = protocol::peek_request_prefix(f);
    if (!prefix) return c->close();
    Bytes out;
    auto key = static_cast<ApiKey>(prefix->api_key);
    if (key == ApiKey::api_versions) {
      protocol::ApiVersionsResponse resp;
      resp.api_keys.push_back({.api_key = int16_t(ApiKey::api_versions), .min_version = 0, .max_version = 3});
      resp.api_keys.push_back({.api_key = int16_t(ApiKey::metadata), .min_version = 0, .max_version = 12});
      resp.api_keys.push_back({.api_key = int16_t(ApiKey::fetch), .min_version = 4, .max_version = 12});
      protocol::write_response_frame(out, prefix->correlation_id, prefix->api_version, resp);
    } else if (key == ApiKey::metadata) {
      protocol::MetadataResponse resp;
      auto& b = resp.brokers.emplace_back();
      b.node_id = 0;
      b.host = "127.0.0.1";
      b.port = port_;
      auto& t = resp.topics.emplace_back();
      t.name = "t";
      auto& p = t.partitions.emplace_back();
      p.partition_index = 0;
      p.leader_id = 0;
      p.replica_nodes = {0};
      p.isr_nodes = {0};
      protocol::write_response_frame(out, prefix->correlation_id, prefix->api_version, resp);
    } else if (key == ApiKey::fetch) {
      fetches_++;
      protocol::FetchResponse resp;
      auto& t = resp.responses.emplace_back();
      t.topic = "t";
      auto& p = t.partitions.emplace_back();
      p.partition_index = 0;
      p.high_watermark = 6;
      p.last_stable_offset = 6;
      p.log_start_offset = 0;
      p.records = records_;
      protocol::write_response_frame(out, prefix->correlation_id, prefix->api_version, resp);
    } else {
      return c->close();
    }
    c->respond(std::move(out));
  }

  Bytes records_;
  std::unique_ptr<io::Server> server_;
  int port_ = 0;
  std::atomic<int> fetches_{0};
};

std::unique_ptr<Consumer> assigned_consumer(const std::string& bootstrap, bool check_crcs) {
  auto consumer = Consumer::create(Properties{{"bootstrap.servers", bootstrap},
                                              {"check.crcs", check_crcs ? "true" : "false"},
                                              {"fetch.max.wait.ms", "50"}});
  EXPECT_TRUE(consumer.has_value()) << consumer.error().to_string();
  EXPECT_TRUE((*consumer)->assign({{"t", 0, 0, ""}}).has_value());
  return std::move(*consumer);
}

TEST(ConsumerCrc, CheckCrcsRefusesACorruptBatch) {
  FakeBroker broker;
  auto consumer = assigned_consumer(broker.bootstrap(), true);
  Result<std::vector<ConsumerRecord>> got = std::vector<ConsumerRecord>{};
  for (int i = 0; i < 100 && got && got->empty(); ++i) got = consumer->consume(100, 100);
  ASSERT_FALSE(got.has_value()) << "a batch with a bad CRC was delivered";
  EXPECT_EQ(got.error().code, ErrorCode::corrupt_message);
  EXPECT_NE(got.error().message.find("t-0"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("offset 3"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("CRC"), std::string::npos) << got.error().message;
}

TEST(ConsumerCrc, WithoutCheckCrcsTheBytesAreDeliveredAsServed) {
  FakeBroker broker;
  auto consumer = assigned_consumer(broker.bootstrap(), false);
  std::vector<ConsumerRecord> all;
  for (int i = 0; i < 100 && all.size() < 6; ++i) {
    auto got = consumer->consume(100, 100);
    ASSERT_TRUE(got.has_value()) << got.error().to_string();
    for (auto& r : *got) all.push_back(std::move(r));
  }
  ASSERT_EQ(all.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(all[i].offset, i);
    EXPECT_EQ(all[i].topic, "t");
    EXPECT_EQ(all[i].timestamp_ms, 1000 + i % 3);
  }
  auto text = [](const ConsumerRecord& r) { return std::string(r.value->begin(), r.value->end()); };
  EXPECT_EQ(text(all[0]), "good-0");
  EXPECT_EQ(text(all[4]), "bad-1");
  EXPECT_EQ(text(all[5]), "bad-7");  // the flipped byte, unchecked
}

}  // namespace
}  // namespace conveyor::client
