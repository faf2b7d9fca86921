// Consumer groups against an in-process conveyor broker (its group coordinator): subscribe,
// rebalances between members, commits, committed offsets, lag, auto-commit, patterns,
// max.poll.interval.ms, cooperative rebalancing. The client knows nothing about conveyor.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "conveyor/broker/broker.h"
#include "conveyor/client/admin.h"
#include "conveyor/client/consumer.h"
#include "conveyor/client/producer.h"
#include "conveyor/client/retry_handler.h"
#include "embedded_broker_test_base.h"

using namespace conveyor;
using namespace conveyor::client;
using namespace std::chrono_literals;

namespace {

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

struct Member : test_support::RebalanceRecorder {
  std::vector<ConsumerRecord> records;
  std::unique_ptr<Consumer> consumer;  // destroyed before the recorder (its close() runs callbacks)
  void poll_once(int timeout_ms = 50) {
    auto r = consumer->consume(500, timeout_ms);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    for (auto& rec : *r) records.push_back(std::move(rec));
  }
};

class GroupBrokerTest : public test_support::EmbeddedBrokerTest {
 protected:
  GroupBrokerTest() : EmbeddedBrokerTest(3) {}
  // n records per partition, values "p<partition>-<i>".
  void produce(const std::string& topic, int partitions, int per_partition) {
    auto p = Producer::create(conf());
    ASSERT_TRUE(p.has_value());
    for (int part = 0; part < partitions; ++part)
      for (int i = 0; i < per_partition; ++i) {
        ProducerRecord r;
        r.topic = topic;
        r.partition = part;
        r.value = bytes(fmt::format("p{}-{}", part, i));
        ASSERT_TRUE((*p)->produce(std::move(r)).has_value());
      }
    ASSERT_TRUE((*p)->flush(15000).has_value());
    (*p)->close(5000);
  }
  std::unique_ptr<Member> member(const std::string& group, std::initializer_list<std::pair<const std::string, std::string>> extra = {}) {
    Properties p = conf({{"group.id", group},
                         {"auto.offset.reset", "earliest"},
                         {"session.timeout.ms", "6000"},
                         {"heartbeat.interval.ms", "300"},
                         {"fetch.max.wait.ms", "100"}});
    for (const auto& [k, v] : extra) p.set(k, v);
    auto c = Consumer::create(p);
    EXPECT_TRUE(c.has_value()) << c.error().to_string();
    auto m = std::make_unique<Member>();
    m->consumer = std::move(*c);
    return m;
  }
  // Polls every member in turn until pred() holds (generous timeout: the machine is loaded).
  bool poll_until(std::vector<Member*> members, const std::function<bool()>& pred, int seconds = 40) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto* m : members) m->poll_once(30);
      if (pred()) return true;
    }
    return false;
  }

};

std::set<TopicPartition> all_of(const std::string& topic, int n) {
  std::set<TopicPartition> s;
  for (int i = 0; i < n; ++i) s.insert({topic, i});
  return s;
}

TEST_F(GroupBrokerTest, SubscribeConsumesEverythingCommitsAndResumesFromCommitted) {
  create_topic("orders", 3);
  produce("orders", 3, 10);
  auto a = member("g1", {{"enable.auto.commit", "false"}});
  ASSERT_TRUE(a->consumer->subscribe({"orders"}, a->callbacks()).has_value());
  EXPECT_EQ(a->consumer->subscription(), std::vector<std::string>{"orders"});
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->records.size() >= 30; })) << a->records.size();
  EXPECT_EQ(a->records.size(), 30u);
  EXPECT_EQ(a->owned, all_of("orders", 3));
  ASSERT_EQ(a->assigned_calls.size(), 1u);
  EXPECT_GE(a->consumer->generation(), 1);
  EXPECT_FALSE(a->consumer->member_id().empty());
  // Commit the current positions, read them back, lag 0.
  ASSERT_TRUE(a->consumer->commit({}).has_value());
  auto c = a->consumer->committed({{"orders", 0}, {"orders", 1}, {"orders", 2}}, 10000);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  ASSERT_EQ(c->size(), 3u);
  for (const auto& o : *c) EXPECT_EQ(o.offset, 10) << o.partition;
  auto lag = a->consumer->lag({"orders", 1}, 10000);
  ASSERT_TRUE(lag.has_value()) << lag.error().to_string();
  EXPECT_EQ(*lag, 0);
  a->consumer->close();
  ASSERT_EQ(a->revoked_calls.size(), 1u);  // close revokes (callback) and leaves

  // A new member of the same group starts at the committed offsets: only new records.
  produce("orders", 3, 1);
  auto b = member("g1", {{"enable.auto.commit", "false"}});
  ASSERT_TRUE(b->consumer->subscribe({"orders"}, b->callbacks()).has_value());
  ASSERT_TRUE(poll_until({b.get()}, [&] { return b->records.size() >= 3; }));
  std::this_thread::sleep_for(300ms);
  b->poll_once(200);
  EXPECT_EQ(b->records.size(), 3u);
  for (const auto& r : b->records) EXPECT_EQ(r.offset, 10);
}

