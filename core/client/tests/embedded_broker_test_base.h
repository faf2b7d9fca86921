#pragma once
// A GoogleTest fixture base for client tests against a broker embedded in the test process:
// one broker per test on an ephemeral port (auto-created topics with `num_partitions_`
// partitions, no initial rebalance delay, 3 __consumer_offsets partitions), client configs
// pointing at it, and topic creation through Admin.
#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/broker/broker.h"
#include "conveyor/client/admin.h"
#include "conveyor/client/consumer.h"

namespace conveyor::client::test_support {

class EmbeddedBrokerTest : public ::testing::Test {
 protected:
  explicit EmbeddedBrokerTest(int num_partitions) : num_partitions_(num_partitions) {}
  void SetUp() override {
    Properties props{{"listeners", "PLAINTEXT://127.0.0.1:0"},
                     {"num.partitions", std::to_string(num_partitions_)},
                     {"auto.create.topics.enable", "true"},
                     {"group.initial.rebalance.delay.ms", "0"},
                     {"offsets.topic.num.partitions", "3"}};
    auto b = broker::Broker::start(props);
    ASSERT_TRUE(b.has_value()) << b.error().to_string();
    broker_ = std::move(*b);
    bootstrap_ = broker_->bootstrap_servers();
  }
  void TearDown() override {
    if (broker_) broker_->stop();
  }
  // bootstrap.servers plus `extra`.
  Properties conf(std::initializer_list<std::pair<const std::string, std::string>> extra = {}) {
    Properties p{{"bootstrap.servers", bootstrap_}};
    for (const auto& [k, v] : extra) p.set(k, v);
    return p;
  }
  void create_topic(const std::string& name, int partitions) {
    auto a = Admin::create(conf());
    ASSERT_TRUE(a.has_value());
    auto r = (*a)->create_topic(name, partitions, 1, {}, 10000);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
  }

  const int num_partitions_;
  std::unique_ptr<broker::Broker> broker_;
  std::string bootstrap_;
};

// Records a group consumer's rebalance callbacks: the calls in order and the partitions it
// owns as they report them. Test members derive from it and declare their Consumer after it.
struct RebalanceRecorder {
  std::set<TopicPartition> owned;
  std::vector<std::vector<TopicPartition>> assigned_calls, revoked_calls, lost_calls;
  RebalanceCallbacks callbacks() {
    RebalanceCallbacks cb;
    cb.on_assigned = [this](const std::vector<TopicPartition>& p) {
      assigned_calls.push_back(p);
      owned.insert(p.begin(), p.end());
    };
    cb.on_revoked = [this](const std::vector<TopicPartition>& p) {
      revoked_calls.push_back(p);
      for (const auto& tp : p) owned.erase(tp);
    };
    cb.on_lost = [this](const std::vector<TopicPartition>& p) {
      lost_calls.push_back(p);
      for (const auto& tp : p) owned.erase(tp);
    };
    return cb;
  }
};

}  // namespace conveyor::client::test_support
