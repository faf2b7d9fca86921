#include "conveyor/storage/cleaner.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <unordered_map>

#include "conveyor/base/log.h"
#include "conveyor/base/thread_name.h"
#include "conveyor/io/file.h"
#include "conveyor/protocol/codec.h"
#include "conveyor/protocol/crc32c.h"
#include "conveyor/protocol/record_batch.h"
#include "conveyor/storage/log_manager.h"
#include "segment.h"

namespace conveyor::storage {
namespace {

constexpr const char* kComponent = "cleaner";
constexpr int16_t kDeleteHorizonBit = 0x40;       // attributes bit 6 (KIP-534)
constexpr int16_t kCodecMask = 0x7;
constexpr size_t kScanChunkBytes = 64 * 1024;     // BatchReader buffer of the map and clean scans
constexpr size_t kHeaderScanChunkBytes = 4 * 1024;  // header-only scan (transactions, producers)
constexpr size_t kOutputFlushBytes = 1 << 20;     // cleaned bytes buffered before a write
constexpr int64_t kMapEntryOverheadBytes = 40;    // per key→offset entry, beside the key bytes
constexpr int64_t kMaxCheckpointBytes = 64 * 1024 * 1024;

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool stopping(const CleanOptions& o) { return o.stop && o.stop->load(std::memory_order_relaxed); }

void store_be(uint8_t* p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

// One retained record, re-encoded relative to the new base timestamp.
struct KeptRecord {
  int8_t attributes = 0;
  int64_t timestamp = 0;
  int32_t offset_delta = 0;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  int32_t header_count = 0;
  Bytes headers;
};

void encode_record(Bytes& out, const KeptRecord& r, int64_t base_timestamp) {
  Bytes body;
  protocol::Writer w(body);
  w.int8(r.attributes);
  w.varlong(static_cast<int64_t>(static_cast<uint64_t>(r.timestamp) - static_cast<uint64_t>(base_timestamp)));
  w.varint(r.offset_delta);
  for (const auto* f : {&r.key, &r.value}) {
    if (!*f) {
      w.varint(-1);
    } else {
      w.varint(static_cast<int32_t>((*f)->size()));
      w.raw(**f);
    }
  }
  w.varint(r.header_count);
  w.raw(r.headers);
  protocol::Writer o(out);
  o.varint(static_cast<int32_t>(body.size()));
  o.raw(body);
}

// Writes the 61-byte header into `batch` (already sized) and the CRC.
void write_header(Bytes& batch, const protocol::RecordBatchHeader& h) {
  uint8_t* p = batch.data();
  store_be(p + protocol::kBaseOffsetPos, static_cast<uint64_t>(h.base_offset), 8);
  store_be(p + protocol::kBatchLengthPos, batch.size() - protocol::kBatchOffsetsSize, 4);
  store_be(p + protocol::kPartitionLeaderEpochPos, static_cast<uint32_t>(h.partition_leader_epoch), 4);
  p[protocol::kMagicPos] = 2;
  store_be(p + protocol::kAttributesPos, static_cast<uint16_t>(h.attributes), 2);
  store_be(p + protocol::kLastOffsetDeltaPos, static_cast<uint32_t>(h.last_offset_delta), 4);
  store_be(p + protocol::kBaseTimestampPos, static_cast<uint64_t>(h.base_timestamp), 8);
  store_be(p + protocol::kMaxTimestampPos, static_cast<uint64_t>(h.max_timestamp), 8);
  store_be(p + protocol::kProducerIdPos, static_cast<uint64_t>(h.producer_id), 8);
  store_be(p + protocol::kProducerEpochPos, static_cast<uint16_t>(h.producer_epoch), 2);
  store_be(p + protocol::kBaseSequencePos, static_cast<uint32_t>(h.base_sequence), 4);
  store_be(p + protocol::kRecordCountPos, static_cast<uint32_t>(h.record_count), 4);
  uint32_t crc = protocol::crc32c(p + protocol::kAttributesPos, batch.size() - protocol::kAttributesPos);
  store_be(p + protocol::kCrcPos, crc, 4);
}

// A batch rebuilt from `kept` with the original header's identity (base offset, last offset
// delta, producer fields, leader epoch, timestamp type, transactional/control bits, codec).
Result<Bytes> rebuild_batch(const protocol::RecordBatchHeader& original, const std::vector<KeptRecord>& kept,
                            bool set_horizon, int64_t horizon_ms) {
  protocol::RecordBatchHeader h = original;
  bool append_time = original.timestamp_type() == protocol::TimestampType::log_append_time;
  if (set_horizon) {
    h.attributes = static_cast<int16_t>(h.attributes | kDeleteHorizonBit);
    h.base_timestamp = horizon_ms;  // KIP-534: the base timestamp holds the delete horizon
  } else if (!(original.attributes & kDeleteHorizonBit)) {
    h.base_timestamp = kept.empty() ? original.max_timestamp : kept.front().timestamp;
  }
  if (kept.empty()) {
    // Kafka's empty batch: header only, no codec, both timestamps the original max timestamp.
    h.attributes = static_cast<int16_t>(original.attributes & ~(kCodecMask | kDeleteHorizonBit));
    h.base_timestamp = original.max_timestamp;
    h.max_timestamp = original.max_timestamp;
    h.record_count = 0;
    Bytes out(protocol::kBatchHeaderSize);
    write_header(out, h);
    return out;
  }
  if (!append_time) {
    h.max_timestamp = kept.front().timestamp;
    for (const auto& r : kept) h.max_timestamp = std::max(h.max_timestamp, r.timestamp);
  }
  h.record_count = static_cast<int32_t>(kept.size());
  Bytes records;
  for (const auto& r : kept) encode_record(records, r, h.base_timestamp);
  Bytes out(protocol::kBatchHeaderSize);
  if (original.compression() == protocol::Compression::none) {
    out.insert(out.end(), records.begin(), records.end());
  } else {
    auto compressed = protocol::compress(original.compression(), records);
    if (!compressed) return fail(compressed.error());
    out.insert(out.end(), compressed->begin(), compressed->end());
  }
  write_header(out, h);
  return out;
}

// The cleaner's key → latest offset map; looked up by string_view (no copy per record).
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using OffsetMap = std::unordered_map<std::string, int64_t, KeyHash, std::equal_to<>>;

// A transaction of one producer: data batches from `first_offset` closed by the control batch
// at `marker_offset`.
struct Txn {
  int64_t first_offset = -1;
  int64_t marker_offset = -1;
  bool aborted = false;
  bool has_records = false;  // some data batch of it still holds records
};

struct LogScan {
  std::unordered_map<int64_t, int64_t> producer_last_offset;         // pid → last offset of its last batch
  std::unordered_map<int64_t, std::vector<Txn>> txns;                // pid → closed transactions, ascending
  std::unordered_map<int64_t, const Txn*> txn_by_marker;             // marker offset → its transaction
  int64_t first_unstable_offset = INT64_MAX;                         // first offset of an open transaction
  int64_t earliest_delete_horizon_ms = INT64_MAX;                    // of the batches that carry one
  int64_t bytes_read = 0;

  const Txn* txn_of(int64_t pid, int64_t offset) const {
    auto it = txns.find(pid);
    if (it == txns.end()) return nullptr;
    for (const auto& t : it->second)
      if (t.first_offset <= offset && offset < t.marker_offset) return &t;
    return nullptr;
  }
};

// The control record type of a control batch: 0 abort, 1 commit, -1 unknown.
int control_type(ByteView batch) {
  int type = -1;
  auto walked = protocol::for_each_record(batch, protocol::DecodeLimits{}, [&](const protocol::RecordView& r) {
    if (type < 0 && r.key && r.key->size() >= 4) type = ((*r.key)[2] << 8) | (*r.key)[3];
  });
  return walked ? type : -1;
}

Result<LogScan> scan_headers(const PartitionLog::SegmentsView& view, const CleanOptions& options) {
  LogScan scan;
  std::unordered_map<int64_t, Txn> open;  // pid → transaction without marker yet
  for (size_t i = 0; i < view.segments.size(); ++i) {
    const auto& seg = *view.segments[i];
    BatchReader reader(seg.log, view.sizes[i], kHeaderScanChunkBytes,
                       static_cast<size_t>(view.config.max_batch_read_bytes));
    int64_t position = 0;
    while (true) {
      auto next = reader.header_at(position);
      if (!next) return fail(next.error());
      if (next->status != BatchReader::Status::ok) break;
      const auto& h = next->header;
      if (h.producer_id >= 0) {
        auto& last = scan.producer_last_offset[h.producer_id];
        last = std::max(last, h.last_offset());
        if (h.is_control()) {
          auto bytes = reader.bytes_at(position, static_cast<size_t>(h.size_in_bytes()));
          if (!bytes) return fail(bytes.error());
          int type = control_type(*bytes);
          auto it = open.find(h.producer_id);
          Txn t = it != open.end() ? it->second : Txn{h.base_offset, h.base_offset, false, false};
          if (it != open.end()) open.erase(it);
          t.marker_offset = h.base_offset;
          t.aborted = type == 0;
          scan.txns[h.producer_id].push_back(t);
        } else if (h.is_transactional()) {
          auto [it, inserted] = open.try_emplace(h.producer_id, Txn{h.base_offset, -1, false, false});
          it->second.has_records = it->second.has_records || h.record_count > 0;
        }
      }
      if ((h.attributes & kDeleteHorizonBit) && h.record_count > 0 && !h.is_control())
        scan.earliest_delete_horizon_ms = std::min(scan.earliest_delete_horizon_ms, h.base_timestamp);
      scan.bytes_read += protocol::kBatchHeaderSize;
      position += h.size_in_bytes();
    }
    if (stopping(options)) break;
  }
  for (const auto& [pid, t] : open) scan.first_unstable_offset = std::min(scan.first_unstable_offset, t.first_offset);
  for (auto& [pid, list] : scan.txns)
    for (const auto& t : list) scan.txn_by_marker[t.marker_offset] = &t;
  return scan;
}

// The max timestamp of a segment's first batch at or after `from_offset` (-1 if none).
Result<int64_t> first_batch_timestamp(const Segment& seg, int64_t size, int64_t from_offset, const LogConfig& config) {
  BatchReader reader(seg.log, size, kHeaderScanChunkBytes, static_cast<size_t>(config.max_batch_read_bytes));
  int64_t position = seg.base_offset <= from_offset ? seg.position_for_offset(from_offset) : 0;
  while (true) {
    auto next = reader.header_at(position);
    if (!next) return fail(next.error());
    if (next->status != BatchReader::Status::ok) return int64_t{-1};
    if (next->header.last_offset() >= from_offset) return next->header.max_timestamp;
    position += next->header.size_in_bytes();
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Config and throttle

Result<CleanerConfig> make_cleaner_config(const Properties& broker) {
  ConfigSchema schema;
  add_broker_log_config_keys(schema);
  Properties mine;
  for (const auto& [k, v] : broker.values())
    if (k.starts_with("log.cleaner.") && schema.find(k)) mine.set(k, v);
  if (auto r = mine.validate(schema); !r) return fail(r.error());
  CleanerConfig c;
  auto enable = mine.get_bool(schema, "log.cleaner.enable");
  if (!enable) return fail(enable.error());
  c.enable = *enable;
  auto threads = mine.get_int(schema, "log.cleaner.threads");
  if (!threads) return fail(threads.error());
  c.threads = static_cast<int32_t>(*threads);
  auto backoff = mine.get_int(schema, "log.cleaner.backoff.ms");
  if (!backoff) return fail(backoff.error());
  c.backoff_ms = *backoff;
  auto dedupe = mine.get_int(schema, "log.cleaner.dedupe.buffer.size");
  if (!dedupe) return fail(dedupe.error());
  c.dedupe_buffer_size = *dedupe;
  auto rate = mine.get_string(schema, "log.cleaner.io.max.bytes.per.second");
  if (!rate) return fail(rate.error());
  auto parsed = parse_config_double("log.cleaner.io.max.bytes.per.second", *rate, 1.0,
                                    std::numeric_limits<double>::max());
  if (!parsed) return fail(parsed.error());
  c.io_max_bytes_per_second = *parsed;
  return c;
}

void Throttler::acquire(int64_t bytes) {
  if (rate_ >= std::numeric_limits<double>::max() / 2 || bytes <= 0) return;
  std::unique_lock lock(mutex_);
  if (stopped_) return;
  int64_t now = steady_ns();
  if (window_start_ns_ < 0) window_start_ns_ = now;
  window_bytes_ += bytes;
  double elapsed_s = static_cast<double>(now - window_start_ns_) / 1e9;
  double needed_s = static_cast<double>(window_bytes_) / rate_;
  if (needed_s > elapsed_s) {
    auto sleep = std::chrono::nanoseconds(static_cast<int64_t>((needed_s - elapsed_s) * 1e9));
    cv_.wait_for(lock, sleep, [this] { return stopped_; });
  }
  now = steady_ns();
  if (now - window_start_ns_ >= 100'000'000 && static_cast<double>(window_bytes_) / rate_ <= static_cast<double>(now - window_start_ns_) / 1e9) {
    window_start_ns_ = now;  // start a new window once caught up
    window_bytes_ = 0;
  }
}

void Throttler::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  cv_.notify_all();
}

// ---------------------------------------------------------------------------------------------
// Segment files of a cleaning pass and the swap

Result<std::shared_ptr<Segment>> Segment::create_with_suffix(const std::string& dir, int64_t base_offset,
                                                             const LogConfig& config, const std::string& suffix) {
  std::shared_ptr<Segment> s(new Segment());
  s->base_offset = base_offset;
  s->next_offset = base_offset;
  s->log_path = io::join_path(dir, segment_file_name(base_offset, ".log") + suffix);
  s->index_path = io::join_path(dir, segment_file_name(base_offset, ".index") + suffix);
  s->time_index_path = io::join_path(dir, segment_file_name(base_offset, ".timeindex") + suffix);
  s->max_offset_entries = std::max<int64_t>(1, config.segment_index_bytes / kOffsetIndexEntrySize);
  s->max_time_entries = std::max<int64_t>(1, config.segment_index_bytes / kTimeIndexEntrySize);
  for (auto [path, file] : {std::pair{&s->log_path, &s->log}, std::pair{&s->index_path, &s->index},
                            std::pair{&s->time_index_path, &s->time_index}}) {
    auto f = io::File::open(*path, io::OpenMode::create_truncate);
    if (!f) return fail(f.error());
    *file = std::move(*f);
  }
  s->dirty = true;
  return s;
}

Result<void> Segment::rename_files(const std::string& dir, const std::string& suffix) {
  std::string log_to = io::join_path(dir, segment_file_name(base_offset, ".log") + suffix);
  std::string index_to = io::join_path(dir, segment_file_name(base_offset, ".index") + suffix);
  std::string time_to = io::join_path(dir, segment_file_name(base_offset, ".timeindex") + suffix);
  // Indexes first, the .log last: `<base>.log.swap` existing means the whole set is in place.
  if (auto r = io::rename_path(index_path, index_to); !r) return r;
  index_path = index_to;
  if (auto r = io::rename_path(time_index_path, time_to); !r) return r;
  time_index_path = time_to;
  if (auto r = io::rename_path(log_path, log_to); !r) return r;
  log_path = log_to;
  return {};
}

Result<void> complete_segment_swaps(const std::string& dir) {
  auto entries = io::list_directory(dir);
  if (!entries) return fail(entries.error());
  auto exists = [&](const std::string& name) {
    return std::any_of(entries->begin(), entries->end(), [&](const io::DirEntry& e) { return e.name == name; });
  };
  bool changed = false;
  for (const auto& e : *entries) {
    if (e.is_directory || !e.name.ends_with(".log.swap")) continue;
    std::string base = e.name.substr(0, e.name.size() - std::string_view(".log.swap").size());
    // Committed. The swap replaces the segments whose base offsets are in [base, its next
    // offset): the later ones of its group are deleted first (a group's segment left without
    // records starts at or after that end and keeps its old, superseded records: valid).
    int64_t base_offset = 0;
    if (auto [p, ec] = std::from_chars(base.data(), base.data() + base.size(), base_offset);
        ec != std::errc() || p != base.data() + base.size() || base.size() != 20)
      continue;  // not a segment name: removed below
    int64_t swap_next = base_offset + 1;
    {
      auto f = io::File::open(io::join_path(dir, e.name), io::OpenMode::read_only);
      if (!f) return fail(f.error());
      auto size = f->size();
      if (!size) return fail(size.error());
      BatchReader reader(*f, *size, kHeaderScanChunkBytes, static_cast<size_t>(LogConfig{}.max_batch_read_bytes));
      int64_t position = 0;
      while (true) {
        auto next = reader.header_at(position);
        if (!next) return fail(next.error());
        if (next->status != BatchReader::Status::ok) break;
        swap_next = std::max(swap_next, next->header.last_offset() + 1);
        position += next->header.size_in_bytes();
      }
    }
    for (const auto& other : *entries) {
      if (other.is_directory || !other.name.ends_with(".log") || other.name.size() != 24) continue;
      int64_t o = 0;
      auto [p, ec] = std::from_chars(other.name.data(), other.name.data() + 20, o);
      if (ec != std::errc() || p != other.name.data() + 20 || o <= base_offset || o >= swap_next) continue;
      for (const char* suffix : {".index", ".timeindex", ".log"})
        if (auto path = io::join_path(dir, segment_file_name(o, suffix)); io::path_exists(path))
          if (auto r = io::remove_file(path); !r) return r;
      log::warn(kComponent, "{}: removed segment {} replaced by the interrupted swap of {}", dir, o, base);
    }
    // The indexes (renamed before the .log) replace the old ones, then the .log.
    for (const char* suffix : {".index", ".timeindex"}) {
      std::string name = base + suffix;
      if (exists(name + ".swap")) {
        if (auto r = io::rename_path(io::join_path(dir, name + ".swap"), io::join_path(dir, name)); !r) return r;
      } else if (!exists(name)) {
        continue;  // rebuilt by the recovery scan
      }
    }
    if (auto r = io::rename_path(io::join_path(dir, e.name), io::join_path(dir, base + ".log")); !r) return r;
    log::warn(kComponent, "{}: completed the interrupted swap of cleaned segment {}", dir, base);
    changed = true;
  }
  // Anything else of an unfinished pass is dropped (the old segment is intact).
  auto again = io::list_directory(dir);
  if (!again) return fail(again.error());
  for (const auto& e : *again) {
    if (e.is_directory) continue;
    if (e.name.ends_with(".cleaned") || e.name.ends_with(".swap")) {
      if (auto r = io::remove_file(io::join_path(dir, e.name)); !r) return r;
      changed = true;
    }
  }
  if (changed)
    if (auto r = io::fsync_directory(dir); !r) return r;
  return {};
}

// ---------------------------------------------------------------------------------------------
// One pass

Result<CleanResult> clean_log(PartitionLog& log, int64_t first_dirty_offset, const CleanOptions& options) {
  CleanResult out;
  auto view_r = log.segments_view();
  if (!view_r) return fail(view_r.error());
  const auto& view = *view_r;
  const LogConfig& config = view.config;
  const auto& segs = view.segments;
  int64_t first_dirty = std::clamp(first_dirty_offset, view.log_start_offset, view.log_end_offset);
  out.first_dirty_offset = first_dirty;
  if (!config_compacted(config)) {
    out.skipped = "cleanup.policy has no compact";
    return out;
  }
  if (segs.size() < 2) {
    out.skipped = "no closed segment";
    return out;
  }
  const size_t closed = segs.size() - 1;

  // The cleanable end before the transaction scan: the active segment, the high watermark and
  // min.compaction.lag.ms (KIP-58: a segment holding a record newer than the lag stops it).
  int64_t uncleanable = std::min(segs.back()->base_offset, view.high_watermark);
  if (config.min_compaction_lag_ms > 0) {
    for (size_t i = 0; i < closed; ++i)
      if (segs[i]->max_timestamp > options.now_ms - config.min_compaction_lag_ms) {
        uncleanable = std::min(uncleanable, segs[i]->base_offset);
        break;
      }
  }
  // Dirty ratio over whole segments (Kafka's cleanableRatio) and max.compaction.lag.ms (KIP-354).
  int64_t clean_bytes = 0, dirty_bytes = 0;
  size_t first_dirty_segment = closed;
  for (size_t i = 0; i < closed; ++i) {
    int64_t upper = segs[i + 1]->base_offset;
    if (upper <= first_dirty) {
      clean_bytes += view.sizes[i];
    } else if (segs[i]->base_offset < uncleanable) {
      dirty_bytes += view.sizes[i];
      first_dirty_segment = std::min(first_dirty_segment, i);
    }
  }
  out.dirty_ratio = clean_bytes + dirty_bytes > 0
                        ? static_cast<double>(dirty_bytes) / static_cast<double>(clean_bytes + dirty_bytes)
                        : 0.0;
  bool lag_due = false;
  if (config.max_compaction_lag_ms < INT64_MAX && first_dirty_segment < closed) {
    auto ts = first_batch_timestamp(*segs[first_dirty_segment], view.sizes[first_dirty_segment], first_dirty, config);
    if (!ts) return fail(ts.error());
    lag_due = *ts >= 0 && options.now_ms - *ts > config.max_compaction_lag_ms;
  }
  bool ratio_due = dirty_bytes > 0 && first_dirty < uncleanable && out.dirty_ratio >= config.min_cleanable_dirty_ratio;

  // Producers' last batches, transactions and delete horizons (whole log, headers only).
  auto scan_r = scan_headers(view, options);
  if (!scan_r) return fail(scan_r.error());
  const LogScan& scan = *scan_r;
  out.bytes_read += scan.bytes_read;
  // KIP-534: a log with a tombstone or marker past its delete horizon is cleaned too.
  bool horizon_due = scan.earliest_delete_horizon_ms <= options.now_ms;
  if (!options.force && !lag_due && !ratio_due && !horizon_due) {
    out.skipped = fmt::format("dirty ratio {:.3f} below min.cleanable.dirty.ratio {}", out.dirty_ratio,
                              config.min_cleanable_dirty_ratio);
    return out;
  }
  uncleanable = std::min(uncleanable, scan.first_unstable_offset);
  auto aborted_batch = [&](const protocol::RecordBatchHeader& h) {
    if (!h.is_transactional() || h.is_control() || h.producer_id < 0) return false;
    const Txn* t = scan.txn_of(h.producer_id, h.base_offset);
    return t && t->aborted;
  };

  // The key → latest offset map over [first_dirty, uncleanable).
  OffsetMap map;
  int64_t map_bytes = 0;
  int64_t map_end = std::max(first_dirty, uncleanable);  // nothing dirty: re-clean the clean part only
  if (first_dirty >= uncleanable) map_end = first_dirty;
  bool map_full = first_dirty >= uncleanable;
  for (size_t i = 0; i < closed && !map_full; ++i) {
    const auto& seg = *segs[i];
    if (segs[i + 1]->base_offset <= first_dirty) continue;
    if (seg.base_offset >= uncleanable) break;
    BatchReader reader(seg.log, view.sizes[i], kScanChunkBytes, static_cast<size_t>(config.max_batch_read_bytes));
    int64_t position = seg.base_offset <= first_dirty ? seg.position_for_offset(first_dirty) : 0;
    std::vector<std::string_view> added;                           // keys new in this batch
    std::vector<std::pair<int64_t*, int64_t>> replaced;            // entry, its previous offset
    while (true) {
      if (stopping(options)) {
        out.skipped = "stopped";
        return out;
      }
      auto next = reader.header_at(position);
      if (!next) return fail(next.error());
      if (next->status != BatchReader::Status::ok) break;
      const auto& h = next->header;
      if (h.base_offset >= uncleanable) break;
      if (h.last_offset() >= first_dirty && !h.is_control() && !aborted_batch(h) && h.record_count > 0) {
        auto bytes = reader.bytes_at(position, static_cast<size_t>(h.size_in_bytes()));
        if (!bytes) return fail(bytes.error());
        // Insert this batch's keys; if the map then exceeds its bound, undo the batch and end
        // the mapped range before it.
        added.clear();
        replaced.clear();
        int64_t bytes_before_batch = map_bytes;
        auto walked = protocol::for_each_record(*bytes, protocol::DecodeLimits{}, [&](const protocol::RecordView& r) {
          if (!r.key || r.offset < first_dirty) return;
          std::string_view key(reinterpret_cast<const char*>(r.key->data()), r.key->size());
          auto it = map.find(key);
          if (it == map.end()) {
            it = map.emplace(std::string(key), r.offset).first;
            added.push_back(it->first);
            map_bytes += static_cast<int64_t>(key.size()) + kMapEntryOverheadBytes;
          } else if (it->second < r.offset) {
            replaced.emplace_back(&it->second, it->second);
            it->second = r.offset;
          }
        });
        if (!walked)
          return fail(ErrorCode::corrupt_message,
                      fmt::format("{}: batch at offset {}: {}", seg.log_path, h.base_offset, walked.error().message));
        if (map_bytes > options.dedupe_buffer_bytes) {
          for (auto it = replaced.rbegin(); it != replaced.rend(); ++it) *it->first = it->second;
          for (auto key : added) map.erase(map.find(key));
          map_bytes = bytes_before_batch;
          if (map.empty()) {
            out.skipped = fmt::format("log.cleaner.dedupe.buffer.size {} cannot hold the keys of one batch",
                                      options.dedupe_buffer_bytes);
            return out;
          }
          map_end = h.base_offset;  // the map covers the offsets before this batch
          map_full = true;
          break;
        }
      }
      out.bytes_read += h.size_in_bytes();
      if (options.throttler) options.throttler->acquire(h.size_in_bytes());
      position += h.size_in_bytes();
    }
  }

  // Rewrite every closed segment from the log start that holds offsets below map_end.
  const int64_t horizon_ms = options.now_ms + config.delete_retention_ms;
  LogConfig out_config = config;
  out_config.preallocate = false;
  const int64_t max_offset_entries = std::max<int64_t>(1, config.segment_index_bytes / kOffsetIndexEntrySize);
  const int64_t max_time_entries = std::max<int64_t>(1, config.segment_index_bytes / kTimeIndexEntrySize);
  size_t i = 0;
  while (i < closed && segs[i]->base_offset < map_end) {
    // One group: consecutive closed segments below map_end whose sizes together fit
    // segment.bytes, whose offsets fit one segment's index and whose index entries fit
    // segment.index.bytes (Kafka's groupSegmentsBySize); cleaned into one segment.
    size_t end = i + 1;
    int64_t group_bytes = view.sizes[i];
    int64_t offset_entries = static_cast<int64_t>(segs[i]->offset_entries.size());
    int64_t time_entries = static_cast<int64_t>(segs[i]->time_entries.size());
    while (end < closed && segs[end]->base_offset < map_end) {
      int64_t upper = segs[end + 1]->base_offset;  // bounds the offsets of segs[end]
      if (group_bytes + view.sizes[end] > config.segment_bytes || upper - 1 - segs[i]->base_offset > INT32_MAX ||
          offset_entries + static_cast<int64_t>(segs[end]->offset_entries.size()) + 1 > max_offset_entries ||
          time_entries + static_cast<int64_t>(segs[end]->time_entries.size()) + 1 > max_time_entries)
        break;
      group_bytes += view.sizes[end];
      offset_entries += static_cast<int64_t>(segs[end]->offset_entries.size());
      time_entries += static_cast<int64_t>(segs[end]->time_entries.size());
      ++end;
    }
    std::vector<std::shared_ptr<Segment>> group(segs.begin() + static_cast<std::ptrdiff_t>(i),
                                                segs.begin() + static_cast<std::ptrdiff_t>(end));
    auto cleaned_r = Segment::create_with_suffix(log.dir(), segs[i]->base_offset, out_config, ".cleaned");
    if (!cleaned_r) return fail(cleaned_r.error());
    auto cleaned = *cleaned_r;
    auto discard = [&] { (void)cleaned->delete_files(); };
    int64_t emitted = 0;                      // batches written to `cleaned`
    size_t last_with_batches = SIZE_MAX;      // the last member of the group holding a batch
    protocol::RecordBatchHeader last_source;  // the group's last batch read
    int64_t emitted_at_last_source = -1;      // `emitted` after that batch was handled
    Bytes buffer;
    std::vector<protocol::RecordBatchHeader> headers;
    auto flush_buffer = [&]() -> Result<void> {
      if (buffer.empty()) return {};
      if (auto r = cleaned->append(buffer, headers, out_config); !r) return r;
      if (options.throttler) options.throttler->acquire(static_cast<int64_t>(buffer.size()));
      buffer.clear();
      headers.clear();
      return {};
    };
    auto emit = [&](ByteView batch) -> Result<void> {
      auto h = protocol::parse_batch_header(batch);
      if (!h) return fail(h.error());
      buffer.insert(buffer.end(), batch.begin(), batch.end());
      headers.push_back(*h);
      ++emitted;
      if (buffer.size() >= kOutputFlushBytes) return flush_buffer();
      return {};
    };

    Result<void> failed;
    for (size_t g = i; g < end && failed; ++g) {
    const auto& old_seg = segs[g];
    BatchReader reader(old_seg->log, view.sizes[g], kScanChunkBytes, static_cast<size_t>(config.max_batch_read_bytes));
    int64_t position = 0;
    while (failed) {
      if (stopping(options)) {
        discard();
        out.skipped = "stopped";
        return out;
      }
      auto next = reader.header_at(position);
      if (!next) {
        failed = fail(next.error());
        break;
      }
      if (next->status != BatchReader::Status::ok) break;
      const auto h = next->header;
      auto bytes_r = reader.bytes_at(position, static_cast<size_t>(h.size_in_bytes()));
      if (!bytes_r) {
        failed = fail(bytes_r.error());
        break;
      }
      ByteView bytes = *bytes_r;
      last_with_batches = g;
      last_source = h;
      emitted_at_last_source = emitted;
      position += h.size_in_bytes();
      out.bytes_read += h.size_in_bytes();
      if (options.throttler) options.throttler->acquire(h.size_in_bytes());
      bool last_of_producer = h.producer_id >= 0 && [&] {
        auto it = scan.producer_last_offset.find(h.producer_id);
        return it != scan.producer_last_offset.end() && it->second == h.last_offset();
      }();
      bool has_horizon = h.attributes & kDeleteHorizonBit;
      bool horizon_passed = has_horizon && h.base_timestamp <= options.now_ms;

      if (h.base_offset >= map_end) {  // beyond the mapped range: untouched
        failed = emit(bytes);
        continue;
      }
      if (h.is_control()) {
        // A marker stays until its transaction holds no record any more and its delete
        // horizon passed; the last batch of its producer always stays.
        auto it = scan.txn_by_marker.find(h.base_offset);
        bool data_gone = it != scan.txn_by_marker.end() && !it->second->has_records;
        if (data_gone && horizon_passed && !last_of_producer) continue;
        if (has_horizon || !data_gone) {
          failed = emit(bytes);
          continue;
        }
      }

      // Filter the records.
      bool aborted = aborted_batch(h);
      std::vector<KeptRecord> kept;
      int64_t removed = 0, tombstones = 0;
      bool retains_tombstone = false;
      auto walked = protocol::for_each_record(bytes, protocol::DecodeLimits{}, [&](const protocol::RecordView& r) {
        if (!h.is_control()) {
          bool drop = aborted || !r.key;
          if (!drop) {
            auto it = map.find(std::string_view(reinterpret_cast<const char*>(r.key->data()), r.key->size()));
            drop = it != map.end() && it->second > r.offset;
          }
          if (!drop && !r.value) {
            if (horizon_passed) {
              drop = true;
              ++tombstones;
            } else {
              retains_tombstone = true;
            }
          }
          if (drop) {
            ++removed;
            return;
          }
        }
        KeptRecord k;
        k.attributes = r.attributes;
        k.timestamp = r.timestamp;
        k.offset_delta = static_cast<int32_t>(r.offset - h.base_offset);
        if (r.key) k.key = Bytes(r.key->begin(), r.key->end());
        if (r.value) k.value = Bytes(r.value->begin(), r.value->end());
        k.header_count = r.header_count;
        k.headers.assign(r.headers_bytes.begin(), r.headers_bytes.end());
        kept.push_back(std::move(k));
      });
      if (!walked) {
        failed = fail(ErrorCode::corrupt_message,
                      fmt::format("{}: batch at offset {}: {}", old_seg->log_path, h.base_offset, walked.error().message));
        break;
      }
      out.records_removed += removed;
      out.tombstones_removed += tombstones;
      bool wants_horizon = (retains_tombstone || h.is_control()) && !has_horizon;
      if (removed == 0 && !wants_horizon) {
        failed = emit(bytes);  // unchanged: the original bytes
        continue;
      }
      if (kept.empty() && !last_of_producer) continue;  // the whole batch goes
      auto rebuilt = rebuild_batch(h, kept, wants_horizon, horizon_ms);
      if (!rebuilt) {
        failed = fail(rebuilt.error());
        break;
      }
      failed = emit(*rebuilt);
    }
    }  // the group's segments
    // Recovery completes a committed swap by deleting the segments whose base offsets lie in
    // [base, the swap's next offset): if the group's last batch went, a plain empty batch in its
    // place (its base offset and last offset delta; no records, producer or codec) keeps the
    // cleaned segment's end at the group's end, so that range covers every member.
    if (failed && last_with_batches != SIZE_MAX && emitted == emitted_at_last_source) {
      protocol::RecordBatchHeader neutral = last_source;  // a plain empty batch: no producer, no txn
      neutral.producer_id = -1;
      neutral.producer_epoch = -1;
      neutral.base_sequence = -1;
      neutral.attributes = static_cast<int16_t>(last_source.attributes & 0x8);
      auto coverage = rebuild_batch(neutral, {}, false, 0);
      if (!coverage)
        failed = fail(coverage.error());
      else
        failed = emit(*coverage);
    }
    if (failed) failed = flush_buffer();
    if (failed) failed = cleaned->seal_time_index();
    if (failed) failed = cleaned->flush();
    if (!failed) {
      discard();
      return fail(failed.error());
    }
    if (last_with_batches == SIZE_MAX) {  // nothing in the whole group
      discard();
      i = end;
      continue;
    }
    // Members after the last one holding a batch hold nothing: they stay as they are.
    size_t covered_end = last_with_batches + 1;
    std::vector<std::shared_ptr<Segment>> covered(group.begin(), group.begin() + static_cast<std::ptrdiff_t>(covered_end - i));
    auto swapped = log.replace_segments(covered, cleaned);
    if (!swapped) {
      discard();
      return fail(swapped.error());
    }
    if (!*swapped) {  // retention or truncation changed the log meanwhile: stop here
      discard();
      out.skipped = "the log changed during the pass";
      return out;
    }
    out.cleaned = true;
    out.bytes_after += cleaned->size;
    out.segments_cleaned += static_cast<int64_t>(covered_end - i);
    out.bytes_before += group_bytes;
    i = end;
  }
  out.first_dirty_offset = std::max(first_dirty, map_end);
  if (!out.cleaned) out.skipped = "no segment below the dirty end";
  return out;
}

// ---------------------------------------------------------------------------------------------
// LogCleaner

LogCleaner::LogCleaner(CleanerConfig config, std::vector<std::string> log_dirs, ListLogs list_logs)
    : config_(config), log_dirs_(std::move(log_dirs)), list_logs_(std::move(list_logs)),
      throttler_(config.io_max_bytes_per_second) {
  for (const auto& dir : log_dirs_) {
    std::string path = io::join_path(dir, kCleanerOffsetCheckpoint);
    if (!io::path_exists(path)) continue;
    auto text = io::read_file(path, kMaxCheckpointBytes);
    auto parsed = text ? parse_offset_checkpoint(*text) : Result<std::vector<CheckpointEntry>>(fail(text.error()));
    if (!parsed) {
      log::warn(kComponent, "{}: ignoring {}: {} (compacted logs are rescanned from their start)", dir, path,
                parsed.error().message);
      continue;
    }
    for (const auto& e : *parsed) checkpoints_[{e.topic, e.partition}] = {dir, e.offset};
  }
}

LogCleaner::~LogCleaner() { stop(); }

void LogCleaner::start() {
  std::lock_guard lock(mutex_);
  if (!config_.enable || !threads_.empty() || stop_) return;
  for (int32_t i = 0; i < config_.threads; ++i)
    threads_.emplace_back([this, i] {
      set_current_thread_name("cv-cleaner-" + std::to_string(i));
      run_thread();
    });
  log::info(kComponent, "log cleaner started: {} thread(s), backoff {} ms", config_.threads, config_.backoff_ms);
}

void LogCleaner::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    cv_.notify_all();
  }
  throttler_.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void LogCleaner::wake() {
  std::lock_guard lock(mutex_);
  wake_ = true;
  cv_.notify_all();
}

int64_t LogCleaner::first_dirty_offset(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mutex_);
  auto it = checkpoints_.find({topic, partition});
  return it == checkpoints_.end() ? 0 : it->second.second;
}

void LogCleaner::forget(const std::string& topic, int32_t partition) {
  std::lock_guard lock(mutex_);
  checkpoints_.erase({topic, partition});
}

Result<bool> LogCleaner::clean_one(const LogRef& ref, int64_t now_ms, bool force) {
  std::pair<std::string, int32_t> key{ref.log->topic(), ref.log->partition()};
  int64_t first_dirty = 0;
  {
    std::lock_guard lock(mutex_);
    if (std::find(in_progress_.begin(), in_progress_.end(), key) != in_progress_.end()) return false;
    in_progress_.push_back(key);
    auto it = checkpoints_.find(key);
    if (it != checkpoints_.end()) first_dirty = it->second.second;
  }
  CleanOptions options;
  options.now_ms = now_ms;
  options.dedupe_buffer_bytes = std::max<int64_t>(1024, config_.dedupe_buffer_size / std::max(1, config_.threads));
  options.force = force;
  options.throttler = &throttler_;
  options.stop = &stop_;
  auto result = clean_log(*ref.log, first_dirty, options);
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    in_progress_.erase(std::find(in_progress_.begin(), in_progress_.end(), key));
    if (result && result->first_dirty_offset != first_dirty) {
      checkpoints_[key] = {ref.log_dir, result->first_dirty_offset};
      changed = true;
    }
  }
  if (!result) return fail(result.error());
  if (changed)
    if (auto r = write_checkpoints(); !r) return fail(r.error());
  if (result->cleaned)
    log::info(kComponent, "{}-{}: cleaned {} segment(s), {} -> {} bytes, {} record(s) and {} tombstone(s) removed, "
              "first dirty offset {}", key.first, key.second, result->segments_cleaned, result->bytes_before,
              result->bytes_after, result->records_removed, result->tombstones_removed, result->first_dirty_offset);
  return result->cleaned;
}

Result<void> LogCleaner::write_checkpoints() {
  std::lock_guard write_lock(checkpoint_write_mutex_);
  std::map<std::string, std::vector<CheckpointEntry>> by_dir;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [tp, v] : checkpoints_) by_dir[v.first].push_back({tp.first, tp.second, v.second});
  }
  for (const auto& dir : log_dirs_) {
    auto it = by_dir.find(dir);
    auto text = format_offset_checkpoint(it == by_dir.end() ? std::vector<CheckpointEntry>{} : it->second);
    if (auto r = io::write_file_atomic(io::join_path(dir, kCleanerOffsetCheckpoint), text); !r) return r;
  }
  return {};
}

