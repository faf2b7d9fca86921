#include "conveyor/client/retry_handler.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "conveyor/base/log.h"
#include "conveyor/client/consumer.h"
#include "conveyor/client/producer.h"
#include "conveyor/io/client_loop.h"

namespace conveyor::client {
namespace {

constexpr int kPollSliceMs = 100;  // longest single poll inside run(), so a deadline is kept
constexpr int32_t kMaxRetriesLimit = 1000;

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

bool is_dlt_header(const std::string& key) {
  for (const char* k : {kDltOriginalTopicHeader, kDltOriginalPartitionHeader, kDltOriginalOffsetHeader,
                        kDltOriginalTimestampHeader, kDltErrorHeader, kDltAttemptsHeader})
    if (key == k) return true;
  return false;
}

}  // namespace

const ConfigSchema& RetryHandlerConfig::schema() {
  static const ConfigSchema schema = [] {
    ConfigSchema s;
    s.add({.name = "max.retries", .type = ConfigType::integer, .default_value = "3",
           .doc = "handler calls after the first failure before the record is dead-lettered",
           .min = 0, .max = kMaxRetriesLimit});
    s.add({.name = "retry.backoff.ms", .type = ConfigType::integer, .default_value = "100",
           .doc = "wait before the first retry; doubles per retry (KIP-580)", .min = 0, .max = 3600000});
    s.add({.name = "retry.backoff.max.ms", .type = ConfigType::integer, .default_value = "1000",
           .doc = "largest wait between retries", .min = 0, .max = 3600000});
    s.add({.name = "dead.letter.topic", .default_value = "",
           .doc = "dead-letter topic for every record (default: the record's topic + dead.letter.topic.suffix)"});
    s.add({.name = "dead.letter.topic.suffix", .default_value = ".DLT",
           .doc = "suffix of the per-topic dead-letter topic (Spring Kafka's convention)"});
    s.add({.name = "dead.letter.timeout.ms", .type = ConfigType::integer, .default_value = "30000",
           .doc = "how long to wait for the broker to acknowledge a dead-letter write", .min = 1, .max = INT32_MAX});
    s.add({.name = "max.poll.records", .type = ConfigType::integer, .default_value = "500",
           .doc = "records taken per poll", .min = 1, .max = 100000});
    return s;
  }();
  return schema;
}

Result<RetryHandlerConfig> RetryHandlerConfig::from_properties(const Properties& props) {
  const ConfigSchema& s = schema();
  if (auto v = props.validate(s); !v) return fail(v.error());
  RetryHandlerConfig c;
  auto max_retries = props.get_int(s, "max.retries");
  auto backoff = props.get_int(s, "retry.backoff.ms");
  auto backoff_max = props.get_int(s, "retry.backoff.max.ms");
  auto topic = props.get_string(s, "dead.letter.topic");
  auto suffix = props.get_string(s, "dead.letter.topic.suffix");
  auto timeout = props.get_int(s, "dead.letter.timeout.ms");
  auto max_poll = props.get_int(s, "max.poll.records");
  for (const Error* e : {max_retries ? nullptr : &max_retries.error(), backoff ? nullptr : &backoff.error(),
                         backoff_max ? nullptr : &backoff_max.error(), topic ? nullptr : &topic.error(),
                         suffix ? nullptr : &suffix.error(), timeout ? nullptr : &timeout.error(),
                         max_poll ? nullptr : &max_poll.error()})
    if (e) return fail(*e);
  c.max_retries = static_cast<int32_t>(*max_retries);
  c.retry_backoff_ms = *backoff;
  c.retry_backoff_max_ms = *backoff_max;
  c.dead_letter_topic = *topic;
  c.dead_letter_topic_suffix = *suffix;
  c.dead_letter_timeout_ms = *timeout;
  c.max_poll_records = static_cast<int32_t>(*max_poll);
  return c;
}

Result<std::unique_ptr<RetryHandler>> RetryHandler::create(Io io, RetryHandlerConfig config) {
  if (!io.poll || !io.commit || !io.seek || !io.produce_and_wait || !io.wakeup)
    return fail(ErrorCode::local_invalid_arg, "RetryHandler: every Io function must be set");
  if (config.max_retries < 0 || config.max_retries > kMaxRetriesLimit)
    return fail(ErrorCode::invalid_config, fmt::format("max.retries: must be in [0, {}]", kMaxRetriesLimit));
  if (config.retry_backoff_ms < 0 || config.retry_backoff_max_ms < 0)
    return fail(ErrorCode::invalid_config, "retry.backoff.ms / retry.backoff.max.ms: must be >= 0");
  if (config.dead_letter_topic.empty() && config.dead_letter_topic_suffix.empty())
    return fail(ErrorCode::invalid_config,
                "dead.letter.topic.suffix: must not be empty without dead.letter.topic (records would go back to "
                "their own topic)");
  if (config.dead_letter_timeout_ms <= 0)
    return fail(ErrorCode::invalid_config, "dead.letter.timeout.ms: must be > 0");
  if (config.max_poll_records <= 0) return fail(ErrorCode::invalid_config, "max.poll.records: must be > 0");
  return std::unique_ptr<RetryHandler>(new RetryHandler(std::move(io), std::move(config)));
}

Result<std::unique_ptr<RetryHandler>> RetryHandler::create(Consumer& consumer, Producer& producer,
                                                           RetryHandlerConfig config) {
  Io io;
  io.poll = [&consumer](size_t max_records, int timeout_ms) { return consumer.consume(max_records, timeout_ms); };
  io.commit = [&consumer](const std::vector<TopicPartitionOffset>& offsets) {
    return consumer.commit(offsets, CommitMode::sync);
  };
  io.seek = [&consumer](const TopicPartition& tp, int64_t offset) { return consumer.seek(tp, offset); };
  // Produces one dead letter and serves the producer's callbacks until its own report ran
  // (other records of a shared producer get their callbacks served too) or timeout_ms passed.
  io.produce_and_wait = [&producer](ProducerRecord record, int timeout_ms) -> Result<void> {
    auto outcome = std::make_shared<std::optional<Error>>();
    std::string where = record.topic;
    if (auto r = producer.produce(std::move(record), [outcome](const DeliveryReport& report) { *outcome = report.error; });
        !r)
      return fail(r.error());
    int64_t deadline = io::steady_now_ms() + timeout_ms;
    while (!outcome->has_value()) {
      int64_t left = deadline - io::steady_now_ms();
      if (left <= 0)
        return fail(ErrorCode::local_timed_out,
                    fmt::format("dead letter to {} not acknowledged within dead.letter.timeout.ms ({} ms)", where,
                                timeout_ms));
      producer.poll(static_cast<int>(std::min<int64_t>(left, kPollSliceMs)));
    }
    if ((*outcome)->code != ErrorCode::none) return fail(**outcome);
    return {};
  };
  io.wakeup = [&consumer] { consumer.wakeup(); };
  return create(std::move(io), std::move(config));
}

RetryHandler::RetryHandler(Io io, RetryHandlerConfig config) : io_(std::move(io)), config_(std::move(config)) {}

RetryHandler::~RetryHandler() = default;

std::string RetryHandler::dead_letter_topic_for(const std::string& topic) const {
  return config_.dead_letter_topic.empty() ? topic + config_.dead_letter_topic_suffix : config_.dead_letter_topic;
}

int64_t RetryHandler::backoff_ms(int retry) const {
  int64_t ms = config_.retry_backoff_ms;
  for (int i = 1; i < retry && ms < config_.retry_backoff_max_ms; ++i) ms *= 2;
  return std::min(ms, config_.retry_backoff_max_ms);
}

void RetryHandler::stop() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
  io_.wakeup();
}

