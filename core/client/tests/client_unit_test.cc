// Broker-free tests: partitioner vectors, record encoding into the wire buffer, config errors,
// bootstrap parsing.
#include <gtest/gtest.h>

#include <string>

#include "client_config.h"
#include "conveyor/client/admin.h"
#include "conveyor/client/consumer.h"
#include "conveyor/client/producer.h"
#include "conveyor/protocol/record_batch.h"
#include "network_client.h"
#include "record_writer.h"

using namespace conveyor;
using namespace conveyor::client;

namespace {
ByteView view(std::string_view s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
}  // namespace

// Vectors computed with kafka-python's murmur2 (kafka.partitioner.default), which follows
// Java's Utils.murmur2; "21" → -973932308 is also a vector in Kafka's own tests.
TEST(Partitioner, Murmur2MatchesJavaVectors) {
  EXPECT_EQ(murmur2(view("")), 275646681);
  EXPECT_EQ(murmur2(view("a")), -1563381124);
  EXPECT_EQ(murmur2(view("ab")), 316155434);
  EXPECT_EQ(murmur2(view("abc")), 479470107);
  EXPECT_EQ(murmur2(view("abcd")), -1323649548);
  EXPECT_EQ(murmur2(view("hello")), 2132663229);
  EXPECT_EQ(murmur2(view("21")), -973932308);
  EXPECT_EQ(murmur2(view("foobar")), -790332482);
  Bytes seq;
  for (int i = 0; i < 37; ++i) seq.push_back(static_cast<uint8_t>(i));
  EXPECT_EQ(murmur2(seq), 74000851);
}

TEST(Partitioner, PartitionForKeyMasksSignBit) {
  EXPECT_EQ(partition_for_key(view("TCS"), 6), 5);
  EXPECT_EQ(partition_for_key(view("kafka"), 6), 4);
  EXPECT_EQ(partition_for_key(view("21"), 6), 0);
  EXPECT_EQ(partition_for_key(view("a"), 6), 4);
  EXPECT_EQ(partition_for_key(view("anything"), 1), 0);
}

TEST(RecordWriter, BatchDecodesWithProtocolDecoder) {
  Bytes buf(protocol::kBatchHeaderSize);
  std::optional<Bytes> key = bytes("k1"), value = bytes("value-1");
  std::vector<protocol::RecordHeader> headers{{"h", bytes("x")}, {"n", std::nullopt}};
  size_t body = record_body_size(0, 0, key, value, headers);
  append_record(buf, body, 0, 0, key, value, headers);
  std::optional<Bytes> null_key;
  body = record_body_size(-5, 1, null_key, value, {});
  append_record(buf, body, -5, 1, null_key, value, {});
  write_batch_header(buf, protocol::Compression::none, 2, 1000, 1000);
  finish_batch_header(buf, 42, 3, 7);
  ASSERT_TRUE(protocol::batch_crc_valid(buf));
  auto h = protocol::parse_batch_header(buf);
  ASSERT_TRUE(h.has_value()) << h.error().to_string();
  EXPECT_EQ(h->record_count, 2);
  EXPECT_EQ(h->producer_id, 42);
  EXPECT_EQ(h->producer_epoch, 3);
  EXPECT_EQ(h->base_sequence, 7);
  auto recs = protocol::decode_batch(buf);
  ASSERT_TRUE(recs.has_value()) << recs.error().to_string();
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[0].key, key);
  EXPECT_EQ((*recs)[0].value, value);
  ASSERT_EQ((*recs)[0].headers.size(), 2u);
  EXPECT_EQ((*recs)[0].headers[0].key, "h");
  EXPECT_FALSE((*recs)[0].headers[1].value.has_value());
  EXPECT_EQ((*recs)[0].timestamp, 1000);
  EXPECT_FALSE((*recs)[1].key.has_value());
  EXPECT_EQ((*recs)[1].timestamp, 995);
  EXPECT_EQ((*recs)[1].offset, 1);
}

TEST(Config, UnknownKeyIsNamed) {
  auto p = Producer::create(Properties{{"bootstrap.servers", "localhost:9092"}, {"lingerr.ms", "5"}});
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code, ErrorCode::invalid_config);
  EXPECT_NE(p.error().message.find("lingerr.ms"), std::string::npos);
}

