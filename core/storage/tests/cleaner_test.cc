// The log cleaner (compaction): rules, transactions, producer state, crash safety of the swap,
// the cleaner-offset-checkpoint, and a seeded reference model. Time is passed in explicitly.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <future>
#include <thread>
#include <map>
#include <random>
#include <set>

#include "conveyor/protocol/crc32c.h"
#include "conveyor/storage/cleaner.h"
#include "conveyor/storage/log.h"
#include "conveyor/storage/log_manager.h"
#include "segment.h"
#include "storage_test_util.h"

namespace conveyor::storage {
namespace {

using testing::list_dir;
using testing::read_all;
using testing::TempDir;

constexpr int64_t kT0 = 1'700'000'000'000;  // a plausible wall clock in ms

LogConfig compact_config(int64_t segment_bytes = 1024) {
  LogConfig c = testing::small_config(segment_bytes, 128);
  c.cleanup_policy = "compact";
  c.retention_ms = -1;
  c.delete_retention_ms = 1000;
  c.min_cleanable_dirty_ratio = 0.5;
  return c;
}

std::unique_ptr<PartitionLog> open_log(const std::string& dir, const LogConfig& config, LogOpenOptions options = {}) {
  auto log = PartitionLog::open(dir, "t", 0, config, options);
  EXPECT_TRUE(log) << log.error().to_string();
  return log ? std::move(*log) : nullptr;
}

ByteView bv(const std::string& s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
std::string str(const Bytes& b) { return std::string(b.begin(), b.end()); }

struct Rec {
  std::string key;
  std::optional<std::string> value;  // nullopt = tombstone
};

struct BatchOptions {
  protocol::Compression compression = protocol::Compression::none;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
};

Bytes build(const std::vector<Rec>& recs, int64_t ts, const BatchOptions& o = {}) {
  protocol::RecordBatchBuilder::Options options;
  options.compression = o.compression;
  options.producer_id = o.producer_id;
  options.producer_epoch = o.producer_epoch;
  options.base_sequence = o.base_sequence;
  options.transactional = o.transactional;
  protocol::RecordBatchBuilder b(options);
  for (const auto& r : recs)
    b.add(ts, bv(r.key), r.value ? std::optional<ByteView>(bv(*r.value)) : std::nullopt);
  auto built = b.build();
  EXPECT_TRUE(built) << built.error().to_string();
  return *built;
}

int64_t append(PartitionLog& log, const std::vector<Rec>& recs, int64_t ts, const BatchOptions& o = {}) {
  auto a = log.append(build(recs, ts, o), 0, ts);
  EXPECT_TRUE(a) << a.error().to_string();
  return a ? a->base_offset : -1;
}

struct ReadRecord {
  int64_t offset;
  std::string key;
  std::optional<std::string> value;
  int64_t timestamp;
};

std::vector<ReadRecord> read_records(const PartitionLog& log, std::vector<protocol::RecordBatchHeader>* headers = nullptr) {
  std::vector<ReadRecord> out;
  Bytes all = read_all(log, log.log_start_offset());
  for (const auto& span : testing::split(all)) {
    EXPECT_TRUE(protocol::batch_crc_valid(span.bytes));
    if (headers) headers->push_back(span.header);
    for (auto& r : testing::decode(span.bytes))
      out.push_back({r.offset, r.key ? str(*r.key) : std::string("<null>"),
                     r.value ? std::optional<std::string>(str(*r.value)) : std::nullopt, r.timestamp});
  }
  return out;
}

CleanResult clean(PartitionLog& log, int64_t first_dirty, int64_t now_ms, bool force = true,
                  int64_t dedupe_bytes = 1 << 20) {
  CleanOptions o;
  o.now_ms = now_ms;
  o.force = force;
  o.dedupe_buffer_bytes = dedupe_bytes;
  auto r = clean_log(log, first_dirty, o);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : CleanResult{};
}

int64_t active_base(const PartitionLog& log) {
  auto v = log.segments_view();
  EXPECT_TRUE(v);
  return v ? v->segments.back()->base_offset : -1;
}

// Fills closed segments with `rounds` values of each of `keys` keys, then rolls (a big batch
// of one new key goes to a fresh active segment).
void fill_rounds(PartitionLog& log, int keys, int rounds, int64_t ts, protocol::Compression codec = {}) {
  for (int r = 0; r < rounds; ++r)
    for (int k = 0; k < keys; ++k)
      append(log, {{"k" + std::to_string(k), "v" + std::to_string(r) + "-" + std::to_string(k)}}, ts,
             {.compression = codec});
}

TEST(Cleaner, KeepsTheLatestRecordPerKeyAtItsOriginalOffset) {
  TempDir dir;
  auto log = open_log(dir.sub("t-0"), compact_config());
  fill_rounds(*log, 5, 20, kT0);
  auto before = read_records(*log);
  std::map<int64_t, ReadRecord> by_offset;
  for (const auto& r : before) by_offset.emplace(r.offset, r);
  int64_t active = active_base(*log);
  ASSERT_GT(log->segment_count(), 3u);
  int64_t size_before = log->size_bytes();

  auto result = clean(*log, 0, kT0 + 10);
  EXPECT_TRUE(result.cleaned) << result.skipped;
  EXPECT_EQ(result.first_dirty_offset, active);
  EXPECT_GT(result.records_removed, 0);
  EXPECT_LT(log->size_bytes(), size_before);

  auto after = read_records(*log);
  std::map<std::string, int> below_active;
  int64_t previous = -1;
  for (const auto& r : after) {
    EXPECT_GT(r.offset, previous);
    previous = r.offset;
    ASSERT_TRUE(by_offset.count(r.offset));
    EXPECT_EQ(by_offset[r.offset].key, r.key) << r.offset;          // original offset kept
    EXPECT_EQ(by_offset[r.offset].value, r.value) << r.offset;
    EXPECT_EQ(by_offset[r.offset].timestamp, r.timestamp) << r.offset;
    if (r.offset < active) ++below_active[r.key];
  }
  for (const auto& [k, n] : below_active) EXPECT_EQ(n, 1) << k;
  // The latest value of every key is there.
  std::map<std::string, std::string> latest;
  for (const auto& r : before) latest[r.key] = *r.value;
  std::map<std::string, std::string> got;
  for (const auto& r : after) got[r.key] = *r.value;
  EXPECT_EQ(got, latest);
  // The log end and the active segment are untouched; appends go on.
  EXPECT_EQ(log->log_end_offset(), 100);
  EXPECT_EQ(append(*log, {{"k1", "new"}}, kT0), 100);
}

TEST(Cleaner, SkipsLogsBelowTheDirtyRatioAndNonCompactedLogs) {
  TempDir dir;
  LogConfig c = compact_config();
  c.min_cleanable_dirty_ratio = 1.0;  // only a wholly dirty log qualifies
  auto log = open_log(dir.sub("t-0"), c);
  fill_rounds(*log, 5, 20, kT0);
  auto first = clean(*log, 0, kT0, /*force=*/false);
  EXPECT_TRUE(first.cleaned) << first.skipped;  // ratio 1: everything dirty
  fill_rounds(*log, 5, 2, kT0);
  auto second = clean(*log, first.first_dirty_offset, kT0, /*force=*/false);
  EXPECT_FALSE(second.cleaned);
  EXPECT_NE(second.skipped.find("dirty ratio"), std::string::npos) << second.skipped;

  TempDir dir2;
  auto plain = open_log(dir2.sub("t-0"), testing::small_config(1024, 128));
  fill_rounds(*plain, 5, 20, kT0);
  auto r = clean(*plain, 0, kT0);
  EXPECT_FALSE(r.cleaned);
  EXPECT_EQ(plain->log_end_offset(), 100);
  EXPECT_EQ(read_records(*plain).size(), 100u);
}

TEST(Cleaner, MaxCompactionLagCleansBelowTheRatio) {
  TempDir dir;
  LogConfig c = compact_config();
  c.min_cleanable_dirty_ratio = 1.0;
  c.max_compaction_lag_ms = 60'000;
  auto log = open_log(dir.sub("t-0"), c);
  fill_rounds(*log, 5, 20, kT0);
  auto first = clean(*log, 0, kT0, true);
  fill_rounds(*log, 5, 10, kT0 + 1000);
  // Dirty part 1 s old: below the ratio, not yet past the lag.
  EXPECT_FALSE(clean(*log, first.first_dirty_offset, kT0 + 2000, false).cleaned);
  // 61 s later the lag forces a clean.
  auto late = clean(*log, first.first_dirty_offset, kT0 + 62'000, false);
  EXPECT_TRUE(late.cleaned) << late.skipped;
}

TEST(Cleaner, MaxCompactionLagRollsTheActiveSegment) {
  TempDir dir;
  LogConfig c = compact_config(1 << 20);
  c.max_compaction_lag_ms = 60'000;
  auto log = open_log(dir.sub("t-0"), c);
  append(*log, {{"a", "1"}}, kT0);
  append(*log, {{"a", "2"}}, kT0 + 30'000);
  EXPECT_EQ(log->segment_count(), 1u);
  append(*log, {{"a", "3"}}, kT0 + 61'000);  // more than the lag after the segment's first batch
  EXPECT_EQ(log->segment_count(), 2u);
  auto r = clean(*log, 0, kT0 + 62'000, false);
  EXPECT_TRUE(r.cleaned) << r.skipped;
  auto recs = read_records(*log);
  ASSERT_EQ(recs.size(), 2u);  // "a"=2 (latest of the closed segment) and "a"=3 (active)
  EXPECT_EQ(recs[0].offset, 1);
  // A delete-policy log ignores max.compaction.lag.ms for rolling.
  TempDir dir2;
  LogConfig d = c;
  d.cleanup_policy = "delete";
  auto plain = open_log(dir2.sub("t-0"), d);
  append(*plain, {{"a", "1"}}, kT0);
  append(*plain, {{"a", "3"}}, kT0 + 61'000);
  EXPECT_EQ(plain->segment_count(), 1u);
}

TEST(Cleaner, MinCompactionLagKeepsRecentSegmentsDirty) {
  TempDir dir;
  LogConfig c = compact_config();
  c.min_compaction_lag_ms = 60'000;
  auto log = open_log(dir.sub("t-0"), c);
  fill_rounds(*log, 5, 10, kT0);            // old
  fill_rounds(*log, 5, 10, kT0 + 100'000);  // recent
  auto r = clean(*log, 0, kT0 + 120'000);
  EXPECT_TRUE(r.cleaned) << r.skipped;
  // Every record of the recent part is still there: the cleanable end stopped before it.
  int recent = 0;
  for (const auto& rec : read_records(*log))
    if (rec.timestamp == kT0 + 100'000) ++recent;
  EXPECT_GE(recent, 40);  // its first segment may start a little before
  EXPECT_LE(r.first_dirty_offset, 60);
  // Much later everything closed is cleanable.
  auto later = clean(*log, r.first_dirty_offset, kT0 + 1'000'000);
  EXPECT_TRUE(later.cleaned) << later.skipped;
  EXPECT_EQ(later.first_dirty_offset, active_base(*log));
}

TEST(Cleaner, TombstonesStayForDeleteRetentionThenGo) {
  TempDir dir;
  LogConfig c = compact_config();
  c.delete_retention_ms = 10'000;
  auto log = open_log(dir.sub("t-0"), c);
  fill_rounds(*log, 4, 10, kT0);
  int64_t tomb = append(*log, {{"k2", std::nullopt}}, kT0);
  fill_rounds(*log, 1, 30, kT0);  // k0 only: rolls more segments after the tombstone
  ASSERT_LT(tomb, active_base(*log));

  auto first = clean(*log, 0, kT0 + 100);
  auto recs = read_records(*log);
  auto count_k2 = [&] {
    int n = 0;
    for (const auto& r : read_records(*log)) n += r.key == "k2";
    return n;
  };
  EXPECT_EQ(count_k2(), 1);  // only the tombstone
  bool found = false;
  for (const auto& r : recs)
    if (r.offset == tomb) found = !r.value.has_value();
  EXPECT_TRUE(found);
  // Within delete.retention.ms (counted from the pass that first saw it) it stays.
  clean(*log, first.first_dirty_offset, kT0 + 100 + 9'000);
  EXPECT_EQ(count_k2(), 1);
  auto gone = clean(*log, first.first_dirty_offset, kT0 + 100 + 10'001);
  EXPECT_EQ(gone.tombstones_removed, 1);
  EXPECT_EQ(count_k2(), 0);
}

TEST(Cleaner, EveryCodecIsReappliedAndBatchMetadataKept) {
  for (auto codec : {protocol::Compression::none, protocol::Compression::gzip, protocol::Compression::snappy,
                     protocol::Compression::lz4, protocol::Compression::zstd}) {
    TempDir dir;
    auto log = open_log(dir.sub("t-0"), compact_config(2048));
    for (int r = 0; r < 12; ++r)
      append(*log, {{"a", "a" + std::to_string(r)}, {"b", "b" + std::to_string(r)}, {"c" + std::to_string(r), "c"}},
             kT0 + r, {.compression = codec});
    std::vector<protocol::RecordBatchHeader> before;
    read_records(*log, &before);
    clean(*log, 0, kT0 + 100);
    std::vector<protocol::RecordBatchHeader> after;
    auto recs = read_records(*log, &after);
    ASSERT_FALSE(after.empty());
    int64_t active = active_base(*log);
    for (const auto& h : after) {
      auto it = std::find_if(before.begin(), before.end(),
                             [&](const protocol::RecordBatchHeader& b) { return b.base_offset == h.base_offset; });
      ASSERT_NE(it, before.end()) << "a cleaned batch keeps its original base offset";
      EXPECT_EQ(h.last_offset_delta, it->last_offset_delta);
      EXPECT_EQ(h.compression(), codec);
      EXPECT_EQ(h.partition_leader_epoch, it->partition_leader_epoch);
      if (h.last_offset() < active) EXPECT_LE(h.record_count, it->record_count);
    }
    // "a" and "b" once each below the active segment; every "cN" kept.
    std::map<std::string, int> below;
    for (const auto& r : recs)
      if (r.offset < active) ++below[r.key];
    EXPECT_EQ(below["a"], below.count("a") ? 1 : 0);
    int cs = 0;
    for (const auto& r : recs) cs += r.key[0] == 'c';
    EXPECT_EQ(cs, 12) << static_cast<int>(codec);
  }
}

TEST(Cleaner, CompactedTopicRefusesRecordsWithoutKey) {
  TempDir dir;
  auto log = open_log(dir.sub("t-0"), compact_config());
  protocol::RecordBatchBuilder b({});
  b.add(kT0, bv("k"), bv("v"));
  b.add(kT0, std::nullopt, bv("keyless"));
  auto batch = b.build();
  ASSERT_TRUE(batch);
  auto r = log->append(*batch, 0, kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_record);
  EXPECT_EQ(log->log_end_offset(), 0);
  // A delete-policy topic takes it.
  TempDir dir2;
  auto plain = open_log(dir2.sub("t-0"), testing::small_config());
  EXPECT_TRUE(plain->append(*batch, 0, kT0));
}

TEST(Cleaner, LastBatchOfAProducerSurvivesEmptySoItsSequenceContinues) {
  TempDir dir;
  LogConfig c = compact_config();
  std::string path = dir.sub("t-0");
  {
    auto log = open_log(path, c);
    // Producer 7 writes k0..k2 in batches of 3 (sequence 0..5), then plain writes supersede them all.
    append(*log, {{"k0", "p"}, {"k1", "p"}, {"k2", "p"}}, kT0, {.producer_id = 7, .producer_epoch = 0, .base_sequence = 0});
    append(*log, {{"k0", "q"}, {"k1", "q"}, {"k2", "q"}}, kT0, {.producer_id = 7, .producer_epoch = 0, .base_sequence = 3});
    fill_rounds(*log, 3, 15, kT0);
    auto r = clean(*log, 0, kT0 + 10);
    ASSERT_TRUE(r.cleaned);
    std::vector<protocol::RecordBatchHeader> hs;
    read_records(*log, &hs);
    // The first batch went, the second stays as an empty batch with its identity.
    ASSERT_FALSE(hs.empty());
    EXPECT_EQ(hs[0].base_offset, 3);
    EXPECT_EQ(hs[0].record_count, 0);
    EXPECT_EQ(hs[0].producer_id, 7);
    EXPECT_EQ(hs[0].base_sequence, 3);
    EXPECT_EQ(hs[0].last_offset_delta, 2);
    ASSERT_TRUE(log->close());
  }
  // Rebuilt from the log alone (no snapshot): the producer continues at sequence 6.
  for (const auto& e : list_dir(path))
    if (e.name.ends_with(".snapshot")) std::filesystem::remove(path + "/" + e.name);
  auto log = open_log(path, c);
  auto entry = log->producer_entry(7);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->last_batch()->last_sequence, 5);
  auto dup = log->append(build({{"k0", "q"}, {"k1", "q"}, {"k2", "q"}}, kT0, {.producer_id = 7, .producer_epoch = 0, .base_sequence = 3}), 0, kT0);
  ASSERT_TRUE(dup) << dup.error().to_string();
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->base_offset, 3);
  auto next = log->append(build({{"k9", "z"}}, kT0, {.producer_id = 7, .producer_epoch = 0, .base_sequence = 6}), 0, kT0);
  EXPECT_TRUE(next) << next.error().to_string();
}

// ---------------------------------------------------------------------------------------------
// Transactions: the log cannot get control batches through append() (clients may not send
// them, and conveyor has no transaction coordinator yet), so these tests write segments by hand.

Bytes control_batch(int64_t pid, int16_t epoch, bool commit, int64_t ts) {
  protocol::RecordBatchBuilder::Options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.transactional = true;
  protocol::RecordBatchBuilder b(o);
  uint8_t key[4] = {0, 0, 0, static_cast<uint8_t>(commit ? 1 : 0)};
  uint8_t value[6] = {0, 0, 0, 0, 0, 5};
  b.add(ts, ByteView(key, 4), ByteView(value, 6));
  auto built = b.build();
  EXPECT_TRUE(built);
  Bytes out = *built;
  out[protocol::kAttributesPos + 1] |= 0x20;  // control
  uint32_t crc = protocol::crc32c(out.data() + protocol::kAttributesPos, out.size() - protocol::kAttributesPos);
  for (int i = 0; i < 4; ++i) out[protocol::kCrcPos + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  return out;
}

// Writes batches (offsets assigned contiguously from 0) as segment 0 plus an empty active
// segment after them.
int64_t write_segment(const std::string& dir, std::vector<Bytes> batches) {
  std::filesystem::create_directories(dir);
  Bytes data;
  int64_t offset = 0;
  for (auto& b : batches) {
    protocol::set_base_offset(b, offset);
    auto h = protocol::parse_batch_header(b);
    offset = h->last_offset() + 1;
    data.insert(data.end(), b.begin(), b.end());
  }
  testing::write_bytes(dir + "/" + segment_file_name(0, ".log"), data);
  testing::write_bytes(dir + "/" + segment_file_name(offset, ".log"), Bytes{});
  return offset;
}

TEST(CleanerTransactions, AbortedRecordsGoCommittedStayMarkersStayUntilSafe) {
  TempDir dir;
  std::string path = dir.sub("t-0");
  BatchOptions txn{.producer_id = 5, .producer_epoch = 0, .base_sequence = 0, .transactional = true};
  BatchOptions txn2 = txn;
  txn2.base_sequence = 2;
  BatchOptions txn3 = txn;
  txn3.base_sequence = 4;
  int64_t end = write_segment(path, {
      build({{"a", "aborted-1"}, {"b", "aborted-1"}}, kT0, txn),  // 0-1 aborted
      control_batch(5, 0, false, kT0),                            // 2 abort marker
      build({{"a", "committed"}, {"c", "committed"}}, kT0, txn2), // 3-4 committed
      control_batch(5, 0, true, kT0),                             // 5 commit marker
      build({{"d", "plain"}}, kT0),                               // 6
      build({{"a", "open"}}, kT0, txn3),                          // 7 still open: stops the cleanable end
  });
  ASSERT_EQ(end, 8);
  LogConfig c = compact_config();
  c.delete_retention_ms = 1000;
  auto log = open_log(path, c);
  ASSERT_EQ(log->log_end_offset(), 8);

  // The open transaction at 7 is in the closed segment: the dirty part ends there.
  auto r1 = clean(*log, 0, kT0);
  EXPECT_EQ(r1.first_dirty_offset, 7);
  std::vector<protocol::RecordBatchHeader> hs;
  auto recs = read_records(*log, &hs);
  std::set<int64_t> offsets;
  for (const auto& r : recs) offsets.insert(r.offset);
  EXPECT_FALSE(offsets.count(0));  // aborted records removed
  EXPECT_FALSE(offsets.count(1));
  EXPECT_TRUE(offsets.count(2));   // abort marker kept (its transaction still had records)
  EXPECT_TRUE(offsets.count(3));   // committed
  EXPECT_TRUE(offsets.count(4));
  EXPECT_TRUE(offsets.count(5));   // commit marker (its transaction has records)
  EXPECT_TRUE(offsets.count(6));
  EXPECT_TRUE(offsets.count(7));   // the open transaction untouched
  for (const auto& h : hs)
    if (h.base_offset == 2 || h.base_offset == 5) EXPECT_TRUE(h.is_control());

  // Later passes: the abort marker's transaction has no record left → delete horizon, then gone.
  clean(*log, 0, kT0 + 10);
  clean(*log, 0, kT0 + 10 + 1001);
  offsets.clear();
  for (const auto& r : read_records(*log)) offsets.insert(r.offset);
  EXPECT_FALSE(offsets.count(2)) << "abort marker removed once safe";
  EXPECT_TRUE(offsets.count(5)) << "the commit marker of a transaction with records stays";
  EXPECT_TRUE(offsets.count(3));
  EXPECT_TRUE(offsets.count(7));
}

// ---------------------------------------------------------------------------------------------
// Crash safety of the swap

std::map<std::string, Bytes> dir_files(const std::string& dir) {
  std::map<std::string, Bytes> out;
  for (const auto& e : list_dir(dir))
    if (!e.is_directory) out[e.name] = testing::read_bytes(dir + "/" + e.name);
  return out;
}

void write_files(const std::string& dir, const std::map<std::string, Bytes>& files) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& [name, data] : files) testing::write_bytes(dir + "/" + name, data);
}

std::vector<std::pair<int64_t, std::string>> content(const PartitionLog& log) {
  std::vector<std::pair<int64_t, std::string>> out;
  for (const auto& r : read_records(log)) out.emplace_back(r.offset, r.key + "=" + r.value.value_or("<tomb>"));
  return out;
}

TEST(CleanerCrash, EveryPointOfTheSwapRecoversToOldOrNew) {
  TempDir dir;
  std::string path = dir.sub("t-0");
  LogConfig c = compact_config();
  {
    auto log = open_log(path, c);
    fill_rounds(*log, 4, 12, kT0);
    ASSERT_TRUE(log->close());
  }
  auto old_files = dir_files(path);
  std::vector<std::pair<int64_t, std::string>> old_content, new_content;
  {
    auto log = open_log(path, c, {.clean_shutdown = true});
    old_content = content(*log);
    clean(*log, 0, kT0 + 1);
    new_content = content(*log);
    ASSERT_TRUE(log->close());
  }
  ASSERT_NE(old_content, new_content);
  auto new_files = dir_files(path);
  // The segment that changed: pick the first .log whose bytes differ.
  std::string base;
  for (const auto& [name, data] : new_files)
    if (name.ends_with(".log") && old_files.count(name) && old_files[name] != data) {
      base = name.substr(0, name.size() - 4);
      break;
    }
  ASSERT_FALSE(base.empty());
  const std::vector<std::string> parts = {".index", ".timeindex", ".log"};
  // The log with only this segment swapped (what a crash after its commit must give).
  std::vector<std::pair<int64_t, std::string>> swapped_content;
  {
    auto files = old_files;
    for (const auto& p : parts) files[base + p] = new_files[base + p];
    write_files(dir.sub("swapped-0"), files);
    auto log = open_log(dir.sub("swapped-0"), c);
    swapped_content = content(*log);
    ASSERT_NE(swapped_content, old_content);
  }
  // The rename sequence of one swap: cleaned → swap (index, timeindex, log), swap → final (same
  // order). State k = the first k renames done; 0..6.
  for (int k = 0; k <= 6; ++k) {
    for (bool written : {false, true}) {
      if (!written && k > 0) continue;
      auto files = old_files;  // every other segment as before the pass
      for (size_t p = 0; p < parts.size(); ++p) {
        std::string name = base + parts[p];
        const Bytes& cleaned = new_files[name];
        int swap_step = static_cast<int>(p) + 1;   // 1..3
        int final_step = static_cast<int>(p) + 4;  // 4..6
        if (k >= final_step) {
          files[name] = cleaned;
        } else if (k >= swap_step) {
          files[name + ".swap"] = cleaned;
        } else if (written) {
          files[name + ".cleaned"] = cleaned;
        }
      }
      std::string image = dir.sub("image-0");
      write_files(image, files);
      for (bool clean_shutdown : {false, true}) {
        auto copy = dir.sub("copy-0");
        testing::copy_dir(image, copy);
        auto log = PartitionLog::open(copy, "t", 0, c, {.clean_shutdown = clean_shutdown});
        ASSERT_TRUE(log) << log.error().to_string();
        auto got = content(**log);
        bool committed = k >= 3;  // `<base>.log.swap` exists from step 3
        EXPECT_EQ(got, committed ? swapped_content : old_content) << "k=" << k << " written=" << written;
        for (const auto& e : list_dir(copy))
          EXPECT_FALSE(e.name.ends_with(".cleaned") || e.name.ends_with(".swap")) << e.name << " k=" << k;
        ASSERT_TRUE((*log)->close());
      }
    }
  }
}

TEST(CleanerCrash, MergedGroupEveryPointRecoversToOldOrNew) {
  TempDir dir;
  std::string path = dir.sub("t-0");
  LogConfig c = compact_config();
  {
    auto log = open_log(path, c);
    fill_rounds(*log, 4, 12, kT0);
    clean(*log, 0, kT0 + 1);  // segments shrink: the next pass merges them
    fill_rounds(*log, 4, 12, kT0);
    ASSERT_TRUE(log->close());
  }
  auto old_files = dir_files(path);
  std::vector<std::pair<int64_t, std::string>> old_content;
  {
    auto log = open_log(path, c, {.clean_shutdown = true});
    old_content = content(*log);
    auto r = clean(*log, 0, kT0 + 2);
    ASSERT_TRUE(r.cleaned);
    ASSERT_TRUE(log->close());
  }
  auto new_files = dir_files(path);
  std::vector<std::string> new_logs, old_logs;
  for (const auto& [n, d] : new_files)
    if (n.ends_with(".log")) new_logs.push_back(n.substr(0, 20));
  for (const auto& [n, d] : old_files)
    if (n.ends_with(".log")) old_logs.push_back(n.substr(0, 20));
  ASSERT_GE(new_logs.size(), 2u);
  // The first group swapped: the first segment, then the old segments that are gone.
  std::vector<std::string> members = {new_logs[0]};
  for (const auto& b : old_logs)
    if (b > new_logs[0]) {
      if (new_files.count(b + ".log")) break;
      members.push_back(b);
    }
  ASSERT_GE(members.size(), 2u) << "the pass merged nothing";
  const std::string base = new_logs[0];
  ASSERT_EQ(members[0], base);

  // The on-disk steps of replace_segments for this group.
  using Files = std::map<std::string, Bytes>;
  std::vector<std::function<void(Files&)>> steps;
  steps.push_back([&](Files& f) {
    for (const char* p : {".index", ".timeindex", ".log"}) f[base + p + std::string(".cleaned")] = new_files[base + p];
  });
  for (const char* p : {".index", ".timeindex", ".log"})
    steps.push_back([&, p](Files& f) {
      f[base + p + std::string(".swap")] = f[base + p + std::string(".cleaned")];
      f.erase(base + p + std::string(".cleaned"));
    });
  const size_t commit = steps.size();  // after the .log.swap rename
  for (size_t m = 1; m < members.size(); ++m)
    for (const char* p : {".log", ".index", ".timeindex"})
      steps.push_back([&, m, p](Files& f) {
        std::string name = members[m] + p;
        f[name + ".deleted"] = f[name];
        f.erase(name);
      });
  for (const char* p : {".index", ".timeindex", ".log"})
    steps.push_back([&, p](Files& f) {
      f[base + p] = f[base + p + std::string(".swap")];
      f.erase(base + p + std::string(".swap"));
    });
  // What the log holds once the group is swapped.
  std::vector<std::pair<int64_t, std::string>> swapped_content;
  {
    Files f = old_files;
    for (auto& step : steps) step(f);
    write_files(dir.sub("swapped-0"), f);
    auto log = open_log(dir.sub("swapped-0"), c);
    swapped_content = content(*log);
    ASSERT_NE(swapped_content, old_content);
  }
  for (size_t k = 0; k <= steps.size(); ++k) {
    Files f = old_files;
    for (size_t j = 0; j < k; ++j) steps[j](f);
    write_files(dir.sub("image-0"), f);
    for (bool clean_shutdown : {false, true}) {
      std::string copy = dir.sub("copy-0");
      testing::copy_dir(dir.sub("image-0"), copy);
      auto log = PartitionLog::open(copy, "t", 0, c, {.clean_shutdown = clean_shutdown});
      ASSERT_TRUE(log) << log.error().to_string();
      EXPECT_EQ(content(**log), k >= commit ? swapped_content : old_content) << "step " << k;
      for (const auto& e : list_dir(copy))
        EXPECT_FALSE(e.name.ends_with(".cleaned") || e.name.ends_with(".swap") || e.name.ends_with(".deleted"))
            << e.name << " step " << k;
      ASSERT_TRUE((*log)->close());
    }
  }
}

TEST(CleanerCrash, IndexesOfCleanedSegmentsMatchAFullScan) {
  TempDir dir;
  std::string path = dir.sub("t-0");
  LogConfig c = compact_config(4096);
  c.index_interval_bytes = 64;
  {
    auto log = open_log(path, c);
    std::mt19937 rng(3);
    for (int i = 0; i < 400; ++i)
      append(*log, {{"k" + std::to_string(rng() % 30), std::string(rng() % 40, 'v')}}, kT0 + i);
    clean(*log, 0, kT0 + 1000);
    ASSERT_TRUE(log->close());
  }
  auto cleaned = dir_files(path);
  // Rebuild every index from the batches: delete them and open without a clean shutdown.
  std::string copy = dir.sub("copy-0");
  testing::copy_dir(path, copy);
  for (const auto& e : list_dir(copy))
    if (e.name.ends_with("index") || e.name == ".kafka_cleanshutdown") std::filesystem::remove(copy + "/" + e.name);
  {
    auto log = open_log(copy, c);
    ASSERT_TRUE(log->close());
  }
  auto rebuilt = dir_files(copy);
  int compared = 0;
  for (const auto& [name, data] : cleaned)
    if (name.ends_with(".index")) {
      EXPECT_EQ(data, rebuilt[name]) << name;
      ++compared;
    } else if (name.ends_with(".timeindex")) {
      // The same entries, plus the final max-timestamp entry a closed segment gets when it is
      // sealed (a rescan does not add it).
      const Bytes& r = rebuilt[name];
      ASSERT_GE(data.size(), r.size()) << name;
      EXPECT_TRUE(std::equal(r.begin(), r.end(), data.begin())) << name;
      EXPECT_LE(data.size() - r.size(), 12u) << name;
      ++compared;
    }
  EXPECT_GT(compared, 4);
  // And every offset reads back from the cleaned log through its index.
  auto log = open_log(path, c, {.clean_shutdown = true});
  auto recs = read_records(*log);
  for (const auto& r : recs) {
    auto got = log->read(r.offset, 1, INT64_MAX);
    ASSERT_TRUE(got);
    auto hs = testing::headers_of(got->records);
    ASSERT_FALSE(hs.empty());
    EXPECT_LE(hs[0].base_offset, r.offset);
    EXPECT_GE(hs[0].last_offset(), r.offset);
  }
}

// ---------------------------------------------------------------------------------------------
// LogManager: checkpoint, forced pass, retention with compact

TEST(CleanerManager, CheckpointsTheFirstDirtyOffsetAndResumesFromIt) {
  TempDir dir;
  Properties broker{{"log.segment.bytes", "1024"}, {"log.index.interval.bytes", "128"}};
  int64_t dirty = 0;
  {
    auto m = LogManager::open({dir.path()}, broker);
    ASSERT_TRUE(m);
    auto log = (*m)->create_partition("c", 0, TopicId{}, Properties{{"cleanup.policy", "compact"}});
    ASSERT_TRUE(log);
    auto plain = (*m)->create_partition("p", 0, TopicId{}, Properties{});
    ASSERT_TRUE(plain);
    fill_rounds(**log, 5, 20, kT0);
    fill_rounds(**plain, 5, 20, kT0);
    auto n = (*m)->clean_now(kT0 + 1);
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(*n, 1);
    dirty = active_base(**log);
    EXPECT_EQ(read_records(**plain).size(), 100u);
    ASSERT_TRUE((*m)->close());
  }
  auto text = io::read_file(dir.path() + "/" + kCleanerOffsetCheckpoint, 1 << 20);
  ASSERT_TRUE(text);
  auto entries = parse_offset_checkpoint(*text);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].topic, "c");
  EXPECT_EQ((*entries)[0].offset, dirty);
  // After a restart nothing is dirty until new records arrive; a non-forced pass skips.
  auto m = LogManager::open({dir.path()}, broker);
  ASSERT_TRUE(m);
  auto n = (*m)->clean_now(kT0 + 2, /*force=*/false);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0);
}

TEST(CleanerManager, ATopicSwitchedFromCompactToDeleteKeepsItsGapsThroughAFullRescan) {
  TempDir dir;
  Properties broker{{"log.segment.bytes", "1024"}, {"log.index.interval.bytes", "128"}};
  size_t kept = 0;
  int64_t end = 0;
  {
    auto m = LogManager::open({dir.path()}, broker);
    ASSERT_TRUE(m);
    auto log = (*m)->create_partition("c", 0, TopicId{}, Properties{{"cleanup.policy", "compact"}});
    ASSERT_TRUE(log);
    fill_rounds(**log, 5, 20, kT0);
    auto n = (*m)->clean_now(kT0 + 1);
    ASSERT_TRUE(n) << n.error().to_string();
    ASSERT_EQ(*n, 1);
    ASSERT_TRUE((*m)->alter_topic_config("c", Properties{{"cleanup.policy", "delete"}}));
    kept = read_records(**log).size();
    end = (**log).log_end_offset();
    ASSERT_LT(kept, 100u);  // the cleaner left gaps
    ASSERT_TRUE((*m)->close());
  }
  // A crash image with no usable recovery point: every segment is rescanned.
  ASSERT_TRUE(io::remove_file(dir.path() + "/recovery-point-offset-checkpoint"));
  ASSERT_TRUE(io::remove_file(dir.path() + "/.kafka_cleanshutdown"));
  auto m = LogManager::open({dir.path()}, broker);
  ASSERT_TRUE(m) << m.error().to_string();
  auto log = (*m)->get("c", 0);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->config().cleanup_policy, "delete");
  EXPECT_EQ(read_records(*log).size(), kept) << "recovery truncated the log at a gap the cleaner left";
  EXPECT_EQ(log->log_end_offset(), end);
}

TEST(CleanerManager, RetentionDoesNotDeleteCompactOnlyLogsByTime) {
  TempDir dir;
  LogConfig c = compact_config();
  c.retention_ms = 1000;
  auto log = open_log(dir.sub("t-0"), c);
  fill_rounds(*log, 5, 20, kT0);
  auto r = log->apply_retention(kT0 + 1'000'000);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->deleted_base_offsets.empty());
  c.cleanup_policy = "compact,delete";
  log->update_config(c);
  r = log->apply_retention(kT0 + 1'000'000);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->deleted_base_offsets.empty());
}

TEST(CleanerManager, BackgroundThreadCleansAndStopsPromptly) {
  TempDir dir;
  Properties broker{{"log.segment.bytes", "1024"}, {"log.cleaner.backoff.ms", "20"},
                    {"log.cleaner.io.max.bytes.per.second", "100000000"}};
  auto m = LogManager::open({dir.path()}, broker);
  ASSERT_TRUE(m);
  auto log = (*m)->create_partition("c", 0, TopicId{}, Properties{{"cleanup.policy", "compact"}});
  ASSERT_TRUE(log);
  fill_rounds(**log, 3, 40, kT0);
  int64_t before = (*log)->size_bytes();
  ASSERT_TRUE((*m)->start_cleaner());
  for (int i = 0; i < 1000 && (*log)->size_bytes() >= before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_LT((*log)->size_bytes(), before);
  ASSERT_TRUE((*m)->close());
}

TEST(CleanerConfig, BrokerKeys) {
  auto d = make_cleaner_config({});
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->enable);
  EXPECT_EQ(d->threads, 1);
  EXPECT_EQ(d->backoff_ms, 15000);
  EXPECT_EQ(d->dedupe_buffer_size, 134217728);
  auto c = make_cleaner_config({{"log.cleaner.enable", "false"}, {"log.cleaner.threads", "2"},
                                {"log.cleaner.io.max.bytes.per.second", "1048576.5"}});
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_FALSE(c->enable);
  EXPECT_EQ(c->threads, 2);
  EXPECT_DOUBLE_EQ(c->io_max_bytes_per_second, 1048576.5);
  auto bad = make_cleaner_config({{"log.cleaner.io.max.bytes.per.second", "fast"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("log.cleaner.io.max.bytes.per.second"), std::string::npos);
  auto topic = make_log_config({{"log.cleaner.min.cleanable.ratio", "0.25"}, {"log.cleaner.delete.retention.ms", "5"}},
                               {{"min.compaction.lag.ms", "7"}, {"cleanup.policy", "compact,delete"}});
  ASSERT_TRUE(topic) << topic.error().to_string();
  EXPECT_DOUBLE_EQ(topic->min_cleanable_dirty_ratio, 0.25);
  EXPECT_EQ(topic->delete_retention_ms, 5);
  EXPECT_EQ(topic->min_compaction_lag_ms, 7);
  auto ratio = make_log_config({}, {{"min.cleanable.dirty.ratio", "1.5"}});
  ASSERT_FALSE(ratio);
  EXPECT_NE(ratio.error().message.find("min.cleanable.dirty.ratio"), std::string::npos);
}

TEST(CleanerThrottle, SleepsToKeepTheRateAndStopWakesSleepers) {
  Throttler throttler(1'000'000);  // 1 MB/s
  auto t0 = std::chrono::steady_clock::now();
  throttler.acquire(300'000);  // needs 0.3 s at that rate
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
  // A sleeper for 1000 s returns once stop() is called.
  auto sleeper = std::async(std::launch::async, [&] { throttler.acquire(1'000'000'000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  throttler.stop();
  EXPECT_EQ(sleeper.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  Throttler unlimited(std::numeric_limits<double>::max());
  unlimited.acquire(INT64_MAX / 2);  // returns at once
}

// ---------------------------------------------------------------------------------------------
// Reference model: random produce/delete sequences, passes and restarts; after every pass the
// log must equal the model.

struct Produced {
  std::string key;
  std::optional<std::string> value;
  int64_t time_ms;
};

void check_against_model(const PartitionLog& log, const std::map<int64_t, Produced>& produced, int64_t now_ms,
                         int64_t delete_retention_ms, bool after_full_clean, const std::string& where) {
  auto recs = read_records(log);
  int64_t previous = -1;
  std::map<std::string, int64_t> last_read;
  std::map<std::string, int> below_active;
  int64_t active = active_base(log);
  for (const auto& r : recs) {
    ASSERT_GT(r.offset, previous) << where;
    previous = r.offset;
    auto it = produced.find(r.offset);
    ASSERT_NE(it, produced.end()) << where << " offset " << r.offset << " key " << r.key << " value " << r.value.value_or("<tomb>") << " last produced " << produced.rbegin()->first;
    ASSERT_EQ(it->second.key, r.key) << where << " offset " << r.offset;
    ASSERT_EQ(it->second.value, r.value) << where << " offset " << r.offset;
    last_read[r.key] = r.offset;
    if (r.offset < active) ++below_active[r.key];
  }
  std::map<std::string, int64_t> latest;
  for (const auto& [offset, p] : produced) latest[p.key] = offset;
  for (const auto& [key, offset] : latest) {
    const Produced& p = produced.at(offset);
    auto got = last_read.find(key);
    if (p.value) {
      ASSERT_NE(got, last_read.end()) << where << " key " << key << " lost";
      ASSERT_EQ(got->second, offset) << where << " key " << key;
    } else if (got == last_read.end()) {
      // A removed tombstone: only after delete.retention.ms, and with every older value.
      ASSERT_GE(now_ms, p.time_ms + delete_retention_ms) << where << " tombstone of " << key << " removed early";
    } else {
      ASSERT_EQ(got->second, offset) << where << " key " << key << ": an older value came back";
      if (now_ms < p.time_ms + delete_retention_ms) ASSERT_TRUE(true);
    }
  }
  if (after_full_clean)
    for (const auto& [key, n] : below_active) ASSERT_EQ(n, 1) << where << " key " << key << " not compacted";
}

TEST(CleanerModel, RandomProduceDeleteCleanRestart) {
  const protocol::Compression codecs[] = {protocol::Compression::none, protocol::Compression::gzip,
                                          protocol::Compression::snappy, protocol::Compression::lz4,
                                          protocol::Compression::zstd};
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    TempDir dir;
    std::string path = dir.sub("t-0");
    LogConfig c = compact_config(256 + rng() % 2048);
    c.delete_retention_ms = 1 + rng() % 5000;
    int keys = 2 + static_cast<int>(rng() % 12);
    auto log = open_log(path, c);
    std::map<int64_t, Produced> produced;
    int64_t now = kT0;
    int64_t first_dirty = 0;
    int64_t pid = seed % 2 ? 1000 + seed : -1;
    int32_t sequence = 0;
    for (int step = 0; step < 80; ++step) {
      now += rng() % 500;
      int action = static_cast<int>(rng() % 10);
      if (action < 7) {
        std::vector<Rec> recs;
        int n = 1 + static_cast<int>(rng() % 8);
        for (int i = 0; i < n; ++i) {
          Rec r{"key" + std::to_string(rng() % keys), std::nullopt};
          if (rng() % 5 != 0) r.value = "v" + std::to_string(step) + "." + std::to_string(i) + std::string(rng() % 30, 'x');
          recs.push_back(r);
        }
        BatchOptions o{.compression = codecs[rng() % 5]};
        if (pid >= 0) {
          o.producer_id = pid;
          o.producer_epoch = 0;
          o.base_sequence = sequence;
          sequence += n;
        }
        int64_t base = append(*log, recs, now, o);
        ASSERT_GE(base, 0);
        for (int i = 0; i < n; ++i) produced[base + i] = {recs[i].key, recs[i].value, now};
      } else if (action < 9) {
        auto r = clean(*log, first_dirty, now, true, rng() % 3 == 0 ? 200 : 1 << 20);
        bool full = r.first_dirty_offset == active_base(*log);
        first_dirty = r.first_dirty_offset;
        check_against_model(*log, produced, now, c.delete_retention_ms, full, "after clean at step " + std::to_string(step));
      } else {
        bool graceful = rng() % 2;
        if (graceful) {
          ASSERT_TRUE(log->close());
          log.reset();
          log = open_log(path, c, {.clean_shutdown = true});
        } else {
          // A crash: the files as they are, no close, nothing trusted.
          std::string copy = dir.sub("crash-0");
          testing::copy_dir(path, copy);
          log.reset();
          std::filesystem::remove_all(path);
          std::filesystem::rename(copy, path);
          log = open_log(path, c);
        }
        ASSERT_TRUE(log);
        check_against_model(*log, produced, now, c.delete_retention_ms, false, "after restart at step " + std::to_string(step));
      }
    }
    // The producer's state survived every clean and restart: its next sequence is accepted.
    if (pid >= 0) {
      auto a = log->append(build({{"key0", "final"}}, now, {.producer_id = pid, .producer_epoch = 0, .base_sequence = sequence}), 0, now);
      ASSERT_TRUE(a) << a.error().to_string();
      produced[a->base_offset] = {"key0", "final", now};
    }
    auto r = clean(*log, first_dirty, now + 100'000);
    check_against_model(*log, produced, now + 100'000, c.delete_retention_ms, false, "final");
  }
}


}  // namespace
}  // namespace conveyor::storage
