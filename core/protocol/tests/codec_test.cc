#include <gtest/gtest.h>

#include "conveyor/protocol/codec.h"

namespace conveyor::protocol {
namespace {

TEST(Codec, BigEndianIntegers) {
  Bytes out;
  Writer w(out);
  w.int16(0x0102);
  w.int32(-2);
  w.int64(0x0102030405060708);
  EXPECT_EQ(out, (Bytes{0x01, 0x02, 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8}));
  Reader r(out);
  EXPECT_EQ(r.int16(), 0x0102);
  EXPECT_EQ(r.int32(), -2);
  EXPECT_EQ(r.int64(), 0x0102030405060708);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  r.int8();
  EXPECT_FALSE(r.ok());
}

TEST(Codec, Varints) {
  // Known encodings: unsigned 300 = ac 02; zigzag -1 = 01, 1 = 02, -64 = 7f, 64 = 80 01.
  Bytes out;
  Writer w(out);
  w.uvarint(300);
  w.varint(-1);
  w.varint(1);
  w.varint(-64);
  w.varint(64);
  w.varlong(INT64_MIN);
  EXPECT_EQ((Bytes{out.begin(), out.begin() + 7}), (Bytes{0xac, 0x02, 0x01, 0x02, 0x7f, 0x80, 0x01}));
  Reader r(out);
  EXPECT_EQ(r.uvarint(), 300u);
  EXPECT_EQ(r.varint(), -1);
  EXPECT_EQ(r.varint(), 1);
  EXPECT_EQ(r.varint(), -64);
  EXPECT_EQ(r.varint(), 64);
  EXPECT_EQ(r.varlong(), INT64_MIN);
  EXPECT_TRUE(r.ok());
}

TEST(Codec, OverlongVarintFails) {
  Bytes in(11, 0xff);
  Reader r(in);
  r.uvarint();
  EXPECT_FALSE(r.ok());
}

TEST(Codec, CompactAndNullableStrings) {
  Bytes out;
  Writer w(out);
  w.compact_string("ab");
  w.compact_nullable_string(std::nullopt);
  w.nullable_string(std::nullopt);
  w.string("xyz");
  EXPECT_EQ(out, (Bytes{0x03, 'a', 'b', 0x00, 0xff, 0xff, 0x00, 0x03, 'x', 'y', 'z'}));
  Reader r(out);
  EXPECT_EQ(r.compact_string(), "ab");
  EXPECT_EQ(r.compact_nullable_string(), std::nullopt);
  EXPECT_EQ(r.nullable_string(), std::nullopt);
  EXPECT_EQ(r.string(), "xyz");
  EXPECT_TRUE(r.ok());
}

TEST(Codec, LyingLengthsFailWithoutAllocating) {
  Bytes s{0x7f, 0xff, 'a'};  // string claims 32767 bytes
  Reader r1(s);
  r1.string();
  EXPECT_FALSE(r1.ok());
  Bytes a{0x7f, 0xff, 0xff, 0xff, 0x00};  // array claims 2^31-1 elements
  Reader r2(a);
  EXPECT_EQ(r2.array_length(), 0);
  EXPECT_FALSE(r2.ok());
  Bytes n{0xff, 0xff, 0xff, 0xfe};  // negative array length other than -1
  Reader r3(n);
  r3.array_length();
  EXPECT_FALSE(r3.ok());
}

TEST(Codec, UnknownTaggedFieldsSurvive) {
  Bytes out;
  Writer w(out);
  w.tagged_fields({{0, Bytes{0x05}}}, {TaggedField{7, Bytes{1, 2, 3}}});
  Reader r(out);
  TaggedFields unknown;
  int known_value = -1;
  r.tagged_fields(unknown, [&](uint32_t tag, Reader& sub) {
    if (tag != 0) return false;
    known_value = sub.int8();
    return true;
  });
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(known_value, 5);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0], (TaggedField{7, Bytes{1, 2, 3}}));
}

TEST(Codec, TaggedFieldsAreWrittenInAscendingTagOrder) {
  Bytes out;
  Writer w(out);
  w.tagged_fields({{1, {0xaa}}, {5, {}}}, {{0, {0x01}}, {3, {0x03}}, {200, {}}});
  EXPECT_EQ(out, (Bytes{5, 0, 1, 0x01, 1, 1, 0xaa, 3, 1, 0x03, 5, 0, 0xc8, 0x01, 0}));
  Reader r(out);
  TaggedFields unknown;
  std::vector<uint32_t> order;
  r.tagged_fields(unknown, [&](uint32_t tag, Reader&) {
    order.push_back(tag);
    return false;
  });
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(order, (std::vector<uint32_t>{0, 1, 3, 5, 200}));
  EXPECT_EQ(unknown.size(), 5u);
}

}  // namespace
}  // namespace conveyor::protocol
