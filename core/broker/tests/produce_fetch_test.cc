// Produce, Fetch (incl. long poll), ListOffsets, idempotence and restart against a real broker.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "conveyor/io/file.h"
#include "test_client.h"

namespace conveyor::broker {
namespace {

using namespace testing;
using Clock = std::chrono::steady_clock;

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

const auto& partition0(const protocol::ProduceResponse& r) { return r.responses.at(0).partition_responses.at(0); }
const auto& partition0(const protocol::FetchResponse& r) { return r.responses.at(0).partitions.at(0); }

class ProduceFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = start_broker(extra_);
    ASSERT_NE(broker_, nullptr);
    client_ = std::make_unique<TestClient>(broker_->port());
  }
  Properties extra_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<TestClient> client_;
};

TEST_F(ProduceFetchTest, RoundTripAcksOneAndAll) {
  for (int16_t acks : {1, -1}) {
    std::string topic = acks == 1 ? "rt-acks1" : "rt-acksall";
    auto p1 = client_->call<protocol::ProduceResponse>(produce_request(topic, 0, make_batch(3, "a"), acks), 9);
    ASSERT_EQ(partition0(p1).error_code, 0) << partition0(p1).error_message.value_or("");
    EXPECT_EQ(partition0(p1).base_offset, 0);
    auto p2 = client_->call<protocol::ProduceResponse>(produce_request(topic, 0, make_batch(2, "b"), acks), 7);
    ASSERT_EQ(partition0(p2).error_code, 0);
    EXPECT_EQ(partition0(p2).base_offset, 3);

    for (int16_t v : {4, 11, 12}) {
      auto f = client_->call<protocol::FetchResponse>(fetch_request(topic, 0, 0), v);
      const auto& pd = partition0(f);
      ASSERT_EQ(pd.error_code, 0);
      EXPECT_EQ(pd.high_watermark, 5);
      EXPECT_EQ(pd.last_stable_offset, 5);
      auto recs = records_of(pd.records);
      ASSERT_EQ(recs.size(), 5u) << "fetch v" << v;
      EXPECT_EQ(text(recs[0].value), "a0");
      EXPECT_EQ(text(recs[3].value), "b0");
      EXPECT_EQ(recs[4].offset, 4);
      EXPECT_EQ(f.session_id, 0);
    }
    // Fetch from the middle returns the whole batch containing the offset.
    auto mid = client_->call<protocol::FetchResponse>(fetch_request(topic, 0, 4), 12);
    auto recs = records_of(partition0(mid).records);
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].offset, 3);
  }
}

TEST_F(ProduceFetchTest, AcksZeroGetsNoResponse) {
  client_->send(produce_request("acks0", 0, make_batch(1), 0), 9);
  // The next response on the wire belongs to the ApiVersions request sent after.
  int32_t id = client_->send(protocol::ApiVersionsRequest{}, 3);
  auto r = client_->receive<protocol::ApiVersionsResponse>(3, id);
  ASSERT_TRUE(r.has_value());
  auto f = client_->call<protocol::FetchResponse>(fetch_request("acks0", 0, 0), 12);
  EXPECT_EQ(partition0(f).high_watermark, 1);
}

TEST_F(ProduceFetchTest, PipelinedRequestsAnsweredInOrder) {
  std::vector<int32_t> ids;
  ids.push_back(client_->send(produce_request("pipe", 0, make_batch(1)), 9));
  ids.push_back(client_->send(fetch_request("pipe", 0, 0, 200, 1 << 20), 12));  // waits the full 200 ms
  ids.push_back(client_->send(produce_request("pipe", 0, make_batch(1)), 9));
  ids.push_back(client_->send(protocol::ApiVersionsRequest{}, 3));
  ids.push_back(client_->send(produce_request("pipe", 0, make_batch(1)), 3));
  auto a = client_->receive<protocol::ProduceResponse>(9, ids[0]);
  auto b = client_->receive<protocol::FetchResponse>(12, ids[1]);
  auto c = client_->receive<protocol::ProduceResponse>(9, ids[2]);
  auto d = client_->receive<protocol::ApiVersionsResponse>(3, ids[3]);
  auto e = client_->receive<protocol::ProduceResponse>(3, ids[4]);
  ASSERT_TRUE(a && b && c && d && e);
  EXPECT_EQ(partition0(*c).base_offset, 1);
  EXPECT_EQ(partition0(*e).base_offset, 2);
}

