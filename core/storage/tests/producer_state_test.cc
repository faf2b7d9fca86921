#include "conveyor/storage/producer_state.h"

#include <gtest/gtest.h>

#include <chrono>

#include "conveyor/storage/log.h"
#include "conveyor/storage/log_manager.h"
#include "storage_test_util.h"

namespace conveyor::storage {
namespace {

using namespace testing;

TEST(ProducerStateTable, SequenceRules) {
  ProducerStateTable t;
  // An unknown producer (new or expired) may start at any sequence (KIP-360).
  auto fresh = t.check(1, 0, 5, 1);
  ASSERT_TRUE(fresh) << fresh.error().to_string();
  EXPECT_FALSE(fresh->duplicate);
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
  // An unknown producer not starting at 0 is accepted (KIP-360), then checked like any other.
  auto fresh = log->append(idem(8, 0, 4), 0, 0);
  ASSERT_TRUE(fresh) << fresh.error().to_string();
  EXPECT_EQ(fresh->base_offset, 5);
  EXPECT_EQ(log->append(idem(8, 0, 9), 0, 0).error().code, ErrorCode::out_of_order_sequence_number);
  EXPECT_TRUE(log->append(idem(8, 0, 4), 0, 0)->duplicate);
  // New epoch fences the old one.
  ASSERT_TRUE(log->append(idem(7, 1, 0), 0, 0));
  EXPECT_EQ(log->append(idem(7, 0, 4), 0, 0).error().code, ErrorCode::invalid_producer_epoch);
  EXPECT_EQ(log->log_end_offset(), 9);
  // Two batches of one producer in one call are checked in order; a bad second one rejects both.
  EXPECT_EQ(log->append(concat({idem(7, 1, 2), idem(7, 1, 9)}), 0, 0).error().code,
            ErrorCode::out_of_order_sequence_number);
  EXPECT_EQ(log->log_end_offset(), 9);
  auto two = log->append(concat({idem(7, 1, 2), idem(7, 1, 4)}), 0, 0);
  ASSERT_TRUE(two) << two.error().to_string();
  EXPECT_EQ(two->base_offset, 9);
  EXPECT_EQ(two->last_offset, 12);
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

// ---------------------------------------------------------------------------------------------
// Expiry (KIP-854 producer.id.expiration.ms). Time is passed in (no sleeping): batch max
// timestamps against the now_ms given to remove_expired / LogOpenOptions::now_ms.

TEST(ProducerStateTable, RemoveExpiredByTheLastBatchTimestamp) {
  ProducerStateTable t;
  t.update(1, 0, 0, 1, 0, 0, 1000);
  t.update(2, 0, 0, 1, 1, 1, 900);
  t.update(2, 0, 1, 1, 2, 2, 5000);   // the last batch's timestamp counts
  t.update(3, 0, 0, 1, 3, 3, -1);     // no timestamp: as old as the epoch
  t.update(4, 0, 0, 1, 4, 4, INT64_MAX);
  EXPECT_EQ(t.remove_expired(3999, 3000), 1u);  // only 3: 3999 - 1000 < 3000
  EXPECT_TRUE(t.find(1));
  EXPECT_FALSE(t.find(3));
  EXPECT_EQ(t.remove_expired(4000, 3000), 1u);  // exactly the expiration: 1 goes
  EXPECT_FALSE(t.find(1));
  ASSERT_TRUE(t.find(2));
  EXPECT_EQ(t.remove_expired(7999, 3000), 0u);
  EXPECT_EQ(t.remove_expired(8000, 3000), 1u);
  EXPECT_FALSE(t.find(2));
  EXPECT_EQ(t.remove_expired(INT64_MAX, 1), 0u);  // a timestamp of INT64_MAX never expires
  EXPECT_EQ(t.remove_expired(INT64_MIN, 1), 0u);  // no overflow
  EXPECT_EQ(t.size(), 1u);
}

constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t kExpirationMs = 60'000;

Bytes idem_at(int64_t pid, int32_t seq, int64_t timestamp_ms, int records = 2) {
  return make_batch({.records = records, .timestamp_ms = timestamp_ms, .producer_id = pid, .producer_epoch = 0,
                     .base_sequence = seq});
}

LogConfig expiry_config(int64_t segment_bytes = 1 << 20) {
  LogConfig c = small_config(segment_bytes, 128);
  c.producer_id_expiration_ms = kExpirationMs;
  return c;
}

TEST(ProducerExpiry, IdleProducerExpiresLiveOneKeepsItsStateAndDuplicates) {
  TempDir dir;
  auto log = std::move(*PartitionLog::open(dir.sub("t-0"), "t", 0, expiry_config()));
  // Producer 7 writes at kT0 (max timestamp kT0 + 1), producer 8 six batches half a window later.
  ASSERT_TRUE(log->append(idem_at(7, 0, kT0), 0, kT0));
  ASSERT_TRUE(log->append(idem_at(7, 2, kT0), 0, kT0));
  std::vector<int64_t> offsets_of_8;
  for (int i = 0; i < 6; ++i) {
    auto a = log->append(idem_at(8, 2 * i, kT0 + kExpirationMs / 2), 0, kT0 + kExpirationMs / 2);
    ASSERT_TRUE(a);
    offsets_of_8.push_back(a->base_offset);
  }
  // Just inside the window: nothing goes; 7's gap is still refused.
  EXPECT_EQ(log->remove_expired_producers(kT0 + 1 + kExpirationMs - 1), 0u);
  EXPECT_EQ(log->append(idem_at(7, 9, kT0), 0, kT0).error().code, ErrorCode::out_of_order_sequence_number);
  // At the expiration: 7 goes, 8 (last timestamp kT0 + 30 s) stays.
  int64_t now = kT0 + 1 + kExpirationMs;
  EXPECT_EQ(log->remove_expired_producers(now), 1u);
  EXPECT_FALSE(log->producer_entry(7));
  ASSERT_TRUE(log->producer_entry(8));
  // 8: a gap is still OUT_OF_ORDER_SEQUENCE_NUMBER and its last 5 batches are still duplicates
  // (with their original offsets); the sixth-last is forgotten, as before.
  EXPECT_EQ(log->append(idem_at(8, 20, now), 0, now).error().code, ErrorCode::out_of_order_sequence_number);
  for (int i = 1; i < 6; ++i) {
    auto dup = log->append(idem_at(8, 2 * i, kT0 + kExpirationMs / 2), 0, now);
    ASSERT_TRUE(dup) << i;
    EXPECT_TRUE(dup->duplicate) << i;
    EXPECT_EQ(dup->base_offset, offsets_of_8[static_cast<size_t>(i)]);
  }
  EXPECT_EQ(log->append(idem_at(8, 0, kT0), 0, now).error().code, ErrorCode::out_of_order_sequence_number);
  // 7 comes back with any sequence (11; its next would have been 4): accepted as its new state.
  int64_t leo = log->log_end_offset();
  auto back = log->append(idem_at(7, 11, now), 0, now);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_FALSE(back->duplicate);
  EXPECT_EQ(back->base_offset, leo);
  EXPECT_EQ(log->producer_entry(7)->last_batch()->last_sequence, 12);
  // ... and from there it is checked as usual.
  EXPECT_EQ(log->append(idem_at(7, 4, now), 0, now).error().code, ErrorCode::out_of_order_sequence_number);
  EXPECT_TRUE(log->append(idem_at(7, 11, now), 0, now)->duplicate);
  ASSERT_TRUE(log->append(idem_at(7, 13, now), 0, now));
}

TEST(ProducerExpiry, StateOutlivesItsDeletedBatchesUntilItExpires) {
  // Kafka since KAFKA-7190 (KIP-360): moving the log start offset (DeleteRecords, retention)
  // past a producer's last batch keeps its state; only producer.id.expiration.ms removes it.
  TempDir dir;
  LogConfig config = expiry_config(400);  // a few batches per segment
  config.retention_ms = -1;
  auto log = std::move(*PartitionLog::open(dir.sub("t-0"), "t", 0, config));
  Bytes first = idem_at(7, 0, kT0);
  ASSERT_TRUE(log->append(first, 0, kT0));
  ASSERT_TRUE(log->append(idem_at(7, 2, kT0), 0, kT0));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(log->append(make_batch({.records = 2, .timestamp_ms = kT0}), 0, kT0));
  ASSERT_GT(log->segment_count(), 3u);
  // DeleteRecords past 7's last offset (3), then retention deletes the segments below it.
  ASSERT_EQ(*log->advance_log_start_offset(20), 20);
  auto deleted = log->apply_retention(kT0);
  ASSERT_TRUE(deleted);
  ASSERT_FALSE(deleted->deleted_base_offsets.empty());
  ASSERT_TRUE(log->producer_entry(7));
  // Duplicate detection and the sequence check still work for 7.
  auto dup = log->append(idem_at(7, 2, kT0), 0, kT0);
  ASSERT_TRUE(dup);
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->base_offset, 2);
  EXPECT_EQ(log->append(idem_at(7, 9, kT0), 0, kT0).error().code, ErrorCode::out_of_order_sequence_number);
  // A clean restart keeps it too (the close snapshot is at the log end, above the log start).
  ASSERT_TRUE(log->close());
  LogOpenOptions reopen;
  reopen.log_start_offset = 20;
  reopen.now_ms = kT0 + 10;
  log = std::move(*PartitionLog::open(dir.sub("t-0"), "t", 0, config, reopen));
  ASSERT_TRUE(log->producer_entry(7));
  EXPECT_EQ(log->append(idem_at(7, 9, kT0), 0, kT0).error().code, ErrorCode::out_of_order_sequence_number);
  // Expiry removes it.
  EXPECT_EQ(log->remove_expired_producers(kT0 + 1 + kExpirationMs), 1u);
  EXPECT_TRUE(log->append(idem_at(7, 9, kT0 + kExpirationMs), 0, kT0 + kExpirationMs));
}

TEST(ProducerExpiry, SnapshotsAndRestartsDoNotResurrectExpiredProducers) {
  TempDir dir;
  LogConfig config = expiry_config(300);  // rolls (and snapshots) every two or three batches
  const int64_t late = kT0 + kExpirationMs / 2;
  const int64_t now = kT0 + 1 + kExpirationMs;  // 7 (last timestamp kT0 + 1) has expired, 8 not
  {
    auto log = std::move(*PartitionLog::open(dir.sub("t-0"), "t", 0, config));
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->append(idem_at(7, 2 * i, kT0), 0, kT0));
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->append(idem_at(8, 2 * i, late), 0, late));
    ASSERT_GT(log->segment_count(), 2u);
    // Crash image before any expiry: its snapshots (from rolls) and batches hold 7.
    copy_dir(dir.sub("t-0"), dir.sub("a-0"));
    ASSERT_EQ(log->remove_expired_producers(now), 1u);
    // Snapshots written after the expiry (at the next rolls) do not hold 7.
    for (int i = 4; i < 12; ++i) ASSERT_TRUE(log->append(idem_at(8, 2 * i, late), 0, now));
    copy_dir(dir.sub("t-0"), dir.sub("b-0"));
    ASSERT_TRUE(log->close());
  }
  auto reopen = [&](const std::string& name, int64_t now_ms) {
    LogOpenOptions o;
    o.now_ms = now_ms;
    auto log = PartitionLog::open(dir.sub(name), "t", 0, config, o);
    EXPECT_TRUE(log) << log.error().to_string();
    return std::move(*log);
  };
  {
    // Clean shutdown, no clock at open: the close snapshot alone leaves 7 out.
    auto log = reopen("t-0", -1);
    EXPECT_FALSE(log->producer_entry(7));
    ASSERT_TRUE(log->producer_entry(8));
    EXPECT_EQ(log->producer_entry(8)->last_batch()->last_sequence, 23);
  }
  {
    // Crash after the expiry, no clock at open: the newest snapshot was written after it and
    // 7's batches are all before that snapshot, so 7 is not replayed.
    auto log = reopen("b-0", -1);
    EXPECT_FALSE(log->producer_entry(7));
    ASSERT_TRUE(log->producer_entry(8));
  }
  {
    // Crash before the expiry: without a clock 7 is rebuilt (this is what the rule prevents) ...
    auto log = reopen("a-0", -1);
    EXPECT_TRUE(log->producer_entry(7));
    ASSERT_TRUE(log->close());
  }
  copy_dir(dir.sub("a-0"), dir.sub("c-0"));
  {
    // ... with the clock of the restart it is dropped from the rebuilt state, 8 stays.
    auto log = reopen("a-0", now);
    EXPECT_FALSE(log->producer_entry(7));
    ASSERT_TRUE(log->producer_entry(8));
    EXPECT_TRUE(log->append(idem_at(7, 21, now), 0, now));  // any sequence: new state
    EXPECT_EQ(log->append(idem_at(8, 21, now), 0, now).error().code, ErrorCode::out_of_order_sequence_number);
  }
  {
    // No snapshot at all (every one removed): the full replay applies the same rule.
    for (const auto& e : list_dir(dir.sub("c-0")))
      if (e.name.ends_with(".snapshot")) std::filesystem::remove(dir.sub("c-0") + "/" + e.name);
    auto log = reopen("c-0", now);
    EXPECT_FALSE(log->producer_entry(7));
    ASSERT_TRUE(log->producer_entry(8));
    EXPECT_EQ(log->producer_entry(8)->last_batch()->last_sequence, 7);
  }
}

