// Idempotent producer state expiry against a real broker (KIP-854 producer.id.expiration.ms,
// checked every producer.id.expiration.check.interval.ms; KIP-360 acceptance afterwards), and
// the two broker keys in config parsing and DescribeConfigs.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "config.h"
#include "test_client.h"

namespace conveyor::broker {
namespace {

using namespace testing;
using namespace std::chrono_literals;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Bytes idem(int64_t pid, int32_t seq, int count, const std::string& prefix, int64_t timestamp_ms) {
  protocol::RecordBatchBuilder::Options o;
  o.producer_id = pid;
  o.producer_epoch = 0;
  o.base_sequence = seq;
  return make_batch(count, prefix, timestamp_ms, o);
}

const protocol::ProduceResponse::TopicProduceResponse::PartitionProduceResponse& part0(
    const protocol::ProduceResponse& r) {
  return r.responses.at(0).partition_responses.at(0);
}

std::vector<protocol::Record> records_of(const std::optional<Bytes>& blob) {
  std::vector<protocol::Record> out;
  if (!blob) return out;
  auto batches = protocol::split_batches(*blob);
  EXPECT_TRUE(batches.has_value());
  if (!batches) return out;
  for (const auto& b : *batches) {
    auto recs = protocol::decode_batch(b.bytes);
    EXPECT_TRUE(recs.has_value());
    if (recs) out.insert(out.end(), recs->begin(), recs->end());
  }
  return out;
}

int64_t init_producer_id(TestClient& c) {
  auto init = c.call<protocol::InitProducerIdResponse>(protocol::InitProducerIdRequest{}, 4);
  EXPECT_EQ(init.error_code, 0);
  EXPECT_EQ(init.producer_epoch, 0);
  return init.producer_id;
}

TEST(ProducerExpiry, IdleProducerStateExpiresAfterTheIntervalLiveOneStays) {
  constexpr int64_t kExpirationMs = 4000;
  auto broker = start_broker(Properties{{"producer.id.expiration.ms", std::to_string(kExpirationMs)},
                                        {"producer.id.expiration.check.interval.ms", "50"}});
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  ASSERT_EQ(c.call<protocol::CreateTopicsResponse>(create_with("pidx", 1, {}), 7).topics[0].error_code, 0);
  int64_t idle = init_producer_id(c);
  int64_t live = init_producer_id(c);
  ASSERT_NE(idle, live);

  // The idle producer's batch is timestamped now; the live one's an hour ahead (expiry goes by
  // the last batch's max timestamp), so it stays within the window for the whole test.
  const int64_t written_ms = wall_ms();
  const auto started = std::chrono::steady_clock::now();
  Bytes idle_first = idem(idle, 0, 3, "idle", written_ms);
  Bytes live_first = idem(live, 0, 3, "live", written_ms + 3600 * 1000);
  ASSERT_EQ(part0(c.call<protocol::ProduceResponse>(produce_request("pidx", 0, idle_first, -1), 9)).error_code, 0);
  auto l = c.call<protocol::ProduceResponse>(produce_request("pidx", 0, live_first, -1), 9);
  ASSERT_EQ(part0(l).error_code, 0);
  EXPECT_EQ(part0(l).base_offset, 3);

  // Both are known now: a gap is refused, a retry is a duplicate.
  Bytes idle_gap = idem(idle, 10, 1, "gap", wall_ms());
  EXPECT_EQ(part0(c.call<protocol::ProduceResponse>(produce_request("pidx", 0, idle_gap, -1), 9)).error_code,
            static_cast<int16_t>(ErrorCode::out_of_order_sequence_number));
  auto dup = c.call<protocol::ProduceResponse>(produce_request("pidx", 0, idle_first, -1), 9);
  EXPECT_EQ(part0(dup).error_code, 0);
  EXPECT_EQ(part0(dup).base_offset, 0);

  // The check task removes the idle producer's state once its batch is kExpirationMs old: the
  // same gap batch is then accepted as the producer's new state (KIP-360).
  int16_t code = -1;
  int64_t gap_offset = -1;
  const auto deadline = started + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = c.call<protocol::ProduceResponse>(produce_request("pidx", 0, idle_gap, -1), 9);
    code = part0(r).error_code;
    if (code == 0) {
      gap_offset = part0(r).base_offset;
      break;
    }
    ASSERT_EQ(code, static_cast<int16_t>(ErrorCode::out_of_order_sequence_number));
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(code, 0) << "the idle producer's state never expired";
  EXPECT_EQ(gap_offset, 6);
  // Not before its expiration (a correctness bound, with slack for the clocks' granularity).
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(kExpirationMs - 500));

