#pragma once
// conveyor's Kafka consumer: manual partition assignment (assign) or consumer group
// membership with Kafka's classic group protocol (subscribe). A background fetcher sends
// Fetch requests to each partition's leader and prefetches records into a bounded queue;
// poll()/consume() take from that queue. Group membership (FindCoordinator, JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup) runs on the same background thread; rebalance and commit
// callbacks run only inside poll()/consume()/close() on the caller's thread (DESIGN.md §5).
//
// Configuration (Kafka's consumer property names):
//   bootstrap.servers            host:port[,...] (required)
//   client.id                    default "conveyor"
//   group.id                     consumer group; needed by subscribe() and commits
//   group.instance.id            static membership (KIP-345): no LeaveGroup on close
//   group.protocol               classic (the only one; KIP-848's "consumer" is refused)
//   session.timeout.ms           default 45000
//   heartbeat.interval.ms        default 3000 (must be < session.timeout.ms)
//   max.poll.interval.ms         default 300000; also the rebalance timeout sent in JoinGroup.
//                                A member that does not poll for this long leaves the group and
//                                rejoins (getting partitions again) only when it polls again.
//   partition.assignment.strategy  comma list in preference order: range, roundrobin,
//                                cooperative-sticky (or Java class names); default
//                                "range,cooperative-sticky" (Java 3.x+). The cooperative
//                                protocol (KIP-429) is used only if every entry supports it.
//   enable.auto.commit           default true: inside poll(), every auto.commit.interval.ms,
//                                commit the positions (records returned by EARLIER polls);
//                                also before revocation and on close
//   auto.commit.interval.ms      default 5000
//   exclude.internal.topics      default true: patterns never match internal topics
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
//   metadata.max.age.ms          default 300000 (also how often a pattern is re-matched)
//   reconnect.backoff.ms         default 50
//   socket.connection.setup.timeout.ms default 10000
// Accepted and ignored: see core/client/README.md. Unknown keys → invalid_config.
//
// Threading: every method is safe to call from any thread, but poll()/consume() are meant
// for one consuming thread at a time. wakeup() is the call for another thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <optional>
#include <utility>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/client/types.h"

namespace conveyor::client {

// Kafka's commitSync / commitAsync.
enum class CommitMode { sync, async };

// Rebalance callbacks (Java's ConsumerRebalanceListener), run inside poll()/consume()/close()/
// unsubscribe() on the caller's thread, never with a lock held: they may call any Consumer
// method (commit, seek, position, ...).
//   on_revoked: partitions given up in a rebalance; runs BEFORE they leave the assignment, so
//               their positions can still be committed. Eager protocols: every owned partition
//               before each rebalance; cooperative: only the ones that move.
//   on_assigned: partitions added by a rebalance (possibly none: it runs after every
//               rebalance, as Java's); positions start at the committed offsets, or
//               auto.offset.reset; seek() inside the callback overrides.
//   on_lost:    the generation was lost (session expired, UNKNOWN_MEMBER_ID,
//               ILLEGAL_GENERATION, max.poll.interval.ms exceeded, fenced): the partitions may
//               already belong to someone else, nothing is committed. Unset: on_revoked runs.
struct RebalanceCallbacks {
  std::function<void(const std::vector<TopicPartition>&)> on_assigned;
  std::function<void(const std::vector<TopicPartition>&)> on_revoked;
  std::function<void(const std::vector<TopicPartition>&)> on_lost;
};

// Outcome of an asynchronous commit (and of auto-commits), run inside poll()/consume()/close().
// error.code == ErrorCode::none on success; offsets are the ones that were sent.
using CommitCallback = std::function<void(const Error& error, const std::vector<TopicPartitionOffset>& offsets)>;

class Consumer {
 public:
  static const ConfigSchema& config_schema();

  // Validates the configuration and starts the fetcher thread. Errors: invalid_config.
  static Result<std::unique_ptr<Consumer>> create(const Properties& config);

  // ---- consumer groups (Kafka's classic group protocol) ----

