// ApiVersions, Metadata, CreateTopics, DeleteTopics, InitProducerId against a real broker.
#include <gtest/gtest.h>

#include <filesystem>

#include "conveyor/io/file.h"
#include "test_client.h"

namespace conveyor::broker {
namespace {

using namespace testing;
using protocol::ApiKey;

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = start_broker();
    ASSERT_NE(broker_, nullptr);
    client_ = std::make_unique<TestClient>(broker_->port());
  }
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<TestClient> client_;
};

const protocol::ApiVersionsResponse::ApiVersion* find_key(const protocol::ApiVersionsResponse& r, ApiKey key) {
  for (const auto& k : r.api_keys)
    if (k.api_key == static_cast<int16_t>(key)) return &k;
  return nullptr;
}

TEST_F(AdminApiTest, ApiVersionsAdvertisesPerProtocolRule) {
  for (int16_t v = 0; v <= 4; ++v) {
    auto r = client_->call<protocol::ApiVersionsResponse>(protocol::ApiVersionsRequest{}, v);
    EXPECT_EQ(r.error_code, 0) << "v" << v;
    auto* produce = find_key(r, ApiKey::produce);
    ASSERT_NE(produce, nullptr);
    EXPECT_EQ(produce->min_version, 0);
    EXPECT_EQ(produce->max_version, 11);
    auto* fetch = find_key(r, ApiKey::fetch);
    ASSERT_NE(fetch, nullptr);
    EXPECT_EQ(fetch->min_version, 4);
    EXPECT_EQ(fetch->max_version, 12);
    auto* ipi = find_key(r, ApiKey::init_producer_id);
    ASSERT_NE(ipi, nullptr);
    EXPECT_EQ(ipi->min_version, 0);
    auto* lo = find_key(r, ApiKey::list_offsets);
    ASSERT_NE(lo, nullptr);
    EXPECT_LE(lo->min_version, 1);
    EXPECT_EQ(lo->max_version, 8);
    EXPECT_NE(find_key(r, ApiKey::metadata), nullptr);
    EXPECT_NE(find_key(r, ApiKey::create_topics), nullptr);
    EXPECT_NE(find_key(r, ApiKey::delete_topics), nullptr);
  }
}

TEST_F(AdminApiTest, ApiVersionsUnsupportedVersionGetsV0BodyWithError35) {
  // Hand-built v9 request: header v2 (flexible), empty body. The broker must not parse the
  // body; it answers with header v0 + a v0 body.
  Bytes frame = {0, 0, 0, 0, 0, 18, 0, 9, 0, 0, 0, 42, 0xff, 0xff, 0x00};
  frame[3] = static_cast<uint8_t>(frame.size() - 4);
  client_->send_raw(frame);
  auto payload = client_->read_frame();
  ASSERT_TRUE(payload.has_value());
  protocol::Reader r(*payload);
  EXPECT_EQ(r.int32(), 42);
  protocol::ApiVersionsResponse resp;
  ASSERT_TRUE(resp.decode(r, 0).has_value());
  EXPECT_EQ(resp.error_code, 35);
  EXPECT_NE(find_key(resp, ApiKey::api_versions), nullptr);
  EXPECT_NE(find_key(resp, ApiKey::produce), nullptr);
  // Connection still usable.
  auto again = client_->call<protocol::ApiVersionsResponse>(protocol::ApiVersionsRequest{}, 3);
  EXPECT_EQ(again.error_code, 0);
}

protocol::MetadataRequest metadata_for(std::vector<std::string> names, bool allow_auto = true) {
  protocol::MetadataRequest req;
  req.topics.emplace();
  for (auto& n : names) req.topics->emplace_back().name = n;
  req.allow_auto_topic_creation = allow_auto;
  return req;
}

