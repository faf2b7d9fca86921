#include "conveyor/storage/producer_state.h"

#include <gtest/gtest.h>

#include "conveyor/storage/log.h"
#include "storage_test_util.h"

namespace conveyor::storage {
namespace {

using namespace testing;

TEST(ProducerStateTable, SequenceRules) {
  ProducerStateTable t;
  // Unknown producer must start at 0.
  EXPECT_EQ(t.check(1, 0, 5, 1).error().code, ErrorCode::unknown_producer_id);
  ASSERT_TRUE(t.check(1, 0, 0, 3));
  t.update(1, 0, 0, 3, 100, 102, 10);
  // Next in sequence.
  auto ok = t.check(1, 0, 3, 2);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->duplicate);
  t.update(1, 0, 3, 2, 103, 104, 11);
  // Duplicate of an earlier batch: original offsets.
  auto dup = t.check(1, 0, 0, 3);
  ASSERT_TRUE(dup);
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->original.first_offset, 100);
  EXPECT_EQ(dup->original.last_offset, 102);
  // Gap and overlap that is not an exact duplicate.
  EXPECT_EQ(t.check(1, 0, 6, 1).error().code, ErrorCode::out_of_order_sequence_number);
  EXPECT_EQ(t.check(1, 0, 1, 2).error().code, ErrorCode::out_of_order_sequence_number);
  // Fenced (older) epoch, new epoch must restart at 0.
  EXPECT_EQ(t.check(1, -1, 5, 1).error().code, ErrorCode::invalid_producer_epoch);
  EXPECT_EQ(t.check(1, 1, 5, 1).error().code, ErrorCode::out_of_order_sequence_number);
  ASSERT_TRUE(t.check(1, 1, 0, 1));
  t.update(1, 1, 0, 1, 105, 105, 12);
  EXPECT_EQ(t.find(1)->batch_count, 1);
  EXPECT_EQ(t.check(1, 0, 5, 1).error().code, ErrorCode::invalid_producer_epoch);
}

TEST(ProducerStateTable, RemembersFiveBatchesAndWraps) {
  ProducerStateTable t;
  int32_t seq = 0;
  for (int i = 0; i < 7; ++i) {
    t.update(2, 0, seq, 1, i, i, 0);
    seq++;
  }
  EXPECT_EQ(t.find(2)->batch_count, kProducerBatchesRemembered);
  EXPECT_TRUE(t.check(2, 0, 6, 1)->duplicate);
  EXPECT_TRUE(t.check(2, 0, 2, 1)->duplicate);
  EXPECT_EQ(t.check(2, 0, 1, 1).error().code, ErrorCode::out_of_order_sequence_number);  // forgotten

  EXPECT_EQ(ProducerStateTable::last_sequence_of(INT32_MAX - 1, 3), 0);
  EXPECT_EQ(ProducerStateTable::last_sequence_of(INT32_MAX, 1), INT32_MAX);
  ProducerStateTable w;
  w.update(3, 0, INT32_MAX - 1, 2, 0, 1, 0);
  EXPECT_TRUE(w.check(3, 0, 0, 5));  // wraps to 0
  EXPECT_EQ(w.check(3, 0, INT32_MAX, 1).error().code, ErrorCode::out_of_order_sequence_number);
}

TEST(ProducerStateTable, SnapshotRoundTripAndCorruption) {
  ProducerStateTable t;
  t.update(1, 3, 0, 10, 0, 9, 77);
  t.update(1, 3, 10, 5, 10, 14, 78);
  t.update(99, 0, 0, 1, 15, 15, 79);
  Bytes bytes = t.serialize();
  auto back = ProducerStateTable::parse(bytes);
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ(back->find(1)->epoch, 3);
  EXPECT_EQ(back->find(1)->batch_count, 2);
  EXPECT_EQ(back->find(1)->last_batch()->last_offset, 14);
  EXPECT_EQ(back->find(99)->last_timestamp_ms, 79);
  for (size_t i = 0; i < bytes.size(); ++i) {
    Bytes bad = bytes;
    bad[i] ^= 0x10;
    EXPECT_FALSE(ProducerStateTable::parse(bad)) << i;
  }
  EXPECT_FALSE(ProducerStateTable::parse(ByteView(bytes).first(bytes.size() - 1)));
}

Bytes idem(int64_t pid, int16_t epoch, int32_t seq, int records = 2) {
  return make_batch({.records = records, .producer_id = pid, .producer_epoch = epoch, .base_sequence = seq});
}

