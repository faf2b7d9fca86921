// Recovery: crash images of a log are damaged in seeded random ways and reopened. The reopened
// log must hold exactly the batches before the first damaged byte, serve no bad batch, have
// indexes that match a scan, and accept appends.
#include <gtest/gtest.h>

#include <random>

#include "conveyor/storage/log.h"
#include "segment.h"
#include "storage_test_util.h"

namespace conveyor::storage {
namespace {

using namespace testing;

void check_indexes(const std::string& dir) {
  for (const auto& e : list_dir(dir)) {
    if (!e.name.ends_with(".log")) continue;
    int64_t base = std::stoll(e.name);
    Bytes log_bytes = read_bytes(dir + "/" + e.name);
    Bytes index = read_bytes(dir + "/" + segment_file_name(base, ".index"));
    Bytes time_index = read_bytes(dir + "/" + segment_file_name(base, ".timeindex"));
    ASSERT_EQ(index.size() % 8, 0u);
    ASSERT_EQ(time_index.size() % 12, 0u);
    int64_t prev = -1;
    for (size_t i = 0; i < index.size(); i += 8) {
      int64_t rel = static_cast<int32_t>(get_be32(&index[i]));
      int64_t pos = static_cast<int32_t>(get_be32(&index[i + 4]));
      ASSERT_GT(pos, prev);
      ASSERT_LE(pos + 61, static_cast<int64_t>(log_bytes.size()));
      auto h = protocol::parse_batch_header(ByteView(log_bytes).subspan(static_cast<size_t>(pos)));
      ASSERT_TRUE(h);
      ASSERT_EQ(h->last_offset(), base + rel);
      prev = pos;
    }
    int64_t prev_ts = INT64_MIN;
    for (size_t i = 0; i < time_index.size(); i += 12) {
      int64_t ts = static_cast<int64_t>(get_be64(&time_index[i]));
      ASSERT_GT(ts, prev_ts);
      prev_ts = ts;
    }
  }
}

enum class Damage { truncate, flip_bit, zero_tail, garble_index, delete_index, garble_time_index, none };

TEST(Recovery, SeededDamageOfCrashImages) {
  TempDir dir;
  LogConfig config = small_config(3000, 200);
  std::string source = dir.sub("t-0");
  auto log = std::move(*PartitionLog::open(source, "t", 0, config));
  std::mt19937 gen(12345);
  for (int i = 0; i < 60; ++i) {
    int records = 1 + static_cast<int>(gen() % 4);
    auto spec = BatchSpec{.records = records, .timestamp_ms = 1000 + 10 * i, .value_bytes = gen() % 120};
    if (i % 3 == 0) spec.compression = protocol::Compression::lz4;
    ASSERT_TRUE(log->append(make_batch(spec), 3, 0));
  }
  ASSERT_GE(log->segment_count(), 4u);
  const std::vector<SegmentBatch> original = scan_segment_batches(source);
  std::vector<int64_t> segment_bases;
  for (const auto& b : original)
    if (segment_bases.empty() || segment_bases.back() != b.segment) segment_bases.push_back(b.segment);

  constexpr int kCases = 300;
  for (int c = 0; c < kCases; ++c) {
    std::mt19937_64 rng(1000 + c);
    SCOPED_TRACE("case " + std::to_string(c));
    std::string image = dir.sub("c-0");
    copy_dir(source, image);
    auto damage = static_cast<Damage>(rng() % 7);
    // Damage the active segment mostly, sometimes an older one (then the recovery point is
    // below it: data past the recovery point is never trusted).
    size_t seg_index = (rng() % 3 == 0) ? rng() % segment_bases.size() : segment_bases.size() - 1;
    int64_t seg = segment_bases[seg_index];
    std::string seg_path = image + "/" + segment_file_name(seg, ".log");
    Bytes data = read_bytes(seg_path);
    int64_t first_bad = INT64_MAX;  // first damaged byte of the segment
    switch (damage) {
      case Damage::truncate: {
        int64_t at = static_cast<int64_t>(rng() % (data.size() + 1));
        data.resize(static_cast<size_t>(at));
        first_bad = at;
        write_bytes(seg_path, data);
        break;
      }
      case Damage::flip_bit: {
        int64_t at;
        // Leader epoch bytes (12..15 of a batch) are outside the CRC, as in Kafka: skip them.
        while (true) {
          at = static_cast<int64_t>(rng() % data.size());
          bool in_epoch = false;
          for (const auto& b : original)
            if (b.segment == seg && at >= b.position + 12 && at < b.position + 16) in_epoch = true;
          if (!in_epoch) break;
        }
        data[static_cast<size_t>(at)] ^= static_cast<uint8_t>(1u << (rng() % 8));
        first_bad = at;
        write_bytes(seg_path, data);
        break;
      }
      case Damage::zero_tail: {
        int64_t at = static_cast<int64_t>(rng() % data.size());
        bool changed = false;
        for (size_t i = static_cast<size_t>(at); i < data.size(); ++i) {
          if (data[i] != 0 && !changed) {
            first_bad = static_cast<int64_t>(i);
            changed = true;
          }
          data[i] = 0;
        }
        // Extra zeros, as a preallocated file or a torn page would leave.
        data.resize(data.size() + rng() % 200, 0);
        if (!changed) first_bad = static_cast<int64_t>(read_bytes(seg_path).size());
        write_bytes(seg_path, data);
        break;
      }
      case Damage::garble_index:
      case Damage::garble_time_index: {
        std::string p = image + "/" + segment_file_name(seg, damage == Damage::garble_index ? ".index" : ".timeindex");
        Bytes junk(rng() % 100);
        for (auto& b : junk) b = static_cast<uint8_t>(rng());
        write_bytes(p, junk);
        break;
      }
      case Damage::delete_index:
        ASSERT_TRUE(io::remove_file(image + "/" + segment_file_name(seg, rng() % 2 ? ".index" : ".timeindex")));
        break;
      case Damage::none:
        break;
    }
    // Expected survivors: every batch before the damaged one.
    std::vector<const SegmentBatch*> expected;
    for (const auto& b : original) {
      if (b.segment > seg && first_bad != INT64_MAX) break;
      if (b.segment == seg && b.position + static_cast<int64_t>(b.bytes.size()) > first_bad) break;
      expected.push_back(&b);
    }
    bool clean = damage != Damage::truncate && damage != Damage::flip_bit && damage != Damage::zero_tail &&
                 rng() % 2 == 0;
    int64_t recovery_point = static_cast<int64_t>(rng() % (seg + 1));
    auto reopened = PartitionLog::open(image, "t", 0, config, LogOpenOptions{recovery_point, clean});
    ASSERT_TRUE(reopened) << reopened.error().to_string();
    auto& l = **reopened;
    int64_t want_end = expected.empty() ? 0 : expected.back()->header.last_offset() + 1;
    ASSERT_EQ(l.log_end_offset(), want_end) << "damage " << static_cast<int>(damage) << " at " << first_bad
                                            << " of segment " << seg;
    Bytes served = read_all(l, 0, 1000);
    Bytes want;
    for (auto* b : expected) want.insert(want.end(), b->bytes.begin(), b->bytes.end());
    ASSERT_EQ(served, want);
    for (const auto& s : split(served)) ASSERT_TRUE(protocol::batch_crc_valid(s.bytes));
    for (int64_t o = 0; o < want_end; o += 3) {
      auto r = l.read(o, 1, INT64_MAX);
      ASSERT_TRUE(r);
      auto hs = headers_of(r->records);
      ASSERT_EQ(hs.size(), 1u);
      ASSERT_LE(hs[0].base_offset, o);
      ASSERT_GE(hs[0].last_offset(), o);
    }
    check_indexes(image);
    auto more = l.append(make_batch({.records = 2}), 4, 0);
    ASSERT_TRUE(more);
    ASSERT_EQ(more->base_offset, want_end);
    ASSERT_EQ(headers_of(read_all(l, want_end)).size(), 1u);
  }
}

TEST(Recovery, CleanStartTrustsButChecksIndexes) {
  TempDir dir;
  LogConfig config = small_config(2000, 100);
  std::string path = dir.sub("t-0");
  {
    auto log = std::move(*PartitionLog::open(path, "t", 0, config));
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(log->append(make_batch({.records = 2, .timestamp_ms = 100 + i}), 0, 0));
    ASSERT_TRUE(log->close());
  }
  Bytes before = read_bytes(path + "/" + segment_file_name(0, ".index"));
  ASSERT_FALSE(before.empty());
  // Swap two entries: still the right size, but out of order → rebuilt.
  Bytes swapped = before;
  if (swapped.size() >= 16) std::swap_ranges(swapped.begin(), swapped.begin() + 8, swapped.begin() + 8);
  write_bytes(path + "/" + segment_file_name(0, ".index"), swapped);
  auto log = std::move(*PartitionLog::open(path, "t", 0, config, LogOpenOptions{100, true}));
  EXPECT_EQ(log->log_end_offset(), 100);
  EXPECT_EQ(read_bytes(path + "/" + segment_file_name(0, ".index")), before);
  check_indexes(path);
}

}  // namespace
}  // namespace conveyor::storage