TEST_F(ProduceFetchTest, LongPollWakesOnAppend) {
  auto created = client_->call<protocol::ProduceResponse>(produce_request("poll", 0, make_batch(1)), 9);
  ASSERT_EQ(partition0(created).error_code, 0);
  int32_t id = client_->send(fetch_request("poll", 0, 1, /*max_wait_ms=*/5000), 12);
  auto start = Clock::now();
  std::this_thread::sleep_for(150ms);
  TestClient producer(broker_->port());
  auto p = producer.call<protocol::ProduceResponse>(produce_request("poll", 0, make_batch(2, "late")), 9);
  ASSERT_EQ(partition0(p).error_code, 0);
  auto f = client_->receive<protocol::FetchResponse>(12, id);
  auto waited = Clock::now() - start;
  ASSERT_TRUE(f.has_value());
  auto recs = records_of(partition0(*f).records);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(text(recs[0].value), "late0");
  EXPECT_GE(waited, 140ms);
  EXPECT_LT(waited, 3000ms);
}

TEST_F(ProduceFetchTest, LongPollTimesOutWithNothing) {
  auto created = client_->call<protocol::ProduceResponse>(produce_request("idle", 0, make_batch(1)), 9);
  ASSERT_EQ(partition0(created).error_code, 0);
  auto start = Clock::now();
  auto f = client_->call<protocol::FetchResponse>(fetch_request("idle", 0, 1, /*max_wait_ms=*/300), 12);
  auto waited = Clock::now() - start;
  EXPECT_EQ(partition0(f).error_code, 0);
  EXPECT_TRUE(records_of(partition0(f).records).empty());
  EXPECT_GE(waited, 280ms);
  EXPECT_LT(waited, 2000ms);
  // min_bytes not reached by a small append: still waits for the timeout.
  int32_t id = client_->send(fetch_request("idle", 0, 1, 400, 1 << 20), 12);
  TestClient producer(broker_->port());
  producer.call<protocol::ProduceResponse>(produce_request("idle", 0, make_batch(1)), 9);
  auto start2 = Clock::now();
  auto f2 = client_->receive<protocol::FetchResponse>(12, id);
  ASSERT_TRUE(f2.has_value());
  EXPECT_EQ(records_of(partition0(*f2).records).size(), 1u);
  EXPECT_GE(Clock::now() - start2, 200ms);
}

