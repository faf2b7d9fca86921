#pragma once
// Hands out idempotent producer ids (InitProducerId, KIP-98). Ids are reserved on disk in
// blocks: the file `<log dir>/conveyor-producer-id-block` holds the first id of the next
// unreserved block, written (atomically, fsync'd) before any id of the current block is
// handed out, so a restart — clean or not — never hands out an id twice. At most one block
// is lost per restart.
//
// Thread-safety: all methods are thread-safe.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "conveyor/base/result.h"

namespace conveyor::broker {

inline constexpr const char* kProducerIdBlockFile = "conveyor-producer-id-block";

class ProducerIdManager {
 public:
  // Reads the block file in `log_dir` (missing: start at 0). Errors: kafka_storage_error,
  // corrupt_message (unparsable file).
  static Result<std::unique_ptr<ProducerIdManager>> open(const std::string& log_dir, int32_t block_size);

  // The next unused producer id. Errors: kafka_storage_error if the next block cannot be
  // persisted (no id is handed out then).
  Result<int64_t> next_id();

 private:
  ProducerIdManager(std::string path, int64_t next, int32_t block_size)
      : path_(std::move(path)), next_(next), block_end_(next), block_size_(block_size) {}

  std::string path_;
  std::mutex mutex_;
  int64_t next_;
  int64_t block_end_;  // exclusive; ids in [next_, block_end_) are reserved on disk
  int32_t block_size_;
};

}  // namespace conveyor::broker
