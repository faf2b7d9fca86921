#pragma once
// The log cleaner: compaction of `cleanup.policy=compact` (and `compact,delete`) partitions
// (Kafka's LogCleaner; KIP-58 min.compaction.lag.ms, KIP-354 max.compaction.lag.ms, KIP-534
// tombstone delete horizon). The rules, the files and the crash safety of the segment swap are
// described in core/storage/README.md, "Compaction".
//
// One pass over one log (clean_log):
//  1. A header scan of the whole log finds each producer's last batch and the transactions
//     (data batches with the transactional bit, closed by a control batch: commit or abort).
//  2. The cleanable range is [first dirty offset, uncleanable end): the uncleanable end is the
//     smallest of the active segment's base offset, the base offset of the first segment that
//     holds a record newer than now - min.compaction.lag.ms, the first offset of a transaction
//     without its marker, and the high watermark.
//  3. A key → latest offset map is built over the cleanable range (bounded by
//     `dedupe_buffer_bytes`; when it fills, the range ends at the last whole batch mapped).
//  4. Every closed segment from the log start up to the end of the mapped range is rewritten,
//     in groups of consecutive segments that fit one segment (segment.bytes, index bounds),
//     into `<base>.log.cleaned` (+ indexes), fsync'd, and swapped in (PartitionLog::
//     replace_segments), in ascending order.
//  5. The first dirty offset becomes the end of the mapped range (the caller checkpoints it in
//     `cleaner-offset-checkpoint`).
//
// A record is removed when a later record has the same key (in the map), when it has no key,
// when it belongs to an aborted transaction, or when it is a tombstone whose batch's delete
// horizon (set the first time a pass rewrites it: now + delete.retention.ms) has passed.
// Offsets never change: a rewritten batch keeps its base offset, last offset delta, producer
// id/epoch, base sequence, partition leader epoch, attributes (codec re-applied) and the
// record timestamps; a batch left without records is dropped unless it is the last batch of
// its producer (then an empty batch header is kept, as Kafka does, so the idempotent producer
// state survives a rebuild from the log).
//
// Thread-safety: clean_log may run concurrently with appends, reads, flushes and retention of
// the same log (it reads closed segments and swaps under the log's mutex); two clean_log calls
// on the same log must not overlap (LogCleaner guarantees it). LogCleaner is thread-safe.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/storage/log.h"

namespace conveyor::storage {

// Broker keys of the cleaner (declared by add_broker_log_config_keys, Kafka's names/defaults).
struct CleanerConfig {
  bool enable = true;                 // log.cleaner.enable
  int32_t threads = 1;                // log.cleaner.threads
  int64_t backoff_ms = 15000;         // log.cleaner.backoff.ms: sleep when nothing is cleanable
  // log.cleaner.dedupe.buffer.size: bytes of all key→offset maps together (split per thread).
  // conveyor's map keeps the whole key (no hash collisions) and counts key bytes + 40 bytes
  // per entry against this bound.
  int64_t dedupe_buffer_size = 128LL * 1024 * 1024;
  // log.cleaner.io.max.bytes.per.second: bytes read plus written by all threads per second.
  double io_max_bytes_per_second = std::numeric_limits<double>::max();
};

// Errors: invalid_config naming the key.
Result<CleanerConfig> make_cleaner_config(const Properties& broker);

// Blocks callers to keep a byte rate (Kafka's Throttler). Thread-safe; stop() wakes sleepers.
class Throttler {
 public:
  explicit Throttler(double bytes_per_second) : rate_(bytes_per_second) {}
  // Accounts `bytes` and sleeps as long as needed to stay at the rate (measured over windows of
  // at least 100 ms). Returns at once after stop().
  void acquire(int64_t bytes);
  void stop();

