#pragma once
// Per-partition log configuration with Kafka's names. The broker-wide default of each
// topic-level key is the broker key in brackets (Kafka's "Broker Configs"/"Topic Configs").
//
// Thread-safety: plain value type.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/protocol/record_batch.h"

namespace conveyor::storage {

struct LogConfig {
  // segment.bytes [log.segment.bytes]: roll to a new segment before the .log passes this size.
  int64_t segment_bytes = int64_t{1} << 30;
  // segment.index.bytes [log.index.size.max.bytes]: max size of a .index (and bound of the
  // .timeindex at 12/8 of it); a full index rolls the segment. Max entries = this / 8.
  int64_t segment_index_bytes = 10 * 1024 * 1024;
  // index.interval.bytes [log.index.interval.bytes]: bytes of batches between index entries.
  int64_t index_interval_bytes = 4096;
  // flush.messages [log.flush.interval.messages]: fsync after this many appended records.
  int64_t flush_messages = INT64_MAX;
  // flush.ms [log.flush.interval.ms, else log.flush.scheduler.interval.ms]: fsync when the
  // oldest unflushed append is this old (checked by PartitionLog::maybe_flush).
  int64_t flush_ms = INT64_MAX;
  // max.message.bytes [message.max.bytes]: largest record batch accepted on append (bytes of
  // the whole batch as on the wire).
  int32_t max_message_bytes = 1048588;
  // message.timestamp.type [log.message.timestamp.type]: CreateTime or LogAppendTime.
  protocol::TimestampType message_timestamp_type = protocol::TimestampType::create_time;
  // preallocate [log.preallocate]: extend a new segment file to segment.bytes up front.
  bool preallocate = false;
  // segment.ms [log.roll.ms / log.roll.hours]: roll the active segment before an append whose
  // max timestamp is more than this after the segment's first batch's max timestamp (Kafka's
  // rollingBasedTimestamp; a segment whose batches carry no timestamp uses its creation time
  // against now). No log.roll.jitter.ms.
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;
  // retention.ms [log.retention.ms > .minutes > .hours]: delete a closed segment once its
  // largest record timestamp is older than this (PartitionLog::apply_retention); -1 = forever.
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;
  // retention.bytes [log.retention.bytes]: per partition, delete the oldest segments while the
  // log stays at least this big without them; -1 = unlimited.
  int64_t retention_bytes = -1;
  // cleanup.policy [log.cleanup.policy]: "delete" (retention by time/size), "compact" (the log
  // cleaner keeps the latest record per key, cleaner.h) or "compact,delete" (both).
  std::string cleanup_policy = "delete";

  // conveyor.fsync.before.ack [conveyor.log.fsync.before.ack] — conveyor's own key (Kafka has
  // none): durable mode. Produce answers for acks=1/-1 wait until the appended batches are
  // fsync'd; the log dir's group-commit flusher shares one fsync among every append that
  // arrived while the previous one ran (LogManager::commit_async).
  bool fsync_before_ack = false;
  // Compaction (cleaner.h; Kafka's topic configs, broker defaults in brackets).
  // delete.retention.ms [log.cleaner.delete.retention.ms]: how long a tombstone (null value)
  // or a transaction marker stays after the cleaner first saw it (KIP-534 delete horizon).
  int64_t delete_retention_ms = 24LL * 3600 * 1000;
  // min.cleanable.dirty.ratio [log.cleaner.min.cleanable.ratio]: a log is cleaned when its
  // dirty bytes / (clean + dirty) bytes reach this (0..1).
  double min_cleanable_dirty_ratio = 0.5;
  // min.compaction.lag.ms [log.cleaner.min.compaction.lag.ms]: segments holding a record newer
  // than this are not cleaned (KIP-58).
  int64_t min_compaction_lag_ms = 0;
  // max.compaction.lag.ms [log.cleaner.max.compaction.lag.ms]: a log whose dirty part is older
  // than this is cleaned even below the ratio (KIP-354).
  int64_t max_compaction_lag_ms = INT64_MAX;

