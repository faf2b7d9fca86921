#pragma once
// One log segment: the .log file of whole batches plus its sparse .index and .timeindex, the
// index kept in memory as well (bounded by segment.index.bytes). Internal to storage.
//
// Thread-safety: the mutable fields are guarded by the owning PartitionLog's mutex. The files
// stay open until the Segment is destroyed, so a reader holding a shared_ptr may pread
// below a size it captured under the mutex without the lock.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "conveyor/base/result.h"
#include "conveyor/io/file.h"
#include "conveyor/protocol/bytes.h"
#include "conveyor/protocol/record_batch.h"
#include "conveyor/storage/log_config.h"

namespace conveyor::storage {

inline constexpr int64_t kOffsetIndexEntrySize = 8;  // int32 relative offset, int32 position
inline constexpr int64_t kTimeIndexEntrySize = 12;   // int64 timestamp, int32 relative offset

struct OffsetIndexEntry {
  int32_t relative_offset = 0;
  int32_t position = 0;
};
struct TimeIndexEntry {
  int64_t timestamp = 0;
  int32_t relative_offset = 0;
};

// Reads batch headers / whole batches of one file sequentially through a bounded buffer.
class BatchReader {
 public:
  BatchReader(const io::File& file, int64_t end, size_t chunk_bytes, size_t max_batch_bytes)
      : file_(file), end_(end), chunk_bytes_(chunk_bytes), max_batch_bytes_(max_batch_bytes) {}

  enum class Status { ok, end, torn, corrupt };
  struct Next {
    Status status = Status::end;
    protocol::RecordBatchHeader header;
    std::string why;  // for torn/corrupt
  };
  // The header of the batch at `position` with sanity checks (magic 2, batch length within
  // [49, max_batch_bytes], whole batch before `end`). end: position == end. I/O errors fail.
  Result<Next> header_at(int64_t position);
  // The whole batch at `position` (size bytes), valid until the next call.
  Result<ByteView> bytes_at(int64_t position, size_t size);

 private:
  const io::File& file_;
  int64_t end_;
  size_t chunk_bytes_;
  size_t max_batch_bytes_;
  Bytes buffer_;
  int64_t buffer_start_ = 0;
};

class Segment {
 public:
  ~Segment() = default;

  // A new empty segment (files truncated if they exist).
  static Result<std::shared_ptr<Segment>> create(const std::string& dir, int64_t base_offset,
                                                 const LogConfig& config);
  // Opens an existing segment's files (missing index files are created empty) without
  // validating anything; call load_trusted() or recover() next.
  static Result<std::shared_ptr<Segment>> open_files(const std::string& dir, int64_t base_offset,
                                                     const LogConfig& config);

  // For a segment below the recovery point: reads the indexes and sanity-checks them (sizes,
  // order, bounds, a sample of entries against the batch headers), then scans the batches
  // after the last index entry to find the end. Returns false if anything looks wrong (the
  // caller then runs recover()).
  Result<bool> load_trusted(const LogConfig& config);

  struct RecoveryResult {
    int64_t valid_bytes = 0;
    int64_t truncated_bytes = 0;  // bytes dropped from the file
    std::string why;              // first problem found, empty if none
  };
  // Rescans every batch (header sanity, CRC, offsets contiguous from `expected_first_offset`
  // unless the topic is compacted), truncates the file at the first torn or corrupt batch and
  // rebuilds both indexes. `on_batch` sees every valid batch header in order.
  template <class F>
  // allow_gaps: accept offset gaps between batches even if config is not compacted
  // (LogOpenOptions::may_have_offset_gaps).
  Result<RecoveryResult> recover(const LogConfig& config, int64_t expected_first_offset, F&& on_batch,
                                 bool allow_gaps = false);

  // Recovery bounded by the unflushed tail (durability): the batches wholly below
  // `recovery_point` were fsync'd before the crash and are trusted; the in-memory indexes for
  // them come from the index files (the entries below the recovery point, sanity-checked, the
  // last one against its batch header), and only the batches from the first one holding an
  // offset >= recovery_point are rescanned exactly as recover() does (CRC, record count,
  // offsets), truncating at the first torn or corrupt one. nullopt when the trusted part does
  // not check out (index missing or broken, the file shorter than the indexed data): the
  // caller then runs the full recover(). Sets unverified_bytes to the start of the rescan.
  Result<std::optional<RecoveryResult>> recover_tail(const LogConfig& config, int64_t recovery_point,
                                                     int64_t expected_first_offset, bool allow_gaps = false);

  // Appends whole, already validated batches (`headers` describe `data` in order) at the end.
  Result<void> append(ByteView data, const std::vector<protocol::RecordBatchHeader>& headers,
                      const LogConfig& config);

  // Position of the batch to start scanning from for `offset` (largest index entry ≤ offset).
  int64_t position_for_offset(int64_t offset) const;
  // Offset to start looking from for `timestamp` (largest time index entry < timestamp), or
  // base_offset.
  int64_t offset_for_timestamp_hint(int64_t timestamp) const;

  bool index_full() const;
  // Appends the final time index entry for the segment's max timestamp if missing (on roll
  // and close, so a trusted load knows the segment's max timestamp).
  Result<void> seal_time_index();
  // Truncates a preallocated .log to the data size.
  Result<void> trim();
  // Removes every batch at or after the batch containing `offset`; returns the new next_offset.
  Result<int64_t> truncate_to(int64_t offset, const LogConfig& config);
  Result<void> flush();
  Result<void> delete_files();
  // Rewrites both index files from the in-memory entries.
  Result<void> write_indexes();

