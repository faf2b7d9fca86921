#pragma once
// GroupCommitFlusher: the fsync thread of one log dir (durability; conveyor's own, Kafka has no
// fsync-before-acknowledge mode). Callers queue "tell me when `log` is fsync'd up to `offset`";
// the thread takes everything queued, calls PartitionLog::flush() once per distinct log, and
// completes every waiter whose offset is now below the log's recovery point. Requests that
// arrive while an fsync runs queue behind it and share the next one (group commit), so many
// producers' batches cost one fsync per partition per round. A flush failure completes the
// waiters of that log with the error (the log is then offline: PartitionLog::flush never
// retries a failed fsync). Also used for the background flush after a segment roll.
//
// The queue is bounded by the callers: the broker keeps at most one request in flight per
// connection (max.connections), each with at most one waiter per partition it wrote.
//
// Thread-safety: every method is thread-safe. Callbacks run on the flusher thread (or on the
// stopping thread for the waiters still queued at stop(), which get kafka_storage_error).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "conveyor/base/result.h"
#include "conveyor/storage/log.h"

namespace conveyor::storage {

class GroupCommitFlusher {
 public:
  using Done = std::function<void(Result<void>)>;

  explicit GroupCommitFlusher(std::string log_dir);
  ~GroupCommitFlusher();  // stop()
  GroupCommitFlusher(const GroupCommitFlusher&) = delete;
  GroupCommitFlusher& operator=(const GroupCommitFlusher&) = delete;

  // Calls `done` once `log`'s recovery point is >= `offset` (offset = last appended offset + 1),
  // or with the flush error. `done` may be empty (a background flush). After stop(), `done`
  // runs at once with kafka_storage_error.
  void request(std::shared_ptr<PartitionLog> log, int64_t offset, Done done);

  // fsync rounds so far (each round flushes every log queued for it once); for tests/metrics.
  int64_t rounds() const;

  // Completes the queued waiters with kafka_storage_error and joins the thread. Idempotent.
  void stop();

 private:
  struct Waiter {
    std::shared_ptr<PartitionLog> log;
    int64_t offset = 0;
    Done done;
  };
  void run();

  std::string log_dir_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Waiter> queue_;
  bool stopping_ = false;
  int64_t rounds_ = 0;
  std::thread thread_;
};

}  // namespace conveyor::storage
