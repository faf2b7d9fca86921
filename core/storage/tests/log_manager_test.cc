#include "conveyor/storage/log_manager.h"

#include <gtest/gtest.h>

#include "conveyor/storage/log_config.h"
#include "storage_test_util.h"

namespace conveyor::storage {
namespace {

using namespace testing;

TopicId id_of(uint8_t seed) {
  TopicId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(seed * 17 + i * 29);
  return id;
}

TEST(TextFormats, TopicIdBase64Url) {
  TopicId zero{};
  EXPECT_EQ(topic_id_to_string(zero), "AAAAAAAAAAAAAAAAAAAAAA");
  TopicId ff;
  ff.fill(0xff);
  EXPECT_EQ(topic_id_to_string(ff), "_____________________w");
  for (uint8_t s = 0; s < 50; ++s) {
    auto text = topic_id_to_string(id_of(s));
    EXPECT_EQ(text.size(), 22u);
    auto back = topic_id_from_string(text);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, id_of(s));
  }
  EXPECT_FALSE(topic_id_from_string("AAAA"));
  EXPECT_FALSE(topic_id_from_string("AAAAAAAAAAAAAAAAAAAAA+"));
  EXPECT_FALSE(topic_id_from_string("_____________________x"));  // non-zero padding bits
}

TEST(TextFormats, PartitionMetadata) {
  auto text = format_partition_metadata(id_of(3));
  EXPECT_EQ(text, "version: 0\ntopic_id: " + topic_id_to_string(id_of(3)) + "\n");
  auto back = parse_partition_metadata(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, id_of(3));
  EXPECT_FALSE(parse_partition_metadata("version: 1\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA\n"));
  EXPECT_FALSE(parse_partition_metadata("version: 0\n"));
  EXPECT_FALSE(parse_partition_metadata("garbage"));
}

TEST(TextFormats, OffsetCheckpoint) {
  std::vector<CheckpointEntry> entries{{"a.b_c-d", 0, 10}, {"x", 12, 0}};
  auto text = format_offset_checkpoint(entries);
  EXPECT_EQ(text, "0\n2\na.b_c-d 0 10\nx 12 0\n");
  auto back = parse_offset_checkpoint(text);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].topic, "a.b_c-d");
  EXPECT_EQ((*back)[1].partition, 12);
  EXPECT_EQ((*back)[0].offset, 10);
  // Every proper prefix (a torn write) is refused.
  for (size_t n = 0; n < text.size(); ++n)
    EXPECT_FALSE(parse_offset_checkpoint(std::string_view(text).substr(0, n))) << n;
  EXPECT_FALSE(parse_offset_checkpoint("1\n0\n"));
  EXPECT_FALSE(parse_offset_checkpoint("0\n1\nx 1\n"));
  EXPECT_TRUE(parse_offset_checkpoint("0\n0\n"));
}

TEST(TopicNames, Validation) {
  EXPECT_TRUE(validate_topic_name("orders.v2_x-y"));
  EXPECT_EQ(validate_topic_name("").error().code, ErrorCode::invalid_topic_exception);
  EXPECT_FALSE(validate_topic_name("."));
  EXPECT_FALSE(validate_topic_name(".."));
  EXPECT_FALSE(validate_topic_name("a/b"));
  EXPECT_FALSE(validate_topic_name("a b"));
  EXPECT_FALSE(validate_topic_name(std::string(250, 'a')));
  EXPECT_TRUE(validate_topic_name(std::string(249, 'a')));
}

