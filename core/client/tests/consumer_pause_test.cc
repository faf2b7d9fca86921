// Consumer::pause / resume / paused (Java's KafkaConsumer.pause/resume/paused) against an
// in-process conveyor broker: a paused partition yields nothing while the others keep
// delivering, its position stays put, and after resume() its records arrive in order with
// none lost or duplicated (prefetched ones were dropped and are fetched again); usage errors;
// pause state across seek/assign and across group rebalances; a paused group member keeps its
// membership past session.timeout.ms as long as it polls.
#include <gtest/gtest.h>

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
#include "embedded_broker_test_base.h"

using namespace conveyor;
using namespace conveyor::client;
using namespace std::chrono_literals;

namespace {

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string text(const std::optional<Bytes>& b) { return b ? std::string(b->begin(), b->end()) : "<null>"; }

class ConsumerPauseTest : public test_support::EmbeddedBrokerTest {
 protected:
  ConsumerPauseTest() : EmbeddedBrokerTest(2) {}
  // Records first..first+n-1 of each listed partition, values "p<partition>-<i>".
  void produce(const std::string& topic, std::vector<int> partitions, int first, int n) {
    auto p = Producer::create(conf({{"linger.ms", "0"}}));
    ASSERT_TRUE(p.has_value());
    for (int part : partitions)
      for (int i = first; i < first + n; ++i) {
        ProducerRecord r;
        r.topic = topic;
        r.partition = part;
        r.value = bytes(fmt::format("p{}-{}", part, i));
        ASSERT_TRUE((*p)->produce(std::move(r)).has_value());
      }
    ASSERT_TRUE((*p)->flush(15000).has_value());
    (*p)->close(5000);
  }
};

// Records received per partition, in arrival order.
struct Received {
  std::map<int32_t, std::vector<ConsumerRecord>> by_partition;
  size_t total() const {
    size_t n = 0;
    for (const auto& [p, v] : by_partition) n += v.size();
    return n;
  }
  size_t of(int32_t p) const {
    auto it = by_partition.find(p);
    return it == by_partition.end() ? 0 : it->second.size();
  }
  void add(std::vector<ConsumerRecord> recs) {
    for (auto& r : recs) by_partition[r.partition].push_back(std::move(r));
  }
};

// Polls until pred() holds or `seconds` pass; returns pred().
bool consume_until(Consumer& c, Received& got, const std::function<bool()>& pred, int seconds = 30,
                   size_t max_records = 500) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    auto r = c.consume(max_records, 50);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    if (!r) return false;
    got.add(std::move(*r));
  }
  return pred();
}

// Exactly offsets 0..n-1 with values p<partition>-<offset>, in order.
void expect_complete(const std::vector<ConsumerRecord>& recs, int32_t partition, int n) {
  ASSERT_EQ(recs.size(), static_cast<size_t>(n)) << "partition " << partition;
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(recs[static_cast<size_t>(i)].offset, i) << "partition " << partition;
    EXPECT_EQ(text(recs[static_cast<size_t>(i)].value), fmt::format("p{}-{}", partition, i));
  }
}