TEST(Config, BadValuesAreNamed) {
  struct Case {
    std::string key, value;
  } cases[] = {{"linger.ms", "soon"}, {"acks", "2"}, {"compression.type", "brotli"}, {"batch.size", "-1"},
               {"enable.idempotence", "maybe"}};
  for (const auto& c : cases) {
    auto p = Producer::create(Properties{{"bootstrap.servers", "localhost:9092"}, {c.key, c.value}});
    ASSERT_FALSE(p.has_value()) << c.key;
    EXPECT_EQ(p.error().code, ErrorCode::invalid_config);
    EXPECT_NE(p.error().message.find(c.key), std::string::npos) << p.error().message;
  }
  auto c = Consumer::create(Properties{{"bootstrap.servers", "localhost:9092"}, {"auto.offset.reset", "sometimes"}});
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("auto.offset.reset"), std::string::npos);
  auto a = Admin::create(Properties{{"bootstrap.servers", "nohost"}});
  ASSERT_FALSE(a.has_value());
  EXPECT_NE(a.error().message.find("bootstrap.servers"), std::string::npos);
  auto missing = Admin::create(Properties{});
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("bootstrap.servers"), std::string::npos);
}

TEST(Config, IgnoredKeysAreAccepted) {
  auto p = Producer::create(Properties{{"bootstrap.servers", "localhost:1"},
                                       {"socket.keepalive.enable", "true"},
                                       {"queue.buffering.max.messages", "100000"},
                                       {"key.serializer", "org.apache.kafka.common.serialization.StringSerializer"}});
  EXPECT_TRUE(p.has_value()) << p.error().to_string();
  auto c = Consumer::create(Properties{{"bootstrap.servers", "localhost:1"},
                                       {"group.id", "g"},
                                       {"enable.auto.commit", "false"},
                                       {"session.timeout.ms", "10000"}});
  EXPECT_TRUE(c.has_value()) << c.error().to_string();
}

TEST(Config, ExplicitIdempotenceConflictsWithAcks1) {
  auto p = Producer::create(
      Properties{{"bootstrap.servers", "localhost:1"}, {"enable.idempotence", "true"}, {"acks", "1"}});
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message.find("enable.idempotence"), std::string::npos);
  // Implicit idempotence yields (Java's rule).
  auto q = Producer::create(Properties{{"bootstrap.servers", "localhost:1"}, {"acks", "1"}});
  EXPECT_TRUE(q.has_value());
}

TEST(Bootstrap, ParsesListsAndRejectsGarbage) {
  auto r = parse_bootstrap("a:1, b:2 ,PLAINTEXT://c:3,[::1]:4");
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0], (std::pair<std::string, uint16_t>{"a", 1}));
  EXPECT_EQ((*r)[2], (std::pair<std::string, uint16_t>{"c", 3}));
  EXPECT_EQ((*r)[3], (std::pair<std::string, uint16_t>{"::1", 4}));
  EXPECT_FALSE(parse_bootstrap("a:0").has_value());
  EXPECT_FALSE(parse_bootstrap("a:99999").has_value());
  EXPECT_FALSE(parse_bootstrap("a").has_value());
  EXPECT_FALSE(parse_bootstrap(" , ").has_value());
}

TEST(Producer, UnknownTopicTimesOutWithoutBroker) {
  auto p = Producer::create(Properties{{"bootstrap.servers", "127.0.0.1:1"}, {"max.block.ms", "200"}});
  ASSERT_TRUE(p.has_value());
  ProducerRecord rec;
  rec.topic = "t";
  rec.value = bytes("v");
  auto r = (*p)->produce(std::move(rec));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::local_timed_out);
  ProducerRecord bad;
  EXPECT_EQ((*p)->produce(std::move(bad)).error().code, ErrorCode::local_invalid_arg);
  (*p)->close(0);
  ProducerRecord after;
  after.topic = "t";
  EXPECT_EQ((*p)->produce(std::move(after)).error().code, ErrorCode::local_state);
}
