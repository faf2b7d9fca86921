// RetryHandler's loop (retries, backoff, dead letters, commits, stop) driven through a scripted
// Io: records come from a vector, commits/seeks/dead-letter writes are recorded. The loop
// against a real broker and real clients is tested from Python (python/tests/test_retry_handler.py).
#include "conveyor/client/retry_handler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <map>
#include <stdexcept>
#include <thread>

namespace conveyor::client {
namespace {

struct Script {
  std::deque<std::vector<ConsumerRecord>> batches;
  std::vector<std::vector<TopicPartitionOffset>> commits;
  std::vector<std::pair<TopicPartition, int64_t>> seeks;
  std::vector<ProducerRecord> dead;
  bool fail_dead_letter = false;
  bool fail_commit = false;
  int polls = 0;

  RetryHandler::Io io() {
    RetryHandler::Io io;
    io.poll = [this](size_t max, int timeout_ms) -> Result<std::vector<ConsumerRecord>> {
      ++polls;
      EXPECT_GT(max, 0u);
      if (batches.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(timeout_ms, 5)));
        return std::vector<ConsumerRecord>{};
      }
      auto b = std::move(batches.front());
      batches.pop_front();
      return b;
    };
    io.commit = [this](const std::vector<TopicPartitionOffset>& o) -> Result<void> {
      if (fail_commit) return fail(ErrorCode::rebalance_in_progress, "rebalancing");
      commits.push_back(o);
      return {};
    };
    io.seek = [this](const TopicPartition& tp, int64_t offset) -> Result<void> {
      seeks.emplace_back(tp, offset);
      return {};
    };
    io.produce_and_wait = [this](ProducerRecord r, int timeout_ms) -> Result<void> {
      EXPECT_GT(timeout_ms, 0);
      if (fail_dead_letter) return fail(ErrorCode::unknown_topic_or_partition, "no such topic");
      dead.push_back(std::move(r));
      return {};
    };
    io.wakeup = [] {};
    return io;
  }
};

ConsumerRecord record(const std::string& topic, int32_t partition, int64_t offset) {
  ConsumerRecord r;
  r.topic = topic;
  r.partition = partition;
  r.offset = offset;
  r.timestamp_ms = 1700000000000 + offset;
  std::string k = "k" + std::to_string(offset), v = "v" + std::to_string(offset);
  r.key = Bytes(k.begin(), k.end());
  r.value = Bytes(v.begin(), v.end());
  return r;
}

std::string header(const ProducerRecord& r, const std::string& key) {
  for (const auto& h : r.headers)
    if (h.key == key) return h.value ? std::string(h.value->begin(), h.value->end()) : "<null>";
  return "<missing>";
}

RetryHandlerConfig fast() {
  RetryHandlerConfig c;
  c.retry_backoff_ms = 1;
  c.retry_backoff_max_ms = 4;
  c.max_retries = 2;
  return c;
}

int64_t committed(const std::vector<TopicPartitionOffset>& commit, const std::string& topic, int32_t partition) {
  for (const auto& o : commit)
    if (o.topic == topic && o.partition == partition) return o.offset;
  return -1;
}

TEST(RetryHandler, HandledRecordsAreCommittedAfterTheBatch) {
  Script s;
  s.batches.push_back({record("orders", 0, 5), record("orders", 1, 9), record("orders", 0, 6)});
  auto h = RetryHandler::create(s.io(), fast());
  ASSERT_TRUE(h) << h.error().to_string();
  std::vector<int64_t> seen;
  auto st = (*h)->run([&](const ConsumerRecord& r) -> Result<void> {
    seen.push_back(r.offset);
    return {};
  }, 200);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(seen, (std::vector<int64_t>{5, 9, 6}));
  EXPECT_EQ(st->records, 3u);
  EXPECT_EQ(st->succeeded, 3u);
  EXPECT_EQ(st->retries, 0u);
  EXPECT_EQ(st->dead_lettered, 0u);
  ASSERT_EQ(s.commits.size(), 1u);
  EXPECT_EQ(committed(s.commits[0], "orders", 0), 7);
  EXPECT_EQ(committed(s.commits[0], "orders", 1), 10);
  EXPECT_TRUE(s.dead.empty());
  EXPECT_GT(s.polls, 1);  // kept polling until the timeout
}

