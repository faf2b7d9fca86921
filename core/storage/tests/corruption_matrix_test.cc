// Corruption matrix (issue 5, "Recovery and disk faults"): seeded, generated crash images.
//
// Each case builds a partition log through a LogManager with random batches (1-5 records,
// 0-300 byte values, every codec, increasing timestamps), flushing at random points (some
// flush_all: fsync + recovery-point checkpoint; some PartitionLog::flush only) and sometimes
// moving the log start (DeleteRecords: log-start-offset-checkpoint). It then copies the files
// as a crash leaves them (no close, no clean-shutdown marker) and applies 1-2 mutations:
// truncate the active segment at a random byte, flip 1-3 bits in its last 64 KiB, zero or
// garble its tail (sometimes growing the file), delete or corrupt (garbage, short, one byte
// changed) a .index or .timeindex, leave a torn recovery-point-offset-checkpoint or
// log-start-offset-checkpoint. The image is reopened with a LogManager.
//
// What is guaranteed, and checked for every case (k = the first batch whose bytes changed):
//  1. The log opens.
//  2. Its log end offset is the end of batch k-1 (truncated at the last valid batch; the end of
//     the log when no batch changed) — or, only when batch k lies wholly below the checkpointed
//     recovery point (flushed bytes damaged in place), the start of a later damaged batch or
//     the old log end: recovery reads only the tail after the recovery point, so damage in
//     flushed data that it does not read is found by read() instead (guarantee 3).
//  3. Every batch read() returns is byte-identical to the batch appended at those offsets (so
//     its CRC is valid): a damaged batch is never served. Every batch before k is readable;
//     reading a damaged batch that was not truncated fails with corrupt_message.
//  4. Every record acknowledged before the last completed flush is readable, unless the
//     mutation changed bytes of a flushed batch (then 2 and 3 hold).
//  5. The indexes on disk match a scan (each offset index entry points at the batch with that
//     last offset, time index entries increasing and pointing at the batch holding the max
//     timestamp so far); read(o) finds the batch of every offset o and offset_for_timestamp
//     agrees with a brute-force search of the served batches.
//  6. The log start is the one checkpointed (or, with a torn log-start checkpoint, the first
//     segment's base offset); appends continue at the log end.
// Outside the CRC, as in Kafka: the base offset (bytes 0-7) and the partition leader epoch
// (12-15) of a batch. Bit flips skip them (a changed base offset is caught by the offset
// contiguity check in the rescanned tail only).
//
// CONVEYOR_CORRUPTION_SEED (default 20261204) and CONVEYOR_CORRUPTION_CASES (default 1000)
// override the run; case i uses seed SEED + i, printed on failure with the command to replay it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include <fmt/format.h>

#include "conveyor/storage/log_manager.h"
#include "segment.h"
#include "storage_test_util.h"

