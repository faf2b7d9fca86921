// Topic configuration (issue 5): the broker-wide defaults DescribeConfigs reports for each
// topic key agree with what make_log_config builds, a config change reaches a running log
// without a restart, and overrides persist (and their removal too) across a restart.
#include <gtest/gtest.h>

#include "conveyor/storage/log_config.h"
#include "conveyor/storage/log_manager.h"
#include "storage_test_util.h"

namespace conveyor::storage {
namespace {

using testing::make_batch;
using testing::TempDir;

bool same(const LogConfig& a, const LogConfig& b) {
  return a.segment_bytes == b.segment_bytes && a.segment_index_bytes == b.segment_index_bytes &&
         a.index_interval_bytes == b.index_interval_bytes && a.flush_messages == b.flush_messages &&
         a.flush_ms == b.flush_ms && a.max_message_bytes == b.max_message_bytes &&
         a.message_timestamp_type == b.message_timestamp_type && a.preallocate == b.preallocate &&
         a.segment_ms == b.segment_ms && a.retention_ms == b.retention_ms &&
         a.retention_bytes == b.retention_bytes && a.cleanup_policy == b.cleanup_policy;
}

TEST(TopicConfig, BrokerDefaultsAgreeWithMakeLogConfig) {
  std::vector<Properties> brokers = {
      Properties{},
      Properties{{"log.retention.hours", "1"}, {"log.roll.hours", "2"}, {"message.max.bytes", "5000"}},
      Properties{{"log.retention.minutes", "3"}, {"log.retention.hours", "9"}, {"log.flush.scheduler.interval.ms", "700"}},
      Properties{{"log.retention.ms", "-1"}, {"log.roll.ms", "1234"}, {"log.flush.interval.ms", "55"},
                 {"log.segment.bytes", "4096"}, {"log.cleanup.policy", "compact"}, {"log.preallocate", "true"},
                 {"log.message.timestamp.type", "LogAppendTime"}, {"log.retention.bytes", "100"}},
  };
  for (const auto& broker : brokers) {
    auto base = make_log_config(broker);
    ASSERT_TRUE(base) << base.error().to_string();
    for (const auto& key : topic_config_schema().keys()) {
      SCOPED_TRACE(key.name);
      auto d = topic_default(broker, key.name);
      ASSERT_TRUE(d.has_value());
      auto with = make_log_config(broker, Properties{{key.name, d->value}});
      ASSERT_TRUE(with) << with.error().to_string();
      EXPECT_TRUE(same(*base, *with)) << key.name << "=" << d->value;
      if (!d->broker_key.empty()) {
        auto syn = broker_synonyms(key.name);
        EXPECT_NE(std::find(syn.begin(), syn.end(), d->broker_key), syn.end());
        EXPECT_TRUE(broker.contains(d->broker_key));
      }
    }
  }
  auto r = topic_default(Properties{{"log.retention.minutes", "3"}, {"log.retention.hours", "9"}}, "retention.ms");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, "180000");
  EXPECT_EQ(r->broker_key, "log.retention.minutes");
  auto none = topic_default(Properties{}, "retention.ms");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->value, "604800000");
  EXPECT_EQ(none->broker_key, "");
  EXPECT_EQ(broker_synonyms("retention.ms"),
            (std::vector<std::string>{"log.retention.ms", "log.retention.minutes", "log.retention.hours"}));
  EXPECT_EQ(broker_synonyms("max.message.bytes"), std::vector<std::string>{"message.max.bytes"});
  EXPECT_FALSE(topic_default(Properties{}, "no.such.key"));
}

TEST(TopicConfig, AlterReachesTheRunningLogAndPersists) {
  TempDir dir;
  std::vector<std::string> dirs{dir.sub("d")};
  const TopicId id{1, 2, 3};
  {
    auto m = LogManager::open(dirs, {});
    ASSERT_TRUE(m);
    for (int p = 0; p < 2; ++p) ASSERT_TRUE((*m)->create_partition("t", p, id));
    auto log = (*m)->get("t", 1);
    Bytes big = make_batch({.records = 1, .value_bytes = 600});
    ASSERT_TRUE(log->append(big, 0, 0));
    ASSERT_TRUE((*m)->alter_topic_config("t", Properties{{"max.message.bytes", "500"}, {"retention.ms", "1000"}}));
    // The same PartitionLog object refuses the batch now: no restart, no reopen.
    auto refused = log->append(big, 0, 0);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::message_too_large);
    EXPECT_EQ(log->config().retention_ms, 1000);
    EXPECT_TRUE(io::path_exists(log->dir() + "/topic-config.properties"));
    EXPECT_FALSE(io::path_exists(log->dir() + "/topic-config.properties.tmp"));
    ASSERT_TRUE((*m)->close());
  }
  {
    auto m = LogManager::open(dirs, {});
    ASSERT_TRUE(m);
    EXPECT_EQ((*m)->get("t", 0)->config().max_message_bytes, 500);
    EXPECT_EQ((*m)->topic("t")->config_overrides.get_raw("retention.ms"), "1000");
    // Removing every override removes the file; a restart comes back with the defaults.
    ASSERT_TRUE((*m)->alter_topic_config("t", Properties{}));
    EXPECT_FALSE(io::path_exists((*m)->get("t", 0)->dir() + "/topic-config.properties"));
    EXPECT_EQ((*m)->get("t", 0)->config().max_message_bytes, 1048588);
  }
  auto m = LogManager::open(dirs, {});
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)->get("t", 1)->config().max_message_bytes, 1048588);
  EXPECT_TRUE((*m)->topic("t")->config_overrides.values().empty());
  // A bad override is refused before anything changes.
  auto bad = (*m)->alter_topic_config("t", Properties{{"segment.bytes", "1"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_config);
  EXPECT_NE(bad.error().message.find("segment.bytes"), std::string::npos);
  EXPECT_TRUE((*m)->topic("t")->config_overrides.values().empty());
}

}  // namespace
}  // namespace conveyor::storage
