#include <gtest/gtest.h>

#include "config.h"
#include "conveyor/broker/broker.h"

namespace conveyor::broker {
namespace {

TEST(BrokerConfig, DefaultsFollowKafka) {
  auto c = parse_broker_config(Properties{});
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->listener.host, "127.0.0.1");
  EXPECT_EQ(c->listener.port, 9092);
  EXPECT_EQ(c->num_partitions, 1);
  EXPECT_TRUE(c->auto_create_topics_enable);
  EXPECT_EQ(c->message_max_bytes, 1048588);
  EXPECT_EQ(c->socket_request_max_bytes, 104857600);
  EXPECT_TRUE(c->log_dirs.empty());
}

TEST(BrokerConfig, GroupCoordinatorKeys) {
  auto d = parse_broker_config(Properties{});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->group.min_session_timeout_ms, 6000);
  EXPECT_EQ(d->group.max_session_timeout_ms, 1800000);
  EXPECT_EQ(d->group.initial_rebalance_delay_ms, 3000);
  EXPECT_EQ(d->group.offset_metadata_max_bytes, 4096);
  EXPECT_EQ(d->group.offsets_retention_ms, int64_t{10080} * 60 * 1000);
  EXPECT_EQ(d->group.offsets_retention_check_interval_ms, 600000);
  EXPECT_EQ(d->group.offsets_topic_num_partitions, 50);
  auto c = parse_broker_config(Properties{{"group.initial.rebalance.delay.ms", "0"},
                                          {"offsets.topic.num.partitions", "3"},
                                          {"offsets.retention.minutes", "2"},
                                          {"group.max.size", "10"}});
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->group.initial_rebalance_delay_ms, 0);
  EXPECT_EQ(c->group.offsets_topic_num_partitions, 3);
  EXPECT_EQ(c->group.offsets_retention_ms, 120000);
  EXPECT_EQ(c->group.max_group_size, 10);
  auto bad = parse_broker_config(Properties{{"offsets.topic.num.partitions", "0"}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("offsets.topic.num.partitions"), std::string::npos);
  auto crossed = parse_broker_config(
      Properties{{"group.min.session.timeout.ms", "10000"}, {"group.max.session.timeout.ms", "9000"}});
  ASSERT_FALSE(crossed.has_value());
  EXPECT_NE(crossed.error().message.find("group.min.session.timeout.ms"), std::string::npos);
}

TEST(BrokerConfig, UnknownKeyIsNamed) {
  auto c = parse_broker_config(Properties{{"log.dirz", "/tmp/x"}});
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::invalid_config);
  EXPECT_NE(c.error().message.find("log.dirz"), std::string::npos);
}

TEST(BrokerConfig, BadValueIsNamed) {
  auto c = parse_broker_config(Properties{{"num.partitions", "many"}});
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("num.partitions"), std::string::npos);
}

TEST(BrokerConfig, IgnoredKafkaKeysAreAccepted) {
  auto c = parse_broker_config(Properties{{"process.roles", "broker,controller"},
                                          {"controller.quorum.voters", "1@localhost:9093"},
                                          {"log.retention.hours", "168"}});
  EXPECT_TRUE(c.has_value()) << c.error().to_string();
}

TEST(BrokerConfig, ListenerForms) {
  auto a = parse_listeners("listeners", "PLAINTEXT://:0");
  ASSERT_TRUE(a.has_value());
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].name, "PLAINTEXT");
  EXPECT_EQ((*a)[0].host, "");
  EXPECT_EQ((*a)[0].port, 0);

  auto b = parse_listeners("listeners", "localhost:19092");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ((*b)[0].host, "localhost");
  EXPECT_EQ((*b)[0].port, 19092);

  auto v6 = parse_listeners("listeners", "PLAINTEXT://[::1]:9092");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ((*v6)[0].host, "::1");

  auto kraft = parse_broker_config(
      Properties{{"listeners", "CONTROLLER://:9093,PLAINTEXT://127.0.0.1:9094"}});
  ASSERT_TRUE(kraft.has_value()) << kraft.error().to_string();
  EXPECT_EQ(kraft->listener.port, 9094);

  for (const char* bad : {"PLAINTEXT://host", "host:port", "host:70000", "://:1"}) {
    auto r = parse_listeners("listeners", bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find("listeners"), std::string::npos);
    }
  }
}

TEST(BrokerConfig, NodeIdAndBrokerIdAlias) {
  auto a = parse_broker_config(Properties{{"broker.id", "7"}});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->node_id, 7);
  auto b = parse_broker_config(Properties{{"node.id", "3"}, {"broker.id", "7"}});
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->node_id, 3);
}

TEST(BrokerConfig, SchemaDocumentsEveryKey) {
  const auto& schema = broker_config_schema();
  for (const char* k : {"listeners", "advertised.listeners", "log.dirs", "log.dir", "num.partitions",
                        "default.replication.factor", "auto.create.topics.enable", "message.max.bytes",
                        "socket.request.max.bytes", "log.segment.bytes", "log.flush.interval.messages",
                        "log.flush.interval.ms", "node.id", "broker.id", "num.network.threads",
                        "num.io.threads"}) {
    const ConfigKey* key = schema.find(k);
    ASSERT_NE(key, nullptr) << k;
    EXPECT_FALSE(key->doc.empty()) << k;
  }
  EXPECT_TRUE(schema.ignored("process.roles"));
}

TEST(BrokerConfig, ReplicationFactorAboveOneRefused) {
  auto c = parse_broker_config(Properties{{"default.replication.factor", "3"}});
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("default.replication.factor"), std::string::npos);
}

}  // namespace
}  // namespace conveyor::broker
