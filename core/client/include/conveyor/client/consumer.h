#pragma once
// conveyor's Kafka consumer with manual partition assignment (groups come later: a group
// membership layer will call assign()/seek() when partitions are assigned or revoked).
// A background fetcher sends Fetch requests to each partition's leader and prefetches
// records into a bounded queue; poll()/consume() take from that queue.
//
// Configuration (Kafka's consumer property names):
//   bootstrap.servers            host:port[,...] (required)
//   client.id                    default "conveyor"
//   group.id                     accepted; used by group membership (next issue)
//   auto.offset.reset            earliest | latest | none (default latest); none makes poll()
//                                fail with offset_out_of_range / local_state
//   fetch.min.bytes              default 1
//   fetch.max.wait.ms            default 500
//   fetch.max.bytes              default 52428800
//   max.partition.fetch.bytes    default 1048576
//   max.poll.records             default 500 (largest batch consume() returns; poll() returns one)
//   isolation.level              read_uncommitted | read_committed (default read_uncommitted)
//   check.crcs                   default true
//   queued.max.messages.kbytes   prefetch queue limit in KiB, default 65536
//   request.timeout.ms           default 30000
//   metadata.max.age.ms          default 300000
//   reconnect.backoff.ms         default 50
//   socket.connection.setup.timeout.ms default 10000
// Accepted and ignored: see core/client/README.md. Unknown keys → invalid_config.
//
// Threading: every method is safe to call from any thread, but poll()/consume() are meant
// for one consuming thread at a time. wakeup() is the call for another thread.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/client/types.h"

namespace conveyor::client {

class Consumer {
 public:
  static const ConfigSchema& config_schema();

  // Validates the configuration and starts the fetcher thread. Errors: invalid_config.
  static Result<std::unique_ptr<Consumer>> create(const Properties& config);

  // Replaces the whole assignment (Kafka's assign(), not incremental). Each offset is >= 0,
  // kOffsetBeginning, kOffsetEnd, or kOffsetInvalid (use auto.offset.reset). Records already
  // prefetched for partitions no longer assigned are dropped. An empty vector unassigns all.
  // Errors: local_invalid_arg (empty topic, negative partition, offset < -2 and not -1001),
  // local_state (closed).
  Result<void> assign(const std::vector<TopicPartitionOffset>& partitions);
  std::vector<TopicPartition> assignment() const;

  // Moves the position of an assigned partition; offset as in assign(). Prefetched records
  // of that partition are discarded. Errors: local_unknown_partition if not assigned.
  Result<void> seek(const TopicPartition& tp, int64_t offset);

  // Next record, waiting up to timeout_ms (0 = no wait, -1 = forever). std::nullopt when
  // nothing arrived in time or wakeup() was called. Errors: offset_out_of_range when
  // auto.offset.reset=none and a position is out of range; fatal fetch errors (e.g.
  // corrupt_message with check.crcs, topic_authorization_failed); local_state after close().
  Result<std::optional<ConsumerRecord>> poll(int timeout_ms);

  // Up to max_records (capped by max.poll.records) records, waiting up to timeout_ms for the
  // first; returns what is ready then (possibly empty). Errors as poll().
  Result<std::vector<ConsumerRecord>> consume(size_t max_records, int timeout_ms);

  // Offset of the next record poll() returns for tp. Errors: local_unknown_partition if not
  // assigned; local_state if the position is not yet known (reset pending) after timeout_ms.
  Result<int64_t> position(const TopicPartition& tp, int timeout_ms = 0);

  // (low, high): log start offset and high watermark (ListOffsets -2 / -1; with
  // read_committed the high end is the last stable offset). Asks the leader.
  // Errors: local_timed_out, unknown_topic_or_partition, broker errors.
  Result<std::pair<int64_t, int64_t>> watermark_offsets(const TopicPartition& tp, int timeout_ms);

  // Earliest offset whose timestamp is >= timestamp_ms (ListOffsets v1+ by timestamp, KIP-79);
  // -1 if none (the caller may then use the end offset). Errors as watermark_offsets().
  Result<int64_t> offset_for_time(const TopicPartition& tp, int64_t timestamp_ms, int timeout_ms);

  // Makes a poll()/consume() blocked in another thread return at once (empty). Thread-safe.
  void wakeup();

  // Stops the fetcher and drops prefetched records. Idempotent; the destructor calls it.
  void close();
  ~Consumer();

  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  struct Impl;

 private:
  explicit Consumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor::client
