#include "conveyor/storage/log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "conveyor/protocol/crc32c.h"
#include "segment.h"
#include "storage_test_util.h"

namespace conveyor::storage {
namespace {

using namespace testing;

std::unique_ptr<PartitionLog> open_log(const std::string& dir, LogConfig config = {}, LogOpenOptions options = {}) {
  auto log = PartitionLog::open(dir, "t", 0, config, options);
  EXPECT_TRUE(log) << log.error().to_string();
  return log ? std::move(*log) : nullptr;
}

TEST(DirNames, PartitionAndSegmentNames) {
  EXPECT_EQ(partition_dir_name("orders.v2_x-y", 7), "orders.v2_x-y-7");
  auto tp = parse_partition_dir_name("orders.v2_x-y-7");
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->topic, "orders.v2_x-y");
  EXPECT_EQ(tp->partition, 7);
  EXPECT_FALSE(parse_partition_dir_name("orders-0.abcdef-delete"));
  EXPECT_FALSE(parse_partition_dir_name("orders"));
  EXPECT_FALSE(parse_partition_dir_name("-3"));
  EXPECT_FALSE(parse_partition_dir_name("t-01"));
  EXPECT_EQ(segment_file_name(42, ".log"), "00000000000000000042.log");
}

TEST(PartitionLog, AppendAssignsOffsetsAndReadsBack) {
  TempDir dir;
  auto log = open_log(dir.sub("t-0"));
  ASSERT_TRUE(log);
  EXPECT_EQ(log->log_end_offset(), 0);
  auto a = log->append(make_batch({.records = 3}), 5, 100);
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->base_offset, 0);
  EXPECT_EQ(a->last_offset, 2);
  EXPECT_EQ(a->log_append_time_ms, -1);
  EXPECT_EQ(a->record_count, 3);
  // Two batches in one call.
  auto b = log->append(concat({make_batch({.records = 2}), make_batch({.records = 4})}), 5, 100);
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_EQ(b->base_offset, 3);
  EXPECT_EQ(b->last_offset, 8);
  EXPECT_EQ(b->batch_count, 2);
  EXPECT_EQ(log->log_end_offset(), 9);
  EXPECT_EQ(log->high_watermark(), 9);

  auto r = log->read(0, 1 << 20, INT64_MAX);
  ASSERT_TRUE(r);
  auto hs = headers_of(r->records);
  ASSERT_EQ(hs.size(), 3u);
  EXPECT_EQ(hs[0].base_offset, 0);
  EXPECT_EQ(hs[1].base_offset, 3);
  EXPECT_EQ(hs[2].base_offset, 5);
  EXPECT_EQ(hs[2].partition_leader_epoch, 5);
  for (auto& s : split(r->records)) EXPECT_TRUE(protocol::validate_batch(s.bytes));
  // An offset inside a batch returns the whole batch.
  auto mid = log->read(6, 1 << 20, INT64_MAX);
  ASSERT_TRUE(mid);
  ASSERT_EQ(headers_of(mid->records).size(), 1u);
  EXPECT_EQ(headers_of(mid->records)[0].base_offset, 5);
  auto records = protocol::decode_batch(mid->records);
  ASSERT_TRUE(records);
  EXPECT_EQ((*records)[1].offset, 6);
  // At the end: empty; past it / before the start: offset_out_of_range.
  auto end = log->read(9, 1 << 20, INT64_MAX);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->records.empty());
  EXPECT_EQ(end->log_end_offset, 9);
  EXPECT_EQ(log->read(10, 100, INT64_MAX).error().code, ErrorCode::offset_out_of_range);
  EXPECT_EQ(log->read(-1, 100, INT64_MAX).error().code, ErrorCode::offset_out_of_range);
}