TEST_F(ConsumerPauseTest, PausedPartitionYieldsNothingThenResumesWithoutLossOrDuplicates) {
  create_topic("flow", 2);
  produce("flow", {0, 1}, 0, 200);
  // Small batches from consume() so p0 still has records prefetched when it is paused.
  auto c = Consumer::create(conf({{"fetch.max.wait.ms", "100"}, {"max.poll.records", "5"}}));
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  Consumer& consumer = **c;
  ASSERT_TRUE(consumer.assign({{"flow", 0, kOffsetBeginning}, {"flow", 1, kOffsetBeginning}}).has_value());
  EXPECT_TRUE(consumer.paused().empty());

  Received got;
  ASSERT_TRUE(consume_until(consumer, got, [&] { return got.of(0) >= 1; }));
  ASSERT_LT(got.of(0), 200u);
  ASSERT_TRUE(consumer.pause({{"flow", 0}}).has_value());
  EXPECT_EQ(consumer.paused(), (std::vector<TopicPartition>{{"flow", 0}}));
  const size_t p0_before = got.of(0);
  const int64_t p0_position = got.by_partition[0].back().offset + 1;
  auto pos = consumer.position({"flow", 0});
  ASSERT_TRUE(pos.has_value()) << pos.error().to_string();
  EXPECT_EQ(*pos, p0_position);

  // p1 keeps delivering everything; nothing more of p0, and new p0 records are not fetched.
  produce("flow", {0}, 200, 50);
  ASSERT_TRUE(consume_until(consumer, got, [&] { return got.of(1) >= 200; })) << got.of(1);
  auto quiet_until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < quiet_until) {
    auto r = consumer.consume(500, 50);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    got.add(std::move(*r));
  }
  EXPECT_EQ(got.of(0), p0_before);
  EXPECT_EQ(got.of(1), 200u);
  pos = consumer.position({"flow", 0});
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(*pos, p0_position);  // the position did not move while paused
  EXPECT_EQ(consumer.paused(), (std::vector<TopicPartition>{{"flow", 0}}));

  // Resume: the rest of p0 arrives, from where the application left off.
  ASSERT_TRUE(consumer.resume({{"flow", 0}}).has_value());
  EXPECT_TRUE(consumer.paused().empty());
  ASSERT_TRUE(consume_until(consumer, got, [&] { return got.of(0) >= 250; })) << got.of(0);
  std::this_thread::sleep_for(300ms);
  auto tail = consumer.consume(500, 200);
  ASSERT_TRUE(tail.has_value());
  got.add(std::move(*tail));
  expect_complete(got.by_partition[0], 0, 250);
  expect_complete(got.by_partition[1], 1, 200);
  consumer.close();
}

TEST_F(ConsumerPauseTest, PollReturnsNothingWhileEveryPartitionIsPaused) {
  create_topic("still", 1);
  produce("still", {0}, 0, 10);
  auto c = Consumer::create(conf({{"fetch.max.wait.ms", "100"}}));
  ASSERT_TRUE(c.has_value());
  Consumer& consumer = **c;
  ASSERT_TRUE(consumer.assign({{"still", 0, kOffsetBeginning}}).has_value());
  // Paused before anything was fetched; the offset reset still runs, so the position is known.
  ASSERT_TRUE(consumer.pause({{"still", 0}}).has_value());
  auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    auto r = consumer.poll(50);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    ASSERT_FALSE(r->has_value()) << "record at offset " << (*r)->offset << " while paused";
  }
  auto pos = consumer.position({"still", 0}, 10000);
  ASSERT_TRUE(pos.has_value()) << pos.error().to_string();
  EXPECT_EQ(*pos, 0);
  // Pausing twice is a no-op; one resume is enough.
  ASSERT_TRUE(consumer.pause({{"still", 0}}).has_value());
  ASSERT_TRUE(consumer.resume({{"still", 0}}).has_value());
  ASSERT_TRUE(consumer.resume({{"still", 0}}).has_value());
  Received got;
  ASSERT_TRUE(consume_until(consumer, got, [&] { return got.of(0) >= 10; }));
  expect_complete(got.by_partition[0], 0, 10);
}

