#pragma once
// A consumer-side handler loop with retries and a dead-letter topic.
//
// For every record polled, RetryHandler::run() calls the user's handler. A handler that fails
// (returns an error or throws) is called again, up to `max.retries` more times, waiting
// `retry.backoff.ms` before the first retry and doubling the wait up to `retry.backoff.max.ms`
// (the exponential backoff of Kafka's KIP-580). When the retries are used up, the record —
// key, value and original headers — is produced to the dead-letter topic with the headers
// below added, the loop waits until the broker acknowledged that write, and then commits the
// record's offset + 1. Successfully handled records are committed too (after each polled
// batch, and at once after a dead-lettered record), so the loop is at-least-once: a crash
// between handling and committing hands the record to the handler again.
//
// Dead-letter topic: `dead.letter.topic` when set, else the original topic name followed by
// `dead.letter.topic.suffix` (default ".DLT", the convention of Spring Kafka's
// DeadLetterPublishingRecoverer, so tools that expect `orders.DLT` find it). The topic must
// exist, or the broker must auto-create it. The dead-letter record goes to the partition
// the producer's partitioner picks for its key (Spring uses the original partition instead,
// which needs a dead-letter topic with at least as many partitions).
//
// Headers added to a dead-letter record (values are UTF-8 text; numbers in decimal):
//   conveyor.dlt.original.topic      the topic the record was read from
//   conveyor.dlt.original.partition  its partition
//   conveyor.dlt.original.offset     its offset
//   conveyor.dlt.original.timestamp  its timestamp (epoch ms)
//   conveyor.dlt.error               the handler's last error message
//   conveyor.dlt.attempts            how many times the handler was called (1 + retries)
// Headers of these names already on the record (a record dead-lettered before) are replaced.
//
// Stopping: stop() (any thread) makes run() return after the handler call in progress; a
// wait between retries is cut short. Records polled but not handled yet are given back by
// seeking their partitions to the first unhandled offset, so nothing is skipped when the
// consumer is used again.
//
// Threading: run() from one thread at a time; stop() and stats() from any thread. The
// consumer and producer must outlive the handler, and nothing else should poll that consumer
// while run() runs.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/client/types.h"

namespace conveyor::client {

class Consumer;
class Producer;

inline constexpr const char* kDltOriginalTopicHeader = "conveyor.dlt.original.topic";
inline constexpr const char* kDltOriginalPartitionHeader = "conveyor.dlt.original.partition";
inline constexpr const char* kDltOriginalOffsetHeader = "conveyor.dlt.original.offset";
inline constexpr const char* kDltOriginalTimestampHeader = "conveyor.dlt.original.timestamp";
inline constexpr const char* kDltErrorHeader = "conveyor.dlt.error";
inline constexpr const char* kDltAttemptsHeader = "conveyor.dlt.attempts";

struct RetryHandlerConfig {
  int32_t max_retries = 3;                 // max.retries: handler calls after the first failure (0..1000)
  int64_t retry_backoff_ms = 100;          // retry.backoff.ms: wait before the first retry
  int64_t retry_backoff_max_ms = 1000;     // retry.backoff.max.ms: cap of the doubling wait
  std::string dead_letter_topic;           // dead.letter.topic: fixed name; "" = topic + suffix
  std::string dead_letter_topic_suffix = ".DLT";  // dead.letter.topic.suffix
  int64_t dead_letter_timeout_ms = 30000;  // dead.letter.timeout.ms: wait for the DLT write's ack
  int32_t max_poll_records = 500;          // max.poll.records: records taken per poll

  // The keys above. Errors: invalid_config naming the key.
  static const ConfigSchema& schema();
  static Result<RetryHandlerConfig> from_properties(const Properties& props);
};

// Counters since the handler was created (stats()) or of one run() call (its result).
struct RetryStats {
  uint64_t records = 0;          // records handed to the handler (first attempts)
  uint64_t succeeded = 0;        // records the handler eventually accepted
  uint64_t retries = 0;          // handler calls after a failure
  uint64_t dead_lettered = 0;    // records written to a dead-letter topic
  uint64_t commits = 0;          // successful commits
  uint64_t commit_failures = 0;  // commits the coordinator refused (e.g. during a rebalance)
};

class RetryHandler {
 public:
  // The user's processing: an error (or an exception: its what()) is a failure to retry.
  using Handler = std::function<Result<void>(const ConsumerRecord&)>;

  // What the loop needs from a consumer and a producer. create(Consumer&, Producer&, ...)
  // binds them to conveyor's clients; tests may bind their own.
  struct Io {
    std::function<Result<std::vector<ConsumerRecord>>(size_t max_records, int timeout_ms)> poll;
    std::function<Result<void>(const std::vector<TopicPartitionOffset>&)> commit;  // synchronous
    std::function<Result<void>(const TopicPartition&, int64_t offset)> seek;
    std::function<Result<void>(ProducerRecord, int timeout_ms)> produce_and_wait;  // until acked
    std::function<void()> wakeup;  // makes a blocked poll return
  };

  // Errors: invalid_config (bad option values), local_invalid_arg (missing Io functions).
  static Result<std::unique_ptr<RetryHandler>> create(Io io, RetryHandlerConfig config);
  // The consumer commits (Consumer::commit, sync) and the producer writes the dead letters.
  static Result<std::unique_ptr<RetryHandler>> create(Consumer& consumer, Producer& producer,
                                                      RetryHandlerConfig config);

  // Polls and handles records until stop() or until timeout_ms passed (-1 = until stop()).
  // Returns this call's counters. Errors: a poll error (e.g. offset_out_of_range with
  // auto.offset.reset=none), a failed dead-letter write (the record is given back, not
  // committed), local_state after stop() was called.
  Result<RetryStats> run(const Handler& handler, int timeout_ms = -1);

  // Makes run() return soon; sticky (later run() calls return local_state at once).
  // Thread-safe.
  void stop();
  bool stopped() const { return stop_.load(); }

  RetryStats stats() const;
  const RetryHandlerConfig& config() const { return config_; }

  // The dead-letter topic for a record of `topic`.
  std::string dead_letter_topic_for(const std::string& topic) const;
  // The wait before retry number `retry` (1-based): min(backoff * 2^(retry-1), backoff max).
  int64_t backoff_ms(int retry) const;

  ~RetryHandler();

 private:
  RetryHandler(Io io, RetryHandlerConfig config);
  bool sleep_unless_stopped(int64_t ms);
  void add(const RetryStats& delta);

  Io io_;
  RetryHandlerConfig config_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  RetryStats total_;
};

}  // namespace conveyor::client
