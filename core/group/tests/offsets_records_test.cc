// __consumer_offsets record codec and the group → partition mapping.
#include <gtest/gtest.h>

#include "conveyor/group/offsets_records.h"

namespace conveyor::group {
namespace {

TEST(OffsetsRecords, JavaStringHashMatchesJava) {
  // Values of Java's "...".hashCode().
  EXPECT_EQ(java_string_hash(""), 0);
  EXPECT_EQ(java_string_hash("a"), 97);
  EXPECT_EQ(java_string_hash("hello"), 99162322);
  // 31^n overflow wraps like Java's int arithmetic: "polygenelubricants".hashCode() == INT_MIN.
  EXPECT_EQ(java_string_hash("polygenelubricants"), INT32_MIN);
  // Non-ASCII: "é" is one UTF-16 unit (0xE9); "😀" (U+1F600) is the pair D83D DE00.
  EXPECT_EQ(java_string_hash("\xC3\xA9"), 0xE9);
  EXPECT_EQ(java_string_hash("\xF0\x9F\x98\x80"), 0xD83D * 31 + 0xDE00);
}

TEST(OffsetsRecords, PartitionForGroupUsesKafkasAbs) {
  EXPECT_EQ(partition_for_group("polygenelubricants", 50), 0);  // Utils.abs(INT_MIN) = 0
  EXPECT_EQ(partition_for_group("a", 50), 97 % 50);
  EXPECT_EQ(partition_for_group("hello", 50), 99162322 % 50);
  // A negative hash: "GROUP-negative"? Use a value computed here: h = hash, expect |h| % n.
  int32_t h = java_string_hash("console-consumer-12345");
  int32_t expect = (h == INT32_MIN ? 0 : (h < 0 ? -h : h)) % 50;
  EXPECT_EQ(partition_for_group("console-consumer-12345", 50), expect);
  for (int n : {1, 7, 50})
    for (const char* g : {"x", "orders-service", "\xC3\xA9t\xC3\xA9"}) {
      int32_t p = partition_for_group(g, n);
      EXPECT_GE(p, 0);
      EXPECT_LT(p, n);
    }
}

TEST(OffsetsRecords, OffsetKeyAndValueLayout) {
  Bytes key = encode_offset_key({"g", "t", 3});
  EXPECT_EQ(key, (Bytes{0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 3}));
  auto k = decode_record_key(key);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, RecordKey::Kind::offset);
  EXPECT_EQ(k->offset, (OffsetKey{"g", "t", 3}));

  OffsetValue v{42, 7, "meta", 1700000000000, -1};
  Bytes value = encode_offset_value(v);
  EXPECT_EQ(value.size(), 2u + 8 + 4 + 2 + 4 + 8);
  EXPECT_EQ(value[0], 0);
  EXPECT_EQ(value[1], 3);
  auto back = decode_offset_value(value);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, v);
}

TEST(OffsetsRecords, ReadsOlderOffsetValueVersions) {
  // v1: offset, metadata, commit timestamp, expire timestamp.
  Bytes v1 = {0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 2, 'h', 'i', 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6};
  auto d = decode_offset_value(v1);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->offset, 9);
  EXPECT_EQ(d->metadata, "hi");
  EXPECT_EQ(d->commit_timestamp_ms, 5);
  EXPECT_EQ(d->expire_timestamp_ms, 6);
  EXPECT_EQ(d->leader_epoch, -1);
  // Truncated and unknown versions are refused.
  EXPECT_FALSE(decode_offset_value(Bytes(v1.begin(), v1.end() - 1)).has_value());
  EXPECT_FALSE(decode_offset_value(Bytes{0, 9, 0}).has_value());
  EXPECT_FALSE(decode_record_key(Bytes{0, 7, 0, 0}).has_value());
  EXPECT_FALSE(decode_record_key(Bytes{}).has_value());
}

TEST(OffsetsRecords, GroupMetadataRoundTrip) {
  GroupMetadataValue v;
  v.protocol_type = "consumer";
  v.generation = 5;
  v.protocol = "range";
  v.leader = "c-1";
  v.current_state_timestamp_ms = 123;
  GroupMemberValue m;
  m.member_id = "c-1";
  m.group_instance_id = "i-1";
  m.client_id = "c";
  m.client_host = "/127.0.0.1";
  m.rebalance_timeout_ms = 300000;
  m.session_timeout_ms = 45000;
  m.subscription = Bytes{1, 2, 3};
  m.assignment = Bytes{4};
  v.members.push_back(m);
  Bytes key = encode_group_key("grp");
  EXPECT_EQ(key, (Bytes{0, 2, 0, 3, 'g', 'r', 'p'}));
  auto k = decode_record_key(key);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, RecordKey::Kind::group);
  EXPECT_EQ(k->group, "grp");
  Bytes value = encode_group_value(v);
  auto back = decode_group_value(value);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, v);
  // Every truncation fails cleanly.
  for (size_t n = 0; n < value.size(); ++n)
    EXPECT_FALSE(decode_group_value(ByteView(value.data(), n)).has_value()) << n;
  // A lying member count does not allocate its way into trouble.
  Bytes lying = {0, 3, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
  EXPECT_FALSE(decode_group_value(lying).has_value());
}

}  // namespace
}  // namespace conveyor::group