 private:
  double rate_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
  int64_t window_start_ns_ = -1;
  int64_t window_bytes_ = 0;
};

struct CleanOptions {
  int64_t now_ms = 0;
  int64_t dedupe_buffer_bytes = 128LL * 1024 * 1024;  // bound of the key→offset map
  // Clean even when the dirty ratio and max.compaction.lag.ms do not ask for it (tests, the
  // forced pass). min.compaction.lag.ms and the other bounds still apply.
  bool force = false;
  Throttler* throttler = nullptr;              // optional
  const std::atomic<bool>* stop = nullptr;     // optional: abandon the pass (nothing is lost)
};

struct CleanResult {
  bool cleaned = false;            // segments were rewritten
  std::string skipped;             // why nothing was done (empty when cleaned)
  int64_t first_dirty_offset = 0;  // after the pass (checkpoint this)
  int64_t segments_cleaned = 0;
  int64_t bytes_read = 0;          // .log bytes of the rewritten segments (plus the map scan)
  int64_t bytes_before = 0;        // .log bytes of the rewritten segments before
  int64_t bytes_after = 0;         // ... and after
  int64_t records_removed = 0;
  int64_t tombstones_removed = 0;
  double dirty_ratio = 0;          // before the pass
};

// One cleaning pass over `log` if it is compacted (cleanup.policy contains compact) and
// cleanable (ratio, lags), starting the dirty part at `first_dirty_offset` (clamped to the
// log; pass 0 or the checkpointed value). Errors: kafka_storage_error (I/O; the log stays
// consistent: a failed pass leaves only `.cleaned` files, removed by the next pass or open),
// corrupt_message (a batch on disk fails to decode: the segment is left as it is).
Result<CleanResult> clean_log(PartitionLog& log, int64_t first_dirty_offset, const CleanOptions& options);

// cleaner-offset-checkpoint (Kafka's file name, same text format as the recovery point
// checkpoint): per log dir, the first dirty offset of each compacted log.
inline constexpr const char* kCleanerOffsetCheckpoint = "cleaner-offset-checkpoint";

// The background cleaner: `log.cleaner.threads` threads that repeatedly pick the compacted log
// with the highest dirty ratio that is cleanable, clean it, and checkpoint the first dirty
// offsets; they sleep log.cleaner.backoff.ms when nothing is cleanable.
class LogCleaner {
 public:
  struct LogRef {
    std::string log_dir;  // the log dir holding the partition (for the checkpoint file)
    std::shared_ptr<PartitionLog> log;
  };
  using ListLogs = std::function<std::vector<LogRef>()>;

  // Reads the checkpoint files of `log_dirs` (an unreadable one is ignored: logs restart
  // from offset 0, which is only slower). Does not start threads.
  LogCleaner(CleanerConfig config, std::vector<std::string> log_dirs, ListLogs list_logs);
  ~LogCleaner();  // stop()

  void start();  // the threads (no-op when config.enable is false or already started)
  void stop();   // wakes and joins the threads; a running pass is abandoned safely

  // One pass over every compacted log now, on the caller's thread (tests, forced cleaning):
  // force = ignore the dirty ratio. Returns the number of logs cleaned. Errors: the first
  // error (every log is still tried).
  Result<int32_t> clean_all_now(int64_t now_ms, bool force);
  // Wakes the threads (e.g. after a config change).
  void wake();

  // The checkpointed first dirty offset of a log (0 if none).
  int64_t first_dirty_offset(const std::string& topic, int32_t partition) const;
  // Forgets a deleted partition (its checkpoint entry is dropped at the next write).
  void forget(const std::string& topic, int32_t partition);

 private:
  void run_thread();
  // Cleans one log; `in_progress_` keeps two threads off the same log.
  Result<bool> clean_one(const LogRef& ref, int64_t now_ms, bool force);
  Result<void> write_checkpoints();

  CleanerConfig config_;
  std::vector<std::string> log_dirs_;
  ListLogs list_logs_;
  Throttler throttler_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool wake_ = false;
  std::map<std::pair<std::string, int32_t>, std::pair<std::string, int64_t>> checkpoints_;  // → log dir, offset
  std::vector<std::pair<std::string, int32_t>> in_progress_;
  std::mutex checkpoint_write_mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace conveyor::storage