TEST_F(GroupBrokerTest, TwoMembersSplitPartitionsAndTheSurvivorTakesAllWhenOneLeaves) {
  create_topic("jobs", 4);
  auto a = member("g2");
  auto b = member("g2");
  ASSERT_TRUE(a->consumer->subscribe({"jobs"}, a->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->owned.size() == 4; }));
  ASSERT_TRUE(b->consumer->subscribe({"jobs"}, b->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] { return a->owned.size() == 2 && b->owned.size() == 2; }))
      << a->owned.size() << " " << b->owned.size();
  // Eager (range is first in the default list): a revoked all four before the rejoin.
  ASSERT_FALSE(a->revoked_calls.empty());
  EXPECT_EQ(a->revoked_calls.front().size(), 4u);
  std::set<TopicPartition> both = a->owned;
  both.insert(b->owned.begin(), b->owned.end());
  EXPECT_EQ(both, all_of("jobs", 4));
  // Every record is consumed exactly once by the group.
  produce("jobs", 4, 5);
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] { return a->records.size() + b->records.size() >= 20; }));
  EXPECT_EQ(a->records.size() + b->records.size(), 20u);
  // b leaves (LeaveGroup on close): a gets everything back without waiting for a timeout.
  b->consumer->close();
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->owned.size() == 4; }, 20));
}

TEST_F(GroupBrokerTest, ManualAssignmentCommitsWithGenerationMinusOne) {
  create_topic("manual", 2);
  produce("manual", 2, 4);
  auto a = member("g3", {{"enable.auto.commit", "false"}});
  ASSERT_TRUE(a->consumer->assign({{"manual", 0, kOffsetBeginning}, {"manual", 1, kOffsetBeginning}}).has_value());
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->records.size() >= 8; }));
  TopicPartitionOffset o0{"manual", 0, 3, "checkpoint-0", -1};
  TopicPartitionOffset o1{"manual", 1, 4, "", -1};
  ASSERT_TRUE(a->consumer->commit({o0, o1}, CommitMode::sync, 10000).has_value());
  auto c = a->consumer->committed({{"manual", 0}, {"manual", 1}, {"manual", 7}}, 10000);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ((*c)[0].offset, 3);
  EXPECT_EQ((*c)[0].metadata, "checkpoint-0");
  EXPECT_EQ((*c)[1].offset, 4);
  EXPECT_EQ((*c)[2].offset, -1);  // never committed
  // Subscribing while partitions are assigned by hand is refused (Java's rule).
  auto s = a->consumer->subscribe({"manual"});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::local_state);
  // A negative offset is refused before anything is sent.
  auto bad = a->consumer->commit({{"manual", 0, -5}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::local_invalid_arg);
}

