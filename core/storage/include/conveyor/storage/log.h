#pragma once
// PartitionLog: the log of one topic partition in `<log dir>/<topic>-<partition>/`
// (DESIGN.md §4; layout and formats in core/storage/README.md):
//   <20-digit base offset>.log        record batches exactly as on the wire (RecordBatch v2)
//   <20-digit base offset>.index      sparse: relative offset int32 → position int32 (8 bytes)
//   <20-digit base offset>.timeindex  sparse: timestamp int64 → relative offset int32 (12 bytes)
//   <20-digit offset>.snapshot        idempotent producer state at that offset
//
// Offsets are Kafka offsets (int64); "log end offset" (LEO) is the offset the next appended
// record gets; the high watermark (HW) is a separate field (single node: the log sets it to the
// LEO after every append; replication will drive it with set_high_watermark).
//
// Thread-safety: every method may be called from any thread. Appends, flushes and truncation
// are serialised by a per-partition mutex; read() and offset_for_timestamp() take the mutex
// only to find file positions and then pread outside it, so reads run concurrently with an
// append. fsync runs outside the mutex (a second flush waits for the first).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/base/result.h"
#include "conveyor/protocol/bytes.h"
#include "conveyor/storage/log_config.h"
#include "conveyor/storage/producer_state.h"

namespace conveyor::storage {

class Segment;  // internal (src/segment.h)

// What append() did. For a duplicate idempotent batch nothing is appended and the offsets are
// those of the original batch (Kafka answers the retry with the first attempt's offsets).
struct AppendInfo {
  int64_t base_offset = -1;         // offset of the first record appended
  int64_t last_offset = -1;         // offset of the last record appended
  int64_t log_append_time_ms = -1;  // now_ms if message.timestamp.type=LogAppendTime, else -1
  int64_t log_start_offset = 0;     // after the append
  int32_t record_count = 0;         // records appended (0 for a duplicate)
  int32_t batch_count = 0;          // batches appended (0 for a duplicate)
  bool duplicate = false;
};

// What read() returns: whole batches, their bytes copied out of the segment file.
struct ReadResult {
  Bytes records;                    // zero or more whole batches
  int64_t high_watermark = 0;       // at the time of the read
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
};

struct TimestampOffset {
  int64_t timestamp_ms = -1;
  int64_t offset = -1;
};

// Recovery facts the LogManager passes to open().
struct LogOpenOptions {
  // Offset up to which the data is known to be fsync'd (from recovery-point-offset-checkpoint);
  // segments wholly below it are trusted. 0 = unknown: rescan everything.
  int64_t recovery_point = 0;
  // The log dir had a clean-shutdown marker: skip the rescan (indexes are still sanity-checked
  // and rebuilt if broken).
  bool clean_shutdown = false;
  // Log start offset from log-start-offset-checkpoint (advanced by DeleteRecords or retention
  // before the restart); -1 = none: the first segment's base offset. Clamped to the LEO.
  int64_t log_start_offset = -1;
  // The log was compacted at some time (LogManager: it is listed in cleaner-offset-checkpoint):
  // recovery accepts offset gaps between batches even when cleanup.policy no longer says
  // compact (a topic switched from compact to delete keeps the gaps the cleaner left).
  bool may_have_offset_gaps = false;
  // Wall-clock time of the open (ms since the epoch) for producer state expiry: the state
  // rebuilt from the snapshot and the log drops the producers whose last timestamp is
  // producer.id.expiration.ms old by then, so expired state does not come back after a
  // restart. -1 = unknown: nothing expires at open (the first remove_expired_producers call
  // does it). The LogManager passes the system clock.
  int64_t now_ms = -1;
};

// What apply_retention() deleted.
struct RetentionResult {
  std::vector<int64_t> deleted_base_offsets;  // base offsets of the deleted segments, ascending
  int64_t bytes_deleted = 0;                  // bytes of their .log files
  int64_t log_start_offset = 0;               // after
  bool log_start_moved = false;               // the log start offset advanced
};

class PartitionLog {
 public:
  // Opens (creating the directory if missing) and recovers the log in `dir`, whose last path
  // component is `<topic>-<partition>`. Recovery: see README.md. Errors: kafka_storage_error
  // on I/O failure (the message names the file and errno text).
  static Result<std::unique_ptr<PartitionLog>> open(std::string dir, std::string topic,
                                                    int32_t partition, LogConfig config,
                                                    LogOpenOptions options = {});
  ~PartitionLog();
  PartitionLog(const PartitionLog&) = delete;
  PartitionLog& operator=(const PartitionLog&) = delete;