TEST_F(ConsumerPauseTest, UnassignedPartitionIsAnErrorNamingItAndChangesNothing) {
  create_topic("errs", 2);
  auto c = Consumer::create(conf());
  ASSERT_TRUE(c.has_value());
  Consumer& consumer = **c;
  // Nothing assigned at all.
  auto none = consumer.pause({{"errs", 0}});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::local_state);
  EXPECT_NE(none.error().message.find("errs-0"), std::string::npos) << none.error().message;

  ASSERT_TRUE(consumer.assign({{"errs", 0, kOffsetBeginning}}).has_value());
  // One good and one unassigned partition: refused as a whole, the good one is not paused.
  auto mixed = consumer.pause({{"errs", 0}, {"errs", 1}});
  ASSERT_FALSE(mixed.has_value());
  EXPECT_EQ(mixed.error().code, ErrorCode::local_state);
  EXPECT_NE(mixed.error().message.find("errs-1"), std::string::npos) << mixed.error().message;
  EXPECT_TRUE(consumer.paused().empty());

  ASSERT_TRUE(consumer.pause({{"errs", 0}}).has_value());
  auto r = consumer.resume({{"errs", 0}, {"other", 3}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::local_state);
  EXPECT_NE(r.error().message.find("other-3"), std::string::npos) << r.error().message;
  EXPECT_EQ(consumer.paused(), (std::vector<TopicPartition>{{"errs", 0}}));
  EXPECT_TRUE(consumer.pause({}).has_value());  // empty list: no-op

  consumer.close();
  auto closed = consumer.pause({{"errs", 0}});
  ASSERT_FALSE(closed.has_value());
  EXPECT_EQ(closed.error().code, ErrorCode::local_state);
}

TEST_F(ConsumerPauseTest, PauseSurvivesSeekAndAKeepingAssignButNotUnassignment) {
  create_topic("keep", 2);
  produce("keep", {0, 1}, 0, 5);
  auto c = Consumer::create(conf({{"fetch.max.wait.ms", "100"}}));
  ASSERT_TRUE(c.has_value());
  Consumer& consumer = **c;
  ASSERT_TRUE(consumer.assign({{"keep", 0, kOffsetBeginning}, {"keep", 1, kOffsetBeginning}}).has_value());
  ASSERT_TRUE(consumer.pause({{"keep", 0}, {"keep", 1}}).has_value());
  ASSERT_TRUE(consumer.seek({"keep", 0}, 2).has_value());
  EXPECT_EQ(consumer.paused(), (std::vector<TopicPartition>{{"keep", 0}, {"keep", 1}}));
  // assign() keeping keep-0 keeps its pause (Java); keep-1 leaves the assignment and its pause.
  ASSERT_TRUE(consumer.assign({{"keep", 0, 1}}).has_value());
  EXPECT_EQ(consumer.paused(), (std::vector<TopicPartition>{{"keep", 0}}));
  ASSERT_TRUE(consumer.assign({{"keep", 0, 1}, {"keep", 1, kOffsetBeginning}}).has_value());
  EXPECT_EQ(consumer.paused(), (std::vector<TopicPartition>{{"keep", 0}}));
  Received got;
  ASSERT_TRUE(consume_until(consumer, got, [&] { return got.of(1) >= 5; }));
  EXPECT_EQ(got.of(0), 0u);
  ASSERT_TRUE(consumer.resume({{"keep", 0}}).has_value());
  ASSERT_TRUE(consume_until(consumer, got, [&] { return got.of(0) >= 4; }));
  ASSERT_EQ(got.of(0), 4u);
  EXPECT_EQ(got.by_partition[0].front().offset, 1);  // from the assign() offset
  EXPECT_EQ(got.by_partition[0].back().offset, 4);
}

// ---- consumer groups ----

struct Member : test_support::RebalanceRecorder {
  Received got;
  std::unique_ptr<Consumer> consumer;  // destroyed before the recorder (its close() runs callbacks)
  void poll_once(int timeout_ms = 30) {
    auto r = consumer->consume(500, timeout_ms);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    got.add(std::move(*r));
  }
};

class GroupPauseTest : public ConsumerPauseTest {
 protected:
  std::unique_ptr<Member> member(const std::string& group,
                                 std::initializer_list<std::pair<const std::string, std::string>> extra = {}) {
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
  bool poll_until(std::vector<Member*> members, const std::function<bool()>& pred, int seconds = 40) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto* m : members) m->poll_once();
      if (pred()) return true;
    }
    return false;
  }
};

std::vector<TopicPartition> sorted(const std::set<TopicPartition>& s) { return {s.begin(), s.end()}; }