TEST_F(GroupBrokerTest, AsyncCommitReportsThroughTheCallbackInsidePoll) {
  create_topic("async", 1);
  produce("async", 1, 3);
  auto a = member("g4", {{"enable.auto.commit", "false"}});
  std::vector<std::pair<ErrorCode, size_t>> outcomes;
  std::thread::id cb_thread;
  a->consumer->set_commit_callback([&](const Error& e, const std::vector<TopicPartitionOffset>& offsets) {
    outcomes.emplace_back(e.code, offsets.size());
    cb_thread = std::this_thread::get_id();
  });
  ASSERT_TRUE(a->consumer->subscribe({"async"}, a->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->records.size() >= 3; }));
  ASSERT_TRUE(a->consumer->commit({}, CommitMode::async).has_value());
  ASSERT_TRUE(poll_until({a.get()}, [&] { return !outcomes.empty(); }, 20));
  EXPECT_EQ(outcomes[0].first, ErrorCode::none);
  EXPECT_EQ(outcomes[0].second, 1u);
  EXPECT_EQ(cb_thread, std::this_thread::get_id());
  auto c = a->consumer->committed({{"async", 0}}, 10000);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ((*c)[0].offset, 3);
}

TEST_F(GroupBrokerTest, AutoCommitCommitsWhatEarlierPollsReturnedAndOnClose) {
  create_topic("auto", 1);
  produce("auto", 1, 6);
  {
    auto a = member("g5", {{"auto.commit.interval.ms", "200"}, {"max.poll.records", "2"}});
    ASSERT_TRUE(a->consumer->subscribe({"auto"}, a->callbacks()).has_value());
    // max.poll.records=2: three polls return the six records; later polls auto-commit the
    // positions those earlier polls reached.
    ASSERT_TRUE(poll_until({a.get()}, [&] { return a->records.size() >= 6; }));
    auto committed_now = [&] {
      auto c = a->consumer->committed({{"auto", 0}}, 5000);
      return c ? (*c)[0].offset : -2;
    };
    ASSERT_TRUE(poll_until({a.get()}, [&] { return committed_now() == 6; }, 20));
  }
  // close() commits too: a fresh group, read 6, close without waiting for the interval.
  auto b = member("g5b", {{"auto.commit.interval.ms", "600000"}});
  ASSERT_TRUE(b->consumer->subscribe({"auto"}, b->callbacks()).has_value());
  ASSERT_TRUE(poll_until({b.get()}, [&] { return b->records.size() >= 6; }));
  b->consumer->close();
  auto check = member("g5b", {{"enable.auto.commit", "false"}});
  auto c = check->consumer->committed({{"auto", 0}}, 10000);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ((*c)[0].offset, 6);
}

TEST_F(GroupBrokerTest, PatternSubscriptionFollowsNewTopics) {
  create_topic("pat-a", 1);
  create_topic("other", 1);
  auto a = member("g6", {{"metadata.max.age.ms", "500"}});
  ASSERT_TRUE(a->consumer->subscribe_pattern("pat-.*", a->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->owned.size() == 1; }));
  EXPECT_EQ(a->owned, (std::set<TopicPartition>{{"pat-a", 0}}));
  create_topic("pat-b", 2);
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->owned.size() == 3; }));
  EXPECT_TRUE(a->owned.count({"pat-b", 1}));
  EXPECT_FALSE(a->owned.count({"other", 0}));
  auto sub = a->consumer->subscription();
  EXPECT_EQ(sub, (std::vector<std::string>{"pat-a", "pat-b"}));
  auto bad = a->consumer->subscribe_pattern("([unclosed");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::local_invalid_arg);
}

TEST_F(GroupBrokerTest, CooperativeStickyMovesOnlyWhatMustMove) {
  create_topic("coop", 4);
  auto a = member("g7", {{"partition.assignment.strategy", "cooperative-sticky"}});
  auto b = member("g7", {{"partition.assignment.strategy", "cooperative-sticky"}});
  ASSERT_TRUE(a->consumer->subscribe({"coop"}, a->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->owned.size() == 4; }));
  ASSERT_TRUE(b->consumer->subscribe({"coop"}, b->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] { return a->owned.size() == 2 && b->owned.size() == 2; }))
      << a->owned.size() << " " << b->owned.size();
  // KIP-429: a never gave up the two partitions it kept; only the two that moved were revoked.
  size_t revoked = 0;
  for (const auto& r : a->revoked_calls) revoked += r.size();
  EXPECT_EQ(revoked, 2u);
  EXPECT_TRUE(a->lost_calls.empty());
}