  // [producer.id.expiration.ms] — a broker key only (no topic key; KIP-854): the idempotent
  // state of a producer id in this log is removed once its last batch's max timestamp is this
  // old (PartitionLog::remove_expired_producers, run every
  // producer.id.expiration.check.interval.ms by the broker, and at open).
  int64_t producer_id_expiration_ms = 24LL * 3600 * 1000;

  // Conveyor limits (no Kafka name): upper bound of one read() in bytes, whatever the caller
  // asks (a read still returns one whole batch larger than this, KIP-74, up to
  // max_batch_read_bytes).
  int32_t max_read_bytes = 64 * 1024 * 1024;
  // Largest batch a read or recovery scan accepts from disk; a header claiming more is corrupt.
  int32_t max_batch_read_bytes = 256 * 1024 * 1024;
};

// The topic-level keys (segment.bytes, segment.index.bytes, index.interval.bytes,
// flush.messages, flush.ms, max.message.bytes, message.timestamp.type, preallocate,
// segment.ms, retention.ms, retention.bytes, cleanup.policy, delete.retention.ms,
// min.cleanable.dirty.ratio, min.compaction.lag.ms, max.compaction.lag.ms); other Kafka topic keys are
// accepted and ignored. Use it to validate CreateTopics configs.
const ConfigSchema& topic_config_schema();

// Adds the broker keys this subsystem reads (log.segment.bytes, log.index.size.max.bytes,
// log.index.interval.bytes, log.flush.interval.messages, log.flush.interval.ms,
// message.max.bytes, log.message.timestamp.type, log.preallocate, log.roll.ms, log.roll.hours,
// log.retention.ms, log.retention.minutes, log.retention.hours, log.retention.bytes,
// log.cleanup.policy, log.cleaner.* — the cleaner's own keys are listed in cleaner.h —,
// producer.id.expiration.ms) with
// Kafka's defaults to a broker's schema. `log.dirs`/`log.dir` are
// the broker's to declare.
void add_broker_log_config_keys(ConfigSchema& schema);

// Builds the config of one topic: topic overrides win over broker defaults, which win over
// Kafka's defaults. Broker keys missing from `broker` take Kafka's defaults; keys in `broker`
// that are not log keys are ignored. Errors: invalid_config naming the key (unknown topic key,
// bad value, segment.bytes < 14, index interval/segment index bytes out of range).
Result<LogConfig> make_log_config(const Properties& broker, const Properties& topic_overrides = {});

// ---- Topic configuration APIs (DescribeConfigs, issue 5 "Topic configuration") -------------

// The broker keys whose value becomes the broker-wide default of `topic_key`, most specific
// first: retention.ms → {log.retention.ms, log.retention.minutes, log.retention.hours},
// segment.ms → {log.roll.ms, log.roll.hours}, flush.ms → {log.flush.interval.ms,
// log.flush.scheduler.interval.ms}, otherwise the one key of the one-to-one table
// (segment.bytes → log.segment.bytes, ...). Empty for a key without a broker default here.
// Kafka: the synonyms DescribeConfigs reports (KIP-226).
std::vector<std::string> broker_synonyms(std::string_view topic_key);

// What a topic without an override of `topic_key` gets from the broker properties: `value` as
// text in the topic key's unit (log.retention.hours=1 → "3600000"), and `broker_key`, the
// synonym it came from ("" when none is set: the default, then `value` is the default).
// Consistent with make_log_config (tested). nullopt for a key the topic schema does not define.
struct TopicKeyDefault {
  std::string value;
  std::string broker_key;
};
std::optional<TopicKeyDefault> topic_default(const Properties& broker, std::string_view topic_key);
// A floating-point config value (min.cleanable.dirty.ratio, log.cleaner.io.max.bytes.per.second)
// within [min, max]. Errors: invalid_config naming `key`.
Result<double> parse_config_double(std::string_view key, std::string_view text, double min, double max);

}  // namespace conveyor::storage