namespace conveyor::storage {
namespace {

using namespace testing;

constexpr const char* kTopic = "m";

// Index files against a scan of the segment files (guarantee 5). The batches are the ones
// appended (a batch damaged in place below the recovery point is still in the file, garbled,
// and indexed as it was written) up to the log end `leo`.
void check_index_files(const std::string& dir, const std::vector<SegmentBatch>& original, int64_t leo) {
  for (const auto& e : list_dir(dir)) {
    if (!e.name.ends_with(".log")) continue;
    int64_t base = std::stoll(e.name);
    std::vector<std::pair<int64_t, protocol::RecordBatchHeader>> batches;  // position, header
    int64_t pos = 0;
    for (const auto& b : original)
      if (b.segment == base && b.header.last_offset() < leo) {
        batches.emplace_back(b.position, b.header);
        pos = b.position + static_cast<int64_t>(b.bytes.size());
      }
    ASSERT_EQ(pos, *io::file_size(dir + "/" + e.name)) << e.name << " holds a partial batch";
    Bytes index = read_bytes(dir + "/" + segment_file_name(base, ".index"));
    Bytes time_index = read_bytes(dir + "/" + segment_file_name(base, ".timeindex"));
    ASSERT_EQ(index.size() % 8, 0u);
    ASSERT_EQ(time_index.size() % 12, 0u);
    int64_t prev = -1;
    for (size_t i = 0; i < index.size(); i += 8) {
      int64_t rel = static_cast<int32_t>(get_be32(&index[i]));
      int64_t at = static_cast<int32_t>(get_be32(&index[i + 4]));
      ASSERT_GT(at, prev);
      auto it = std::find_if(batches.begin(), batches.end(), [&](const auto& b) { return b.first == at; });
      ASSERT_NE(it, batches.end()) << e.name << ": index entry at " << at << " is not a batch start";
      ASSERT_EQ(it->second.last_offset(), base + rel);
      prev = at;
    }
    int64_t prev_ts = INT64_MIN;
    for (size_t i = 0; i < time_index.size(); i += 12) {
      int64_t ts = static_cast<int64_t>(get_be64(&time_index[i]));
      int64_t off = base + static_cast<int32_t>(get_be32(&time_index[i + 8]));
      ASSERT_GT(ts, prev_ts);
      prev_ts = ts;
      int64_t running = -1;
      bool found = false;
      for (const auto& [p, h] : batches) {
        running = std::max(running, h.max_timestamp);
        if (h.base_offset <= off && off <= h.last_offset()) {
          ASSERT_EQ(h.max_timestamp, ts) << e.name << ": time index entry " << i / 12;
          ASSERT_EQ(running, ts);
          found = true;
          break;
        }
      }
      ASSERT_TRUE(found) << e.name << ": time index offset " << off << " is not in the segment";
    }
  }
}

enum class Mutation {
  truncate_active,
  flip_bits_tail,
  zero_tail,
  garble_tail,
  delete_index,
  corrupt_index,
  torn_recovery_checkpoint,
  torn_log_start_checkpoint,
  none,
  count
};

const char* name_of(Mutation m) {
  static const char* names[] = {"truncate_active", "flip_bits_tail", "zero_tail", "garble_tail",
                                "delete_index", "corrupt_index", "torn_recovery_checkpoint",
                                "torn_log_start_checkpoint", "none"};
  return names[static_cast<int>(m)];
}

TopicId topic_id() {
  TopicId id{};
  id[0] = 7;
  return id;
}

// One generated case. Fatal failures end it; the caller stops at the first failing case.
void run_case(uint64_t seed, const std::string& root) {
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  std::string source = root + "/src";
  std::string image = root + "/img";
  std::filesystem::remove_all(source);
  std::filesystem::remove_all(image);

  Properties broker{{"log.segment.bytes", std::to_string(2000 + pick(6000))},
                    {"log.index.interval.bytes", std::to_string(pick(600))}};
  int64_t flushed_end = 0;       // LEO at the last completed flush (either kind)
  int64_t checkpointed_rp = 0;   // LEO at the last flush_all (in the recovery checkpoint)
  int64_t log_start = 0;
  int64_t log_end = 0;
  bool start_checkpointed = false;
  {
    auto m = LogManager::open({source}, broker);
    ASSERT_TRUE(m) << m.error().to_string();
    auto log = (*m)->create_partition(kTopic, 0, topic_id());
    ASSERT_TRUE(log) << log.error().to_string();
    int batches = 15 + static_cast<int>(pick(45));
    int64_t ts = 1000;
    for (int i = 0; i < batches; ++i) {
      BatchSpec spec{.records = 1 + static_cast<int>(pick(5)), .timestamp_ms = ts, .value_bytes = pick(300)};
      spec.compression = static_cast<protocol::Compression>(pick(5));
      spec.fill = static_cast<uint8_t>('a' + pick(26));
      ts += spec.records + static_cast<int64_t>(pick(20));
      auto appended = (*log)->append(make_batch(spec), 0, 0);
      ASSERT_TRUE(appended) << appended.error().to_string();
      int64_t r = static_cast<int64_t>(pick(100));
      if (r < 10) {
        ASSERT_TRUE((*m)->flush_all());
        flushed_end = checkpointed_rp = (*log)->log_end_offset();
      } else if (r < 15) {
        ASSERT_TRUE((*log)->flush());
        flushed_end = (*log)->log_end_offset();
      } else if (r < 17) {
        int64_t to = static_cast<int64_t>(pick(static_cast<uint64_t>((*log)->high_watermark() + 1)));
        auto low = (*m)->delete_records(kTopic, 0, to);
        ASSERT_TRUE(low) << low.error().to_string();
        start_checkpointed = *low > 0;
      }
    }
    log_start = (*log)->log_start_offset();
    log_end = (*log)->log_end_offset();
    // The crash: the files as they are now.
    copy_dir(source, image);
    // (The manager is closed cleanly at scope exit, on `source`, which is not used again.)
  }
  std::string part = image + "/" + partition_dir_name(kTopic, 0);
  const std::vector<SegmentBatch> original = scan_segment_batches(part);
  ASSERT_FALSE(original.empty());
  std::vector<int64_t> bases;
  for (const auto& e : list_dir(part))
    if (e.name.ends_with(".log")) bases.push_back(std::stoll(e.name));
  std::sort(bases.begin(), bases.end());
  int64_t active = bases.back();
  std::string active_path = part + "/" + segment_file_name(active, ".log");
  const Bytes active_before = read_bytes(active_path);
  bool recovery_checkpoint_torn = false;
  bool start_checkpoint_torn = false;

  std::vector<Mutation> mutations{static_cast<Mutation>(pick(static_cast<uint64_t>(Mutation::count)))};
  if (pick(3) == 0) mutations.push_back(static_cast<Mutation>(pick(static_cast<uint64_t>(Mutation::count))));
  std::string description;
  for (Mutation mutation : mutations) {
    Bytes data = read_bytes(active_path);
    int64_t tail_from = std::max<int64_t>(0, static_cast<int64_t>(data.size()) - 64 * 1024);
    auto tail_pos = [&] {
      return data.empty() ? 0 : tail_from + static_cast<int64_t>(pick(static_cast<uint64_t>(data.size() - tail_from)));
    };
    description += std::string(description.empty() ? "" : " + ") + name_of(mutation);
    switch (mutation) {
      case Mutation::truncate_active:
        data.resize(pick(data.size() + 1));
        write_bytes(active_path, data);
        std::filesystem::resize_file(active_path, data.size());
        break;
      case Mutation::flip_bits_tail: {
        if (data.empty()) break;
        int flips = 1 + static_cast<int>(pick(3));
        for (int f = 0; f < flips; ++f) {
          int64_t at = 0;
          for (int tries = 0; tries < 100; ++tries) {
            at = tail_pos();
            bool outside_crc = false;
            for (const auto& b : original)
              if (b.segment == active && at >= b.position &&
                  (at < b.position + 8 || (at >= b.position + 12 && at < b.position + 16)))
                outside_crc = true;
            if (!outside_crc) break;
          }
          data[static_cast<size_t>(at)] ^= static_cast<uint8_t>(1u << pick(8));
          description += fmt::format("@{}", at);
        }
        write_bytes(active_path, data);
        break;
      }
      case Mutation::zero_tail:
      case Mutation::garble_tail: {
        int64_t at = tail_pos();
        for (size_t i = static_cast<size_t>(at); i < data.size(); ++i)
          data[i] = mutation == Mutation::zero_tail ? 0 : static_cast<uint8_t>(rng());
        size_t extra = pick(2) ? pick(300) : 0;  // a preallocated or torn page's leftovers
        for (size_t i = 0; i < extra; ++i) data.push_back(mutation == Mutation::zero_tail ? 0 : static_cast<uint8_t>(rng()));
        description += fmt::format("@{}+{}", at, extra);
        write_bytes(active_path, data);
        break;
      }
      case Mutation::delete_index: {
        int64_t seg = pick(2) ? active : bases[pick(bases.size())];
        ASSERT_TRUE(io::remove_file(part + "/" + segment_file_name(seg, pick(2) ? ".index" : ".timeindex")));
        break;
      }
      case Mutation::corrupt_index: {
        int64_t seg = pick(2) ? active : bases[pick(bases.size())];
        std::string p = part + "/" + segment_file_name(seg, pick(2) ? ".index" : ".timeindex");
        Bytes idx = io::path_exists(p) ? read_bytes(p) : Bytes{};
        switch (pick(3)) {
          case 0:
            idx.resize(pick(100));
            for (auto& b : idx) b = static_cast<uint8_t>(rng());
            break;
          case 1:
            idx.resize(pick(idx.size() + 1));
            break;
          default:
            if (!idx.empty()) idx[pick(idx.size())] ^= static_cast<uint8_t>(1 + pick(255));
        }
        write_bytes(p, idx);
        std::filesystem::resize_file(p, idx.size());
        break;
      }
      case Mutation::torn_recovery_checkpoint:
      case Mutation::torn_log_start_checkpoint: {
        bool rp = mutation == Mutation::torn_recovery_checkpoint;
        std::string p = image + "/" + (rp ? "recovery-point-offset-checkpoint" : "log-start-offset-checkpoint");
        std::string text = io::path_exists(p) ? *io::read_file(p, 1 << 20) : "0\n1\nm 0 5\n";
        if (pick(4) == 0) {
          for (auto& c : text) c = static_cast<char>(rng());  // garbage
        } else {
          text.resize(pick(text.size()));  // half-written: a proper prefix
        }
        ASSERT_TRUE(io::write_file_atomic(p, text));
        (rp ? recovery_checkpoint_torn : start_checkpoint_torn) = true;
        break;
      }
      case Mutation::none:
      case Mutation::count:
        break;
    }
  }
  SCOPED_TRACE(fmt::format("mutations: {}; {} batches, {} segments, log end {}, flushed {}, checkpointed {}",
                           description, original.size(), bases.size(), log_end, flushed_end, checkpointed_rp));

  // The first changed byte of the active segment and the first batch it damages.
  const Bytes active_after = read_bytes(active_path);
  int64_t first_changed = static_cast<int64_t>(std::min(active_before.size(), active_after.size()));
  for (size_t i = 0; i < std::min(active_before.size(), active_after.size()); ++i)
    if (active_before[i] != active_after[i]) {
      first_changed = static_cast<int64_t>(i);
      break;
    }
  (void)first_changed;
  // Damaged batches: any byte of theirs changed or cut off.
  std::vector<bool> damaged(original.size(), false);
  for (size_t i = 0; i < original.size(); ++i) {
    const auto& b = original[i];
    if (b.segment != active) continue;
    size_t from = static_cast<size_t>(b.position), to = from + b.bytes.size();
    damaged[i] = to > active_after.size() ||
                 !std::equal(active_after.begin() + static_cast<std::ptrdiff_t>(from),
                             active_after.begin() + static_cast<std::ptrdiff_t>(to), b.bytes.begin());
  }
  int64_t rp = recovery_checkpoint_torn ? 0 : checkpointed_rp;
  size_t k = original.size();   // the first damaged batch
  size_t k2 = original.size();  // the first damaged batch not wholly below the recovery point
  for (size_t i = 0; i < original.size(); ++i) {
    if (!damaged[i]) continue;
    if (k == original.size()) k = i;
    if (original[i].header.last_offset() >= rp) {
      k2 = i;
      break;
    }
  }
  auto end_before = [&](size_t i) { return i == 0 ? 0 : original[i - 1].header.last_offset() + 1; };
  int64_t end_before_k = end_before(k);
  bool k_below_rp = k < original.size() && original[k].header.last_offset() < rp;

  // Reopen as a broker would.
  auto m = LogManager::open({image}, broker);
  ASSERT_TRUE(m) << m.error().to_string();                                        // 1
  auto log = (*m)->get(kTopic, 0);
  ASSERT_NE(log, nullptr);
  int64_t leo = log->log_end_offset();
  if (k == original.size()) {
    ASSERT_EQ(leo, log_end);                                                       // 2
  } else if (k_below_rp) {
    // Truncated at the start of a damaged batch (the first one recovery rescanned), or not at all.
    bool at_damaged = leo == log_end;
    for (size_t i = k; i < original.size(); ++i)
      if (damaged[i] && leo == end_before(i)) at_damaged = true;
    ASSERT_TRUE(at_damaged) << "leo " << leo << ", first damaged batches " << k << ", " << k2;
  } else {
    ASSERT_EQ(leo, end_before_k) << "batch " << k << " at " << original[k].position;
  }
  bool k_kept = k < original.size() && leo > original[k].header.base_offset;

  // 6: the log start.
  int64_t start = log->log_start_offset();
  if (start_checkpoint_torn && start != std::min(log_start, leo))
    ASSERT_EQ(start, bases.front());
  else
    ASSERT_EQ(start, std::min(log_start, leo));
  (void)start_checkpointed;

  // 3 and 4: read everything from the start, batch by batch.
  std::map<int64_t, const SegmentBatch*> by_base;
  for (const auto& b : original) by_base[b.header.base_offset] = &b;
  int64_t offset = start;
  while (offset < leo) {
    auto r = log->read(offset, static_cast<int32_t>(1 + pick(3000)), INT64_MAX);
    const SegmentBatch* expect = nullptr;
    for (const auto& b : original)
      if (b.header.base_offset <= offset && offset <= b.header.last_offset()) expect = &b;
    ASSERT_NE(expect, nullptr) << "offset " << offset;
    bool is_damaged = damaged[static_cast<size_t>(expect - original.data())];
    if (!r) {
      ASSERT_EQ(r.error().code, ErrorCode::corrupt_message) << r.error().to_string();
      // Only a kept damaged batch, or a batch after it reached by walking through it, fails.
      ASSERT_TRUE(k_kept && expect->header.base_offset >= original[k].header.base_offset)
          << "offset " << offset << " unreadable: " << r.error().message;
      offset = expect->header.last_offset() + 1;
      continue;
    }
    ASSERT_FALSE(r->records.empty()) << "offset " << offset;
    // A batch that does not hold `offset` is served only when the one holding it is damaged
    // (its header no longer says which offsets it holds): it is skipped, never served.
    if (headers_of(r->records).front().base_offset > offset)
      ASSERT_TRUE(is_damaged) << "offset " << offset << " skipped";
    for (const auto& s : split(r->records)) {
      auto it = by_base.find(s.header.base_offset);
      ASSERT_NE(it, by_base.end()) << "served a batch at " << s.header.base_offset << " that was never appended";
      ASSERT_TRUE(std::equal(s.bytes.begin(), s.bytes.end(), it->second->bytes.begin(), it->second->bytes.end()))
          << "served batch at " << s.header.base_offset << " differs from the one appended";
      ASSERT_FALSE(damaged[static_cast<size_t>(it->second - original.data())]);
      ASSERT_LT(s.header.last_offset(), leo);
      offset = s.header.last_offset() + 1;
    }
  }
  // 3: every batch before k is readable; 4: flushed records survive unless flushed bytes changed.
  int64_t readable_end = k_kept ? original[k].header.base_offset : leo;
  ASSERT_GE(readable_end, std::min(end_before_k, leo));
  if (k == original.size() || original[k].header.base_offset >= flushed_end)
    ASSERT_GE(leo, flushed_end) << "records acknowledged before the last flush were lost";
  for (int64_t o = start; o < readable_end; o += 1 + static_cast<int64_t>(pick(4))) {
    auto r = log->read(o, 1, INT64_MAX);
    ASSERT_TRUE(r) << "offset " << o << ": " << r.error().to_string();
    auto hs = headers_of(r->records);
    ASSERT_EQ(hs.size(), 1u);
    ASSERT_LE(hs[0].base_offset, o);
    ASSERT_GE(hs[0].last_offset(), o);
  }
  // 5: timestamp lookups against a brute-force search of the readable batches.
  if (!k_kept) {
    for (int t = 0; t < 4; ++t) {
      int64_t target = 900 + static_cast<int64_t>(pick(static_cast<uint64_t>(original.back().header.max_timestamp - 800)));
      std::optional<int64_t> want;
      for (const auto& b : original) {
        if (b.header.last_offset() < start || b.header.base_offset >= leo) continue;
        for (const auto& rec : decode(b.bytes))
          if (!want && rec.offset >= start && rec.timestamp >= target) want = rec.offset;
        if (want) break;
      }
      auto got = log->offset_for_timestamp(target);
      ASSERT_TRUE(got) << got.error().to_string();
      ASSERT_EQ(got->has_value(), want.has_value()) << "timestamp " << target;
      if (want) ASSERT_EQ((*got)->offset, *want) << "timestamp " << target;
    }
  }
  check_index_files(part, original, leo);
  // 6: appends continue at the log end.
  auto more = log->append(make_batch({.records = 2}), 0, 0);
  ASSERT_TRUE(more) << more.error().to_string();
  ASSERT_EQ(more->base_offset, leo);
  ASSERT_TRUE((*m)->close());
}

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoll(v, nullptr, 10) : fallback;
}

TEST(CorruptionMatrix, GeneratedCrashImages) {
  const uint64_t seed = static_cast<uint64_t>(env_int("CONVEYOR_CORRUPTION_SEED", 20261204));
  const int64_t cases = env_int("CONVEYOR_CORRUPTION_CASES", 1000);
  TempDir dir;
  for (int64_t c = 0; c < cases; ++c) {
    uint64_t case_seed = seed + static_cast<uint64_t>(c);
    SCOPED_TRACE(fmt::format("corruption case {} of {}, seed {} (replay: CONVEYOR_CORRUPTION_SEED={} "
                             "CONVEYOR_CORRUPTION_CASES=1 conveyor_storage_tests "
                             "--gtest_filter=CorruptionMatrix.*)",
                             c, cases, case_seed, case_seed));
    run_case(case_seed, dir.path());
    if (HasFailure()) {
      std::printf("corruption matrix: case %lld failed, seed %llu\n", static_cast<long long>(c),
                  static_cast<unsigned long long>(case_seed));
      break;
    }
  }
}

}  // namespace
}  // namespace conveyor::storage