TEST_F(GroupBrokerTest, MemberThatStopsPollingLeavesAndComesBackByPolling) {
  create_topic("slow", 2);
  auto a = member("g8", {{"max.poll.interval.ms", "2000"}});
  auto b = member("g8", {{"max.poll.interval.ms", "2000"}});
  ASSERT_TRUE(a->consumer->subscribe({"slow"}, a->callbacks()).has_value());
  ASSERT_TRUE(b->consumer->subscribe({"slow"}, b->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] { return a->owned.size() == 1 && b->owned.size() == 1; }));
  // b stops polling: after max.poll.interval.ms it leaves, a gets both partitions.
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->owned.size() == 2; }, 30));
  // b polls again: its partitions are reported lost, then it rejoins and gets one back.
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] { return a->owned.size() == 1 && b->owned.size() == 1; }));
  EXPECT_FALSE(b->lost_calls.empty());
}

TEST_F(GroupBrokerTest, ConfigurationAndUsageErrors) {
  auto bad_protocol = Consumer::create(conf({{"group.id", "g"}, {"group.protocol", "consumer"}}));
  ASSERT_FALSE(bad_protocol.has_value());
  EXPECT_NE(bad_protocol.error().message.find("group.protocol"), std::string::npos);
  auto bad_strategy = Consumer::create(conf({{"group.id", "g"}, {"partition.assignment.strategy", "fair"}}));
  ASSERT_FALSE(bad_strategy.has_value());
  EXPECT_NE(bad_strategy.error().message.find("partition.assignment.strategy"), std::string::npos);
  auto bad_hb = Consumer::create(conf({{"group.id", "g"}, {"heartbeat.interval.ms", "9000"}, {"session.timeout.ms", "6000"}}));
  ASSERT_FALSE(bad_hb.has_value());
  EXPECT_NE(bad_hb.error().message.find("heartbeat.interval.ms"), std::string::npos);
  auto java_names = Consumer::create(
      conf({{"group.id", "g"},
            {"partition.assignment.strategy", "org.apache.kafka.clients.consumer.RoundRobinAssignor"}}));
  ASSERT_TRUE(java_names.has_value());
  auto no_group = Consumer::create(conf());
  ASSERT_TRUE(no_group.has_value());
  auto s = (*no_group)->subscribe({"t"});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::invalid_group_id);
  auto c = (*no_group)->commit({{"t", 0, 1}});
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::invalid_group_id);
}

}  // namespace

namespace {

TEST_F(GroupBrokerTest, StaticMemberLeavesNoGapOnCloseAndGetsItsPartitionsBack) {
  create_topic("static", 2);
  auto a = member("g9", {{"group.instance.id", "instance-a"}});
  auto b = member("g9", {{"group.instance.id", "instance-b"}});
  ASSERT_TRUE(a->consumer->subscribe({"static"}, a->callbacks()).has_value());
  ASSERT_TRUE(b->consumer->subscribe({"static"}, b->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] { return a->owned.size() == 1 && b->owned.size() == 1; }));
  auto a_owned = a->owned;
  // KIP-345: a static member sends no LeaveGroup on close, so b is not rebalanced at once.
  a->consumer->close();
  auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) b->poll_once(50);
  EXPECT_EQ(b->owned.size(), 1u);
  // The same instance id comes back (within session.timeout.ms) and gets its partition again.
  auto a2 = member("g9", {{"group.instance.id", "instance-a"}});
  ASSERT_TRUE(a2->consumer->subscribe({"static"}, a2->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a2.get(), b.get()}, [&] { return a2->owned.size() == 1 && b->owned.size() == 1; }));
  EXPECT_EQ(a2->owned, a_owned);
}

}  // namespace

