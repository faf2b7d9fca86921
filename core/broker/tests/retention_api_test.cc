// The retention task and DeleteRecords against a real broker: per-topic retention configs,
// Fetch/ListOffsets below the log start, the low watermark surviving a restart, bad configs.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "test_client.h"

namespace conveyor::broker {
namespace {

using namespace testing;
using Clock = std::chrono::steady_clock;

protocol::DeleteRecordsRequest delete_records(const std::string& topic, std::vector<std::pair<int32_t, int64_t>> parts) {
  protocol::DeleteRecordsRequest req;
  req.timeout_ms = 5000;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  for (auto [p, o] : parts) {
    auto& dp = t.partitions.emplace_back();
    dp.partition_index = p;
    dp.offset = o;
  }
  return req;
}

int64_t earliest(TestClient& c, const std::string& topic) {
  protocol::ListOffsetsRequest req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = 0;
  p.timestamp = -2;
  auto r = c.call<protocol::ListOffsetsResponse>(req, 7);
  EXPECT_EQ(r.topics.at(0).partitions.at(0).error_code, 0);
  return r.topics.at(0).partitions.at(0).offset;
}

void produce(TestClient& c, const std::string& topic, int batches, int64_t timestamp_ms) {
  for (int i = 0; i < batches; ++i) {
    auto p = c.call<protocol::ProduceResponse>(produce_request(topic, 0, make_batch(5, "v", timestamp_ms)), 9);
    ASSERT_EQ(p.responses.at(0).partition_responses.at(0).error_code, 0);
  }
}

TEST(DeleteRecordsApi, AllVersionsMoveTheLowWatermarkAndFetchBelowIsOutOfRange) {
  auto broker = start_broker();
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  ASSERT_EQ(c.call<protocol::CreateTopicsResponse>(create_with("dr", 2, {}), 7).topics[0].error_code, 0);
  produce(c, "dr", 4, 1700000000000);  // offsets 0..19 in partition 0

  for (int16_t v : {0, 1, 2}) {
    int64_t target = 3 + v;
    auto r = c.call<protocol::DeleteRecordsResponse>(delete_records("dr", {{0, target}}), v);
    ASSERT_EQ(r.topics.size(), 1u);
    EXPECT_EQ(r.topics[0].name, "dr");
    ASSERT_EQ(r.topics[0].partitions.size(), 1u);
    EXPECT_EQ(r.topics[0].partitions[0].error_code, 0) << "v" << v;
    EXPECT_EQ(r.topics[0].partitions[0].low_watermark, target);
    EXPECT_EQ(earliest(c, "dr"), target);
  }
  // Fetch below the log start: OFFSET_OUT_OF_RANGE with the log start in the answer.
  auto f = c.call<protocol::FetchResponse>(fetch_request("dr", 0, 2), 12);
  EXPECT_EQ(f.responses.at(0).partitions.at(0).error_code, static_cast<int16_t>(ErrorCode::offset_out_of_range));
  auto ok = c.call<protocol::FetchResponse>(fetch_request("dr", 0, 5), 12);
  EXPECT_EQ(ok.responses.at(0).partitions.at(0).error_code, 0);
  EXPECT_EQ(ok.responses.at(0).partitions.at(0).log_start_offset, 5);

  // Beyond the high watermark, below -1, unknown partition, internal topic; -1 = the HW.
  auto mixed = c.call<protocol::DeleteRecordsResponse>(delete_records("dr", {{0, 21}, {1, -2}, {7, 0}}), 2);
  EXPECT_EQ(mixed.topics[0].partitions[0].error_code, static_cast<int16_t>(ErrorCode::offset_out_of_range));
  EXPECT_EQ(mixed.topics[0].partitions[0].low_watermark, -1);
  EXPECT_EQ(mixed.topics[0].partitions[1].error_code, static_cast<int16_t>(ErrorCode::offset_out_of_range));
  EXPECT_EQ(mixed.topics[0].partitions[2].error_code, static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
  auto unknown = c.call<protocol::DeleteRecordsResponse>(delete_records("nope", {{0, 0}}), 1);
  EXPECT_EQ(unknown.topics[0].partitions[0].error_code, static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
  auto internal = c.call<protocol::DeleteRecordsResponse>(delete_records("__consumer_offsets", {{0, 0}}), 1);
  EXPECT_EQ(internal.topics[0].partitions[0].error_code, static_cast<int16_t>(ErrorCode::invalid_topic_exception));
  auto to_hw = c.call<protocol::DeleteRecordsResponse>(delete_records("dr", {{0, -1}}), 2);
  EXPECT_EQ(to_hw.topics[0].partitions[0].error_code, 0);
  EXPECT_EQ(to_hw.topics[0].partitions[0].low_watermark, 20);
  EXPECT_EQ(earliest(c, "dr"), 20);
}

TEST(DeleteRecordsApi, LowWatermarkSurvivesARestart) {
  std::string dir = std::filesystem::temp_directory_path() / ("conveyor-dr-" + std::to_string(std::random_device{}()));
  Properties props{{"listeners", "PLAINTEXT://127.0.0.1:0"}, {"log.dirs", dir}};
  {
    auto broker = start_broker(props);
    ASSERT_NE(broker, nullptr);
    TestClient c(broker->port());
    produce(c, "kept", 3, 1700000000000);
    auto r = c.call<protocol::DeleteRecordsResponse>(delete_records("kept", {{0, 7}}), 2);
    ASSERT_EQ(r.topics[0].partitions[0].error_code, 0);
    broker->stop();
  }
  {
    auto broker = start_broker(props);
    ASSERT_NE(broker, nullptr);
    TestClient c(broker->port());
    EXPECT_EQ(earliest(c, "kept"), 7);
    auto f = c.call<protocol::FetchResponse>(fetch_request("kept", 0, 0), 12);
    EXPECT_EQ(f.responses.at(0).partitions.at(0).error_code, static_cast<int16_t>(ErrorCode::offset_out_of_range));
  }
  std::filesystem::remove_all(dir);
}

TEST(RetentionTask, DeletesExpiredSegmentsOfTopicsWithRetentionMs) {
  Properties props{{"log.retention.check.interval.ms", "50"}};
  auto broker = start_broker(props);
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  // One batch per segment; timestamps an hour old against retention.ms of a minute.
  ASSERT_EQ(c.call<protocol::CreateTopicsResponse>(
                create_with("old", 1, {{"retention.ms", "60000"}, {"segment.bytes", "100"}}), 7)
                .topics[0].error_code,
            0);
  ASSERT_EQ(c.call<protocol::CreateTopicsResponse>(create_with("young", 1, {{"segment.bytes", "100"}}), 7)
                .topics[0].error_code,
            0);
  int64_t hour_ago = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count() - 3600 * 1000;
  produce(c, "old", 3, hour_ago);
  produce(c, "young", 3, hour_ago);  // broker default retention: 7 days
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (earliest(c, "old") != 15 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(earliest(c, "old"), 15);  // every segment, the active one rolled first
  EXPECT_EQ(earliest(c, "young"), 0);
  // Appends continue at the end.
  auto p = c.call<protocol::ProduceResponse>(produce_request("old", 0, make_batch(1)), 9);
  EXPECT_EQ(p.responses.at(0).partition_responses.at(0).base_offset, 15);
  EXPECT_EQ(p.responses.at(0).partition_responses.at(0).log_start_offset, 15);
}

TEST(RetentionTask, InvalidRetentionConfigsNameTheKey) {
  auto broker = start_broker();
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  for (const char* key : {"retention.ms", "retention.bytes", "segment.ms", "segment.index.bytes"}) {
    auto r = c.call<protocol::CreateTopicsResponse>(create_with("bad", 1, {{key, "-5"}}), 7);
    EXPECT_EQ(r.topics[0].error_code, static_cast<int16_t>(ErrorCode::invalid_config)) << key;
    EXPECT_NE(r.topics[0].error_message.value_or("").find(key), std::string::npos) << r.topics[0].error_message.value_or("");
  }
  for (const char* key : {"log.retention.check.interval.ms", "log.retention.ms", "log.retention.bytes",
                          "log.retention.hours", "log.roll.ms", "log.index.size.max.bytes"}) {
    Properties props{{"listeners", "PLAINTEXT://127.0.0.1:0"}, {key, "-7"}};
    auto b = Broker::start(props);
    ASSERT_FALSE(b) << key;
    EXPECT_NE(b.error().message.find(key), std::string::npos) << b.error().message;
  }
}

}  // namespace
}  // namespace conveyor::broker