  // ---- Compaction (defined in cleaner.cc) ----
  // A new empty segment whose three files are the usual names + `suffix` (e.g. ".cleaned").
  static Result<std::shared_ptr<Segment>> create_with_suffix(const std::string& dir, int64_t base_offset,
                                                             const LogConfig& config, const std::string& suffix);
  // Renames the three files (log last) to the usual names + `suffix` ("" = the final names)
  // and updates the paths; the open fds stay valid.
  Result<void> rename_files(const std::string& dir, const std::string& suffix);

  int64_t base_offset = 0;
  std::string log_path, index_path, time_index_path;
  io::File log, index, time_index;
  int64_t size = 0;                     // bytes of whole valid batches in .log
  int64_t next_offset = 0;              // last offset + 1; base_offset when empty
  int64_t max_timestamp = -1;           // largest batch max timestamp
  int64_t offset_of_max_timestamp = -1;
  std::vector<OffsetIndexEntry> offset_entries;
  std::vector<TimeIndexEntry> time_entries;
  int64_t bytes_since_index_entry = 0;
  int64_t max_offset_entries = 0;
  int64_t max_time_entries = 0;
  bool preallocated = false;
  bool dirty = false;  // appended since the last flush
  // Batches starting below this position were not CRC-checked since the log was opened
  // (trusted as flushed by a recovery point or a clean shutdown); read() checks their CRC
  // before serving them. 0 for segments scanned or written by this process.
  int64_t unverified_bytes = 0;
  // A failed append could not truncate the file back: it may hold a torn tail.
  bool needs_recovery = false;
  // segment.ms: the max timestamp of the segment's first batch (Kafka's rollingBasedTimestamp);
  // -1 with rolling_timestamp_known = false until read lazily from the first batch header.
  int64_t rolling_timestamp = -1;
  bool rolling_timestamp_known = false;
  // When the segment was created by a roll, or first seen by apply_retention after an open;
  // the time of a segment whose batches carry no timestamp (-1 = not yet known).
  int64_t created_ms = -1;

 private:
  Segment() = default;
  void index_batch(const protocol::RecordBatchHeader& header, int64_t position,
                   const LogConfig& config, std::vector<OffsetIndexEntry>* new_offset_entries,
                   std::vector<TimeIndexEntry>* new_time_entries);
  Result<void> append_index_entries(size_t first_offset_entry, size_t first_time_entry);
  // One step of a recovery scan: the batch at `position` must have a sane header, a matching
  // CRC, a consistent record count / last offset delta, a base offset equal to `expected` (not
  // below it when `compacted`) and fit the segment's index. ok with the header, end at the end
  // of the file, otherwise corrupt/torn with the reason to truncate there. Errors: I/O.
  Result<BatchReader::Next> recovery_step(BatchReader& reader, int64_t position, bool compacted,
                                          int64_t expected) const;
  Result<bool> read_indexes();
  // Durability: whether a sample of the time index entries (every one for up to 64, and the
  // last) names the max timestamp of the batch holding its offset. Needs offset_entries.
  Result<bool> time_entries_match(BatchReader& reader, size_t count);
};

// Big-endian helpers.
inline void put_be32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
inline void put_be64(uint8_t* p, uint64_t v) {
  put_be32(p, static_cast<uint32_t>(v >> 32));
  put_be32(p + 4, static_cast<uint32_t>(v));
}
inline uint32_t get_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline uint64_t get_be64(const uint8_t* p) {
  return (uint64_t{get_be32(p)} << 32) | get_be32(p + 4);
}

// Completes the segment swaps a crash interrupted (cleaner.cc): every `<base>.log.swap` is
// committed, so its `.swap` files replace the segment's files; `.cleaned` files and index
// `.swap` files without their `<base>.log.swap` are removed (the old segment stays). Called by
// PartitionLog::open before anything else reads the directory. Errors: kafka_storage_error.
Result<void> complete_segment_swaps(const std::string& dir);

// Whether the topic's cleanup.policy allows offset gaps between batches.
bool config_compacted(const LogConfig& config);

template <class F>
Result<Segment::RecoveryResult> Segment::recover(const LogConfig& config, int64_t expected_first_offset,
                                                 F&& on_batch, bool allow_gaps) {
  auto file_size = log.size();
  if (!file_size) return fail(file_size.error());
  BatchReader reader(log, *file_size, 1 << 20, static_cast<size_t>(config.max_batch_read_bytes));
  offset_entries.clear();
  time_entries.clear();
  bytes_since_index_entry = 0;
  max_timestamp = -1;
  offset_of_max_timestamp = -1;
  next_offset = base_offset;
  bool compacted = config_compacted(config) || allow_gaps;
  int64_t expected = std::max(expected_first_offset, base_offset);
  int64_t position = 0;
  RecoveryResult out;
  while (true) {
    auto next = recovery_step(reader, position, compacted, expected);
    if (!next) return fail(next.error());
    if (next->status == BatchReader::Status::end) break;
    if (next->status != BatchReader::Status::ok) {
      out.why = std::move(next->why);
      break;
    }
    const auto& h = next->header;
    index_batch(h, position, config, &offset_entries, &time_entries);
    on_batch(h, position);
    expected = h.last_offset() + 1;
    next_offset = expected;
    position += h.size_in_bytes();
  }
  out.valid_bytes = position;
  out.truncated_bytes = *file_size - position;
  size = position;
  if (out.truncated_bytes > 0) {
    if (auto r = log.truncate(position); !r) return fail(r.error());
  }
  preallocated = false;
  if (auto r = write_indexes(); !r) return fail(r.error());
  dirty = true;
  return out;
}

}  // namespace conveyor::storage