TEST(ProducerExpiry, TruncationRebuildsWithoutExpiredProducers) {
  TempDir dir;
  auto log = std::move(*PartitionLog::open(dir.sub("t-0"), "t", 0, expiry_config()));  // one segment
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append(idem_at(7, 2 * i, kT0), 0, kT0));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append(idem_at(8, 2 * i, kT0 + kExpirationMs), 0, kT0));
  ASSERT_EQ(log->remove_expired_producers(kT0 + 1 + kExpirationMs), 1u);
  // The rebuild replays 7's batches from the log; the latest expiry clock drops it again.
  ASSERT_TRUE(log->truncate_to(10));
  EXPECT_FALSE(log->producer_entry(7));
  ASSERT_TRUE(log->producer_entry(8));
  EXPECT_EQ(log->producer_entry(8)->last_batch()->last_sequence, 3);
}

TEST(ProducerExpiry, LogManagerOpenUsesTheSystemClockAndExpiresEveryPartition) {
  TempDir dir;
  const int64_t wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  Properties broker{{"producer.id.expiration.ms", "3600000"}};
  {
    auto m = LogManager::open({dir.sub("d")}, broker);
    ASSERT_TRUE(m) << m.error().to_string();
    auto a = (*m)->create_partition("t", 0, TopicId{{1}});
    auto b = (*m)->create_partition("t", 1, TopicId{{1}});
    ASSERT_TRUE(a && b);
    EXPECT_EQ((*a)->config().producer_id_expiration_ms, 3600000);
    ASSERT_TRUE((*a)->append(idem_at(7, 0, wall - 2 * 3600000), 0, wall));  // two hours old
    ASSERT_TRUE((*a)->append(idem_at(8, 0, wall), 0, wall));
    ASSERT_TRUE((*b)->append(idem_at(7, 0, wall - 2 * 3600000), 0, wall));
    ASSERT_TRUE((*b)->append(idem_at(9, 0, wall - 3600000 / 2), 0, wall));
    ASSERT_TRUE((*m)->close());
  }
  auto m = LogManager::open({dir.sub("d")}, broker);
  ASSERT_TRUE(m);
  auto a = (*m)->get("t", 0);
  auto b = (*m)->get("t", 1);
  EXPECT_FALSE(a->producer_entry(7));  // older than the hour at the restart
  EXPECT_TRUE(a->producer_entry(8));
  EXPECT_FALSE(b->producer_entry(7));
  EXPECT_TRUE(b->producer_entry(9));
  // The periodic walk (the broker's task) over every partition.
  EXPECT_EQ((*m)->remove_expired_producers_all(wall + 1 + 3600000), 2);  // 8 in t-0 and 9 in t-1
  EXPECT_FALSE(a->producer_entry(8));
  EXPECT_FALSE(b->producer_entry(9));
}

TEST(ProducerExpiry, ConfigKey) {
  auto c = make_log_config({});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->producer_id_expiration_ms, 86400000);  // Kafka's default: one day
  auto set = make_log_config(Properties{{"producer.id.expiration.ms", "2000"}});
  ASSERT_TRUE(set);
  EXPECT_EQ(set->producer_id_expiration_ms, 2000);
  for (const char* bad : {"0", "-5", "x", "2147483648"}) {
    auto r = make_log_config(Properties{{"producer.id.expiration.ms", bad}});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_config);
    EXPECT_NE(r.error().message.find("producer.id.expiration.ms"), std::string::npos) << r.error().message;
  }
  // A broker key only: not a topic config.
  EXPECT_FALSE(make_log_config({}, Properties{{"producer.id.expiration.ms", "2000"}}));
}

}  // namespace
}  // namespace conveyor::storage