  // Joins group.id subscribed to these topics (replaces an earlier subscription); partitions
  // come from the group's assignor. The join happens in the background; assignments are
  // applied (and callbacks run) inside poll(). Errors: invalid_group_id (no group.id),
  // local_invalid_arg (empty list or empty name), local_state (partitions assigned manually —
  // assign({}) first — or closed). Thread-safe.
  Result<void> subscribe(const std::vector<std::string>& topics, RebalanceCallbacks callbacks = {});
  // Subscribes to every topic whose whole name matches the ECMAScript regular expression
  // (Java's Pattern.matches semantics); the cluster's topic list is re-read every
  // metadata.max.age.ms and a change of the matching set rejoins the group. Errors as
  // subscribe(), plus local_invalid_arg for a bad expression.
  Result<void> subscribe_pattern(const std::string& regex, RebalanceCallbacks callbacks = {});
  // Commits (if enable.auto.commit), runs on_revoked for the owned partitions, leaves the
  // group (LeaveGroup, unless static) and clears the assignment. No-op if not subscribed.
  Result<void> unsubscribe();
  // Subscribed topic names (for a pattern: the topics it matches now); empty if not subscribed.
  std::vector<std::string> subscription() const;
  // Group member id and generation (-1 / "" when not a member right now).
  std::string member_id() const;
  int32_t generation() const;

  // Callback for async commits and auto-commits (replaces the previous one).
  void set_commit_callback(CommitCallback callback);

  // Commits `offsets` (each = offset of the NEXT record to consume, Kafka convention) for the
  // consumer's group; an empty vector commits the current positions of all assigned partitions.
  // sync: waits up to timeout_ms (-1 = request.timeout.ms) for the broker's answer;
  // async: returns at once, outcome reported through the commit callback inside poll.
  // Uses the member's generation and member id when subscribed; generation -1 and an empty
  // member id with manual assignment (Kafka allows both). Errors: invalid_group_id (no
  // group.id), local_invalid_arg (offset < 0, empty topic), local_timed_out, the broker's
  // per-partition error (e.g. illegal_generation, unknown_member_id — the member then rejoins —,
  // rebalance_in_progress: commit again after the rebalance), local_state (closed).
  // Kafka source: OffsetCommit v2-9, KafkaConsumer.commitSync/commitAsync.
  Result<void> commit(const std::vector<TopicPartitionOffset>& offsets, CommitMode mode = CommitMode::sync,
                      int timeout_ms = -1);
  // Committed offsets of the group (OffsetFetch v1-9, require_stable); offset -1 if none; the
  // committed metadata string and leader epoch are returned too. Errors: invalid_group_id,
  // local_timed_out, broker errors.
  Result<std::vector<TopicPartitionOffset>> committed(const std::vector<TopicPartition>& partitions, int timeout_ms);
  // High watermark (last stable offset with read_committed, via ListOffsets) minus the
  // position, >= 0. Errors: as position() and watermark_offsets().
  Result<int64_t> lag(const TopicPartition& tp, int timeout_ms);

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

  // ---- flow control (Java's KafkaConsumer.pause/resume/paused; librdkafka's
  // rd_kafka_pause_partitions/rd_kafka_resume_partitions) ----

  // Stops fetching these assigned partitions: poll()/consume() return no record of theirs
  // until resume(), and their positions stay where the application's last record left them.
  // Records already prefetched for them are dropped (never returned, never lost: they are
  // fetched again from the position after resume(), as librdkafka does), which also frees
  // their room in the prefetch queue for the partitions still consuming. Group membership,
  // heartbeats, commits, seek() and position() go on as usual; keep calling poll() so
  // max.poll.interval.ms is not exceeded. A partition stays paused across seek() and across
  // an assign() that keeps it; a partition that leaves the assignment (assign(), a rebalance's
  // revocation or loss, unsubscribe()) loses its pause, so after an eager rebalance every
  // partition comes back unpaused, while under cooperative-sticky the partitions a member keeps
  // stay paused. Pausing a paused partition, or an empty list, is a no-op.
  // Errors: local_state "no current assignment for partition <topic>-<partition>" if any of
  // them is not assigned now (nothing is changed then), local_state (closed). Thread-safe,
  // like the other methods (callable from rebalance callbacks).
  Result<void> pause(const std::vector<TopicPartition>& partitions);
  // Fetching of these partitions restarts at their positions. Resuming a partition that is not
  // paused is a no-op. Errors and thread-safety as pause().
  Result<void> resume(const std::vector<TopicPartition>& partitions);
  // The assigned partitions that are paused now, sorted by topic then partition. Thread-safe.
  std::vector<TopicPartition> paused() const;

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

  // Commits (enable.auto.commit), runs on_revoked, leaves the group (unless static), then stops
  // the fetcher and drops prefetched records. Idempotent; the destructor calls it.
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