TEST(IdempotentAppend, DuplicateGapAndFencing) {
  TempDir dir;
  auto log = std::move(*PartitionLog::open(dir.sub("t-0"), "t", 0, {}));
  ASSERT_TRUE(log->append(make_batch({.records = 1}), 0, 0));  // a non-idempotent batch first
  auto a = log->append(idem(7, 0, 0), 0, 0);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->base_offset, 1);
  auto b = log->append(idem(7, 0, 2), 0, 0);
  ASSERT_TRUE(b);
  // Retry of the first batch: not appended, original offsets.
  auto dup = log->append(idem(7, 0, 0), 0, 0);
  ASSERT_TRUE(dup);
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->base_offset, 1);
  EXPECT_EQ(dup->last_offset, 2);
  EXPECT_EQ(log->log_end_offset(), 5);
  // Gap.
  EXPECT_EQ(log->append(idem(7, 0, 6), 0, 0).error().code, ErrorCode::out_of_order_sequence_number);
  // Unknown producer not starting at 0.
  EXPECT_EQ(log->append(idem(8, 0, 4), 0, 0).error().code, ErrorCode::unknown_producer_id);
  // New epoch fences the old one.
  ASSERT_TRUE(log->append(idem(7, 1, 0), 0, 0));
  EXPECT_EQ(log->append(idem(7, 0, 4), 0, 0).error().code, ErrorCode::invalid_producer_epoch);
  EXPECT_EQ(log->log_end_offset(), 7);
  // Two batches of one producer in one call are checked in order; a bad second one rejects both.
  EXPECT_EQ(log->append(concat({idem(7, 1, 2), idem(7, 1, 9)}), 0, 0).error().code,
            ErrorCode::out_of_order_sequence_number);
  EXPECT_EQ(log->log_end_offset(), 7);
  auto two = log->append(concat({idem(7, 1, 2), idem(7, 1, 4)}), 0, 0);
  ASSERT_TRUE(two) << two.error().to_string();
  EXPECT_EQ(two->base_offset, 7);
  EXPECT_EQ(two->last_offset, 10);
  EXPECT_EQ(log->producer_entry(7)->last_batch()->last_sequence, 5);
}

TEST(IdempotentAppend, StateSurvivesCleanAndUncleanRestart) {
  TempDir dir;
  LogConfig config = small_config(2048, 128);
  {
    auto log = std::move(*PartitionLog::open(dir.sub("t-0"), "t", 0, config));
    for (int i = 0; i < 40; ++i) ASSERT_TRUE(log->append(idem(5, 2, 2 * i), 0, 0));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append(idem(6, 0, 2 * i), 0, 0));
    ASSERT_GT(log->segment_count(), 2u);
    copy_dir(dir.sub("t-0"), dir.sub("c-0"));  // crash image: snapshots from rolls only
    ASSERT_TRUE(log->close());
  }
  for (const std::string name : {"t-0", "c-0"}) {
    SCOPED_TRACE(name);
    bool clean = name == "t-0";
    auto log = std::move(*PartitionLog::open(dir.sub(name), "t", 0, config, LogOpenOptions{0, clean}));
    EXPECT_EQ(log->log_end_offset(), 86);
    auto dup = log->append(idem(5, 2, 78), 0, 0);
    ASSERT_TRUE(dup);
    EXPECT_TRUE(dup->duplicate);
    EXPECT_EQ(dup->base_offset, 78);
    EXPECT_EQ(log->append(idem(5, 2, 82), 0, 0).error().code, ErrorCode::out_of_order_sequence_number);
    EXPECT_EQ(log->append(idem(5, 1, 80), 0, 0).error().code, ErrorCode::invalid_producer_epoch);
    ASSERT_TRUE(log->append(idem(5, 2, 80), 0, 0));
    ASSERT_TRUE(log->append(idem(6, 0, 6), 0, 0));
  }
  // Snapshots deleted or torn: a full rescan rebuilds the same state.
  for (const auto& e : list_dir(dir.sub("c-0")))
    if (e.name.ends_with(".snapshot")) write_bytes(dir.sub("c-0") + "/" + e.name, Bytes{1, 2, 3});
  auto log = std::move(*PartitionLog::open(dir.sub("c-0"), "t", 0, config));
  EXPECT_TRUE(log->append(idem(5, 2, 80), 0, 0)->duplicate);
  ASSERT_TRUE(log->append(idem(5, 2, 82), 0, 0));
}

}  // namespace
}  // namespace conveyor::storage