bool RetryHandler::sleep_unless_stopped(int64_t ms) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stop_.load(); });
}

RetryStats RetryHandler::stats() const {
  std::lock_guard lock(mu_);
  return total_;
}

void RetryHandler::add(const RetryStats& d) {
  std::lock_guard lock(mu_);
  total_.records += d.records;
  total_.succeeded += d.succeeded;
  total_.retries += d.retries;
  total_.dead_lettered += d.dead_lettered;
  total_.commits += d.commits;
  total_.commit_failures += d.commit_failures;
}

Result<RetryStats> RetryHandler::run(const Handler& handler, int timeout_ms) {
  if (!handler) return fail(ErrorCode::local_invalid_arg, "RetryHandler::run: no handler");
  if (stop_.load()) return fail(ErrorCode::local_state, "RetryHandler: stopped");
  RetryStats st;
  int64_t deadline = timeout_ms < 0 ? INT64_MAX : io::steady_now_ms() + timeout_ms;
  std::map<TopicPartition, int64_t> pending;  // next offset to commit per partition

  auto commit_pending = [&] {
    if (pending.empty()) return;
    std::vector<TopicPartitionOffset> offsets;
    for (const auto& [tp, next] : pending) {
      TopicPartitionOffset o;
      o.topic = tp.topic;
      o.partition = tp.partition;
      o.offset = next;
      offsets.push_back(std::move(o));
    }
    pending.clear();
    if (auto c = io_.commit(offsets); c) {
      ++st.commits;
    } else {
      ++st.commit_failures;
      log::warn("client", "retry handler: commit failed ({}); the records may be handled again",
                        c.error().to_string());
    }
  };
  // Seeks every partition with unhandled records of `batch` (from index `from`) back to its
  // first unhandled offset.
  auto give_back = [&](const std::vector<ConsumerRecord>& batch, size_t from) {
    std::map<TopicPartition, int64_t> first;
    for (size_t i = from; i < batch.size(); ++i) first.try_emplace(TopicPartition{batch[i].topic, batch[i].partition},
                                                                   batch[i].offset);
    for (const auto& [tp, offset] : first)
      if (auto s = io_.seek(tp, offset); !s)
        log::warn("client", "retry handler: could not seek {}-{} back to {}: {}", tp.topic, tp.partition,
                          offset, s.error().to_string());
  };
  auto finish = [&](Result<RetryStats> r) -> Result<RetryStats> {
    commit_pending();
    add(st);
    if (r) return st;
    return r;
  };

  while (!stop_.load()) {
    int64_t now = io::steady_now_ms();
    if (now >= deadline) break;
    int slice = static_cast<int>(std::min<int64_t>(deadline - now, kPollSliceMs));
    auto batch = io_.poll(static_cast<size_t>(config_.max_poll_records), slice);
    if (!batch) return finish(fail(batch.error()));
    for (size_t i = 0; i < batch->size(); ++i) {
      const ConsumerRecord& rec = (*batch)[i];
      if (stop_.load()) {
        give_back(*batch, i);
        return finish(st);
      }
      ++st.records;
      int attempts = 0;
      Error last{ErrorCode::none, {}};
      bool ok = false;
      bool interrupted = false;
      for (;;) {
        ++attempts;
        try {
          auto r = handler(rec);
          if (r) {
            ok = true;
          } else {
            last = r.error();
          }
        } catch (const std::exception& e) {
          last = Error{ErrorCode::unknown_server_error, e.what()};
        } catch (...) {
          last = Error{ErrorCode::unknown_server_error, "unknown exception"};
        }
        if (ok || attempts > config_.max_retries) break;
        ++st.retries;
        if (!sleep_unless_stopped(backoff_ms(attempts))) {
          interrupted = true;
          break;
        }
      }
      if (interrupted) {  // stopped between retries: the record is handled again later
        --st.records;
        give_back(*batch, i);
        return finish(st);
      }
      TopicPartition tp{rec.topic, rec.partition};
      if (ok) {
        ++st.succeeded;
        pending[tp] = rec.offset + 1;
        continue;
      }
      ProducerRecord dead;
      dead.topic = dead_letter_topic_for(rec.topic);
      dead.key = rec.key;
      dead.value = rec.value;
      for (const auto& h : rec.headers)
        if (!is_dlt_header(h.key)) dead.headers.push_back(h);
      std::string message = last.message.empty() ? std::string(error_name(last.code)) : last.message;
      for (const auto& [k, v] :
           {std::pair<const char*, std::string>{kDltOriginalTopicHeader, rec.topic},
            {kDltOriginalPartitionHeader, std::to_string(rec.partition)},
            {kDltOriginalOffsetHeader, std::to_string(rec.offset)},
            {kDltOriginalTimestampHeader, std::to_string(rec.timestamp_ms)},
            {kDltErrorHeader, message},
            {kDltAttemptsHeader, std::to_string(attempts)}}) {
        protocol::RecordHeader h;
        h.key = k;
        h.value = text(v);
        dead.headers.push_back(std::move(h));
      }
      if (auto w = io_.produce_and_wait(std::move(dead), static_cast<int>(config_.dead_letter_timeout_ms)); !w) {
        give_back(*batch, i);
        return finish(fail(w.error().code, fmt::format("dead-letter write of {}-{}@{} to {} failed: {}", rec.topic,
                                                       rec.partition, rec.offset, dead_letter_topic_for(rec.topic),
                                                       w.error().message)));
      }
      ++st.dead_lettered;
      pending[tp] = rec.offset + 1;
      commit_pending();  // the dead letter is safe: move past the record now
    }
    commit_pending();
  }
  return finish(st);
}

}  // namespace conveyor::client
