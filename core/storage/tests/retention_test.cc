// Retention by time and size, segment.ms rolling, the log start offset (DeleteRecords) and its
// checkpoint. Time is passed in explicitly: no sleeps.
#include <gtest/gtest.h>

#include <thread>

#include "conveyor/storage/log.h"
#include "conveyor/storage/log_manager.h"
#include "storage_test_util.h"

namespace conveyor::storage {
namespace {

using testing::headers_of;
using testing::list_dir;
using testing::make_batch;
using testing::read_all;
using testing::small_config;
using testing::TempDir;

std::unique_ptr<PartitionLog> open_log(const std::string& dir, LogConfig config = {}, LogOpenOptions options = {}) {
  auto log = PartitionLog::open(dir, "t", 0, config, options);
  EXPECT_TRUE(log) << log.error().to_string();
  return log ? std::move(*log) : nullptr;
}

// One batch per segment: segment i holds offsets [2i, 2i+1] with timestamps ts_of(i).
LogConfig one_batch_per_segment() {
  LogConfig c = small_config(100, 4096);  // each 2-record batch of ~150 bytes fills a segment
  return c;
}

void fill(PartitionLog& log, int segments, int64_t first_ts, int64_t ts_step) {
  for (int i = 0; i < segments; ++i) {
    auto a = log.append(make_batch({.records = 2, .timestamp_ms = first_ts + i * ts_step, .value_bytes = 100}), 0,
                        first_ts + i * ts_step);
    ASSERT_TRUE(a) << a.error().to_string();
  }
}

size_t count_files(const std::string& dir, std::string_view suffix) {
  size_t n = 0;
  for (const auto& e : list_dir(dir))
    if (e.name.ends_with(suffix)) ++n;
  return n;
}

TEST(Retention, ByTimeDeletesExpiredClosedSegmentsAndAdvancesTheLogStart) {
  TempDir dir;
  LogConfig c = one_batch_per_segment();
  c.retention_ms = 10'000;
  auto log = open_log(dir.sub("t-0"), c);
  fill(*log, 5, 100'000, 1'000);  // segments with max timestamps 100001, 101001, ..., 104001
  ASSERT_EQ(log->segment_count(), 5u);

  // Nothing is older than 10 s at 110001 (100001 + 10000 is not > 10000).
  auto r = log->apply_retention(110'001);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->deleted_base_offsets.empty());
  EXPECT_EQ(log->log_start_offset(), 0);

  // At 112001 the first two segments (max ts 100001, 101001) are expired.
  r = log->apply_retention(112'001);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->deleted_base_offsets, (std::vector<int64_t>{0, 2}));
  EXPECT_GT(r->bytes_deleted, 0);
  EXPECT_TRUE(r->log_start_moved);
  EXPECT_EQ(r->log_start_offset, 4);
  EXPECT_EQ(log->log_start_offset(), 4);
  EXPECT_EQ(log->segment_count(), 3u);
  EXPECT_EQ(count_files(dir.sub("t-0"), ".log"), 3u);
  EXPECT_EQ(count_files(dir.sub("t-0"), ".deleted"), 0u);

  // Below the log start: offset_out_of_range; at it: the data.
  auto below = log->read(3, 1 << 20, INT64_MAX);
  ASSERT_FALSE(below);
  EXPECT_EQ(below.error().code, ErrorCode::offset_out_of_range);
  auto at = log->read(4, 1 << 20, INT64_MAX);
  ASSERT_TRUE(at);
  EXPECT_EQ(headers_of(at->records).front().base_offset, 4);
  EXPECT_EQ(at->log_start_offset, 4);
  // A timestamp lookup never answers below the log start.
  auto ts = log->offset_for_timestamp(0);
  ASSERT_TRUE(ts);
  ASSERT_TRUE(ts->has_value());
  EXPECT_EQ((*ts)->offset, 4);
}

TEST(Retention, ExpiredActiveSegmentIsRolledThenDeleted) {
  TempDir dir;
  LogConfig c = small_config(1 << 20, 4096);  // one segment for everything
  c.retention_ms = 1'000;
  auto log = open_log(dir.sub("t-0"), c);
  fill(*log, 3, 5'000, 10);
  ASSERT_EQ(log->segment_count(), 1u);
  ASSERT_EQ(log->log_end_offset(), 6);
  auto r = log->apply_retention(100'000);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->deleted_base_offsets, (std::vector<int64_t>{0}));
  EXPECT_EQ(log->segment_count(), 1u);  // the new empty active segment
  EXPECT_EQ(log->log_start_offset(), 6);
  EXPECT_EQ(log->log_end_offset(), 6);
  EXPECT_EQ(log->high_watermark(), 6);
  auto empty = log->read(6, 1 << 20, INT64_MAX);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->records.empty());
  // An empty active segment is never deleted, and appends continue at the LEO.
  r = log->apply_retention(1'000'000);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->deleted_base_offsets.empty());
  auto a = log->append(make_batch({.records = 1, .timestamp_ms = 1'000'000}), 0, 1'000'000);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->base_offset, 6);
  // Reopen: the log starts at its first segment.
  ASSERT_TRUE(log->close());
  auto again = open_log(dir.sub("t-0"), c);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->log_start_offset(), 6);
  EXPECT_EQ(again->log_end_offset(), 7);
}

TEST(Retention, NeverPastTheHighWatermark) {
  TempDir dir;
  LogConfig c = one_batch_per_segment();
  c.retention_ms = 0;
  auto log = open_log(dir.sub("t-0"), c);
  log->set_high_watermark_follows_log_end(false);
  fill(*log, 4, 1'000, 1);
  log->set_high_watermark(4);  // segments [0,1], [2,3] are below it; [4,5] is not
  auto r = log->apply_retention(1'000'000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deleted_base_offsets, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(log->log_start_offset(), 4);
}

TEST(Retention, DisabledByMinusOne) {
  TempDir dir;
  LogConfig c = one_batch_per_segment();
  c.retention_ms = -1;
  c.retention_bytes = -1;
  auto log = open_log(dir.sub("t-0"), c);
  fill(*log, 4, 1'000, 1);
  auto r = log->apply_retention(INT64_MAX / 2);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->deleted_base_offsets.empty());
  EXPECT_EQ(log->segment_count(), 4u);
}

TEST(Retention, BySizeKeepsThePartitionAtOrAboveTheBoundMinimally) {
  TempDir dir;
  LogConfig c = one_batch_per_segment();
  c.retention_ms = -1;
  auto log = open_log(dir.sub("t-0"), c);
  fill(*log, 6, 1'000, 1);
  int64_t seg = log->size_bytes() / 6;
  ASSERT_EQ(seg * 6, log->size_bytes());  // equal segments
  // Bound of 2.5 segments: Kafka deletes while size - segment >= bound → 3 segments stay.
  c.retention_bytes = seg * 5 / 2;
  log->update_config(c);
  auto r = log->apply_retention(2'000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deleted_base_offsets, (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(r->bytes_deleted, seg * 3);
  EXPECT_EQ(log->size_bytes(), seg * 3);
  EXPECT_EQ(log->log_start_offset(), 6);
  // A bound of exactly 2 segments deletes one more (3 - 1 >= 2).
  c.retention_bytes = seg * 2;
  log->update_config(c);
  r = log->apply_retention(2'000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deleted_base_offsets, (std::vector<int64_t>{6}));
  EXPECT_EQ(log->size_bytes(), seg * 2);
  // Nothing more while under or at the bound.
  r = log->apply_retention(2'000);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->deleted_base_offsets.empty());
}

TEST(Retention, SegmentMsRollsOnTheFirstBatchTimestamp) {
  TempDir dir;
  LogConfig c = small_config(1 << 20, 4096);
  c.segment_ms = 1'000;
  auto log = open_log(dir.sub("t-0"), c);
  ASSERT_TRUE(log->append(make_batch({.records = 1, .timestamp_ms = 10'000}), 0, 10'000));
  ASSERT_TRUE(log->append(make_batch({.records = 1, .timestamp_ms = 11'000}), 0, 11'000));  // 1000: not >
  EXPECT_EQ(log->segment_count(), 1u);
  ASSERT_TRUE(log->append(make_batch({.records = 1, .timestamp_ms = 11'001}), 0, 11'001));  // 1001 > 1000
  EXPECT_EQ(log->segment_count(), 2u);
  // The new segment's clock starts at its first batch.
  ASSERT_TRUE(log->append(make_batch({.records = 1, .timestamp_ms = 12'001}), 0, 12'001));
  EXPECT_EQ(log->segment_count(), 2u);
  ASSERT_TRUE(log->append(make_batch({.records = 1, .timestamp_ms = 12'002}), 0, 12'002));
  EXPECT_EQ(log->segment_count(), 3u);
  // After a reopen the first batch's timestamp is read back from the segment.
  ASSERT_TRUE(log->close());
  auto again = open_log(dir.sub("t-0"), c, LogOpenOptions{.recovery_point = 5, .clean_shutdown = true});
  ASSERT_TRUE(again);
  ASSERT_TRUE(again->append(make_batch({.records = 1, .timestamp_ms = 13'002}), 0, 13'002));
  EXPECT_EQ(again->segment_count(), 3u);
  ASSERT_TRUE(again->append(make_batch({.records = 1, .timestamp_ms = 13'003}), 0, 13'003));
  EXPECT_EQ(again->segment_count(), 4u);
  EXPECT_EQ(headers_of(read_all(*again)).size(), 7u);
}

TEST(Retention, SegmentIndexBytesBoundsEverySegmentsIndex) {
  TempDir dir;
  LogConfig c = small_config(1 << 20, 0);  // an index entry per batch
  c.segment_index_bytes = 8 * 3;           // 3 entries
  auto log = open_log(dir.sub("t-0"), c);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->append(make_batch({.records = 1}), 0, 0));
  ASSERT_TRUE(log->close());
  for (const auto& e : list_dir(dir.sub("t-0")))
    if (e.name.ends_with(".index")) EXPECT_LE(std::filesystem::file_size(dir.sub("t-0") + "/" + e.name), 24u) << e.name;
}

TEST(DeleteRecords, AdvancesTheLogStartWithinTheHighWatermark) {
  TempDir dir;
  LogConfig c = one_batch_per_segment();
  c.retention_ms = -1;
  auto log = open_log(dir.sub("t-0"), c);
  fill(*log, 4, 1'000, 1);  // offsets 0..7
  auto low = log->advance_log_start_offset(3);
  ASSERT_TRUE(low) << low.error().to_string();
  EXPECT_EQ(*low, 3);
  // Never backwards.
  low = log->advance_log_start_offset(1);
  ASSERT_TRUE(low);
  EXPECT_EQ(*low, 3);
  // Beyond the high watermark: offset_out_of_range.
  auto bad = log->advance_log_start_offset(9);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::offset_out_of_range);
  // Offset 3 is inside segment [2,3]: reads of 2 fail, 3 returns its batch (which starts at 2).
  auto r2 = log->read(2, 1 << 20, INT64_MAX);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, ErrorCode::offset_out_of_range);
  auto r3 = log->read(3, 1 << 20, INT64_MAX);
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->log_start_offset, 3);
  // Retention then deletes segment [0,1] only (the next one starts at 2 ≤ 3, [2,3] ends past 3).
  auto r = log->apply_retention(2'000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deleted_base_offsets, (std::vector<int64_t>{0}));
  EXPECT_FALSE(r->log_start_moved);
  EXPECT_EQ(log->log_start_offset(), 3);
  // Up to the high watermark: every closed segment goes, the active one stays.
  low = log->advance_log_start_offset(8);
  ASSERT_TRUE(low);
  EXPECT_EQ(*low, 8);
  r = log->apply_retention(2'000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deleted_base_offsets, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(log->log_start_offset(), 8);
  auto end = log->read(8, 1 << 20, INT64_MAX);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->records.empty());
}

TEST(DeleteRecords, LogStartSurvivesARestartThroughTheCheckpoint) {
  TempDir dir;
  Properties broker;
  broker.set("log.segment.bytes", "100");
  broker.set("log.retention.ms", "-1");
  {
    auto m = LogManager::open({dir.path()}, broker);
    ASSERT_TRUE(m) << m.error().to_string();
    auto log = (*m)->create_partition("t", 0, TopicId{});
    ASSERT_TRUE(log) << log.error().to_string();
    fill(**log, 3, 1'000, 1);  // 0..5
    auto low = (*m)->delete_records("t", 0, 3);
    ASSERT_TRUE(low) << low.error().to_string();
    EXPECT_EQ(*low, 3);
    auto missing = (*m)->delete_records("nope", 0, 1);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::unknown_topic_or_partition);
    // The checkpoint is written before delete_records returns: a crash (no close) keeps it.
    testing::copy_dir(dir.path(), dir.path() + "-crash");
    ASSERT_TRUE((*m)->close());
  }
  for (const std::string& d : {dir.path(), dir.path() + "-crash"}) {
    auto m = LogManager::open({d}, broker);
    ASSERT_TRUE(m) << m.error().to_string();
    auto log = (*m)->get("t", 0);
    ASSERT_TRUE(log);
    EXPECT_EQ(log->log_start_offset(), 3) << d;
    EXPECT_EQ(log->log_end_offset(), 6);
    auto below = log->read(2, 1 << 20, INT64_MAX);
    ASSERT_FALSE(below);
    EXPECT_EQ(below.error().code, ErrorCode::offset_out_of_range);
    ASSERT_TRUE((*m)->close());
  }
  std::filesystem::remove_all(dir.path() + "-crash");
}

TEST(Retention, ManagerAppliesRetentionToEveryPartitionAndCheckpoints) {
  TempDir dir;
  Properties broker;
  broker.set("log.segment.bytes", "100");
  broker.set("log.retention.ms", "-1");
  {
    auto m = LogManager::open({dir.path()}, broker);
    ASSERT_TRUE(m);
    Properties timed;
    timed.set("retention.ms", "1000");
    auto a = (*m)->create_partition("timed", 0, TopicId{}, timed);
    auto b = (*m)->create_partition("kept", 0, TopicId{});
    ASSERT_TRUE(a && b);
    fill(**a, 3, 1'000, 1);
    fill(**b, 3, 1'000, 1);
    auto totals = (*m)->apply_retention_all(10'000);
    ASSERT_TRUE(totals) << totals.error().to_string();
    EXPECT_EQ(totals->partitions_changed, 1);
    EXPECT_EQ(totals->segments_deleted, 3);  // the active one too: rolled first
    EXPECT_EQ((*a)->log_start_offset(), 6);
    EXPECT_EQ((*b)->log_start_offset(), 0);
    // Crash image: the checkpoint was written by the task.
    testing::copy_dir(dir.path(), dir.path() + "-crash");
    ASSERT_TRUE((*m)->close());
  }
  std::string crash = dir.path() + "-crash";
  auto m = LogManager::open({crash}, broker);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ((*m)->get("timed", 0)->log_start_offset(), 6);
  EXPECT_EQ((*m)->get("kept", 0)->log_start_offset(), 0);
  ASSERT_TRUE((*m)->close());
  std::filesystem::remove_all(crash);
}

TEST(Retention, ReaderHoldingADeletedSegmentFinishesItsRead) {
  TempDir dir;
  LogConfig c = one_batch_per_segment();
  c.retention_ms = -1;
  auto log = open_log(dir.sub("t-0"), c);
  fill(*log, 4, 1'000, 1);
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::thread reader([&] {
    while (!stop) {
      int64_t start = log->log_start_offset();
      auto r = log->read(start, 1 << 20, INT64_MAX);
      if (!r && r.error().code != ErrorCode::offset_out_of_range) ++errors;
    }
  });
  for (int i = 0; i < 50; ++i) {
    fill(*log, 2, 2'000 + i, 1);
    ASSERT_TRUE(log->advance_log_start_offset(log->high_watermark() - 2));
    ASSERT_TRUE(log->apply_retention(3'000));
  }
  stop = true;
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_LE(log->segment_count(), 2u);
}

}  // namespace
}  // namespace conveyor::storage
