// The admin client's topic-configuration calls against an in-process conveyor broker
// (describe_configs, incremental_alter_configs, alter_configs, create_partitions), and a
// consumer group that picks up partitions added to a subscribed topic on its metadata refresh
// (metadata.max.age.ms) and consumes from them.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "conveyor/broker/broker.h"
#include "conveyor/client/admin.h"
#include "conveyor/client/consumer.h"
#include "conveyor/client/producer.h"

using namespace conveyor;
using namespace conveyor::client;

namespace {

class AdminConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = broker::Broker::start(Properties{{"listeners", "PLAINTEXT://127.0.0.1:0"},
                                              {"node.id", "3"},
                                              {"log.retention.hours", "5"},
                                              {"group.initial.rebalance.delay.ms", "0"},
                                              {"offsets.topic.num.partitions", "2"}});
    ASSERT_TRUE(b.has_value()) << b.error().to_string();
    broker_ = std::move(*b);
    auto a = Admin::create(conf());
    ASSERT_TRUE(a.has_value());
    admin_ = std::move(*a);
  }
  void TearDown() override {
    admin_.reset();
    if (broker_) broker_->stop();
  }
  Properties conf() { return Properties{{"bootstrap.servers", broker_->bootstrap_servers()}}; }
  const ConfigEntry* entry(const ConfigResourceResult& r, const std::string& name) {
    for (const auto& e : r.entries)
      if (e.name == name) return &e;
    return nullptr;
  }

  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<Admin> admin_;
};

TEST_F(AdminConfigTest, DescribeAlterAndCreatePartitions) {
  ASSERT_TRUE(admin_->create_topic("t", 1, 1, {{"max.message.bytes", "4000"}}, 10000));
  auto d = admin_->describe_configs({{ConfigResourceType::topic, "t"}, {ConfigResourceType::broker, "3"},
                                     {ConfigResourceType::topic, "missing"}},
                                    {}, true, true, 10000);
  ASSERT_TRUE(d.has_value()) << d.error().to_string();
  ASSERT_EQ(d->size(), 3u);
  const auto& topic = (*d)[0];
  EXPECT_EQ(topic.error.code, ErrorCode::none);
  ASSERT_NE(entry(topic, "max.message.bytes"), nullptr);
  EXPECT_EQ(entry(topic, "max.message.bytes")->value, "4000");
  EXPECT_EQ(entry(topic, "max.message.bytes")->source, ConfigSource::dynamic_topic);
  EXPECT_EQ(entry(topic, "max.message.bytes")->type, 3);  // INT
  EXPECT_EQ(entry(topic, "retention.ms")->value, "18000000");
  EXPECT_EQ(entry(topic, "retention.ms")->source, ConfigSource::static_broker);
  EXPECT_TRUE(entry(topic, "segment.bytes")->is_default());
  EXPECT_TRUE(entry(topic, "segment.bytes")->documentation.has_value());
  const auto& broker = (*d)[1];
  EXPECT_EQ(broker.error.code, ErrorCode::none);
  ASSERT_NE(entry(broker, "log.retention.hours"), nullptr);
  EXPECT_EQ(entry(broker, "log.retention.hours")->value, "5");
  EXPECT_TRUE(entry(broker, "log.retention.hours")->read_only);
  EXPECT_EQ((*d)[2].error.code, ErrorCode::unknown_topic_or_partition);
  // Only some keys.
  auto some = admin_->describe_configs({{ConfigResourceType::topic, "t"}}, {"retention.ms"}, false, false, 10000);
  ASSERT_TRUE(some);
  ASSERT_EQ((*some)[0].entries.size(), 1u);

  // Incremental: set, append to a list, bad value named, broker refused.
  auto alt = admin_->incremental_alter_configs(
      {{{ConfigResourceType::topic, "t"},
        {{"retention.ms", AlterConfigOpType::set, "60000"}, {"cleanup.policy", AlterConfigOpType::append, "compact"}}},
       {{ConfigResourceType::topic, "missing"}, {{"retention.ms", AlterConfigOpType::set, "1"}}},
       {{ConfigResourceType::broker, "3"}, {{"log.retention.hours", AlterConfigOpType::set, "1"}}}},
      false, 10000);
  ASSERT_TRUE(alt.has_value()) << alt.error().to_string();
  EXPECT_EQ((*alt)[0].error.code, ErrorCode::none) << (*alt)[0].error.message;
  EXPECT_EQ((*alt)[1].error.code, ErrorCode::unknown_topic_or_partition);
  EXPECT_EQ((*alt)[2].error.code, ErrorCode::invalid_config);
  EXPECT_NE((*alt)[2].error.message.find("dynamic broker configs"), std::string::npos);
  auto bad = admin_->incremental_alter_configs(
      {{{ConfigResourceType::topic, "t"}, {{"max.message.bytes", AlterConfigOpType::set, "lots"}}}}, false, 10000);
  ASSERT_TRUE(bad);
  EXPECT_EQ((*bad)[0].error.code, ErrorCode::invalid_config);
  EXPECT_NE((*bad)[0].error.message.find("max.message.bytes"), std::string::npos);
  d = admin_->describe_configs({{ConfigResourceType::topic, "t"}}, {}, false, false, 10000);
  ASSERT_TRUE(d);
  EXPECT_EQ(entry((*d)[0], "retention.ms")->value, "60000");
  EXPECT_EQ(entry((*d)[0], "cleanup.policy")->value, "delete,compact");
  EXPECT_EQ(entry((*d)[0], "max.message.bytes")->value, "4000");
  // Delete goes back to the default.
  auto del = admin_->incremental_alter_configs(
      {{{ConfigResourceType::topic, "t"}, {{"retention.ms", AlterConfigOpType::remove, std::nullopt}}}}, false, 10000);
  ASSERT_TRUE(del);
  EXPECT_EQ((*del)[0].error.code, ErrorCode::none);
  // alter_configs replaces the whole set.
  auto whole = admin_->alter_configs({{{ConfigResourceType::topic, "t"}, {{"segment.ms", "100000"}}}}, false, 10000);
  ASSERT_TRUE(whole);
  EXPECT_EQ((*whole)[0].error.code, ErrorCode::none);
  d = admin_->describe_configs({{ConfigResourceType::topic, "t"}}, {}, false, false, 10000);
  ASSERT_TRUE(d);
  EXPECT_EQ(entry((*d)[0], "segment.ms")->value, "100000");
  EXPECT_TRUE(entry((*d)[0], "max.message.bytes")->is_default());
  EXPECT_EQ(entry((*d)[0], "retention.ms")->source, ConfigSource::static_broker);

  // create_partitions: validate_only, grow (visible at once), errors per topic.
  auto check = admin_->create_partitions({{"t", 4, std::nullopt}}, true, 10000);
  ASSERT_TRUE(check);
  EXPECT_EQ((*check)[0].error.code, ErrorCode::none);
  EXPECT_EQ((*admin_->describe_topics({"t"}, 10000))[0].partitions.size(), 1u);
  auto grow = admin_->create_partitions({{"t", 4, std::nullopt}, {"missing", 2, std::nullopt}}, false, 10000);
  ASSERT_TRUE(grow);
  EXPECT_EQ((*grow)[0].error.code, ErrorCode::none) << (*grow)[0].error.message;
  EXPECT_EQ((*grow)[1].error.code, ErrorCode::unknown_topic_or_partition);
  EXPECT_EQ((*admin_->describe_topics({"t"}, 10000))[0].partitions.size(), 4u);
  auto shrink = admin_->create_partitions({{"t", 2, std::nullopt}}, false, 10000);
  ASSERT_TRUE(shrink);
  EXPECT_EQ((*shrink)[0].error.code, ErrorCode::invalid_partitions);
  EXPECT_FALSE(admin_->describe_configs({{ConfigResourceType::broker, "three"}}, {}, false, false, 1000));
}