TEST(LogManager, CreateListReopenDelete) {
  TempDir dir;
  std::vector<std::string> dirs{dir.sub("d1"), dir.sub("d2")};
  Properties broker{{"log.segment.bytes", "4096"}, {"log.index.interval.bytes", "100"}};
  {
    auto m = LogManager::open(dirs, broker);
    ASSERT_TRUE(m) << m.error().to_string();
    for (int p = 0; p < 3; ++p) {
      auto log = (*m)->create_partition("orders.v2", p, id_of(1));
      ASSERT_TRUE(log) << log.error().to_string();
      ASSERT_TRUE((*log)->append(make_batch({.records = p + 1}), 0, 0));
    }
    auto other = (*m)->create_partition("logs_x-y", 0, id_of(2), Properties{{"max.message.bytes", "200"}});
    ASSERT_TRUE(other);
    EXPECT_EQ((*other)->config().max_message_bytes, 200);
    EXPECT_EQ((*other)->config().segment_bytes, 4096);
    // Same partition again: same log; other id: refused.
    EXPECT_EQ(*(*m)->create_partition("orders.v2", 0, id_of(1)), (*m)->get("orders.v2", 0));
    EXPECT_EQ((*m)->create_partition("orders.v2", 0, id_of(9)).error().code, ErrorCode::topic_already_exists);
    EXPECT_EQ((*m)->create_partition("bad/name", 0, id_of(9)).error().code, ErrorCode::invalid_topic_exception);
    EXPECT_EQ((*m)->create_partition("t", 0, id_of(9), Properties{{"no.such.key", "1"}}).error().code,
              ErrorCode::invalid_config);
    EXPECT_EQ((*m)->get("nope", 0), nullptr);
    // Spread over both dirs.
    EXPECT_TRUE(io::path_exists(dirs[0] + "/orders.v2-0") || io::path_exists(dirs[1] + "/orders.v2-0"));
    int in_d1 = 0;
    for (const auto& e : list_dir(dirs[0])) in_d1 += e.is_directory;
    EXPECT_EQ(in_d1, 2);
    ASSERT_TRUE((*m)->close());
    EXPECT_TRUE(io::path_exists(dirs[0] + "/.kafka_cleanshutdown"));
    auto cp = parse_offset_checkpoint(*io::read_file(dirs[0] + "/recovery-point-offset-checkpoint", 1 << 20));
    ASSERT_TRUE(cp);
    EXPECT_EQ(cp->size(), 2u);
  }
  {
    auto m = LogManager::open(dirs, broker);
    ASSERT_TRUE(m) << m.error().to_string();
    EXPECT_FALSE(io::path_exists(dirs[0] + "/.kafka_cleanshutdown"));
    auto topics = (*m)->topics();
    ASSERT_EQ(topics.size(), 2u);
    EXPECT_EQ(topics[0].name, "logs_x-y");
    EXPECT_EQ(topics[0].topic_id, id_of(2));
    EXPECT_EQ(topics[0].config_overrides.get_raw("max.message.bytes"), "200");
    EXPECT_EQ(topics[0].partitions[0].log->config().max_message_bytes, 200);
    EXPECT_EQ(topics[1].name, "orders.v2");
    ASSERT_EQ(topics[1].partitions.size(), 3u);
    for (int p = 0; p < 3; ++p) {
      EXPECT_EQ(topics[1].partitions[p].partition, p);
      EXPECT_EQ(topics[1].partitions[p].log->log_end_offset(), p + 1);
    }
    ASSERT_TRUE((*m)->alter_topic_config("logs_x-y", Properties{{"max.message.bytes", "300"}}));
    EXPECT_EQ((*m)->get("logs_x-y", 0)->config().max_message_bytes, 300);
    auto keep = (*m)->get("orders.v2", 1);
    ASSERT_TRUE((*m)->delete_topic("orders.v2"));
    EXPECT_EQ((*m)->get("orders.v2", 1), nullptr);
    EXPECT_FALSE((*m)->topic("orders.v2"));
    EXPECT_EQ(keep->append(make_batch({}), 0, 0).error().code, ErrorCode::kafka_storage_error);
    EXPECT_EQ((*m)->delete_topic("orders.v2").error().code, ErrorCode::unknown_topic_or_partition);
    for (const auto& d : dirs)
      for (const auto& e : list_dir(d)) EXPECT_EQ(e.name.find("orders"), std::string::npos) << e.name;
    // A crash in the middle of a delete leaves a -delete dir: removed on open.
    ASSERT_TRUE(io::create_directories(dirs[1] + "/gone-0.0123456789abcdef0123456789abcdef-delete"));
  }
  auto m = LogManager::open(dirs, broker);
  ASSERT_TRUE(m);
  EXPECT_FALSE(io::path_exists(dirs[1] + "/gone-0.0123456789abcdef0123456789abcdef-delete"));
  EXPECT_EQ((*m)->topics().size(), 1u);
  EXPECT_EQ((*m)->get("logs_x-y", 0)->config().max_message_bytes, 300);
}