TEST_F(AdminApiTest, MetadataAutoCreatesTopicWithId) {
  auto r = client_->call<protocol::MetadataResponse>(metadata_for({"auto-created"}), 12);
  ASSERT_EQ(r.topics.size(), 1u);
  EXPECT_EQ(r.topics[0].error_code, 0);
  EXPECT_EQ(r.topics[0].name, "auto-created");
  EXPECT_NE(r.topics[0].topic_id, protocol::Uuid{});
  ASSERT_EQ(r.topics[0].partitions.size(), 1u);
  EXPECT_EQ(r.topics[0].partitions[0].leader_id, 1);
  EXPECT_EQ(r.topics[0].partitions[0].isr_nodes, std::vector<int32_t>{1});
  ASSERT_EQ(r.brokers.size(), 1u);
  EXPECT_EQ(r.brokers[0].port, broker_->port());
  EXPECT_EQ(r.brokers[0].host, "127.0.0.1");
  EXPECT_TRUE(r.cluster_id.has_value());

  // Same id on a second request; v1 null = all topics; v0 empty = all topics.
  auto again = client_->call<protocol::MetadataResponse>(metadata_for({"auto-created"}), 10);
  EXPECT_EQ(again.topics[0].topic_id, r.topics[0].topic_id);
  protocol::MetadataRequest all;
  auto v1 = client_->call<protocol::MetadataResponse>(all, 1);
  ASSERT_EQ(v1.topics.size(), 1u);
  all.topics.emplace();
  auto v0 = client_->call<protocol::MetadataResponse>(all, 0);
  ASSERT_EQ(v0.topics.size(), 1u);
  // By id (v10+).
  protocol::MetadataRequest by_id;
  by_id.topics.emplace().emplace_back().topic_id = r.topics[0].topic_id;
  auto id_resp = client_->call<protocol::MetadataResponse>(by_id, 12);
  ASSERT_EQ(id_resp.topics.size(), 1u);
  EXPECT_EQ(id_resp.topics[0].name, "auto-created");
}

TEST_F(AdminApiTest, MetadataRespectsAllowAutoTopicCreationAndNames) {
  auto r = client_->call<protocol::MetadataResponse>(metadata_for({"not-created"}, false), 9);
  ASSERT_EQ(r.topics.size(), 1u);
  EXPECT_EQ(r.topics[0].error_code, static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
  auto bad = client_->call<protocol::MetadataResponse>(metadata_for({"bad/name"}), 9);
  EXPECT_EQ(bad.topics[0].error_code, static_cast<int16_t>(ErrorCode::invalid_topic_exception));
  auto all = client_->call<protocol::MetadataResponse>(protocol::MetadataRequest{}, 9);
  EXPECT_TRUE(all.topics.empty());
}

TEST(AdminApi, MetadataNoAutoCreateWhenDisabled) {
  auto broker = start_broker(Properties{{"auto.create.topics.enable", "false"}});
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  auto r = c.call<protocol::MetadataResponse>(metadata_for({"nope"}), 4);
  EXPECT_EQ(r.topics[0].error_code, static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
}

protocol::CreateTopicsRequest create_request(const std::string& name, int32_t partitions, int16_t rf = 1) {
  protocol::CreateTopicsRequest req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = rf;
  return req;
}

TEST_F(AdminApiTest, CreateTopicsSucceedsAndReportsErrors) {
  auto ok = client_->call<protocol::CreateTopicsResponse>(create_request("orders", 6), 7);
  ASSERT_EQ(ok.topics.size(), 1u);
  EXPECT_EQ(ok.topics[0].error_code, 0) << ok.topics[0].error_message.value_or("");
  EXPECT_EQ(ok.topics[0].num_partitions, 6);
  EXPECT_NE(ok.topics[0].topic_id, protocol::Uuid{});

  auto meta = client_->call<protocol::MetadataResponse>(metadata_for({"orders"}, false), 12);
  EXPECT_EQ(meta.topics[0].partitions.size(), 6u);
  EXPECT_EQ(meta.topics[0].topic_id, ok.topics[0].topic_id);

  auto exists = client_->call<protocol::CreateTopicsResponse>(create_request("orders", 1), 2);
  EXPECT_EQ(exists.topics[0].error_code, static_cast<int16_t>(ErrorCode::topic_already_exists));
  auto rf = client_->call<protocol::CreateTopicsResponse>(create_request("rf3", 1, 3), 5);
  EXPECT_EQ(rf.topics[0].error_code, static_cast<int16_t>(ErrorCode::invalid_replication_factor));
  auto parts = client_->call<protocol::CreateTopicsResponse>(create_request("zero", 0), 5);
  EXPECT_EQ(parts.topics[0].error_code, static_cast<int16_t>(ErrorCode::invalid_partitions));
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "a b", std::string(250, 'x')}) {
    auto r = client_->call<protocol::CreateTopicsResponse>(create_request(bad, 1), 5);
    EXPECT_EQ(r.topics[0].error_code, static_cast<int16_t>(ErrorCode::invalid_topic_exception)) << bad;
  }
  auto defaults = client_->call<protocol::CreateTopicsResponse>(create_request("defaults", -1, -1), 5);
  EXPECT_EQ(defaults.topics[0].error_code, 0);
  EXPECT_EQ(defaults.topics[0].num_partitions, 1);
  EXPECT_EQ(defaults.topics[0].replication_factor, 1);

  auto cfg = create_request("with-config", 1);
  auto& c1 = cfg.topics[0].configs.emplace_back();
  c1.name = "segment.bytes";
  c1.value = "1048576";
  auto cfg_ok = client_->call<protocol::CreateTopicsResponse>(cfg, 5);
  EXPECT_EQ(cfg_ok.topics[0].error_code, 0) << cfg_ok.topics[0].error_message.value_or("");
  auto bad_cfg = create_request("bad-config", 1);
  auto& c2 = bad_cfg.topics[0].configs.emplace_back();
  c2.name = "no.such.config";
  c2.value = "1";
  auto bad_cfg_r = client_->call<protocol::CreateTopicsResponse>(bad_cfg, 5);
  EXPECT_EQ(bad_cfg_r.topics[0].error_code, static_cast<int16_t>(ErrorCode::invalid_config));
}

