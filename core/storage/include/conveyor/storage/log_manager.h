#pragma once
// LogManager: every partition log of a broker across its log dirs (Kafka's `log.dirs`).
//
// Per log dir it keeps Kafka's files:
//   recovery-point-offset-checkpoint   text: "0\n<count>\n<topic> <partition> <offset>\n..."
//   log-start-offset-checkpoint        same format: log start offsets moved by DeleteRecords or
//                                      retention (only logs whose start is above their first
//                                      segment's base offset), read on open
//   .kafka_cleanshutdown               present only between a clean close() and the next open
// and per partition dir:
//   partition.metadata                 text: "version: 0\ntopic_id: <base64url topic id>\n"
//   topic-config.properties            conveyor's own: the topic's config overrides (Java
//                                      properties text), so a restart rebuilds the LogConfig
// A deleted partition is renamed to `<topic>-<partition>.<32 hex>-delete` and removed; such
// directories left by a crash are removed on open. New partitions go to the log dir holding
// the fewest partitions.
//
// Thread-safety: all methods are thread-safe (one mutex over the partition map; each
// PartitionLog has its own). Returned shared_ptrs stay valid after delete_partition (the files
// are gone, further appends fail with kafka_storage_error).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/protocol/codec.h"
#include "conveyor/storage/group_commit.h"
#include "conveyor/storage/log.h"
#include "conveyor/storage/log_config.h"

namespace conveyor::storage {

class LogCleaner;  // cleaner.h

using TopicId = protocol::Uuid;

struct PartitionInfo {
  int32_t partition = -1;
  std::shared_ptr<PartitionLog> log;
};

struct TopicInfo {
  std::string name;
  TopicId topic_id{};
  Properties config_overrides;            // as given to create_partition
  std::vector<PartitionInfo> partitions;  // sorted by partition
};

class LogManager {
 public:
  // Opens every dir of `log_dirs` (created if missing), removes leftover `-delete` dirs and
  // loads every `<topic>-<partition>` dir found, recovering each log (README.md "Recovery";
  // producer state that expired by the system clock, producer.id.expiration.ms, is dropped).
  // `broker_properties` gives the broker-wide log defaults (make_log_config). A partition dir
  // without a readable partition.metadata is loaded with a zero topic id and a warning.
  // Errors: kafka_storage_error (a dir cannot be created or read), invalid_config, and the
  // same partition present in two log dirs (kafka_storage_error).
  static Result<std::unique_ptr<LogManager>> open(std::vector<std::string> log_dirs,
                                                  Properties broker_properties);
  ~LogManager();

  // Creates partition `partition` of `topic` (directory, metadata, empty log) or returns the
  // existing one if it has the same topic id. Errors: invalid_topic_exception (name empty,
  // ".", "..", longer than 249 or outside [a-zA-Z0-9._-]), invalid_config (bad overrides),
  // topic_already_exists (exists with another topic id), kafka_storage_error.
  Result<std::shared_ptr<PartitionLog>> create_partition(const std::string& topic,
                                                         int32_t partition,
                                                         const TopicId& topic_id,
                                                         const Properties& config_overrides = {});

  // The log of a partition, or nullptr.
  std::shared_ptr<PartitionLog> get(const std::string& topic, int32_t partition) const;

  // Closes and deletes one partition / every partition of a topic (rename to -delete, then
  // remove). Errors: unknown_topic_or_partition, kafka_storage_error.
  Result<void> delete_partition(const std::string& topic, int32_t partition);
  Result<void> delete_topic(const std::string& topic);

  // Every topic with its id, overrides and partitions, sorted by name.
  std::vector<TopicInfo> topics() const;
  std::optional<TopicInfo> topic(const std::string& name) const;

  // Changes a topic's overrides (persisted) and updates its partitions' LogConfig: validates
  // (invalid_config naming the key), rewrites topic-config.properties of every partition
  // atomically (removes it for an empty set), then PartitionLog::update_config on each. The
  // files are written outside the partition map's mutex; callers serialise changes of one
  // topic (the broker's TopicManager does). Errors: unknown_topic_or_partition,
  // invalid_config, kafka_storage_error.
  Result<void> alter_topic_config(const std::string& topic, const Properties& config_overrides);

  // flush() every partition, then write the recovery point checkpoints.
  Result<void> flush_all();
  // maybe_flush(now_ms) every partition (call from a timer, e.g. every second, and at least
  // as often as the smallest flush.ms you want honoured); checkpoints recovery points when
  // any recovery point moved since the last checkpoint (flush.messages flushes included).
  Result<void> maybe_flush_all(int64_t now_ms);
  // Writes recovery-point-offset-checkpoint of every log dir (atomically).
  Result<void> checkpoint_recovery_points();
  // Writes log-start-offset-checkpoint of every log dir (atomically).
  Result<void> checkpoint_log_start_offsets();

  struct RetentionTotals {
    int32_t partitions_changed = 0;
    int32_t segments_deleted = 0;
    int64_t bytes_deleted = 0;
  };
  // PartitionLog::apply_retention(now_ms) on every partition (call from a timer every
  // log.retention.check.interval.ms, off the request path), then checkpoints the log start
  // offsets if any moved. Errors: the first kafka_storage_error (every log is still tried).
  Result<RetentionTotals> apply_retention_all(int64_t now_ms);