TEST(LogManager, TornCheckpointIsIgnoredAndRewritten) {
  TempDir dir;
  std::vector<std::string> dirs{dir.sub("d")};
  {
    auto m = LogManager::open(dirs, {});
    auto log = (*m)->create_partition("t", 0, id_of(1));
    ASSERT_TRUE((*log)->append(make_batch({.records = 5}), 0, 0));
    ASSERT_TRUE((*m)->flush_all());
    auto cp = parse_offset_checkpoint(*io::read_file(dirs[0] + "/recovery-point-offset-checkpoint", 1 << 20));
    ASSERT_TRUE(cp);
    ASSERT_EQ(cp->size(), 1u);
    EXPECT_EQ((*cp)[0].offset, 5);
    // flush.messages flushes inside append; the timer still checkpoints the new recovery point.
    ASSERT_TRUE((*m)->alter_topic_config("t", Properties{{"flush.messages", "1"}}));
    ASSERT_TRUE((*log)->append(make_batch({.records = 2}), 0, 0));
    EXPECT_EQ((*log)->recovery_point(), 7);
    ASSERT_TRUE((*m)->maybe_flush_all(0));
    cp = parse_offset_checkpoint(*io::read_file(dirs[0] + "/recovery-point-offset-checkpoint", 1 << 20));
    ASSERT_TRUE(cp);
    EXPECT_EQ((*cp)[0].offset, 7);
    ASSERT_TRUE((*m)->alter_topic_config("t", Properties{}));
    ASSERT_TRUE((*m)->close());
  }
  // A torn checkpoint and a stale clean marker: the checkpoint is ignored, every log rescanned
  // (a torn tail appended to the log after the "clean" close must not be served).
  std::string cp_path = dirs[0] + "/recovery-point-offset-checkpoint";
  auto text = *io::read_file(cp_path, 1 << 20);
  write_bytes(cp_path, Bytes(text.begin(), text.begin() + static_cast<long>(text.size() / 2)));
  write_bytes(dirs[0] + "/recovery-point-offset-checkpoint.tmp", Bytes{'x'});
  std::string seg = dirs[0] + "/t-0/" + segment_file_name(0, ".log");
  Bytes data = read_bytes(seg);
  Bytes half = make_batch({.records = 2});
  half.resize(half.size() / 2);
  data.insert(data.end(), half.begin(), half.end());
  write_bytes(seg, data);
  auto m = LogManager::open(dirs, {});
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ((*m)->get("t", 0)->log_end_offset(), 7);
  EXPECT_FALSE(io::path_exists(dirs[0] + "/recovery-point-offset-checkpoint.tmp"));
  auto cp = parse_offset_checkpoint(*io::read_file(cp_path, 1 << 20));
  ASSERT_TRUE(cp) << "rewritten on open";
  EXPECT_EQ((*cp)[0].offset, 7);
}

TEST(LogConfigTest, BrokerDefaultsAndTopicOverrides) {
  auto d = make_log_config({});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->segment_bytes, 1LL << 30);
  EXPECT_EQ(d->index_interval_bytes, 4096);
  EXPECT_EQ(d->max_message_bytes, 1048588);
  EXPECT_EQ(d->retention_ms, 168LL * 3600 * 1000);
  EXPECT_EQ(d->flush_messages, INT64_MAX);
  EXPECT_EQ(d->message_timestamp_type, protocol::TimestampType::create_time);
  Properties broker{{"log.segment.bytes", "1000"},      {"log.flush.interval.messages", "1"},
                    {"message.max.bytes", "5000"},      {"log.retention.hours", "1"},
                    {"log.message.timestamp.type", "LogAppendTime"}, {"listeners", "PLAINTEXT://:9092"}};
  auto c = make_log_config(broker, Properties{{"segment.bytes", "2000"}, {"compression.type", "lz4"}});
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->segment_bytes, 2000);
  EXPECT_EQ(c->flush_messages, 1);
  EXPECT_EQ(c->max_message_bytes, 5000);
  EXPECT_EQ(c->retention_ms, 3600 * 1000);
  EXPECT_EQ(c->message_timestamp_type, protocol::TimestampType::log_append_time);
  auto bad = make_log_config({}, Properties{{"segment.bytes", "lots"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_config);
  EXPECT_NE(bad.error().message.find("segment.bytes"), std::string::npos);
  EXPECT_FALSE(make_log_config({}, Properties{{"unknown.topic.key", "1"}}));
  EXPECT_FALSE(make_log_config(Properties{{"log.segment.bytes", "-5"}}));
  EXPECT_FALSE(make_log_config({}, Properties{{"message.timestamp.type", "Whenever"}}));
  ConfigSchema schema;
  add_broker_log_config_keys(schema);
  EXPECT_NE(schema.find("log.flush.interval.ms"), nullptr);
  EXPECT_NE(schema.find("message.max.bytes"), nullptr);
}

}  // namespace
}  // namespace conveyor::storage