TEST(RetryHandler, AFailingRecordIsRetriedThenDeadLetteredWithHeadersThenCommitted) {
  Script s;
  ConsumerRecord bad = record("orders", 2, 41);
  protocol::RecordHeader trace;
  trace.key = "trace-id";
  trace.value = Bytes{'a', 'b'};
  bad.headers.push_back(trace);
  protocol::RecordHeader stale;  // from an earlier dead-lettering: replaced
  stale.key = kDltAttemptsHeader;
  stale.value = Bytes{'9'};
  bad.headers.push_back(stale);
  s.batches.push_back({record("orders", 2, 40), bad, record("orders", 2, 42)});
  auto h = RetryHandler::create(s.io(), fast());
  ASSERT_TRUE(h);
  std::map<int64_t, int> calls;
  auto st = (*h)->run([&](const ConsumerRecord& r) -> Result<void> {
    ++calls[r.offset];
    if (r.offset == 41) return fail(ErrorCode::invalid_record, "price is negative");
    return {};
  }, 200);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(calls[40], 1);
  EXPECT_EQ(calls[41], 3);  // 1 + max.retries
  EXPECT_EQ(calls[42], 1);
  EXPECT_EQ(st->retries, 2u);
  EXPECT_EQ(st->dead_lettered, 1u);
  EXPECT_EQ(st->succeeded, 2u);
  ASSERT_EQ(s.dead.size(), 1u);
  const ProducerRecord& d = s.dead[0];
  EXPECT_EQ(d.topic, "orders.DLT");
  EXPECT_EQ(d.key, bad.key);
  EXPECT_EQ(d.value, bad.value);
  EXPECT_EQ(header(d, "trace-id"), "ab");
  EXPECT_EQ(header(d, kDltOriginalTopicHeader), "orders");
  EXPECT_EQ(header(d, kDltOriginalPartitionHeader), "2");
  EXPECT_EQ(header(d, kDltOriginalOffsetHeader), "41");
  EXPECT_EQ(header(d, kDltOriginalTimestampHeader), std::to_string(1700000000041));
  EXPECT_EQ(header(d, kDltErrorHeader), "price is negative");
  EXPECT_EQ(header(d, kDltAttemptsHeader), "3");
  int attempts_headers = 0;
  for (const auto& hh : d.headers) attempts_headers += hh.key == kDltAttemptsHeader;
  EXPECT_EQ(attempts_headers, 1);
  // Committed right after the dead letter (past 41), then after the batch (past 42).
  ASSERT_EQ(s.commits.size(), 2u);
  EXPECT_EQ(committed(s.commits[0], "orders", 2), 42);
  EXPECT_EQ(committed(s.commits[1], "orders", 2), 43);
  EXPECT_EQ((*h)->stats().dead_lettered, 1u);
}

TEST(RetryHandler, ATransientFailureSucceedsOnRetry) {
  Script s;
  s.batches.push_back({record("t", 0, 0)});
  auto h = RetryHandler::create(s.io(), fast());
  ASSERT_TRUE(h);
  int calls = 0;
  auto st = (*h)->run([&](const ConsumerRecord&) -> Result<void> {
    if (++calls < 3) throw std::runtime_error("database busy");
    return {};
  }, 100);
  ASSERT_TRUE(st);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(st->retries, 2u);
  EXPECT_EQ(st->succeeded, 1u);
  EXPECT_TRUE(s.dead.empty());
}

TEST(RetryHandler, ExceptionMessagesBecomeTheErrorHeaderAndAFixedTopicIsUsed) {
  Script s;
  s.batches.push_back({record("payments", 0, 3)});
  RetryHandlerConfig c = fast();
  c.max_retries = 0;
  c.dead_letter_topic = "all-failures";
  auto h = RetryHandler::create(s.io(), c);
  ASSERT_TRUE(h);
  auto st = (*h)->run([](const ConsumerRecord&) -> Result<void> { throw std::runtime_error("boom"); }, 100);
  ASSERT_TRUE(st);
  ASSERT_EQ(s.dead.size(), 1u);
  EXPECT_EQ(s.dead[0].topic, "all-failures");
  EXPECT_EQ(header(s.dead[0], kDltErrorHeader), "boom");
  EXPECT_EQ(header(s.dead[0], kDltAttemptsHeader), "1");
  EXPECT_EQ(st->retries, 0u);
}

TEST(RetryHandler, AFailedDeadLetterWriteStopsTheLoopWithoutCommittingTheRecord) {
  Script s;
  s.fail_dead_letter = true;
  s.batches.push_back({record("t", 0, 10), record("t", 0, 11), record("t", 1, 7), record("t", 0, 12)});
  auto h = RetryHandler::create(s.io(), fast());
  ASSERT_TRUE(h);
  auto st = (*h)->run([](const ConsumerRecord& r) -> Result<void> {
    if (r.offset == 11) return fail(ErrorCode::invalid_record, "bad");
    return {};
  }, 1000);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::unknown_topic_or_partition);
  EXPECT_NE(st.error().message.find("t.DLT"), std::string::npos) << st.error().message;
  // Offset 10 was handled and is committed; 11 and later are given back.
  ASSERT_EQ(s.commits.size(), 1u);
  EXPECT_EQ(committed(s.commits[0], "t", 0), 11);
  EXPECT_EQ(committed(s.commits[0], "t", 1), -1);
  std::map<TopicPartition, int64_t> seeks(s.seeks.begin(), s.seeks.end());
  EXPECT_EQ(seeks[(TopicPartition{"t", 0})], 11);
  EXPECT_EQ(seeks[(TopicPartition{"t", 1})], 7);
}