  // The live producer kept its state through the same checks.
  Bytes live_gap = idem(live, 10, 1, "live-gap", written_ms + 3600 * 1000);
  EXPECT_EQ(part0(c.call<protocol::ProduceResponse>(produce_request("pidx", 0, live_gap, -1), 9)).error_code,
            static_cast<int16_t>(ErrorCode::out_of_order_sequence_number));
  auto live_dup = c.call<protocol::ProduceResponse>(produce_request("pidx", 0, live_first, -1), 9);
  EXPECT_EQ(part0(live_dup).error_code, 0);
  EXPECT_EQ(part0(live_dup).base_offset, 3);

  // The idle producer continues from its new state.
  auto next = c.call<protocol::ProduceResponse>(produce_request("pidx", 0, idem(idle, 11, 1, "next", wall_ms()), -1), 9);
  EXPECT_EQ(part0(next).error_code, 0);
  EXPECT_EQ(part0(next).base_offset, 7);
  auto retry = c.call<protocol::ProduceResponse>(produce_request("pidx", 0, idle_gap, -1), 9);
  EXPECT_EQ(part0(retry).error_code, 0);
  EXPECT_EQ(part0(retry).base_offset, 6);  // a duplicate of the new state's batch

  auto f = c.call<protocol::FetchResponse>(fetch_request("pidx", 0, 0), 12);
  const auto& fp = f.responses.at(0).partitions.at(0);
  EXPECT_EQ(fp.high_watermark, 8);
  auto records = records_of(fp.records);
  ASSERT_EQ(records.size(), 8u);
  EXPECT_EQ(text(records[0].value), "idle0");
  EXPECT_EQ(text(records[3].value), "live0");
  EXPECT_EQ(text(records[6].value), "gap0");
  EXPECT_EQ(text(records[7].value), "next0");
}

TEST(ProducerExpiry, ConfigKeysParseValidateAndDescribeAsInt) {
  auto parsed = parse_broker_config(Properties{{"producer.id.expiration.check.interval.ms", "250"}});
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->producer_id_expiration_check_interval_ms, 250);
  EXPECT_EQ(parse_broker_config(Properties{})->producer_id_expiration_check_interval_ms, 600000);
  for (const char* key : {"producer.id.expiration.ms", "producer.id.expiration.check.interval.ms"})
    for (const char* bad : {"0", "2147483648", "soon"}) {
      auto r = parse_broker_config(Properties{{key, bad}});
      ASSERT_FALSE(r) << key << "=" << bad;
      EXPECT_NE(r.error().message.find(key), std::string::npos) << r.error().message;
    }

  auto broker = start_broker(Properties{{"node.id", "3"}, {"producer.id.expiration.ms", "2000"}});
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  protocol::DescribeConfigsRequest req;
  auto& res = req.resources.emplace_back();
  res.resource_type = 4;  // BROKER
  res.resource_name = "3";
  req.include_documentation = true;
  auto r = c.call<protocol::DescribeConfigsResponse>(req, 4);
  ASSERT_EQ(r.results.at(0).error_code, 0);
  int found = 0;
  for (const auto& cfg : r.results[0].configs) {
    if (cfg.name == "producer.id.expiration.ms") {
      ++found;
      EXPECT_EQ(cfg.value, "2000");
      EXPECT_EQ(cfg.config_source, 4);  // STATIC_BROKER_CONFIG
      EXPECT_EQ(cfg.config_type, 3);    // INT, as Kafka
      EXPECT_TRUE(cfg.read_only);
      EXPECT_FALSE(cfg.documentation.value_or("").empty());
    } else if (cfg.name == "producer.id.expiration.check.interval.ms") {
      ++found;
      EXPECT_EQ(cfg.value, "600000");
      EXPECT_EQ(cfg.config_source, 5);  // DEFAULT_CONFIG
      EXPECT_EQ(cfg.config_type, 3);    // INT
      EXPECT_FALSE(cfg.documentation.value_or("").empty());
    }
  }
  EXPECT_EQ(found, 2);
}

}  // namespace
}  // namespace conveyor::broker