  // Producer state expiry (KIP-854): PartitionLog::remove_expired_producers(now_ms) on every
  // partition of the online log dirs (call from a timer every
  // producer.id.expiration.check.interval.ms; now_ms is wall-clock ms since the epoch).
  // Returns the number of producer ids removed over all partitions. In memory only.
  int64_t remove_expired_producers_all(int64_t now_ms);

  // DeleteRecords for one partition: PartitionLog::advance_log_start_offset, then the log start
  // checkpoint is written before returning, so a restart keeps the new start. Returns the low
  // watermark. Errors: unknown_topic_or_partition, offset_out_of_range, kafka_storage_error.
  Result<int64_t> delete_records(const std::string& topic, int32_t partition, int64_t offset);

  // ---- Durability: group commit and log dir failure (KIP-112) ----

  // Durable mode (LogConfig::fsync_before_ack): calls `done` once `log` is fsync'd up to
  // `offset` (last appended offset + 1), or with kafka_storage_error if the fsync failed, the
  // log is not hosted here or the manager is closing. The log dir's GroupCommitFlusher thread
  // runs the fsync and the callback; appends queued while an fsync runs share the next one.
  void commit_async(const std::shared_ptr<PartitionLog>& log, int64_t offset, GroupCommitFlusher::Done done);
  // fsync rounds of a log dir's flusher so far (tests, metrics); -1 for an unknown dir.
  int64_t group_commit_rounds(const std::string& log_dir) const;

  // Takes a log dir offline: every partition in it answers kafka_storage_error from now on
  // (PartitionLog::mark_offline), no checkpoint or clean-shutdown marker is written there, and
  // new partitions go to the other dirs. Called by a log of the dir when an fsync or a write
  // fails (PartitionLog::set_io_failure_handler) and when a checkpoint write fails with
  // anything but a full disk. Stays offline until the broker restarts. Logs an error naming
  // the dir and the cause.
  void mark_log_dir_offline(const std::string& log_dir, const std::string& reason);
  bool log_dir_online(const std::string& log_dir) const;
  std::vector<std::string> offline_log_dirs() const;
  // The log dir holding a partition ("" if unknown).
  std::string log_dir_of(const std::string& topic, int32_t partition) const;

  // Closes every log, writes the checkpoints and the clean-shutdown markers. Idempotent.
  Result<void> close();

  const std::vector<std::string>& log_dirs() const { return log_dirs_; }

  // ---- The log cleaner (cleaner.h) ----
  // Starts the cleaner threads configured by the broker's log.cleaner.* keys (nothing runs
  // when log.cleaner.enable=false). close() stops them first. Errors: invalid_config.
  Result<void> start_cleaner();
  // One cleaning pass over every compacted log now, on the caller's thread (force = ignore
  // min.cleanable.dirty.ratio and max.compaction.lag.ms; min.compaction.lag.ms still holds).
  // Returns the number of logs cleaned. Errors: invalid_config, the first failure of a log.
  Result<int32_t> clean_now(int64_t now_ms, bool force = true);

 private:
  Result<LogCleaner*> cleaner_locked();  // created on first use (cleaner_mutex_ held)
  std::mutex cleaner_mutex_;
  std::unique_ptr<LogCleaner> cleaner_;

  struct Entry {
    std::string log_dir;
    TopicId topic_id{};
    Properties overrides;
    std::shared_ptr<PartitionLog> log;
  };
  LogManager(std::vector<std::string> log_dirs, Properties broker_properties);
  // Installs the failure and roll handlers of a log of `log_dir`.
  void attach(const std::string& log_dir, const std::shared_ptr<PartitionLog>& log);
  // Relays log callbacks to this manager while it exists (logs may outlive it).
  struct Relay {
    std::mutex mutex;
    LogManager* owner = nullptr;
  };
  std::shared_ptr<Relay> relay_ = std::make_shared<Relay>();
  std::map<std::string, std::unique_ptr<GroupCommitFlusher>> flushers_;  // per log dir, fixed after open
  std::set<std::string> offline_dirs_;  // guarded by mutex_

  std::vector<std::string> log_dirs_;
  Properties broker_properties_;
  mutable std::mutex mutex_;
  std::mutex log_start_checkpoint_mutex_;  // serialises writers of log-start-offset-checkpoint
  std::map<std::pair<std::string, int32_t>, Entry> partitions_;
  // Recovery points as last written to the checkpoint files.
  std::map<std::pair<std::string, int32_t>, int64_t> checkpointed_;
  bool closed_ = false;
};

// Topic name rules (Kafka's Topic.validate): 1..249 chars of [a-zA-Z0-9._-], not "." or "..".
Result<void> validate_topic_name(const std::string& name);

// partition.metadata text and its parse (errors: corrupt_message).
std::string format_partition_metadata(const TopicId& topic_id);
Result<TopicId> parse_partition_metadata(std::string_view text);

// Kafka's Uuid text form: URL-safe base64 without padding (22 chars).
std::string topic_id_to_string(const TopicId& id);
std::optional<TopicId> topic_id_from_string(std::string_view text);

// recovery-point-offset-checkpoint style files: version 0, count, "topic partition offset".
struct CheckpointEntry {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = 0;
};
std::string format_offset_checkpoint(const std::vector<CheckpointEntry>& entries);
// Errors: corrupt_message (bad version, count mismatch, malformed line) — a torn checkpoint.
Result<std::vector<CheckpointEntry>> parse_offset_checkpoint(std::string_view text);

}  // namespace conveyor::storage