  // Appends every batch of `records` (a Produce request's records field: concatenated
  // RecordBatch v2) or none of them. Per batch: protocol::validate_batch (CRC, record count,
  // sizes), size ≤ max.message.bytes, control batches refused, idempotent sequence checks
  // (producer_state.h), then offsets assigned from the LEO, partition leader epoch set to
  // `leader_epoch`, and with LogAppendTime the timestamps set to now_ms. Rolls the segment at
  // segment.bytes or a full index. fsyncs when flush.messages is reached.
  // Errors: corrupt_message (bad CRC, truncated or trailing bytes, magic != 2, empty blob),
  // invalid_record, unsupported_compression_type, record_list_too_large, message_too_large,
  // invalid_producer_epoch, out_of_order_sequence_number,
  // kafka_storage_error (I/O; the in-memory state is unchanged but the log may hold a torn
  // tail until the next open).
  // If the first idempotent batch checked is a duplicate, nothing is appended and the result
  // has duplicate=true with the original offsets (a duplicate after a non-duplicate batch in
  // the same call is out_of_order_sequence_number).
  Result<AppendInfo> append(ByteView records, int32_t leader_epoch, int64_t now_ms);

  // Reads whole batches starting with the batch that contains `offset` (so the first batch may
  // begin before `offset`, as in Kafka), from one segment, up to `max_bytes` in total
  // (clamped to LogConfig::max_read_bytes). If the first batch alone is larger than max_bytes
  // it is returned whole when `min_one_batch` (KIP-74), else nothing. Batches whose last
  // offset is ≥ `max_offset` (pass the high watermark for consumers, log_end_offset() for
  // followers) are not returned. offset == LEO → empty records.
  // Errors: offset_out_of_range (offset < log start or > LEO), kafka_storage_error,
  // corrupt_message (a header on disk fails its sanity check).
  Result<ReadResult> read(int64_t offset, int32_t max_bytes, int64_t max_offset,
                          bool min_one_batch = true) const;

  // The first offset whose record timestamp is ≥ timestamp_ms, with that record's timestamp
  // (ListOffsets by timestamp, KIP-79): time index, then a scan of batch headers, then the
  // records of the matching batch. nullopt if no record is that late. The special timestamps
  // -1 (latest) and -2 (earliest) are the caller's: use log_end_offset()/log_start_offset().
  Result<std::optional<TimestampOffset>> offset_for_timestamp(int64_t timestamp_ms) const;

  // The first record with the largest timestamp in the log (ListOffsets timestamp -3,
  // KIP-734), from the per-segment max timestamps kept with the time index: no scan of the log.
  // Looks at the whole log up to the LEO. nullopt for an empty log.
  Result<std::optional<TimestampOffset>> max_timestamp_offset() const;

  int64_t log_start_offset() const;
  int64_t log_end_offset() const;
  int64_t high_watermark() const;
  // Clamped to [log_start_offset, log_end_offset].
  void set_high_watermark(int64_t offset);
  // Whether appends set the high watermark to the LEO (default true: single node).
  void set_high_watermark_follows_log_end(bool follows);
  // Offset up to which data is fsync'd.
  int64_t recovery_point() const;

  // fsync every segment with unflushed data (log and indexes) and advance the recovery point.
  Result<void> flush();
  // flush() if the oldest unflushed append is at least flush.ms old (the broker calls it from
  // a timer) or flush.messages is reached.
  Result<void> maybe_flush(int64_t now_ms);

  // Log dir failure (KIP-112). A failed fsync, or a failed write that may have left a torn file
  // (anything but ENOSPC/EDQUOT with the file truncated back), takes the log offline until the
  // next open: every call then fails with kafka_storage_error and flush() never runs again, so
  // nothing is acknowledged after a failed fsync. A full disk keeps the log online (the append
  // fails with kafka_storage_error "no space left ..." and the next one tries again).
  bool offline() const;
  // Takes the log offline (the LogManager does it to every log of a failed dir). No I/O.
  void mark_offline(const std::string& reason);
  // Called (outside the log's mutex, on the failing thread) when this log goes offline by
  // itself, with the error text; the LogManager takes the whole log dir offline.
  void set_io_failure_handler(std::function<void(const std::string&)> handler);
  // Called (outside the mutex) after an append rolled a new segment; the LogManager queues a
  // background flush, so the recovery point follows the rolls as in Kafka.
  void set_roll_handler(std::function<void()> handler);

  // Replaces the configuration (topic config change). Takes effect for the next append/roll.
  void update_config(const LogConfig& config);
  LogConfig config() const;