TEST(PartitionLog, MaxBytesAndMaxOffsetLimitReads) {
  TempDir dir;
  auto log = open_log(dir.sub("t-0"));
  Bytes batch = make_batch({.records = 2, .value_bytes = 100});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->append(batch, 0, 0));
  size_t one = batch.size();
  auto r = log->read(0, static_cast<int32_t>(2 * one + 10), INT64_MAX);
  ASSERT_TRUE(r);
  EXPECT_EQ(headers_of(r->records).size(), 2u);
  // KIP-74: a first batch larger than max_bytes comes back whole...
  auto big = log->read(0, 10, INT64_MAX);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->records.size(), one);
  // ...unless the caller says not to.
  auto none = log->read(0, 10, INT64_MAX, false);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->records.empty());
  // Nothing at or past max_offset (the high watermark).
  auto hw = log->read(0, 1 << 20, 4);
  ASSERT_TRUE(hw);
  auto hs = headers_of(hw->records);
  ASSERT_EQ(hs.size(), 2u);
  EXPECT_EQ(hs.back().last_offset(), 3);
  auto inside = log->read(4, 1 << 20, 5);  // batch 4..5 crosses max_offset 5
  ASSERT_TRUE(inside);
  EXPECT_TRUE(inside->records.empty());
  log->set_high_watermark_follows_log_end(false);
  log->set_high_watermark(4);
  EXPECT_EQ(log->high_watermark(), 4);
  ASSERT_TRUE(log->append(batch, 0, 0));
  EXPECT_EQ(log->high_watermark(), 4);
  log->set_high_watermark(1000);
  EXPECT_EQ(log->high_watermark(), 12);
}

TEST(PartitionLog, RejectsBadBatchesAtomically) {
  TempDir dir;
  LogConfig config;
  config.max_message_bytes = 300;
  auto log = open_log(dir.sub("t-0"), config);
  Bytes good = make_batch({.records = 1});
  Bytes bad = make_batch({.records = 1});
  bad[bad.size() - 1] ^= 0x01;  // payload flip: CRC mismatch
  auto r = log->append(concat({good, bad}), 0, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::corrupt_message);
  EXPECT_EQ(log->log_end_offset(), 0);  // nothing appended, not even the good one
  Bytes large = make_batch({.records = 1, .value_bytes = 400});
  EXPECT_EQ(log->append(large, 0, 0).error().code, ErrorCode::message_too_large);
  Bytes torn(good.begin(), good.end() - 3);
  EXPECT_EQ(log->append(torn, 0, 0).error().code, ErrorCode::corrupt_message);
  EXPECT_EQ(log->append(concat({good, Bytes{1, 2, 3}}), 0, 0).error().code, ErrorCode::corrupt_message);
  EXPECT_EQ(log->append(Bytes{}, 0, 0).error().code, ErrorCode::corrupt_message);
  EXPECT_EQ(log->log_end_offset(), 0);
  ASSERT_TRUE(log->append(good, 0, 0));
  EXPECT_EQ(log->log_end_offset(), 1);
  EXPECT_EQ(log->size_bytes(), static_cast<int64_t>(good.size()));
}

TEST(PartitionLog, LogAppendTimeStampsBatches) {
  TempDir dir;
  LogConfig config;
  config.message_timestamp_type = protocol::TimestampType::log_append_time;
  auto log = open_log(dir.sub("t-0"), config);
  auto a = log->append(make_batch({.records = 2, .timestamp_ms = 5}), 0, 777);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->log_append_time_ms, 777);
  auto r = log->read(0, 1 << 20, INT64_MAX);
  ASSERT_TRUE(r);
  auto hs = headers_of(r->records);
  ASSERT_EQ(hs.size(), 1u);
  EXPECT_EQ(hs[0].timestamp_type(), protocol::TimestampType::log_append_time);
  EXPECT_EQ(hs[0].max_timestamp, 777);
  EXPECT_TRUE(protocol::batch_crc_valid(r->records));
  auto records = protocol::decode_batch(r->records);
  ASSERT_TRUE(records);
  EXPECT_EQ((*records)[0].timestamp, 777);
}