TEST(RetryHandler, StopDuringABackoffGivesTheRecordBack) {
  Script s;
  s.batches.push_back({record("t", 0, 1), record("t", 0, 2)});
  RetryHandlerConfig c = fast();
  c.retry_backoff_ms = 60000;
  c.retry_backoff_max_ms = 60000;
  auto h = RetryHandler::create(s.io(), c);
  ASSERT_TRUE(h);
  RetryHandler* handler = h->get();
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    handler->stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto st = handler->run([](const ConsumerRecord& r) -> Result<void> {
    if (r.offset == 2) return fail(ErrorCode::invalid_record, "bad");
    return {};
  });
  stopper.join();
  ASSERT_TRUE(st);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));  // not the 60 s backoff
  EXPECT_EQ(st->succeeded, 1u);
  EXPECT_EQ(st->dead_lettered, 0u);
  ASSERT_EQ(s.seeks.size(), 1u);
  EXPECT_EQ(s.seeks[0].second, 2);
  ASSERT_EQ(s.commits.size(), 1u);
  EXPECT_EQ(committed(s.commits[0], "t", 0), 2);
  // Sticky: a stopped handler does not run again.
  auto again = handler->run([](const ConsumerRecord&) -> Result<void> { return {}; }, 10);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::local_state);
}

TEST(RetryHandler, CommitFailuresAreCountedAndTheLoopGoesOn) {
  Script s;
  s.fail_commit = true;
  s.batches.push_back({record("t", 0, 0)});
  s.batches.push_back({record("t", 0, 1)});
  auto h = RetryHandler::create(s.io(), fast());
  ASSERT_TRUE(h);
  auto st = (*h)->run([](const ConsumerRecord&) -> Result<void> { return {}; }, 200);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->succeeded, 2u);
  EXPECT_EQ(st->commit_failures, 2u);
  EXPECT_EQ(st->commits, 0u);
}

TEST(RetryHandler, BackoffDoublesUpToTheCap) {
  Script s;
  RetryHandlerConfig c;
  c.retry_backoff_ms = 100;
  c.retry_backoff_max_ms = 1000;
  auto h = RetryHandler::create(s.io(), c);
  ASSERT_TRUE(h);
  std::vector<int64_t> waits;
  for (int i = 1; i <= 6; ++i) waits.push_back((*h)->backoff_ms(i));
  EXPECT_EQ(waits, (std::vector<int64_t>{100, 200, 400, 800, 1000, 1000}));
  EXPECT_EQ((*h)->dead_letter_topic_for("orders"), "orders.DLT");
}

TEST(RetryHandler, ConfigFromPropertiesNamesBadKeys) {
  auto def = RetryHandlerConfig::from_properties(Properties{});
  ASSERT_TRUE(def);
  EXPECT_EQ(def->max_retries, 3);
  EXPECT_EQ(def->retry_backoff_ms, 100);
  EXPECT_EQ(def->retry_backoff_max_ms, 1000);
  EXPECT_EQ(def->dead_letter_topic_suffix, ".DLT");
  auto set = RetryHandlerConfig::from_properties(
      Properties{{"max.retries", "5"}, {"dead.letter.topic", "dlq"}, {"retry.backoff.ms", "7"}});
  ASSERT_TRUE(set);
  EXPECT_EQ(set->max_retries, 5);
  EXPECT_EQ(set->dead_letter_topic, "dlq");
  EXPECT_EQ(set->retry_backoff_ms, 7);
  auto unknown = RetryHandlerConfig::from_properties(Properties{{"max.retry", "5"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::invalid_config);
  EXPECT_NE(unknown.error().message.find("max.retry"), std::string::npos);
  auto bad = RetryHandlerConfig::from_properties(Properties{{"max.retries", "many"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("max.retries"), std::string::npos);
  auto negative = RetryHandlerConfig::from_properties(Properties{{"max.retries", "-1"}});
  ASSERT_FALSE(negative);
  RetryHandlerConfig empty_suffix;
  empty_suffix.dead_letter_topic_suffix = "";
  Script s;
  auto h = RetryHandler::create(s.io(), empty_suffix);
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find("dead.letter.topic.suffix"), std::string::npos);
}

}  // namespace
}  // namespace conveyor::client