  // The idempotent state of a producer, if known.
  std::optional<ProducerEntry> producer_entry(int64_t producer_id) const;
  // Producer state expiry (KIP-854, Kafka's removeExpiredProducers): removes the state of every
  // producer id whose last batch's max timestamp is at least LogConfig::producer_id_expiration_ms
  // older than now_ms (wall clock, ms since the epoch); a later batch of such a producer is
  // accepted with any sequence (KIP-360). Snapshots written afterwards do not hold it, and
  // truncate_to() applies the same rule (with the latest now_ms seen) to the state it rebuilds.
  // Returns the number of producer ids removed; 0 for a closed or offline log. In memory only
  // (the partition mutex is held for one walk over the producers).
  size_t remove_expired_producers(int64_t now_ms);

  // Deletes whole segments from the start of the log (Kafka's deleteOldSegments), each one
  // only when it lies wholly below the high watermark and at least one of these holds:
  //   retention.ms ≥ 0 and now_ms - (segment's largest record timestamp) > retention.ms
  //     (segments without timestamps use the time they were created or opened);
  //   retention.bytes ≥ 0 and (log size - bytes already chosen) - segment size ≥ retention.bytes;
  //   the next segment starts at or below the log start offset (DeleteRecords moved it).
  // The active segment is deleted too when it qualifies (a new empty one is rolled first, as
  // Kafka does), so a log never loses its last segment. The log start offset becomes at least
  // the first remaining segment's base offset. Deleted files are renamed `.deleted` under the
  // mutex and unlinked after it; a reader that already holds a segment keeps reading its open
  // files (POSIX keeps unlinked open files readable). Errors: kafka_storage_error.
  Result<RetentionResult> apply_retention(int64_t now_ms);

  // DeleteRecords (KIP-107): moves the log start offset up to `offset` (never down). Records
  // below it are no longer served (reads get offset_out_of_range); whole segments below it are
  // deleted by the next apply_retention(). Returns the log start offset after the call (the
  // "low watermark"). Errors: offset_out_of_range if offset > high watermark or < 0.
  Result<int64_t> advance_log_start_offset(int64_t offset);

  // Removes every record at or after `offset` (follower truncation; also used by tests).
  // Errors: offset_out_of_range if offset < log start.
  Result<void> truncate_to(int64_t offset);

  // Flushes, writes the producer state snapshot, trims preallocated files and closes the files.
  // Further calls fail with kafka_storage_error. Called by the destructor if not called.
  Result<void> close();

  // ---- Compaction support (cleaner.h; README.md "Compaction") ----
  // A consistent copy of the segment list and offsets, taken under the mutex. The last segment
  // is the active one (never cleaned).
  struct SegmentsView {
    std::vector<std::shared_ptr<Segment>> segments;
    std::vector<int64_t> sizes;  // bytes of each segment's whole batches at the time of the view
    int64_t log_start_offset = 0;
    int64_t log_end_offset = 0;
    int64_t high_watermark = 0;
    LogConfig config;
  };
  Result<SegmentsView> segments_view() const;
  // Swaps the cleaned copy of a run of consecutive closed segments in, under the mutex:
  // `cleaned` has the base offset of the first one, its files are `<base>.log.cleaned`,
  // `.index.cleaned`, `.timeindex.cleaned` and are fsync'd. The files are renamed `.cleaned` →
  // `.swap` (the .log last: the commit point) and the directory fsync'd; the other segments of
  // the run are renamed `.deleted` (unlinked after the mutex); the `.swap` files take the first
  // segment's names (replacing its files; open readers keep reading the old ones); the
  // directory is fsync'd. A crash at any point leaves the old run (no `<base>.log.swap`) or the
  // new segment (open() completes a `<base>.log.swap`, deleting the segments it covers).
  // Returns false (nothing changed) when `old_segments` is no longer a run of closed segments
  // of the log (retention or truncation meanwhile). Errors: kafka_storage_error.
  Result<bool> replace_segments(const std::vector<std::shared_ptr<Segment>>& old_segments,
                                const std::shared_ptr<Segment>& cleaned);

  const std::string& dir() const;
  const std::string& topic() const;
  int32_t partition() const;
  // Number of segments (for tests and metrics).
  size_t segment_count() const;
  // Size in bytes of all .log files.
  int64_t size_bytes() const;

 private:
  struct State;
  explicit PartitionLog(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// `<topic>-<partition>` directory name, and its parse (Kafka's Log.parseTopicPartitionName:
// the partition is after the last '-'). nullopt if `name` is not such a name.
std::string partition_dir_name(const std::string& topic, int32_t partition);
struct TopicPartitionName {
  std::string topic;
  int32_t partition = -1;
};
std::optional<TopicPartitionName> parse_partition_dir_name(const std::string& name);

// Segment file name: base offset as 20 decimal digits plus the suffix (".log", ".index", ...).
std::string segment_file_name(int64_t base_offset, const char* suffix);

}  // namespace conveyor::storage