// Index entries point at batches whose last offset is the entry's offset.
void expect_index_matches_log(const std::string& dir, int64_t base) {
  Bytes log_bytes = read_bytes(dir + "/" + segment_file_name(base, ".log"));
  Bytes index = read_bytes(dir + "/" + segment_file_name(base, ".index"));
  Bytes time_index = read_bytes(dir + "/" + segment_file_name(base, ".timeindex"));
  ASSERT_EQ(index.size() % 8, 0u);
  ASSERT_EQ(time_index.size() % 12, 0u);
  int64_t prev_rel = -1, prev_pos = -1;
  for (size_t i = 0; i < index.size(); i += 8) {
    int64_t rel = static_cast<int32_t>(get_be32(&index[i]));
    int64_t pos = static_cast<int32_t>(get_be32(&index[i + 4]));
    EXPECT_GT(rel, prev_rel);
    EXPECT_GT(pos, prev_pos);
    ASSERT_LT(pos + 61, static_cast<int64_t>(log_bytes.size() + 1));
    auto h = protocol::parse_batch_header(ByteView(log_bytes).subspan(static_cast<size_t>(pos)));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->last_offset(), base + rel) << "index entry " << i / 8 << " in " << dir;
    prev_rel = rel;
    prev_pos = pos;
  }
  int64_t prev_ts = INT64_MIN;
  for (size_t i = 0; i < time_index.size(); i += 12) {
    int64_t ts = static_cast<int64_t>(get_be64(&time_index[i]));
    EXPECT_GT(ts, prev_ts);
    prev_ts = ts;
  }
}

TEST(PartitionLog, RollsSegmentsAndFindsEveryOffsetThroughTheIndex) {
  TempDir dir;
  auto log = open_log(dir.sub("t-0"), small_config(2048, 100));
  std::vector<std::pair<int64_t, int64_t>> batches;  // base, last
  std::mt19937 rng(7);
  for (int i = 0; i < 120; ++i) {
    int n = 1 + static_cast<int>(rng() % 5);
    auto a = log->append(make_batch({.records = n, .timestamp_ms = 1000 + i * 10, .value_bytes = rng() % 80}), 1, 0);
    ASSERT_TRUE(a) << a.error().to_string();
    batches.emplace_back(a->base_offset, a->last_offset);
  }
  EXPECT_GT(log->segment_count(), 3u);
  int64_t leo = log->log_end_offset();
  for (int64_t o = 0; o < leo; ++o) {
    auto r = log->read(o, 1, INT64_MAX);
    ASSERT_TRUE(r) << r.error().to_string();
    auto hs = headers_of(r->records);
    ASSERT_EQ(hs.size(), 1u);
    EXPECT_LE(hs[0].base_offset, o);
    EXPECT_GE(hs[0].last_offset(), o);
  }
  Bytes all = read_all(*log, 0, 700);
  auto hs = headers_of(all);
  ASSERT_EQ(hs.size(), batches.size());
  for (size_t i = 0; i < hs.size(); ++i) EXPECT_EQ(hs[i].base_offset, batches[i].first);
  for (const auto& e : list_dir(dir.sub("t-0")))
    if (e.name.ends_with(".log")) expect_index_matches_log(dir.sub("t-0"), std::stoll(e.name));
  // Clean close and reopen: same data, same end.
  ASSERT_TRUE(log->close());
  auto again = open_log(dir.sub("t-0"), small_config(2048, 100), LogOpenOptions{.recovery_point = leo, .clean_shutdown = true});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->log_end_offset(), leo);
  EXPECT_EQ(read_all(*again, 0, 700), all);
  auto more = again->append(make_batch({.records = 1}), 1, 0);
  ASSERT_TRUE(more);
  EXPECT_EQ(more->base_offset, leo);
}