Result<int32_t> LogCleaner::clean_all_now(int64_t now_ms, bool force) {
  int32_t cleaned = 0;
  Result<int32_t> result = 0;
  for (const auto& ref : list_logs_()) {
    if (!config_compacted(ref.log->config())) continue;
    auto r = clean_one(ref, now_ms, force);
    if (!r) {
      log::warn(kComponent, "cleaning {}-{} failed: {}", ref.log->topic(), ref.log->partition(), r.error().message);
      if (result) result = fail(r.error());
      continue;
    }
    if (*r) ++cleaned;
  }
  if (!result) return result;
  return cleaned;
}

void LogCleaner::run_thread() {
  while (!stop_) {
    int32_t cleaned = 0;
    int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    for (const auto& ref : list_logs_()) {
      if (stop_) break;
      if (!config_compacted(ref.log->config())) continue;
      auto r = clean_one(ref, now_ms, false);
      if (!r)
        log::warn(kComponent, "cleaning {}-{} failed: {}", ref.log->topic(), ref.log->partition(), r.error().message);
      else if (*r)
        ++cleaned;
    }
    if (cleaned > 0) continue;
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(config_.backoff_ms), [this] { return stop_.load() || wake_; });
    wake_ = false;
  }
}

}  // namespace conveyor::storage