TEST_F(ProduceFetchTest, FetchErrorsAndLimits) {
  for (int i = 0; i < 4; ++i)
    client_->call<protocol::ProduceResponse>(produce_request("limits", 0, make_batch(10, std::string(100, 'x'))), 9);
  auto oor = client_->call<protocol::FetchResponse>(fetch_request("limits", 0, 1000), 12);
  EXPECT_EQ(partition0(oor).error_code, static_cast<int16_t>(ErrorCode::offset_out_of_range));
  EXPECT_EQ(partition0(oor).high_watermark, 40);
  auto unknown = client_->call<protocol::FetchResponse>(fetch_request("no-such-topic", 0, 0), 12);
  EXPECT_EQ(partition0(unknown).error_code, static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
  // A small partition max returns one whole batch (KIP-74), not a partial one.
  auto small = client_->call<protocol::FetchResponse>(fetch_request("limits", 0, 0, 0, 1, 10), 12);
  auto recs = records_of(partition0(small).records);
  EXPECT_EQ(recs.size(), 10u);
  // Old fetch versions are refused per partition.
  auto old = client_->call<protocol::FetchResponse>(fetch_request("limits", 0, 0), 3);
  EXPECT_EQ(partition0(old).error_code, static_cast<int16_t>(ErrorCode::unsupported_version));
}

protocol::ListOffsetsRequest list_offsets(const std::string& topic, int64_t timestamp) {
  protocol::ListOffsetsRequest req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = 0;
  p.timestamp = timestamp;
  return req;
}

TEST_F(ProduceFetchTest, ListOffsetsEarliestLatestAndByTimestamp) {
  client_->call<protocol::ProduceResponse>(produce_request("lo", 0, make_batch(5, "a", 1000)), 9);
  client_->call<protocol::ProduceResponse>(produce_request("lo", 0, make_batch(5, "b", 2000)), 9);
  auto offset_of = [&](int64_t ts, int16_t v) {
    auto r = client_->call<protocol::ListOffsetsResponse>(list_offsets("lo", ts), v);
    const auto& p = r.topics.at(0).partitions.at(0);
    EXPECT_EQ(p.error_code, 0);
    if (v == 0) return p.old_style_offsets.empty() ? int64_t{-1} : p.old_style_offsets[0];
    return p.offset;
  };
  EXPECT_EQ(offset_of(-2, 1), 0);
  EXPECT_EQ(offset_of(-1, 1), 10);
  EXPECT_EQ(offset_of(-1, 0), 10);
  EXPECT_EQ(offset_of(-2, 8), 0);
  EXPECT_EQ(offset_of(1002, 5), 2);
  EXPECT_EQ(offset_of(1500, 7), 5);
  EXPECT_EQ(offset_of(2004, 8), 9);
  EXPECT_EQ(offset_of(99999, 8), -1);
  // -3: the record with the max timestamp (v7+).
  auto r = client_->call<protocol::ListOffsetsResponse>(list_offsets("lo", -3), 7);
  EXPECT_EQ(r.topics[0].partitions[0].offset, 9);
  EXPECT_EQ(r.topics[0].partitions[0].timestamp, 2004);
  auto missing = client_->call<protocol::ListOffsetsResponse>(list_offsets("nope", -1), 7);
  EXPECT_EQ(missing.topics[0].partitions[0].error_code, static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
}

TEST_F(ProduceFetchTest, ProduceValidationErrors) {
  // Bad CRC: CORRUPT_MESSAGE and nothing appended.
  Bytes batch = make_batch(3);
  batch.back() ^= 0xff;
  auto crc = client_->call<protocol::ProduceResponse>(produce_request("val", 0, batch), 9);
  EXPECT_EQ(partition0(crc).error_code, static_cast<int16_t>(ErrorCode::corrupt_message));
  auto f = client_->call<protocol::FetchResponse>(fetch_request("val", 0, 0), 12);
  EXPECT_EQ(partition0(f).high_watermark, 0);
  // Invalid topic name.
  auto bad = client_->call<protocol::ProduceResponse>(produce_request("bad name!", 0, make_batch(1)), 9);
  EXPECT_EQ(partition0(bad).error_code, static_cast<int16_t>(ErrorCode::invalid_topic_exception));
  // Unknown partition of an existing topic.
  auto part = client_->call<protocol::ProduceResponse>(produce_request("val", 7, make_batch(1)), 9);
  EXPECT_EQ(partition0(part).error_code, static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
  // Produce v0-2 are refused.
  auto old = client_->call<protocol::ProduceResponse>(produce_request("val", 0, make_batch(1)), 2);
  EXPECT_EQ(partition0(old).error_code, static_cast<int16_t>(ErrorCode::unsupported_version));
  // zstd needs Produce v7.
  protocol::RecordBatchBuilder::Options zstd;
  zstd.compression = protocol::Compression::zstd;
  auto z6 = client_->call<protocol::ProduceResponse>(produce_request("val", 0, make_batch(5, "z", 1, zstd)), 6);
  EXPECT_EQ(partition0(z6).error_code, static_cast<int16_t>(ErrorCode::unsupported_compression_type));
  auto z7 = client_->call<protocol::ProduceResponse>(produce_request("val", 0, make_batch(5, "z", 1, zstd)), 7);
  EXPECT_EQ(partition0(z7).error_code, 0);
  // ... and zstd batches are not served to Fetch < 10.
  auto f9 = client_->call<protocol::FetchResponse>(fetch_request("val", 0, 0), 9);
  EXPECT_EQ(partition0(f9).error_code, static_cast<int16_t>(ErrorCode::unsupported_compression_type));
  auto f10 = client_->call<protocol::FetchResponse>(fetch_request("val", 0, 0), 10);
  EXPECT_EQ(records_of(partition0(f10).records).size(), 5u);
  // Invalid acks.
  auto acks = client_->call<protocol::ProduceResponse>(produce_request("val", 0, make_batch(1), 2), 9);
  EXPECT_EQ(partition0(acks).error_code, static_cast<int16_t>(ErrorCode::invalid_required_acks));
}

class SmallLimitsTest : public ProduceFetchTest {
 protected:
  SmallLimitsTest() {
    extra_.set("message.max.bytes", "2000");
    extra_.set("auto.create.topics.enable", "false");
  }
};

TEST_F(SmallLimitsTest, OversizeAndAutoCreateOff) {
  auto missing = client_->call<protocol::ProduceResponse>(produce_request("absent", 0, make_batch(1)), 9);
  EXPECT_EQ(partition0(missing).error_code, static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
  protocol::CreateTopicsRequest create;
  auto& t = create.topics.emplace_back();
  t.name = "small";
  t.num_partitions = 1;
  t.replication_factor = 1;
  ASSERT_EQ(client_->call<protocol::CreateTopicsResponse>(create, 5).topics[0].error_code, 0);
  auto big = client_->call<protocol::ProduceResponse>(produce_request("small", 0, make_batch(10, std::string(500, 'x'))), 9);
  EXPECT_EQ(partition0(big).error_code, static_cast<int16_t>(ErrorCode::message_too_large));
  auto ok = client_->call<protocol::ProduceResponse>(produce_request("small", 0, make_batch(2, "fits")), 9);
  EXPECT_EQ(partition0(ok).error_code, 0);
  EXPECT_EQ(partition0(ok).base_offset, 0);
}

// Timestamped now: producer state expires producer.id.expiration.ms (a day) after its last
// batch's timestamp, also when a restart rebuilds it, so an older timestamp would be gone.
Bytes idempotent_batch(int64_t pid, int16_t epoch, int32_t seq, int count, const std::string& prefix) {
  protocol::RecordBatchBuilder::Options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return make_batch(count, prefix, now, o);
}

TEST_F(ProduceFetchTest, IdempotentDuplicateAndGap) {
  auto init = client_->call<protocol::InitProducerIdResponse>(protocol::InitProducerIdRequest{}, 4);
  ASSERT_EQ(init.error_code, 0);
  int64_t pid = init.producer_id;
  Bytes first = idempotent_batch(pid, 0, 0, 3, "first");
  auto a = client_->call<protocol::ProduceResponse>(produce_request("idem", 0, first, -1), 9);
  ASSERT_EQ(partition0(a).error_code, 0);
  auto b = client_->call<protocol::ProduceResponse>(produce_request("idem", 0, idempotent_batch(pid, 0, 3, 2, "second"), -1), 9);
  ASSERT_EQ(partition0(b).error_code, 0);
  EXPECT_EQ(partition0(b).base_offset, 3);
  // Retry of the first batch: acknowledged with its original offset, not appended again.
  auto dup = client_->call<protocol::ProduceResponse>(produce_request("idem", 0, first, -1), 9);
  EXPECT_EQ(partition0(dup).error_code, 0);
  EXPECT_EQ(partition0(dup).base_offset, 0);
  // A gap in the sequence.
  auto gap = client_->call<protocol::ProduceResponse>(produce_request("idem", 0, idempotent_batch(pid, 0, 10, 1, "gap"), -1), 9);
  EXPECT_EQ(partition0(gap).error_code, static_cast<int16_t>(ErrorCode::out_of_order_sequence_number));
  auto f = client_->call<protocol::FetchResponse>(fetch_request("idem", 0, 0), 12);
  EXPECT_EQ(partition0(f).high_watermark, 5);
  EXPECT_EQ(records_of(partition0(f).records).size(), 5u);
}

TEST(BrokerRestart, KeepsDataTopicIdsAndProducerIds) {
  std::string dir = std::filesystem::temp_directory_path() / ("conveyor-restart-" + std::to_string(std::random_device{}()));
  Properties props{{"listeners", "PLAINTEXT://127.0.0.1:0"}, {"log.dirs", dir}};
  int64_t first_pid = -1;
  protocol::Uuid topic_id{};
  Bytes first = make_batch(1);
  {
    auto broker = start_broker(props);
    ASSERT_NE(broker, nullptr);
    TestClient c(broker->port());
    auto init = c.call<protocol::InitProducerIdResponse>(protocol::InitProducerIdRequest{}, 4);
    first_pid = init.producer_id;
    first = idempotent_batch(first_pid, 0, 0, 4, "kept");
    auto p = c.call<protocol::ProduceResponse>(produce_request("durable", 0, first, -1), 9);
    ASSERT_EQ(partition0(p).error_code, 0);
    protocol::MetadataRequest m;
    m.topics.emplace().emplace_back().name = "durable";
    topic_id = c.call<protocol::MetadataResponse>(m, 12).topics[0].topic_id;
    broker->stop();
  }
  {
    auto broker = start_broker(props);
    ASSERT_NE(broker, nullptr);
    TestClient c(broker->port());
    auto f = c.call<protocol::FetchResponse>(fetch_request("durable", 0, 0), 12);
    auto recs = records_of(partition0(f).records);
    ASSERT_EQ(recs.size(), 4u);
    EXPECT_EQ(text(recs[3].value), "kept3");
    protocol::MetadataRequest m;
    m.topics.emplace().emplace_back().name = "durable";
    EXPECT_EQ(c.call<protocol::MetadataResponse>(m, 12).topics[0].topic_id, topic_id);
    auto init = c.call<protocol::InitProducerIdResponse>(protocol::InitProducerIdRequest{}, 4);
    EXPECT_GT(init.producer_id, first_pid);
    // Producer state survived: the retried batch is still a duplicate.
    auto dup = c.call<protocol::ProduceResponse>(produce_request("durable", 0, first, -1), 9);
    EXPECT_EQ(partition0(dup).error_code, 0);
    EXPECT_EQ(partition0(dup).base_offset, 0);
    auto hw = c.call<protocol::FetchResponse>(fetch_request("durable", 0, 0), 12);
    EXPECT_EQ(partition0(hw).high_watermark, 4);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace conveyor::broker