TEST(PartitionLog, RollsWhenTheIndexIsFull) {
  TempDir dir;
  LogConfig config = small_config(1 << 20, 0);  // an index entry after every batch
  config.segment_index_bytes = 8 * 4;           // 4 entries
  auto log = open_log(dir.sub("t-0"), config);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(log->append(make_batch({.records = 1}), 0, 0));
  EXPECT_GE(log->segment_count(), 4u);
  EXPECT_EQ(headers_of(read_all(*log)).size(), 20u);
}

TEST(PartitionLog, OffsetForTimestamp) {
  TempDir dir;
  auto log = open_log(dir.sub("t-0"), small_config(1024, 64));
  // Batch i holds records with timestamps 1000*i .. 1000*i+3 (4 records); one batch goes back
  // in time, as CreateTime allows.
  for (int i = 1; i <= 40; ++i) {
    int64_t ts = i == 20 ? 500 : 1000 * i;
    ASSERT_TRUE(log->append(make_batch({.records = 4, .timestamp_ms = ts}), 0, 0));
  }
  auto at = [&](int64_t ts) { return *log->offset_for_timestamp(ts); };
  auto r = at(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 0);
  EXPECT_EQ(r->timestamp_ms, 1000);
  r = at(5002);  // batch 5 (offsets 16..19) record 2
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 18);
  EXPECT_EQ(r->timestamp_ms, 5002);
  r = at(5004);  // past batch 5: first record of batch 6
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 20);
  EXPECT_EQ(r->timestamp_ms, 6000);
  r = at(40003);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 159);
  EXPECT_FALSE(at(40004));
  // Brute force against every timestamp.
  for (int64_t ts = 0; ts <= 41000; ts += 250) {
    auto got = at(ts);
    Bytes all = read_all(*log);
    std::optional<TimestampOffset> want;
    for (auto& s : split(all)) {
      for (auto& rec : decode(s.bytes))
        if (rec.timestamp >= ts) {
          want = TimestampOffset{rec.timestamp, rec.offset};
          break;
        }
      if (want) break;
    }
    ASSERT_EQ(got.has_value(), want.has_value()) << ts;
    if (want) {
      EXPECT_EQ(got->offset, want->offset) << ts;
      EXPECT_EQ(got->timestamp_ms, want->timestamp_ms) << ts;
    }
  }
  // KIP-734: the first record with the largest timestamp, also when a later batch ties.
  ASSERT_TRUE(log->append(make_batch({.records = 1, .timestamp_ms = 40003}), 0, 0));
  auto max = *log->max_timestamp_offset();
  ASSERT_TRUE(max);
  EXPECT_EQ(max->offset, 159);
  EXPECT_EQ(max->timestamp_ms, 40003);
  // The same answers after a clean reopen (max timestamps come from the sealed time index).
  ASSERT_TRUE(log->close());
  auto again = open_log(dir.sub("t-0"), small_config(1024, 64), LogOpenOptions{.recovery_point = 160, .clean_shutdown = true});
  max = *again->max_timestamp_offset();
  ASSERT_TRUE(max);
  EXPECT_EQ(max->offset, 159);
  TempDir empty_dir;
  EXPECT_FALSE(*open_log(empty_dir.sub("t-0"))->max_timestamp_offset());
  r = *again->offset_for_timestamp(5002);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 18);
  EXPECT_FALSE(*again->offset_for_timestamp(40004));
  EXPECT_EQ((*again->offset_for_timestamp(40003))->offset, 159);
}

