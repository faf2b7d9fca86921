#include "conveyor/storage/group_commit.h"

#include <algorithm>

#include <fmt/format.h>

#include "conveyor/base/thread_name.h"

namespace conveyor::storage {

GroupCommitFlusher::GroupCommitFlusher(std::string log_dir) : log_dir_(std::move(log_dir)) {
  thread_ = std::thread([this] {
    set_current_thread_name("cv-fsync");
    run();
  });
}

GroupCommitFlusher::~GroupCommitFlusher() { stop(); }

void GroupCommitFlusher::request(std::shared_ptr<PartitionLog> log, int64_t offset, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(Waiter{std::move(log), offset, std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  if (done) done(fail(ErrorCode::kafka_storage_error, fmt::format("log dir {} is shutting down", log_dir_)));
}

int64_t GroupCommitFlusher::rounds() const {
  std::lock_guard lock(mutex_);
  return rounds_;
}

void GroupCommitFlusher::stop() {
  std::vector<Waiter> left;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  {
    std::lock_guard lock(mutex_);
    left.swap(queue_);
  }
  for (auto& w : left)
    if (w.done) w.done(fail(ErrorCode::kafka_storage_error, fmt::format("log dir {} is shutting down", log_dir_)));
}

void GroupCommitFlusher::run() {
  std::vector<Waiter> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;  // stop() completes what is left
      batch.swap(queue_);
      ++rounds_;
    }
    // One flush per distinct log; everything queued before it started shares it.
    std::vector<std::pair<PartitionLog*, Result<void>>> results;
    for (const auto& w : batch) {
      PartitionLog* log = w.log.get();
      if (std::any_of(results.begin(), results.end(), [log](const auto& r) { return r.first == log; })) continue;
      results.emplace_back(log, log->flush());
    }
    for (auto& w : batch) {
      if (!w.done) continue;
      auto it = std::find_if(results.begin(), results.end(), [&](const auto& r) { return r.first == w.log.get(); });
      if (!it->second) {
        w.done(fail(it->second.error()));
      } else if (w.log->recovery_point() < w.offset) {
        // Truncated below the offset meanwhile (not on a single node's produce path).
        w.done(fail(ErrorCode::kafka_storage_error,
                    fmt::format("{}: offset {} is no longer in the log", w.log->dir(), w.offset - 1)));
      } else {
        w.done({});
      }
    }
    batch.clear();
  }
}

}  // namespace conveyor::storage