// RetryHandler bound to conveyor's Consumer and Producer against a real broker: records
// whose handler keeps failing land in <topic>.DLT with the original record and the dlt
// headers, after max.retries retries; every offset is committed, so a member restarting in
// the group resumes after them.
TEST_F(GroupBrokerTest, RetryHandlerDeadLettersThroughConveyorClients) {
  create_topic("payments", 1);
  create_topic("payments.DLT", 1);
  {
    auto p = Producer::create(conf());
    ASSERT_TRUE(p.has_value());
    for (int i = 0; i < 10; ++i) {
      ProducerRecord r;
      r.topic = "payments";
      r.partition = 0;
      r.key = bytes(fmt::format("k{}", i));
      r.value = bytes(fmt::format("{}", i));
      r.headers.push_back({"trace", bytes(fmt::format("t{}", i))});
      ASSERT_TRUE((*p)->produce(std::move(r)).has_value());
    }
    ASSERT_TRUE((*p)->flush(10000).has_value());
  }
  auto member_conf = conf({{"group.id", "payers"}, {"auto.offset.reset", "earliest"}, {"enable.auto.commit", "false"}});
  auto consumer = Consumer::create(member_conf);
  ASSERT_TRUE(consumer.has_value());
  ASSERT_TRUE((*consumer)->subscribe({"payments"}).has_value());
  auto dlt_producer = Producer::create(conf({{"linger.ms", "0"}}));
  ASSERT_TRUE(dlt_producer.has_value());
  RetryHandlerConfig rc;
  rc.max_retries = 2;
  rc.retry_backoff_ms = 5;
  rc.retry_backoff_max_ms = 20;
  auto handler = RetryHandler::create(**consumer, **dlt_producer, rc);
  ASSERT_TRUE(handler.has_value()) << handler.error().to_string();

  std::map<std::string, int> calls;
  auto h = [&](const ConsumerRecord& rec) -> Result<void> {
    std::string v(rec.value->begin(), rec.value->end());
    int n = ++calls[v];
    if (v == "3" || v == "7") return fail(ErrorCode::unknown_server_error, fmt::format("cannot pay {}", v));
    if (v == "5" && n == 1) return fail(ErrorCode::unknown_server_error, "flaky once");
    return {};
  };
  RetryStats total;
  for (int i = 0; i < 200 && total.records < 10; ++i) {
    auto st = (*handler)->run(h, 100);
    ASSERT_TRUE(st.has_value()) << st.error().to_string();
    total.records += st->records;
  }
  auto stats = (*handler)->stats();
  EXPECT_EQ(stats.records, 10u);
  EXPECT_EQ(stats.dead_lettered, 2u);
  EXPECT_EQ(stats.retries, 2u * 2 + 1);  // two records retried twice, "5" once
  EXPECT_EQ(calls["3"], 3);
  EXPECT_EQ(calls["5"], 2);
  EXPECT_EQ(calls["0"], 1);

  // The dead letters: original key, value and headers, plus where they came from and why.
  auto reader = Consumer::create(conf());
  ASSERT_TRUE(reader.has_value());
  ASSERT_TRUE((*reader)->assign({{"payments.DLT", 0, kOffsetBeginning}}).has_value());
  std::vector<ConsumerRecord> dead;
  for (int i = 0; i < 100 && dead.size() < 2; ++i) {
    auto r = (*reader)->consume(10, 100);
    ASSERT_TRUE(r.has_value());
    for (auto& rec : *r) dead.push_back(std::move(rec));
  }
  ASSERT_EQ(dead.size(), 2u);
  auto header = [](const ConsumerRecord& rec, const std::string& key) -> std::string {
    for (const auto& h : rec.headers)
      if (h.key == key && h.value) return std::string(h.value->begin(), h.value->end());
    return "<missing>";
  };
  for (const auto& [rec, v, offset] : {std::tuple{dead[0], std::string("3"), std::string("3")},
                                      std::tuple{dead[1], std::string("7"), std::string("7")}}) {
    EXPECT_EQ(std::string(rec.value->begin(), rec.value->end()), v);
    EXPECT_EQ(std::string(rec.key->begin(), rec.key->end()), "k" + v);
    EXPECT_EQ(header(rec, "trace"), "t" + v);
    EXPECT_EQ(header(rec, kDltOriginalTopicHeader), "payments");
    EXPECT_EQ(header(rec, kDltOriginalPartitionHeader), "0");
    EXPECT_EQ(header(rec, kDltOriginalOffsetHeader), offset);
    EXPECT_EQ(header(rec, kDltErrorHeader), "cannot pay " + v);
    EXPECT_EQ(header(rec, kDltAttemptsHeader), "3");
  }
  // Everything is committed: the group resumes after the last record.
  auto committed = (*consumer)->committed({{"payments", 0}}, 10000);
  ASSERT_TRUE(committed.has_value());
  EXPECT_EQ((*committed)[0].offset, 10);
}