TEST(PartitionLog, FlushPolicy) {
  TempDir dir;
  LogConfig config;
  config.flush_messages = 5;
  auto log = open_log(dir.sub("t-0"), config);
  ASSERT_TRUE(log->append(make_batch({.records = 3}), 0, 0));
  EXPECT_EQ(log->recovery_point(), 0);
  ASSERT_TRUE(log->append(make_batch({.records = 3}), 0, 0));  // 6 ≥ 5 → fsync
  EXPECT_EQ(log->recovery_point(), 6);

  config.flush_messages = INT64_MAX;
  config.flush_ms = 1000;
  log->update_config(config);
  ASSERT_TRUE(log->append(make_batch({.records = 1}), 0, 10'000));
  ASSERT_TRUE(log->maybe_flush(10'500));
  EXPECT_EQ(log->recovery_point(), 6);
  ASSERT_TRUE(log->maybe_flush(11'000));
  EXPECT_EQ(log->recovery_point(), 7);
  ASSERT_TRUE(log->append(make_batch({.records = 1}), 0, 20'000));
  ASSERT_TRUE(log->flush());
  EXPECT_EQ(log->recovery_point(), 8);
}

TEST(PartitionLog, TruncateTo) {
  TempDir dir;
  auto log = open_log(dir.sub("t-0"), small_config(1024, 64));
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(log->append(make_batch({.records = 2, .producer_id = 9, .producer_epoch = 0, .base_sequence = 2 * i}), 0, 0));
  size_t segments = log->segment_count();
  ASSERT_GT(segments, 2u);
  ASSERT_TRUE(log->truncate_to(21));  // inside batch 20..21: the whole batch goes
  EXPECT_EQ(log->log_end_offset(), 20);
  EXPECT_LT(log->segment_count(), segments);
  EXPECT_EQ(headers_of(read_all(*log)).size(), 10u);
  // Producer state follows the truncation: the next sequence is 20 again.
  auto entry = log->producer_entry(9);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->last_batch()->last_sequence, 19);
  EXPECT_EQ(log->append(make_batch({.records = 2, .producer_id = 9, .producer_epoch = 0, .base_sequence = 22}), 0, 0)
                .error().code, ErrorCode::out_of_order_sequence_number);
  auto a = log->append(make_batch({.records = 2, .producer_id = 9, .producer_epoch = 0, .base_sequence = 20}), 0, 0);
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->base_offset, 20);
  EXPECT_EQ(log->truncate_to(-1).error().code, ErrorCode::offset_out_of_range);
}

TEST(PartitionLog, ConcurrentReadsDuringAppends) {
  TempDir dir;
  auto log = open_log(dir.sub("t-0"), small_config(8192, 512));
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!done.load()) {
      int64_t leo = log->log_end_offset();
      if (leo == 0) continue;
      auto r = log->read(leo / 2, 4096, INT64_MAX);
      if (!r) {
        bad++;
        continue;
      }
      auto spans = protocol::split_batches(r->records);
      if (!spans) bad++;
      else
        for (auto& s : *spans)
          if (!protocol::batch_crc_valid(s.bytes)) bad++;
    }
  });
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(log->append(make_batch({.records = 2, .value_bytes = 50}), 0, 0));
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(log->log_end_offset(), 4000);
}

TEST(PartitionLog, PreallocatedSegmentsAreTrimmed) {
  TempDir dir;
  LogConfig config = small_config(64 * 1024, 256);
  config.preallocate = true;
  auto log = open_log(dir.sub("t-0"), config);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->append(make_batch({.records = 1}), 0, 0));
  std::string seg = dir.sub("t-0") + "/" + segment_file_name(0, ".log");
  EXPECT_EQ(*io::file_size(seg), 64 * 1024);
  // A crash image: zeros after the data are not batches.
  copy_dir(dir.sub("t-0"), dir.sub("c-0"));
  auto crashed = open_log(dir.sub("c-0"), config);
  ASSERT_TRUE(crashed);
  EXPECT_EQ(crashed->log_end_offset(), 10);
  EXPECT_EQ(*io::file_size(dir.sub("c-0") + "/" + segment_file_name(0, ".log")), log->size_bytes());
  ASSERT_TRUE(log->close());
  EXPECT_LT(*io::file_size(seg), 64 * 1024);
}

}  // namespace
}  // namespace conveyor::storage
