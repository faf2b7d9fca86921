// Topic configuration APIs against a real broker (issue 5): DescribeConfigs 1–4 (topic and
// broker resources, sources, synonyms, types, documentation, errors), AlterConfigs 0–2 and
// IncrementalAlterConfigs 0–1 (applied to the running log without a restart, persisted,
// validate_only, errors naming the key), CreatePartitions 0–3 (Metadata at once, persisted,
// errors), and ApiVersions advertising them.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "test_client.h"

namespace conveyor::broker {
namespace {

using namespace testing;

constexpr int8_t kTopic = 2, kBroker = 4;

void create_topic(TestClient& c, const std::string& name, int32_t partitions,
                  std::vector<std::pair<std::string, std::string>> configs = {}) {
  protocol::CreateTopicsRequest req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  for (auto& [k, v] : configs) {
    auto& cfg = t.configs.emplace_back();
    cfg.name = k;
    cfg.value = v;
  }
  auto r = c.call<protocol::CreateTopicsResponse>(req, 7);
  ASSERT_EQ(r.topics.at(0).error_code, 0) << r.topics[0].error_message.value_or("");
}

protocol::DescribeConfigsResponse describe(TestClient& c, int8_t type, const std::string& name, int16_t version,
                                           std::optional<std::vector<std::string>> keys = std::nullopt,
                                           bool synonyms = true, bool docs = true) {
  protocol::DescribeConfigsRequest req;
  auto& r = req.resources.emplace_back();
  r.resource_type = type;
  r.resource_name = name;
  r.configuration_keys = std::move(keys);
  req.include_synonyms = synonyms;
  req.include_documentation = docs;
  return c.call<protocol::DescribeConfigsResponse>(req, version);
}

const protocol::DescribeConfigsResponse::DescribeConfigsResourceResult* find_config(
    const protocol::DescribeConfigsResponse& r, const std::string& name) {
  for (const auto& c : r.results.at(0).configs)
    if (c.name == name) return &c;
  return nullptr;
}

protocol::IncrementalAlterConfigsResponse incremental(TestClient& c, const std::string& topic,
                                                      std::vector<std::tuple<std::string, int8_t, std::optional<std::string>>> ops,
                                                      int16_t version = 1, bool validate_only = false,
                                                      int8_t type = kTopic) {
  protocol::IncrementalAlterConfigsRequest req;
  auto& r = req.resources.emplace_back();
  r.resource_type = type;
  r.resource_name = topic;
  for (auto& [k, op, v] : ops) {
    auto& a = r.configs.emplace_back();
    a.name = k;
    a.config_operation = op;
    a.value = v;
  }
  req.validate_only = validate_only;
  return c.call<protocol::IncrementalAlterConfigsResponse>(req, version);
}

protocol::AlterConfigsResponse alter(TestClient& c, const std::string& topic,
                                     std::vector<std::pair<std::string, std::string>> configs, int16_t version = 2,
                                     bool validate_only = false, int8_t type = kTopic) {
  protocol::AlterConfigsRequest req;
  auto& r = req.resources.emplace_back();
  r.resource_type = type;
  r.resource_name = topic;
  for (auto& [k, v] : configs) {
    auto& a = r.configs.emplace_back();
    a.name = k;
    a.value = v;
  }
  req.validate_only = validate_only;
  return c.call<protocol::AlterConfigsResponse>(req, version);
}

protocol::CreatePartitionsResponse create_partitions(TestClient& c, const std::string& topic, int32_t count,
                                                     int16_t version = 3, bool validate_only = false,
                                                     std::optional<std::vector<std::vector<int32_t>>> assignments = std::nullopt) {
  protocol::CreatePartitionsRequest req;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  t.count = count;
  if (assignments) {
    t.assignments.emplace();
    for (auto& ids : *assignments) t.assignments->emplace_back().broker_ids = ids;
  }
  req.timeout_ms = 5000;
  req.validate_only = validate_only;
  return c.call<protocol::CreatePartitionsResponse>(req, version);
}

int partition_count(TestClient& c, const std::string& topic) {
  protocol::MetadataRequest req;
  req.topics = std::vector<protocol::MetadataRequest::MetadataRequestTopic>(1);
  req.topics->at(0).name = topic;
  auto r = c.call<protocol::MetadataResponse>(req, 12);
  if (r.topics.empty() || r.topics[0].error_code != 0) return -1;
  return static_cast<int>(r.topics[0].partitions.size());
}

int16_t produce_error(TestClient& c, const std::string& topic, int32_t partition, Bytes batch) {
  auto r = c.call<protocol::ProduceResponse>(produce_request(topic, partition, std::move(batch)), 9);
  return r.responses.at(0).partition_responses.at(0).error_code;
}

TEST(ConfigApi, ApiVersionsAdvertisesTheConfigApis) {
  auto broker = start_broker();
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  auto r = c.call<protocol::ApiVersionsResponse>(protocol::ApiVersionsRequest{}, 3);
  auto range = [&](protocol::ApiKey key) {
    for (const auto& k : r.api_keys)
      if (k.api_key == static_cast<int16_t>(key)) return std::make_pair(int{k.min_version}, int{k.max_version});
    return std::make_pair(-1, -1);
  };
  EXPECT_EQ(range(protocol::ApiKey::describe_configs), std::make_pair(1, 4));
  EXPECT_EQ(range(protocol::ApiKey::alter_configs), std::make_pair(0, 2));
  EXPECT_EQ(range(protocol::ApiKey::incremental_alter_configs), std::make_pair(0, 1));
  EXPECT_EQ(range(protocol::ApiKey::create_partitions), std::make_pair(0, 3));
}

TEST(ConfigApi, DescribeTopicSourcesSynonymsTypesAndDocs) {
  // log.retention.hours from the broker's properties: STATIC_BROKER_CONFIG in ms.
  auto broker = start_broker(Properties{{"log.retention.hours", "2"}, {"min.insync.replicas", "1"}});
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  create_topic(c, "t", 1, {{"max.message.bytes", "5000"}, {"min.insync.replicas", "2"}});
  for (int16_t v = 1; v <= 4; ++v) {
    SCOPED_TRACE(::testing::Message() << "v" << v);
    auto r = describe(c, kTopic, "t", v);
    ASSERT_EQ(r.results.size(), 1u);
    EXPECT_EQ(r.results[0].error_code, 0);
    EXPECT_EQ(r.results[0].resource_type, kTopic);
    EXPECT_EQ(r.results[0].resource_name, "t");
    auto mmb = find_config(r, "max.message.bytes");
    ASSERT_NE(mmb, nullptr);
    EXPECT_EQ(mmb->value, "5000");
    EXPECT_EQ(mmb->config_source, 1);  // DYNAMIC_TOPIC_CONFIG
    EXPECT_FALSE(mmb->read_only);
    EXPECT_FALSE(mmb->is_sensitive);
    ASSERT_EQ(mmb->synonyms.size(), 2u);
    EXPECT_EQ(mmb->synonyms[0].name, "max.message.bytes");
    EXPECT_EQ(mmb->synonyms[0].source, 1);
    EXPECT_EQ(mmb->synonyms[1].name, "message.max.bytes");
    EXPECT_EQ(mmb->synonyms[1].value, "1048588");
    EXPECT_EQ(mmb->synonyms[1].source, 5);
    auto ret = find_config(r, "retention.ms");
    ASSERT_NE(ret, nullptr);
    EXPECT_EQ(ret->value, "7200000");
    EXPECT_EQ(ret->config_source, 4);  // STATIC_BROKER_CONFIG
    ASSERT_EQ(ret->synonyms.size(), 2u);  // log.retention.ms and .minutes are unset and have no default
    EXPECT_EQ(ret->synonyms[0].name, "log.retention.hours");
    EXPECT_EQ(ret->synonyms[0].value, "2");
    EXPECT_EQ(ret->synonyms[0].source, 4);
    EXPECT_EQ(ret->synonyms[1].name, "log.retention.hours");
    EXPECT_EQ(ret->synonyms[1].value, "168");
    EXPECT_EQ(ret->synonyms[1].source, 5);
    auto seg = find_config(r, "segment.bytes");
    ASSERT_NE(seg, nullptr);
    EXPECT_EQ(seg->value, "1073741824");
    EXPECT_EQ(seg->config_source, 5);  // DEFAULT_CONFIG
    auto mir = find_config(r, "min.insync.replicas");  // stored only, still reported
    ASSERT_NE(mir, nullptr);
    EXPECT_EQ(mir->value, "2");
    EXPECT_EQ(mir->config_source, 1);
    auto cp = find_config(r, "cleanup.policy");
    ASSERT_NE(cp, nullptr);
    EXPECT_EQ(cp->value, "delete");
    if (v >= 3) {
      EXPECT_EQ(mmb->config_type, 3);  // INT
      EXPECT_EQ(ret->config_type, 5);  // LONG
      EXPECT_EQ(cp->config_type, 7);   // LIST
      EXPECT_EQ(find_config(r, "preallocate")->config_type, 1);  // BOOLEAN
      EXPECT_EQ(find_config(r, "min.cleanable.dirty.ratio")->config_type, 6);  // DOUBLE
      EXPECT_TRUE(mmb->documentation.has_value() && !mmb->documentation->empty());
    }
  }
  // Without synonyms and documentation; a key list selects (unknown names are left out).
  auto some = describe(c, kTopic, "t", 4, std::vector<std::string>{"retention.ms", "no.such.key"}, false, false);
  ASSERT_EQ(some.results[0].configs.size(), 1u);
  EXPECT_EQ(some.results[0].configs[0].name, "retention.ms");
  EXPECT_TRUE(some.results[0].configs[0].synonyms.empty());
  EXPECT_FALSE(some.results[0].configs[0].documentation.has_value());
  // Errors per resource.
  auto missing = describe(c, kTopic, "missing", 4);
  EXPECT_EQ(missing.results[0].error_code, static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
  auto bad_type = describe(c, 3, "x", 4);
  EXPECT_EQ(bad_type.results[0].error_code, static_cast<int16_t>(ErrorCode::invalid_request));
}

TEST(ConfigApi, DescribeBrokerIsReadOnly) {
  auto broker = start_broker(Properties{{"node.id", "7"}, {"message.max.bytes", "2000000"}});
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  for (int16_t v = 1; v <= 4; ++v) {
    auto r = describe(c, kBroker, "7", v);
    ASSERT_EQ(r.results[0].error_code, 0);
    auto mmb = find_config(r, "message.max.bytes");
    ASSERT_NE(mmb, nullptr);
    EXPECT_EQ(mmb->value, "2000000");
    EXPECT_EQ(mmb->config_source, 4);
    EXPECT_TRUE(mmb->read_only);
    auto np = find_config(r, "num.partitions");
    ASSERT_NE(np, nullptr);
    EXPECT_EQ(np->value, "1");
    EXPECT_EQ(np->config_source, 5);
    EXPECT_TRUE(np->read_only);
  }
  EXPECT_EQ(describe(c, kBroker, "8", 4).results[0].error_code, static_cast<int16_t>(ErrorCode::invalid_request));
  EXPECT_EQ(describe(c, kBroker, "x", 4).results[0].error_code, static_cast<int16_t>(ErrorCode::invalid_request));
  auto defaults = describe(c, kBroker, "", 4);  // no dynamic cluster defaults
  EXPECT_EQ(defaults.results[0].error_code, 0);
  EXPECT_TRUE(defaults.results[0].configs.empty());
  // Altering a broker is refused with a message that says why.
  auto a = alter(c, "7", {{"message.max.bytes", "1"}}, 2, false, kBroker);
  EXPECT_EQ(a.responses[0].error_code, static_cast<int16_t>(ErrorCode::invalid_config));
  EXPECT_NE(a.responses[0].error_message.value_or("").find("dynamic broker configs"), std::string::npos);
  auto i = incremental(c, "7", {{"message.max.bytes", 0, "1"}}, 1, false, kBroker);
  EXPECT_EQ(i.responses[0].error_code, static_cast<int16_t>(ErrorCode::invalid_config));
  EXPECT_EQ(incremental(c, "9", {{"message.max.bytes", 0, "1"}}, 1, false, kBroker).responses[0].error_code,
            static_cast<int16_t>(ErrorCode::invalid_request));
}

TEST(ConfigApi, IncrementalAlterAppliesWithoutRestart) {
  auto broker = start_broker();
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  create_topic(c, "t", 2);
  Bytes big = make_batch(1, std::string(3000, 'x'));
  ASSERT_EQ(produce_error(c, "t", 0, big), 0);
  for (int16_t v : {0, 1}) {
    // validate_only changes nothing.
    auto check = incremental(c, "t", {{"max.message.bytes", 0, "1000"}}, v, true);
    EXPECT_EQ(check.responses[0].error_code, 0);
    EXPECT_EQ(produce_error(c, "t", 0, big), 0);
  }
  auto set = incremental(c, "t", {{"max.message.bytes", 0, "1000"}, {"retention.ms", 0, "60000"}}, 0);
  ASSERT_EQ(set.responses[0].error_code, 0) << set.responses[0].error_message.value_or("");
  EXPECT_EQ(produce_error(c, "t", 0, big), static_cast<int16_t>(ErrorCode::message_too_large));
  EXPECT_EQ(produce_error(c, "t", 1, big), static_cast<int16_t>(ErrorCode::message_too_large));
  EXPECT_EQ(produce_error(c, "t", 1, make_batch(1)), 0);
  auto d = describe(c, kTopic, "t", 4);
  EXPECT_EQ(find_config(d, "retention.ms")->value, "60000");
  EXPECT_EQ(find_config(d, "retention.ms")->config_source, 1);
  // APPEND / SUBTRACT on a list key.
  ASSERT_EQ(incremental(c, "t", {{"cleanup.policy", 2, "compact"}}).responses[0].error_code, 0);
  EXPECT_EQ(find_config(describe(c, kTopic, "t", 4), "cleanup.policy")->value, "delete,compact");
  ASSERT_EQ(incremental(c, "t", {{"cleanup.policy", 3, "delete"}}).responses[0].error_code, 0);
  EXPECT_EQ(find_config(describe(c, kTopic, "t", 4), "cleanup.policy")->value, "compact");
  // DELETE goes back to the default; other overrides stay.
  ASSERT_EQ(incremental(c, "t", {{"max.message.bytes", 1, std::nullopt}}).responses[0].error_code, 0);
  EXPECT_EQ(produce_error(c, "t", 0, big), 0);
  d = describe(c, kTopic, "t", 4);
  EXPECT_EQ(find_config(d, "max.message.bytes")->config_source, 5);
  EXPECT_EQ(find_config(d, "retention.ms")->value, "60000");
  // Errors name the key and change nothing.
  struct Bad {
    std::string key;
    int8_t op;
    std::optional<std::string> value;
    ErrorCode code;
  };
  for (const auto& bad : {Bad{"retention.ms", 0, "soon", ErrorCode::invalid_config},
                          Bad{"no.such.key", 0, "1", ErrorCode::invalid_config},
                          Bad{"segment.bytes", 0, "1", ErrorCode::invalid_config},
                          Bad{"min.insync.replicas", 0, "0", ErrorCode::invalid_config},
                          Bad{"retention.ms", 2, "1", ErrorCode::invalid_config},  // APPEND on a non-list
                          Bad{"retention.ms", 9, "1", ErrorCode::invalid_request},
                          Bad{"retention.ms", 0, std::nullopt, ErrorCode::invalid_request}}) {
    auto r = incremental(c, "t", {{bad.key, bad.op, bad.value}});
    EXPECT_EQ(r.responses[0].error_code, static_cast<int16_t>(bad.code)) << bad.key;
    EXPECT_NE(r.responses[0].error_message.value_or("").find(bad.key), std::string::npos)
        << r.responses[0].error_message.value_or("");
  }
  EXPECT_EQ(find_config(describe(c, kTopic, "t", 4), "retention.ms")->value, "60000");
  EXPECT_EQ(incremental(c, "nope", {{"retention.ms", 0, "1"}}).responses[0].error_code,
            static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
}

TEST(ConfigApi, AlterConfigsReplacesTheOverrideSet) {
  auto broker = start_broker();
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  create_topic(c, "t", 1, {{"retention.ms", "1000"}, {"flush.messages", "5"}});
  for (int16_t v = 0; v <= 2; ++v) {
    SCOPED_TRACE(::testing::Message() << "v" << v);
    auto check = alter(c, "t", {{"segment.ms", "5000"}}, v, true);
    EXPECT_EQ(check.responses[0].error_code, 0);
    EXPECT_EQ(find_config(describe(c, kTopic, "t", 4), "retention.ms")->value, "1000");
  }
  auto r = alter(c, "t", {{"segment.ms", "5000"}, {"compression.type", "lz4"}}, 1);
  ASSERT_EQ(r.responses[0].error_code, 0) << r.responses[0].error_message.value_or("");
  auto d = describe(c, kTopic, "t", 4);
  EXPECT_EQ(find_config(d, "segment.ms")->value, "5000");
  EXPECT_EQ(find_config(d, "compression.type")->value, "lz4");
  EXPECT_EQ(find_config(d, "retention.ms")->config_source, 5);  // left out → default again
  EXPECT_EQ(find_config(d, "flush.messages")->config_source, 5);
  // A key Kafka 4 dropped is still accepted (old tools send it) but not reported.
  ASSERT_EQ(alter(c, "t", {{"segment.ms", "5000"}, {"message.format.version", "2.8"}}).responses[0].error_code, 0);
  EXPECT_EQ(find_config(describe(c, kTopic, "t", 4), "message.format.version"), nullptr);
  auto bad = alter(c, "t", {{"compression.type", "brotli"}});
  EXPECT_EQ(bad.responses[0].error_code, static_cast<int16_t>(ErrorCode::invalid_config));
  EXPECT_NE(bad.responses[0].error_message.value_or("").find("compression.type"), std::string::npos);
  EXPECT_EQ(alter(c, "t", {{"segment.ms", "1"}, {"segment.ms", "2"}}).responses[0].error_code,
            static_cast<int16_t>(ErrorCode::invalid_request));
  EXPECT_EQ(alter(c, "t", {{"x", "1"}}, 2, false, 99).responses[0].error_code,
            static_cast<int16_t>(ErrorCode::invalid_request));
}

TEST(ConfigApi, CreatePartitions) {
  auto broker = start_broker();
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  create_topic(c, "t", 1, {{"max.message.bytes", "2000"}});
  for (int16_t v = 0; v <= 3; ++v) {
    auto check = create_partitions(c, "t", 5, v, true);
    EXPECT_EQ(check.results[0].error_code, 0) << "v" << v;
    EXPECT_EQ(partition_count(c, "t"), 1);
  }
  auto r = create_partitions(c, "t", 3, 0);
  ASSERT_EQ(r.results.at(0).error_code, 0) << r.results[0].error_message.value_or("");
  EXPECT_EQ(partition_count(c, "t"), 3);  // in Metadata at once
  // New partitions take the topic's overrides and accept records.
  EXPECT_EQ(produce_error(c, "t", 2, make_batch(1)), 0);
  EXPECT_EQ(produce_error(c, "t", 2, make_batch(1, std::string(3000, 'x'))),
            static_cast<int16_t>(ErrorCode::message_too_large));
  auto same = create_partitions(c, "t", 3);
  EXPECT_EQ(same.results[0].error_code, static_cast<int16_t>(ErrorCode::invalid_partitions));
  EXPECT_EQ(create_partitions(c, "t", 2).results[0].error_code, static_cast<int16_t>(ErrorCode::invalid_partitions));
  EXPECT_EQ(create_partitions(c, "nope", 4).results[0].error_code,
            static_cast<int16_t>(ErrorCode::unknown_topic_or_partition));
  EXPECT_EQ(create_partitions(c, "t", 5, 3, false, std::vector<std::vector<int32_t>>{{1}}).results[0].error_code,
            static_cast<int16_t>(ErrorCode::invalid_replica_assignment));  // one assignment for two partitions
  EXPECT_EQ(create_partitions(c, "t", 4, 3, false, std::vector<std::vector<int32_t>>{{2}}).results[0].error_code,
            static_cast<int16_t>(ErrorCode::invalid_replica_assignment));  // not this node
  EXPECT_EQ(create_partitions(c, "t", 4, 2, false, std::vector<std::vector<int32_t>>{{1}}).results[0].error_code, 0);
  EXPECT_EQ(partition_count(c, "t"), 4);
  protocol::CreatePartitionsRequest twice;
  twice.topics.resize(2);
  twice.topics[0].name = twice.topics[1].name = "t";
  twice.topics[0].count = twice.topics[1].count = 9;
  auto dup = c.call<protocol::CreatePartitionsResponse>(twice, 3);
  ASSERT_EQ(dup.results.size(), 2u);
  EXPECT_EQ(dup.results[0].error_code, static_cast<int16_t>(ErrorCode::invalid_request));
  EXPECT_EQ(partition_count(c, "t"), 4);
}

TEST(ConfigApi, ChangesSurviveARestart) {
  std::string dir = std::filesystem::temp_directory_path() / ("conveyor-cfg-" + std::to_string(std::random_device{}()));
  Properties props{{"listeners", "PLAINTEXT://127.0.0.1:0"}, {"log.dirs", dir}};
  {
    auto broker = start_broker(props);
    ASSERT_NE(broker, nullptr);
    TestClient c(broker->port());
    create_topic(c, "kept", 1);
    ASSERT_EQ(incremental(c, "kept", {{"max.message.bytes", 0, "1000"}, {"min.insync.replicas", 0, "2"}})
                  .responses[0].error_code,
              0);
    ASSERT_EQ(create_partitions(c, "kept", 3).results[0].error_code, 0);
    broker->stop();
  }
  {
    auto broker = start_broker(props);
    ASSERT_NE(broker, nullptr);
    TestClient c(broker->port());
    EXPECT_EQ(partition_count(c, "kept"), 3);
    auto d = describe(c, kTopic, "kept", 4);
    EXPECT_EQ(find_config(d, "max.message.bytes")->value, "1000");
    EXPECT_EQ(find_config(d, "min.insync.replicas")->value, "2");
    for (int32_t p : {0, 2})
      EXPECT_EQ(produce_error(c, "kept", p, make_batch(1, std::string(3000, 'x'))),
                static_cast<int16_t>(ErrorCode::message_too_large));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace conveyor::broker