TEST_F(GroupPauseTest, PausedMemberStaysInTheGroupPastSessionTimeoutWhilePolling) {
  create_topic("hold", 2);
  // A short max.poll.interval.ms too: polls that return nothing still count as polls.
  auto a = member("gp1", {{"max.poll.interval.ms", "4000"}, {"enable.auto.commit", "false"}});
  ASSERT_TRUE(a->consumer->subscribe({"hold"}, a->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->owned.size() == 2; }));
  std::vector<TopicPartition> all{{"hold", 0}, {"hold", 1}};
  ASSERT_TRUE(a->consumer->pause(all).has_value());
  const std::string member_id = a->consumer->member_id();
  const int32_t generation = a->consumer->generation();
  produce("hold", {0, 1}, 0, 20);
  // Longer than session.timeout.ms (6 s) and max.poll.interval.ms (4 s).
  auto until = std::chrono::steady_clock::now() + 9s;
  while (std::chrono::steady_clock::now() < until) a->poll_once(100);
  EXPECT_EQ(a->got.total(), 0u);
  EXPECT_EQ(a->consumer->member_id(), member_id);
  EXPECT_EQ(a->consumer->generation(), generation);
  EXPECT_TRUE(a->lost_calls.empty());
  EXPECT_TRUE(a->revoked_calls.empty());
  EXPECT_EQ(a->assigned_calls.size(), 1u);
  EXPECT_EQ(a->consumer->paused(), all);
  ASSERT_TRUE(a->consumer->resume(all).has_value());
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->got.total() >= 40; }));
  expect_complete(a->got.by_partition[0], 0, 20);
  expect_complete(a->got.by_partition[1], 1, 20);
}

TEST_F(GroupPauseTest, EagerRebalanceReassignsEverythingUnpaused) {
  create_topic("eager", 4);
  auto a = member("gp2");  // default strategy "range,cooperative-sticky": eager
  auto b = member("gp2");
  ASSERT_TRUE(a->consumer->subscribe({"eager"}, a->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->owned.size() == 4; }));
  ASSERT_TRUE(a->consumer->pause(sorted(a->owned)).has_value());
  ASSERT_TRUE(b->consumer->subscribe({"eager"}, b->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] { return a->owned.size() == 2 && b->owned.size() == 2; }));
  EXPECT_TRUE(a->consumer->paused().empty());
  EXPECT_TRUE(b->consumer->paused().empty());
  // a consumes its (unpaused) partitions again.
  produce("eager", {0, 1, 2, 3}, 0, 3);
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] { return a->got.total() + b->got.total() >= 12; }));
  EXPECT_EQ(a->got.total(), 6u);
}

TEST_F(GroupPauseTest, CooperativeRebalanceKeepsThePauseOfRetainedPartitions) {
  create_topic("coop", 4);
  auto a = member("gp3", {{"partition.assignment.strategy", "cooperative-sticky"}});
  auto b = member("gp3", {{"partition.assignment.strategy", "cooperative-sticky"}});
  ASSERT_TRUE(a->consumer->subscribe({"coop"}, a->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get()}, [&] { return a->owned.size() == 4; }));
  ASSERT_TRUE(a->consumer->pause(sorted(a->owned)).has_value());
  ASSERT_TRUE(b->consumer->subscribe({"coop"}, b->callbacks()).has_value());
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] { return a->owned.size() == 2 && b->owned.size() == 2; }));
  // a kept two partitions (still paused); the two that moved lost the pause and b consumes them.
  EXPECT_EQ(a->consumer->paused(), sorted(a->owned));
  EXPECT_TRUE(b->consumer->paused().empty());
  produce("coop", {0, 1, 2, 3}, 0, 3);
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] { return b->got.total() >= 6; }));
  std::this_thread::sleep_for(300ms);
  a->poll_once(300);
  EXPECT_EQ(a->got.total(), 0u);
  ASSERT_TRUE(a->consumer->resume(a->consumer->paused()).has_value());
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] { return a->got.total() >= 6; }));
  EXPECT_EQ(a->got.total(), 6u);
  EXPECT_EQ(b->got.total(), 6u);
}

}  // namespace
