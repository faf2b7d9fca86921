// Compaction against a real broker: keyless records refused by compacted topics, the background
// cleaner compacting a topic (Fetch across the offset gaps) and __consumer_offsets (committed
// offsets survive cleaning and a restart; a deleted group's tombstones eventually go).
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "conveyor/io/file.h"
#include "conveyor/protocol/record_batch.h"
#include "test_client.h"

namespace conveyor::broker {
namespace {

using namespace testing;
using Clock = std::chrono::steady_clock;

int16_t code(ErrorCode c) { return static_cast<int16_t>(c); }

Bytes keyed_batch(const std::vector<std::pair<std::string, std::optional<std::string>>>& recs, int64_t ts) {
  protocol::RecordBatchBuilder b({});
  for (const auto& [k, v] : recs) {
    auto key = ByteView(reinterpret_cast<const uint8_t*>(k.data()), k.size());
    if (v)
      b.add(ts, key, ByteView(reinterpret_cast<const uint8_t*>(v->data()), v->size()));
    else
      b.add(ts, key, std::nullopt);
  }
  auto built = b.build();
  EXPECT_TRUE(built);
  return *built;
}

protocol::OffsetCommitRequest manual_commit(const std::string& group, const std::string& topic, int32_t partition,
                                            int64_t offset) {
  protocol::OffsetCommitRequest req;
  req.group_id = group;
  req.generation_id_or_member_epoch = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = partition;
  p.committed_offset = offset;
  p.committed_leader_epoch = 0;
  p.committed_metadata = "m" + std::to_string(offset);
  return req;
}

int64_t committed(TestClient& c, const std::string& group, const std::string& topic, int32_t partition) {
  protocol::OffsetFetchRequest req;
  req.group_id = group;
  req.topics.emplace();
  auto& t = req.topics->emplace_back();
  t.name = topic;
  t.partition_indexes = {partition};
  auto r = c.call<protocol::OffsetFetchResponse>(req, 5);
  return r.topics.at(0).partitions.at(0).committed_offset;
}

struct DiskRecord {
  int64_t offset;
  std::string key;
  bool tombstone;
};

// Every record in the .log files of a partition dir, read straight from disk.
std::vector<DiskRecord> records_on_disk(const std::string& partition_dir) {
  std::vector<std::string> logs;
  for (const auto& e : std::filesystem::directory_iterator(partition_dir))
    if (e.path().extension() == ".log") logs.push_back(e.path().string());
  std::sort(logs.begin(), logs.end());
  std::vector<DiskRecord> out;
  for (const auto& path : logs) {
    auto text = io::read_file(path, 1 << 30);
    if (!text) continue;
    Bytes data(text->begin(), text->end());
    size_t tail = 0;
    auto batches = protocol::split_batches(data, &tail);
    if (!batches) continue;
    for (const auto& b : *batches) {
      auto recs = protocol::decode_batch(b.bytes);
      if (!recs) continue;
      for (const auto& r : *recs)
        out.push_back({r.offset, r.key ? std::string(r.key->begin(), r.key->end()) : "", !r.value.has_value()});
    }
  }
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(CompactionApi, KeylessRecordsAreRefusedByCompactedTopics) {
  auto broker = start_broker();
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  ASSERT_EQ(c.call<protocol::CreateTopicsResponse>(create_with("kv", 1, {{"cleanup.policy", "compact"}}), 7)
                .topics[0]
                .error_code,
            0);
  protocol::RecordBatchBuilder b({});
  b.add(1700000000000, std::nullopt, ByteView(reinterpret_cast<const uint8_t*>("v"), 1));
  auto keyless = b.build();
  ASSERT_TRUE(keyless);
  auto v9 = c.call<protocol::ProduceResponse>(produce_request("kv", 0, *keyless), 9);
  EXPECT_EQ(v9.responses.at(0).partition_responses.at(0).error_code, code(ErrorCode::invalid_record));
  auto v7 = c.call<protocol::ProduceResponse>(produce_request("kv", 0, *keyless), 7);
  EXPECT_EQ(v7.responses.at(0).partition_responses.at(0).error_code, code(ErrorCode::corrupt_message));
  auto ok = c.call<protocol::ProduceResponse>(produce_request("kv", 0, keyed_batch({{"k", "v"}}, 1700000000000)), 9);
  EXPECT_EQ(ok.responses.at(0).partition_responses.at(0).error_code, 0);
  EXPECT_EQ(ok.responses.at(0).partition_responses.at(0).base_offset, 0);
}

TEST(CompactionApi, BackgroundCleanerCompactsAndFetchCrossesTheGaps) {
  auto dir = std::filesystem::temp_directory_path() / ("conveyor-compaction-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto broker = start_broker({{"log.dirs", dir.string()},
                              {"log.cleaner.backoff.ms", "50"},
                              {"log.cleaner.min.cleanable.ratio", "0.1"}});
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  ASSERT_EQ(c.call<protocol::CreateTopicsResponse>(
                 create_with("kv", 1, {{"cleanup.policy", "compact"}, {"segment.bytes", "1024"}}), 7)
                .topics[0]
                .error_code,
            0);
  for (int round = 0; round < 30; ++round)
    for (int k = 0; k < 4; ++k) {
      auto p = c.call<protocol::ProduceResponse>(
          produce_request("kv", 0, keyed_batch({{"key" + std::to_string(k), "r" + std::to_string(round)}}, 1700000000000)), 9);
      ASSERT_EQ(p.responses.at(0).partition_responses.at(0).error_code, 0);
    }
  std::string pdir = (dir / "kv-0").string();
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (records_on_disk(pdir).size() >= 120 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto on_disk = records_on_disk(pdir);
  ASSERT_LT(on_disk.size(), 120u) << "the cleaner never ran";

  // A consumer reading from 0 (and from inside a gap) gets increasing offsets and the latest
  // value of every key.
  std::map<std::string, std::string> latest;
  int64_t offset = 0, previous = -1;
  while (offset < 120) {
    auto f = c.call<protocol::FetchResponse>(fetch_request("kv", 0, offset), 12);
    const auto& pr = f.responses.at(0).partitions.at(0);
    ASSERT_EQ(pr.error_code, 0);
    ASSERT_TRUE(pr.records && !pr.records->empty()) << "fetch at " << offset << " returned nothing";
    auto batches = protocol::split_batches(*pr.records);
    ASSERT_TRUE(batches);
    for (const auto& b : *batches) {
      auto recs = protocol::decode_batch(b.bytes);
      ASSERT_TRUE(recs);
      for (const auto& r : *recs) {
        if (r.offset < offset) continue;
        ASSERT_GT(r.offset, previous);
        previous = r.offset;
        latest[text(r.key)] = text(r.value);
      }
      offset = std::max(offset, b.header.last_offset() + 1);
    }
  }
  EXPECT_EQ(latest.size(), 4u);
  for (const auto& [k, v] : latest) EXPECT_EQ(v, "r29") << k;
  broker.reset();
  std::filesystem::remove_all(dir);
}

TEST(CompactionApi, ConsumerOffsetsAreCompactedAndSurviveARestart) {
  auto dir = std::filesystem::temp_directory_path() / ("conveyor-offsets-compaction-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  Properties props{{"log.dirs", dir.string()},
                   {"offsets.topic.num.partitions", "1"},
                   {"offsets.topic.segment.bytes", "2048"},
                   {"log.cleaner.backoff.ms", "50"},
                   {"log.cleaner.min.cleanable.ratio", "0.1"},
                   {"log.cleaner.delete.retention.ms", "0"},
                   {"group.initial.rebalance.delay.ms", "0"}};
  auto broker = start_broker(props);
  ASSERT_NE(broker, nullptr);
  auto c = std::make_unique<TestClient>(broker->port());
  ASSERT_EQ(c->call<protocol::CreateTopicsResponse>(create_with("orders", 2, {}), 7).topics[0].error_code, 0);
  for (int64_t i = 1; i <= 40; ++i) {
    auto r = c->call<protocol::OffsetCommitResponse>(manual_commit("gone", "orders", 0, i), 8);
    ASSERT_EQ(r.topics.at(0).partitions.at(0).error_code, 0);
  }
  protocol::DeleteGroupsRequest del;
  del.groups_names = {"gone"};
  ASSERT_EQ(c->call<protocol::DeleteGroupsResponse>(del, 2).results.at(0).error_code, 0);
  for (int64_t i = 1; i <= 150; ++i)
    for (int32_t p = 0; p < 2; ++p) {
      auto r = c->call<protocol::OffsetCommitResponse>(manual_commit("kept", "orders", p, i * 10 + p), 8);
      ASSERT_EQ(r.topics.at(0).partitions.at(0).error_code, 0);
    }
  std::string pdir = (dir / "__consumer_offsets-0").string();
  auto gone_left = [&] {
    int n = 0;
    for (const auto& r : records_on_disk(pdir)) n += contains(r.key, "gone");
    return n;
  };
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while ((records_on_disk(pdir).size() > 60 || gone_left() > 0) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LE(records_on_disk(pdir).size(), 60u) << "__consumer_offsets was not compacted";
  EXPECT_EQ(gone_left(), 0) << "the deleted group's tombstones are still there";
  EXPECT_EQ(committed(*c, "kept", "orders", 0), 1500);
  EXPECT_EQ(committed(*c, "kept", "orders", 1), 1501);

  c.reset();
  broker->stop();
  broker.reset();
  broker = start_broker(props);
  ASSERT_NE(broker, nullptr);
  c = std::make_unique<TestClient>(broker->port());
  EXPECT_EQ(committed(*c, "kept", "orders", 0), 1500);
  EXPECT_EQ(committed(*c, "kept", "orders", 1), 1501);
  EXPECT_EQ(committed(*c, "gone", "orders", 0), -1);
  protocol::ListGroupsRequest lg;
  auto groups = c->call<protocol::ListGroupsResponse>(lg, 3);
  bool has_gone = false, has_kept = false;
  for (const auto& g : groups.groups) {
    has_gone = has_gone || g.group_id == "gone";
    has_kept = has_kept || g.group_id == "kept";
  }
  EXPECT_FALSE(has_gone);
  EXPECT_TRUE(has_kept);
  c.reset();
  broker.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace conveyor::broker