// Java's consumer (and conveyor's): the group leader notices on its metadata refresh that a
// subscribed topic has more partitions and rejoins, so the new partitions get assigned.
TEST_F(AdminConfigTest, GroupPicksUpAddedPartitions) {
  ASSERT_TRUE(admin_->create_topic("grow", 1, 1, {}, 10000));
  Properties cc = conf();
  cc.set("group.id", "grow-group");
  cc.set("auto.offset.reset", "earliest");
  cc.set("metadata.max.age.ms", "500");
  cc.set("fetch.max.wait.ms", "100");
  cc.set("heartbeat.interval.ms", "300");
  auto c = Consumer::create(cc);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  std::set<TopicPartition> owned;
  RebalanceCallbacks cb;
  cb.on_assigned = [&](const std::vector<TopicPartition>& p) { owned.insert(p.begin(), p.end()); };
  cb.on_revoked = [&](const std::vector<TopicPartition>& p) {
    for (const auto& tp : p) owned.erase(tp);
  };
  ASSERT_TRUE((*c)->subscribe({"grow"}, cb));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (owned.size() != 1 && std::chrono::steady_clock::now() < deadline) ASSERT_TRUE((*c)->consume(100, 50));
  ASSERT_EQ(owned.size(), 1u);
  auto grow = admin_->create_partitions({{"grow", 3, std::nullopt}}, false, 10000);
  ASSERT_TRUE(grow);
  ASSERT_EQ((*grow)[0].error.code, ErrorCode::none);
  auto p = Producer::create(conf());
  ASSERT_TRUE(p.has_value());
  ProducerRecord r;
  r.topic = "grow";
  r.partition = 2;
  r.value = Bytes{'n', 'e', 'w'};
  ASSERT_TRUE((*p)->produce(std::move(r)));
  ASSERT_TRUE((*p)->flush(15000));
  bool got = false;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!got && std::chrono::steady_clock::now() < deadline) {
    auto recs = (*c)->consume(100, 100);
    ASSERT_TRUE(recs);
    for (const auto& rec : *recs)
      if (rec.partition == 2 && rec.value == Bytes{'n', 'e', 'w'}) got = true;
  }
  EXPECT_TRUE(got) << "the record in the added partition was not consumed";
  EXPECT_EQ(owned.size(), 3u);
  (*c)->close();
}

}  // namespace
