#include <gtest/gtest.h>

#include "conveyor/protocol/consumer_protocol.h"

namespace conveyor::protocol {
namespace {

TEST(ConsumerProtocol, SubscriptionV0GoldenBytes) {
  // version 0, topics ["ab"], user_data null
  ConsumerSubscription s;
  s.version = 0;
  s.topics = {"ab"};
  Bytes expected{0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 'a', 'b', 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(encode_consumer_subscription(s), expected);
  auto d = decode_consumer_subscription(expected);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, s);
}

TEST(ConsumerProtocol, SubscriptionEveryVersionRoundTrips) {
  for (int16_t v = 0; v <= kConsumerSubscriptionMaxVersion; ++v) {
    ConsumerSubscription s;
    s.version = v;
    s.topics = {"orders", "logs"};
    s.user_data = Bytes{1, 2, 3};
    if (v >= 1) s.owned_partitions = {{"orders", {0, 3, 5}}};
    if (v >= 2) s.generation_id = 7;
    if (v >= 3) s.rack_id = "rack-a";
    auto d = decode_consumer_subscription(encode_consumer_subscription(s));
    ASSERT_TRUE(d.has_value()) << "v" << v;
    EXPECT_EQ(*d, s) << "v" << v;
  }
}

TEST(ConsumerProtocol, SubscriptionDropsFieldsTheVersionCannotCarry) {
  ConsumerSubscription s;
  s.version = 1;
  s.topics = {"t"};
  s.owned_partitions = {{"t", {1}}};
  s.generation_id = 9;        // v2+
  s.rack_id = "r";            // v3+
  auto d = decode_consumer_subscription(encode_consumer_subscription(s));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->generation_id, -1);
  EXPECT_FALSE(d->rack_id.has_value());
  EXPECT_EQ(d->owned_partitions, s.owned_partitions);
}

TEST(ConsumerProtocol, NewerVersionReadsKnownPrefix) {
  ConsumerSubscription s;
  s.version = 3;
  s.topics = {"t"};
  Bytes bytes = encode_consumer_subscription(s);
  bytes[1] = 9;                                  // version 9: unknown to us
  bytes.insert(bytes.end(), {0xde, 0xad});       // a field we do not know
  auto d = decode_consumer_subscription(bytes);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->version, 9);
  EXPECT_EQ(d->topics, s.topics);
}

TEST(ConsumerProtocol, AssignmentGoldenBytesAndEmpty) {
  ConsumerAssignment a;
  a.version = 0;
  a.assigned_partitions = {{"t", {2}}};
  Bytes expected{0x00, 0x00,                          // version
                 0x00, 0x00, 0x00, 0x01,              // one topic
                 0x00, 0x01, 't',                     // "t"
                 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // [2]
                 0xff, 0xff, 0xff, 0xff};             // user_data null
  EXPECT_EQ(encode_consumer_assignment(a), expected);
  auto d = decode_consumer_assignment(expected);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, a);
  auto empty = decode_consumer_assignment({});
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->assigned_partitions.empty());
}

TEST(ConsumerProtocol, MalformedInputIsAnErrorNotAnAllocation) {
  // A topic count of 2^31-1 with nothing behind it.
  Bytes lying{0x00, 0x00, 0x7f, 0xff, 0xff, 0xff};
  auto s = decode_consumer_subscription(lying);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::corrupt_message);
  auto a = decode_consumer_assignment(lying);
  ASSERT_FALSE(a.has_value());
  ConsumerSubscription x;
  x.topics = {"x"};
  Bytes truncated = encode_consumer_subscription(x);
  truncated.pop_back();
  EXPECT_FALSE(decode_consumer_subscription(truncated).has_value());
  Bytes negative{0xff, 0xff};
  EXPECT_FALSE(decode_consumer_assignment(negative).has_value());
}

}  // namespace
}  // namespace conveyor::protocol