TEST_F(AdminApiTest, CreateTopicsValidateOnlyCreatesNothing) {
  auto req = create_request("dry-run", 3);
  req.validate_only = true;
  auto r = client_->call<protocol::CreateTopicsResponse>(req, 4);
  EXPECT_EQ(r.topics[0].error_code, 0);
  auto meta = client_->call<protocol::MetadataResponse>(metadata_for({"dry-run"}, false), 9);
  EXPECT_EQ(meta.topics[0].error_code, static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
}

TEST_F(AdminApiTest, DeleteTopicsByNameAndId) {
  auto a = client_->call<protocol::CreateTopicsResponse>(create_request("del-a", 2), 7);
  auto b = client_->call<protocol::CreateTopicsResponse>(create_request("del-b", 1), 7);
  ASSERT_EQ(a.topics[0].error_code, 0);
  ASSERT_EQ(b.topics[0].error_code, 0);

  protocol::DeleteTopicsRequest by_name;
  by_name.topic_names = {"del-a", "missing"};
  auto r = client_->call<protocol::DeleteTopicsResponse>(by_name, 5);
  ASSERT_EQ(r.responses.size(), 2u);
  EXPECT_EQ(r.responses[0].error_code, 0);
  EXPECT_EQ(r.responses[1].error_code, static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));

  protocol::DeleteTopicsRequest by_id;
  by_id.topics.emplace_back().topic_id = b.topics[0].topic_id;
  by_id.topics.emplace_back().topic_id = protocol::Uuid{1, 2, 3};
  auto r6 = client_->call<protocol::DeleteTopicsResponse>(by_id, 6);
  ASSERT_EQ(r6.responses.size(), 2u);
  EXPECT_EQ(r6.responses[0].error_code, 0);
  EXPECT_EQ(r6.responses[0].name, "del-b");
  EXPECT_EQ(r6.responses[1].error_code, static_cast<int16_t>(ErrorCode::unknown_topic_id));

  auto all = client_->call<protocol::MetadataResponse>(protocol::MetadataRequest{}, 9);
  EXPECT_TRUE(all.topics.empty());
  // A deleted topic can be created again, with a new id.
  auto again = client_->call<protocol::CreateTopicsResponse>(create_request("del-a", 1), 7);
  EXPECT_EQ(again.topics[0].error_code, 0);
  EXPECT_NE(again.topics[0].topic_id, a.topics[0].topic_id);
}

TEST_F(AdminApiTest, InitProducerIdHandsOutDistinctIds) {
  protocol::InitProducerIdRequest req;
  req.transaction_timeout_ms = 60000;
  auto a = client_->call<protocol::InitProducerIdResponse>(req, 4);
  auto b = client_->call<protocol::InitProducerIdResponse>(req, 0);
  EXPECT_EQ(a.error_code, 0);
  EXPECT_EQ(b.error_code, 0);
  EXPECT_GE(a.producer_id, 0);
  EXPECT_NE(a.producer_id, b.producer_id);
  EXPECT_EQ(a.producer_epoch, 0);
  // KIP-360 epoch bump keeps the id.
  req.producer_id = a.producer_id;
  req.producer_epoch = a.producer_epoch;
  auto bumped = client_->call<protocol::InitProducerIdResponse>(req, 3);
  EXPECT_EQ(bumped.producer_id, a.producer_id);
  EXPECT_EQ(bumped.producer_epoch, 1);
  // Transactions are not supported yet.
  protocol::InitProducerIdRequest txn;
  txn.transactional_id = "txn-1";
  auto t = client_->call<protocol::InitProducerIdResponse>(txn, 4);
  EXPECT_NE(t.error_code, 0);
}

TEST(AdminApi, UnknownConfigKeyFailsStart) {
  auto b = Broker::start(Properties{{"listeners", "PLAINTEXT://127.0.0.1:0"}, {"no.such.key", "1"}});
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, ErrorCode::invalid_config);
  EXPECT_NE(b.error().message.find("no.such.key"), std::string::npos);
}

TEST(AdminApi, TemporaryLogDirRemovedAtStop) {
  auto broker = start_broker();
  ASSERT_NE(broker, nullptr);
  std::string dir = broker->log_dir();
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(io::path_exists(dir));
  EXPECT_EQ(broker->bootstrap_servers(), "127.0.0.1:" + std::to_string(broker->port()));
  broker->stop();
  broker->stop();
  EXPECT_FALSE(io::path_exists(dir));
}

TEST(AdminApi, AdvertisedListenerIsReported) {
  auto broker = start_broker(Properties{{"listeners", "PLAINTEXT://:0"},
                                        {"advertised.listeners", "PLAINTEXT://broker.example:19092"}});
  ASSERT_NE(broker, nullptr);
  EXPECT_EQ(broker->bootstrap_servers(), "broker.example:19092");
  TestClient c(broker->port());
  auto r = c.call<protocol::MetadataResponse>(protocol::MetadataRequest{}, 9);
  ASSERT_EQ(r.brokers.size(), 1u);
  EXPECT_EQ(r.brokers[0].host, "broker.example");
  EXPECT_EQ(r.brokers[0].port, 19092);
}

}  // namespace
}  // namespace conveyor::broker

namespace conveyor::broker {
namespace {

// FindCoordinator is advertised from v0 (librdkafka needs v0 in the range to enable lz4).
// Group keys are answered with this broker in both response shapes; transaction keys with
// COORDINATOR_NOT_AVAILABLE until transactions land.
TEST_F(AdminApiTest, FindCoordinatorGroupIsThisBrokerTransactionNotYet) {
  auto versions = client_->call<protocol::ApiVersionsResponse>(protocol::ApiVersionsRequest{}, 3);
  auto* fc = find_key(versions, ApiKey::find_coordinator);
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->min_version, 0);
  EXPECT_EQ(fc->max_version, 4);

  for (int16_t v = 0; v <= 3; ++v) {
    protocol::FindCoordinatorRequest old;
    old.key = "group-a";
    auto r = client_->call<protocol::FindCoordinatorResponse>(old, v);
    EXPECT_EQ(r.error_code, 0) << "v" << v;
    EXPECT_EQ(r.node_id, 1);
    EXPECT_EQ(r.host, "127.0.0.1");
    EXPECT_EQ(r.port, broker_->port());
  }
  protocol::FindCoordinatorRequest txn;
  txn.key = "txn-a";
  txn.key_type = 1;
  auto t = client_->call<protocol::FindCoordinatorResponse>(txn, 2);
  EXPECT_EQ(t.error_code, static_cast<int16_t>(ErrorCode::coordinator_not_available));
  EXPECT_EQ(t.node_id, -1);

  protocol::FindCoordinatorRequest v4;
  v4.coordinator_keys = {"group-a", "group-b"};
  auto batched = client_->call<protocol::FindCoordinatorResponse>(v4, 4);
  ASSERT_EQ(batched.coordinators.size(), 2u);
  EXPECT_EQ(batched.coordinators[1].key, "group-b");
  EXPECT_EQ(batched.coordinators[1].error_code, 0);
  EXPECT_EQ(batched.coordinators[1].port, broker_->port());
  v4.key_type = 1;
  batched = client_->call<protocol::FindCoordinatorResponse>(v4, 4);
  ASSERT_EQ(batched.coordinators.size(), 2u);
  EXPECT_EQ(batched.coordinators[0].error_code, static_cast<int16_t>(ErrorCode::coordinator_not_available));

  // The lookup created the internal offsets topic, listed as internal (as Kafka does).
  protocol::MetadataRequest all;
  auto md = client_->call<protocol::MetadataResponse>(all, 12);
  bool found = false;
  for (const auto& topic : md.topics) {
    if (topic.name == "__consumer_offsets") {
      found = true;
      EXPECT_TRUE(topic.is_internal);
      EXPECT_EQ(topic.partitions.size(), 50u);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace conveyor::broker
