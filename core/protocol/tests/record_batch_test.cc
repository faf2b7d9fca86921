#include "conveyor/protocol/record_batch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <string>

#include "conveyor/protocol/codec.h"
#include "conveyor/protocol/crc32c.h"

// Counts heap allocations (for the no-allocation checks). Forwards to malloc/free.
namespace {
std::atomic<long> g_allocations{0};
}
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace conveyor::protocol {
namespace {

Bytes hex(std::string_view h) {
  Bytes out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}
ByteView sv(std::string_view s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
Bytes b(std::string_view s) { return Bytes(s.begin(), s.end()); }
std::string str(const Bytes& v) { return std::string(v.begin(), v.end()); }

// Batches captured from real clients' Produce v7 requests to a throwaway socket listener that
// answered ApiVersions/Metadata/Produce: 12 records to topic "t", linger.ms=50, acks=1,
// idempotence off. Records: 0 key "key-0" value "value-0" ts 1700000000000 headers h1="v1",
// h2=null (kafka-python cannot send a null header value: h2=""); 1 null key, value "value-1";
// 2 key "key-2", null value; 3 empty key and value; 4..11 key "sym-<i%3>", value
// "BUY 100 ACME @ 12.50 " x4, ts 1700000000000+i. Data only (hex of the wire bytes).
// confluent-kafka 2.16.1 (librdkafka 2.16.0), compression.type=none
constexpr const char* kLibrdkafkaNone =
    "00000000000000000000037f000000000248f2803500000000000b0000018bcfe568000000018bcfe5680bffffffffff"
    "ffffffffffffffffff0000000c380000000a6b65792d300e76616c75652d3004046831047631046832011a000202010e"
    "76616c75652d3100160004040a6b65792d3201000c000606000000c0010008080a73796d2d31a8014255592031303020"
    "41434d4520402031322e353020425559203130302041434d4520402031322e353020425559203130302041434d452040"
    "2031322e353020425559203130302041434d4520402031322e35302000c001000a0a0a73796d2d32a801425559203130"
    "302041434d4520402031322e353020425559203130302041434d4520402031322e353020425559203130302041434d45"
    "20402031322e353020425559203130302041434d4520402031322e35302000c001000c0c0a73796d2d30a80142555920"
    "3130302041434d4520402031322e353020425559203130302041434d4520402031322e35302042555920313030204143"
    "4d4520402031322e353020425559203130302041434d4520402031322e35302000c001000e0e0a73796d2d31a8014255"
    "59203130302041434d4520402031322e353020425559203130302041434d4520402031322e3530204255592031303020"
    "41434d4520402031322e353020425559203130302041434d4520402031322e35302000c0010010100a73796d2d32a801"
    "425559203130302041434d4520402031322e353020425559203130302041434d4520402031322e353020425559203130"
    "302041434d4520402031322e353020425559203130302041434d4520402031322e35302000c0010012120a73796d2d30"
    "a801425559203130302041434d4520402031322e353020425559203130302041434d4520402031322e35302042555920"
    "3130302041434d4520402031322e353020425559203130302041434d4520402031322e35302000c0010014140a73796d"
    "2d31a801425559203130302041434d4520402031322e353020425559203130302041434d4520402031322e3530204255"
    "59203130302041434d4520402031322e353020425559203130302041434d4520402031322e35302000c0010016160a73"
    "796d2d32a801425559203130302041434d4520402031322e353020425559203130302041434d4520402031322e353020"
    "425559203130302041434d4520402031322e353020425559203130302041434d4520402031322e35302000";
// confluent-kafka 2.16.1 (librdkafka 2.16.0), compression.type=gzip
constexpr const char* kLibrdkafkaGzip =
    "0000000000000000000000c8000000000299337e4e00010000000b0000018bcfe568000000018bcfe5680bffffffffff"
    "ffffffffffffffffff0000000c1f8b0800000000000003b3606060e0ca4eadd435e02b4bcc294dd5356061c930642933"
    "64c930629462606262848a1b328831b0b080951a3132f030b0b101751e6064e0e0e02aaeccd5355cc1e8141aa9606860"
    "a0e0e8ecebaae0a06068a4676aa040a120c8062e2eb00d46b4b38187076c8301ed6ce0e3a375280908d03a948484681d"
    "4a2222b40e2531319a861200e424e36e4e030000";
// confluent-kafka 2.16.1 (librdkafka 2.16.0), compression.type=snappy
constexpr const char* kLibrdkafkaSnappy =
    "0000000000000000000000e60000000002521e2ba800020000000b0000018bcfe568000000018bcfe5680bffffffffff"
    "ffffffffffffffffff0000000cce0688380000000a6b65792d300e76616c75652d3004046831047631046832011a0002"
    "02010e091814310016000404052bb03201000c000606000000c0010008080a73796d2d31a80142555920313030204143"
    "4d4520402031322e35302042f615000162040a0a05620032fe6200666200040c0c05620030fe6200666200040e0e0562"
    "fe26016a26010410100562fe26016a26010412120562fe26016a26010414140562fe26016a26010416160562fe26015e"
    "2601";
// confluent-kafka 2.16.1 (librdkafka 2.16.0), compression.type=lz4
constexpr const char* kLibrdkafkaLz4 =
    "0000000000000000000000ea0000000002970608b900030000000b0000018bcfe568000000018bcfe5680bffffffffff"
    "ffffffffffffffffff0000000c04224d18604082aa000000f313380000000a6b65792d300e76616c75652d3004046831"
    "047631046832011a000202011800613100160004042b00ff1d3201000c000606000000c0010008080a73796d2d31a801"
    "425559203130302041434d4520402031322e35302015002c006200210a0a62001f32620047210c0c62001f3062004721"
    "0e0e62000f26014821101062000f26014821121262000f26014821141462000f26014821161662000f260140502e3530"
    "200000000000";
// confluent-kafka 2.16.1 (librdkafka 2.16.0), compression.type=zstd
constexpr const char* kLibrdkafkaZstd =
    "0000000000000000000000cc000000000269151a9600040000000b0000018bcfe568000000018bcfe5680bffffffffff"
    "ffffffffffffffffff0000000c28b52ffd0058950400d286192190391dff30ff7f2c434c2cc4765ae9a0c7dabd214978"
    "54067713b1f76d429a2d53ed1c37cd324c2f0bb7b68cf55ac7e9ba0140b30ef4803010749755912860849f437a2c4539"
    "4eff93e4ecd899776754ea0e36941c254399fb1e486311b57dd2c358ff05011100044680160f0c036d3b3002b4786018"
    "68db8111a0c503c340db0e4694a12d244e294e35a8752719";
// kafka-python 3.0.12, compression_type=none
constexpr const char* kKafkaPythonNone =
    "00000000000000000000037f0000000002e6d2a3b800000000000b0000018bcfe568000000018bcfe5680bffffffffff"
    "ffffffffffffffffff0000000c380000000a6b65792d300e76616c75652d3004046831047631046832001a000202010e"
    "76616c75652d3100160004040a6b65792d3201000c000606000000c0010008080a73796d2d31a8014255592031303020"
    "41434d4520402031322e353020425559203130302041434d4520402031322e353020425559203130302041434d452040"
    "2031322e353020425559203130302041434d4520402031322e35302000c001000a0a0a73796d2d32a801425559203130"
    "302041434d4520402031322e353020425559203130302041434d4520402031322e353020425559203130302041434d45"
    "20402031322e353020425559203130302041434d4520402031322e35302000c001000c0c0a73796d2d30a80142555920"
    "3130302041434d4520402031322e353020425559203130302041434d4520402031322e35302042555920313030204143"
    "4d4520402031322e353020425559203130302041434d4520402031322e35302000c001000e0e0a73796d2d31a8014255"
    "59203130302041434d4520402031322e353020425559203130302041434d4520402031322e3530204255592031303020"
    "41434d4520402031322e353020425559203130302041434d4520402031322e35302000c0010010100a73796d2d32a801"
    "425559203130302041434d4520402031322e353020425559203130302041434d4520402031322e353020425559203130"
    "302041434d4520402031322e353020425559203130302041434d4520402031322e35302000c0010012120a73796d2d30"
    "a801425559203130302041434d4520402031322e353020425559203130302041434d4520402031322e35302042555920"
    "3130302041434d4520402031322e353020425559203130302041434d4520402031322e35302000c0010014140a73796d"
    "2d31a801425559203130302041434d4520402031322e353020425559203130302041434d4520402031322e3530204255"
    "59203130302041434d4520402031322e353020425559203130302041434d4520402031322e35302000c0010016160a73"
    "796d2d32a801425559203130302041434d4520402031322e353020425559203130302041434d4520402031322e353020"
    "425559203130302041434d4520402031322e353020425559203130302041434d4520402031322e35302000";
// kafka-python 3.0.12, compression_type=gzip
constexpr const char* kKafkaPythonGzip =
    "0000000000000000000000c800000000029ea8011c00010000000b0000018bcfe568000000018bcfe5680bffffffffff"
    "ffffffffffffffffff0000000c1f8b08004cd2006b02ffb3606060e0ca4eadd435e02b4bcc294dd5356061c930642933"
    "64c930629062606262848a1b328831b0b080951a3132f030b0b101751e6064e0e0e02aaeccd5355cc1e8141aa9606860"
    "a0e0e8ecebaae0a06068a4676aa040a120c8062e2eb00d46b4b38187076c8301ed6ce0e3a375280908d03a948484681d"
    "4a2222b40e2531319a8612004b3caf394e030000";

// ---- helpers for hand-made batches ----------------------------------------------------------

struct RawRecord {
  int32_t offset_delta = 0;
  int64_t timestamp_delta = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  int length_adjust = 0;  // makes the length prefix lie
};

Bytes encode_records(const std::vector<RawRecord>& records) {
  Bytes out;
  Writer w(out);
  for (const auto& r : records) {
    Bytes body;
    Writer bw(body);
    bw.int8(0);
    bw.varlong(r.timestamp_delta);
    bw.varint(r.offset_delta);
    for (const auto* f : {&r.key, &r.value}) {
      if (!*f) {
        bw.varint(-1);
      } else {
        bw.varint(static_cast<int32_t>((*f)->size()));
        bw.raw(sv(**f));
      }
    }
    bw.varint(0);
    w.varint(static_cast<int32_t>(body.size()) + r.length_adjust);
    w.raw(body);
  }
  return out;
}

// A batch around `records` (already encoded, possibly compressed) with a correct CRC.
Bytes make_batch(ByteView records, int32_t count, int32_t last_offset_delta, int16_t attributes = 0) {
  Bytes out;
  Writer w(out);
  w.int64(0);
  w.int32(static_cast<int32_t>(kBatchHeaderSize - kBatchOffsetsSize + records.size()));
  w.int32(-1);
  w.int8(2);
  w.uint32(0);
  w.int16(attributes);
  w.int32(last_offset_delta);
  w.int64(1000);
  w.int64(1000);
  w.int64(-1);
  w.int16(-1);
  w.int32(-1);
  w.int32(count);
  w.raw(records);
  uint32_t crc = crc32c(out.data() + kAttributesPos, out.size() - kAttributesPos);
  for (int i = 0; i < 4; ++i) out[kCrcPos + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  return out;
}

std::vector<RawRecord> three_records() {
  return {{0, 0, "a", "1"}, {1, 1, std::nullopt, "2"}, {2, 2, "c", std::nullopt}};
}

ErrorCode validate_error(ByteView batch, const DecodeLimits& limits = {}) {
  auto r = validate_batch(batch, limits);
  return r ? ErrorCode::none : r.error().code;
}

// ---- golden bytes -----------------------------------------------------------------------------

// Built by hand from the layout in PROTOCOL.md; the CRC was computed with an independent
// bit-at-a-time CRC-32C over bytes [21, 82).
const Bytes kGolden = {
    0, 0, 0, 0, 0, 0, 0, 0,                    // baseOffset 0
    0, 0, 0, 70,                               // batchLength = 82 - 12
    0xff, 0xff, 0xff, 0xff,                    // partitionLeaderEpoch -1
    2,                                         // magic
    0x32, 0x91, 0xc9, 0x28,                    // CRC-32C
    0, 0,                                      // attributes: none, CreateTime
    0, 0, 0, 1,                                // lastOffsetDelta 1
    0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,  // baseTimestamp 1700000000000
    0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x05,  // maxTimestamp 1700000000005
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // producerId -1
    0xff, 0xff,                                // producerEpoch -1
    0xff, 0xff, 0xff, 0xff,                    // baseSequence -1
    0, 0, 0, 2,                                // recordCount 2
    // record 0: length 8, attributes 0, tsDelta 0, offsetDelta 0, key "k", value "v", 0 headers
    0x10, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00,
    // record 1: length 11, tsDelta 5, offsetDelta 1, null key, value "hi", header "h" = null
    0x16, 0x00, 0x0a, 0x02, 0x01, 0x04, 'h', 'i', 0x02, 0x02, 'h', 0x01,
};

TEST(RecordBatch, HandBuiltGoldenBatchDecodes) {
  auto h = parse_batch_header(kGolden);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->base_offset, 0);
  EXPECT_EQ(h->batch_length, 70);
  EXPECT_EQ(h->size_in_bytes(), 82);
  EXPECT_EQ(h->crc, 0x3291c928u);
  EXPECT_EQ(h->record_count, 2);
  EXPECT_EQ(h->last_offset_delta, 1);
  EXPECT_EQ(h->base_timestamp, 1700000000000);
  EXPECT_EQ(h->max_timestamp, 1700000000005);
  EXPECT_EQ(h->compression(), Compression::none);
  EXPECT_EQ(h->timestamp_type(), TimestampType::create_time);
  EXPECT_TRUE(batch_crc_valid(kGolden));
  auto v = validate_batch(kGolden);
  ASSERT_TRUE(v) << v.error().to_string();

  auto records = decode_batch(kGolden);
  ASSERT_TRUE(records) << records.error().to_string();
  ASSERT_EQ(records->size(), 2u);
  const Record& r0 = (*records)[0];
  EXPECT_EQ(r0.offset, 0);
  EXPECT_EQ(r0.timestamp, 1700000000000);
  EXPECT_EQ(r0.key, b("k"));
  EXPECT_EQ(r0.value, b("v"));
  EXPECT_TRUE(r0.headers.empty());
  const Record& r1 = (*records)[1];
  EXPECT_EQ(r1.offset, 1);
  EXPECT_EQ(r1.timestamp, 1700000000005);
  EXPECT_FALSE(r1.key.has_value());
  EXPECT_EQ(r1.value, b("hi"));
  ASSERT_EQ(r1.headers.size(), 1u);
  EXPECT_EQ(r1.headers[0].key, "h");
  EXPECT_FALSE(r1.headers[0].value.has_value());
}

TEST(RecordBatch, BuilderReproducesGoldenBytes) {
  RecordBatchBuilder builder({});
  builder.add(1700000000000, sv("k"), sv("v"));
  builder.add(1700000000005, std::nullopt, sv("hi"), {RecordHeader{"h", std::nullopt}});
  EXPECT_EQ(builder.record_count(), 2);
  EXPECT_EQ(builder.estimated_size(), kGolden.size());
  auto built = builder.build();
  ASSERT_TRUE(built);
  EXPECT_EQ(*built, kGolden);
  EXPECT_EQ(builder.record_count(), 0);  // reset for reuse
}

void expect_client_records(const std::vector<Record>& records, bool null_header_value) {
  ASSERT_EQ(records.size(), 12u);
  EXPECT_EQ(records[0].key, b("key-0"));
  EXPECT_EQ(records[0].value, b("value-0"));
  EXPECT_EQ(records[0].timestamp, 1700000000000);
  ASSERT_EQ(records[0].headers.size(), 2u);
  EXPECT_EQ(records[0].headers[0].key, "h1");
  EXPECT_EQ(records[0].headers[0].value, b("v1"));
  EXPECT_EQ(records[0].headers[1].key, "h2");
  if (null_header_value) {
    EXPECT_FALSE(records[0].headers[1].value.has_value());
  } else {
    EXPECT_EQ(records[0].headers[1].value, b(""));
  }
  EXPECT_FALSE(records[1].key.has_value());
  EXPECT_EQ(records[1].value, b("value-1"));
  EXPECT_EQ(records[2].key, b("key-2"));
  EXPECT_FALSE(records[2].value.has_value());
  EXPECT_EQ(records[3].key, b(""));
  EXPECT_EQ(records[3].value, b(""));
  std::string value;
  for (int i = 0; i < 4; ++i) value += "BUY 100 ACME @ 12.50 ";
  for (int i = 4; i < 12; ++i) {
    EXPECT_EQ(records[i].offset, i);
    EXPECT_EQ(records[i].timestamp, 1700000000000 + i);
    EXPECT_EQ(records[i].key, b("sym-" + std::to_string(i % 3)));
    EXPECT_EQ(records[i].value, b(value));
  }
}

TEST(RecordBatch, RealClientBatchesDecode) {
  struct Vector {
    const char* name;
    const char* hex;
    Compression codec;
    bool null_header_value;
  };
  const Vector vectors[] = {
      {"librdkafka none", kLibrdkafkaNone, Compression::none, true},
      {"librdkafka gzip", kLibrdkafkaGzip, Compression::gzip, true},
      {"librdkafka snappy", kLibrdkafkaSnappy, Compression::snappy, true},
      {"librdkafka lz4", kLibrdkafkaLz4, Compression::lz4, true},
      {"librdkafka zstd", kLibrdkafkaZstd, Compression::zstd, true},
      {"kafka-python none", kKafkaPythonNone, Compression::none, false},
      {"kafka-python gzip", kKafkaPythonGzip, Compression::gzip, false},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.name);
    Bytes batch = hex(v.hex);
    EXPECT_TRUE(batch_crc_valid(batch));
    auto h = validate_batch(batch);
    ASSERT_TRUE(h) << h.error().to_string();
    EXPECT_EQ(h->compression(), v.codec);
    EXPECT_EQ(h->record_count, 12);
    EXPECT_EQ(h->size_in_bytes(), static_cast<int64_t>(batch.size()));
    auto records = decode_batch(batch);
    ASSERT_TRUE(records) << records.error().to_string();
    expect_client_records(*records, v.null_header_value);
  }
}

// ---- round trips ------------------------------------------------------------------------------

class RoundTrip : public ::testing::TestWithParam<Compression> {};

std::string codec_test_name(const ::testing::TestParamInfo<Compression>& info) {
  static const char* const kNames[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  return kNames[static_cast<int>(info.param)];
}

TEST_P(RoundTrip, NullsEmptiesAndHeaders) {
  RecordBatchBuilder::Options options;
  options.compression = GetParam();
  options.producer_id = 42;
  options.producer_epoch = 3;
  options.base_sequence = 100;
  options.transactional = true;
  RecordBatchBuilder builder(options);
  builder.add(5000, std::nullopt, std::nullopt);
  builder.add(4990, sv(""), sv(""));  // earlier timestamp: negative delta
  builder.add(5010, sv("key"), std::nullopt, {RecordHeader{"h", b("x")}, RecordHeader{"", std::nullopt}});
  builder.add(5001, std::nullopt, sv("value"), {RecordHeader{"empty", b("")}});
  auto built = builder.build();
  ASSERT_TRUE(built) << built.error().to_string();
  auto h = validate_batch(*built);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->compression(), GetParam());
  EXPECT_TRUE(h->is_transactional());
  EXPECT_FALSE(h->is_control());
  EXPECT_EQ(h->producer_id, 42);
  EXPECT_EQ(h->producer_epoch, 3);
  EXPECT_EQ(h->base_sequence, 100);
  EXPECT_EQ(h->record_count, 4);
  EXPECT_EQ(h->last_offset_delta, 3);
  EXPECT_EQ(h->base_timestamp, 5000);
  EXPECT_EQ(h->max_timestamp, 5010);
  EXPECT_EQ(h->partition_leader_epoch, -1);

  auto records = decode_batch(*built);
  ASSERT_TRUE(records) << records.error().to_string();
  ASSERT_EQ(records->size(), 4u);
  const auto& r = *records;
  EXPECT_FALSE(r[0].key.has_value());
  EXPECT_FALSE(r[0].value.has_value());
  EXPECT_EQ(r[0].timestamp, 5000);
  EXPECT_EQ(r[1].key, Bytes{});
  EXPECT_EQ(r[1].value, Bytes{});
  EXPECT_EQ(r[1].timestamp, 4990);
  EXPECT_EQ(r[2].key, b("key"));
  EXPECT_FALSE(r[2].value.has_value());
  ASSERT_EQ(r[2].headers.size(), 2u);
  EXPECT_EQ(r[2].headers[0].key, "h");
  EXPECT_EQ(r[2].headers[0].value, b("x"));
  EXPECT_EQ(r[2].headers[1].key, "");
  EXPECT_FALSE(r[2].headers[1].value.has_value());
  EXPECT_EQ(r[3].value, b("value"));
  ASSERT_EQ(r[3].headers.size(), 1u);
  EXPECT_EQ(r[3].headers[0].value, Bytes{});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r[i].offset, i);
}

TEST_P(RoundTrip, TenThousandRecords) {
  RecordBatchBuilder::Options options;
  options.compression = GetParam();
  RecordBatchBuilder builder(options);
  constexpr int kCount = 10000;
  for (int i = 0; i < kCount; ++i) {
    std::string key = "key-" + std::to_string(i % 97);
    std::string value = "order " + std::to_string(i) + " BUY 100 ACME @ " + std::to_string(i * 7 % 1000);
    std::vector<RecordHeader> headers;
    if (i % 10 == 0) headers.push_back({"seq", b(std::to_string(i))});
    builder.add(1700000000000 + i, i % 13 == 0 ? std::nullopt : std::optional<ByteView>(sv(key)), sv(value), headers);
  }
  auto built = builder.build();
  ASSERT_TRUE(built);
  if (GetParam() != Compression::none) {
    EXPECT_LT(built->size(), 250000u);  // actually compressed (about 480 KB uncompressed)
  }
  auto h = validate_batch(*built);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->record_count, kCount);
  EXPECT_EQ(h->max_timestamp, 1700000000000 + kCount - 1);
  auto records = decode_batch(*built);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    const Record& r = (*records)[i];
    ASSERT_EQ(r.offset, i);
    ASSERT_EQ(r.timestamp, 1700000000000 + i);
    if (i % 13 == 0) {
      ASSERT_FALSE(r.key.has_value());
    } else {
      ASSERT_EQ(r.key, b("key-" + std::to_string(i % 97)));
    }
    ASSERT_EQ(str(*r.value), "order " + std::to_string(i) + " BUY 100 ACME @ " + std::to_string(i * 7 % 1000));
    ASSERT_EQ(r.headers.size(), i % 10 == 0 ? 1u : 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, RoundTrip,
                         ::testing::Values(Compression::none, Compression::gzip, Compression::snappy,
                                           Compression::lz4, Compression::zstd),
                         codec_test_name);

// ---- empty batches ----------------------------------------------------------------------------

TEST(RecordBatch, BuildingAnEmptyBatchFails) {
  RecordBatchBuilder builder({});
  auto built = builder.build();
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().code, ErrorCode::invalid_record);
}

TEST(RecordBatch, EmptyBatchDecodesButIsNotValidForProduce) {
  // record_count 0 (what compaction can leave behind, lastOffsetDelta kept).
  Bytes batch = make_batch({}, 0, 4);
  auto records = decode_batch(batch);
  ASSERT_TRUE(records) << records.error().to_string();
  EXPECT_TRUE(records->empty());
  EXPECT_EQ(validate_error(batch), ErrorCode::invalid_record);
}

TEST(RecordBatch, CompactedGapsDecodeButAreNotValidForProduce) {
  Bytes recs = encode_records({{0, 0, "a", "1"}, {3, 0, "b", "2"}});
  Bytes batch = make_batch(recs, 2, 5);
  auto records = decode_batch(batch);
  ASSERT_TRUE(records) << records.error().to_string();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].offset, 3);
  EXPECT_EQ(validate_error(batch), ErrorCode::invalid_record);
  // Decreasing deltas are never valid.
  Bytes bad = make_batch(encode_records({{2, 0, "a", "1"}, {1, 0, "b", "2"}}), 2, 5);
  EXPECT_FALSE(decode_batch(bad));
}

// ---- validation errors ------------------------------------------------------------------------

TEST(RecordBatchValidation, ValidHandMadeBatchPasses) {
  Bytes batch = make_batch(encode_records(three_records()), 3, 2);
  EXPECT_EQ(validate_error(batch), ErrorCode::none);
}

TEST(RecordBatchValidation, CrcCorruptionIsCorruptMessage) {
  Bytes batch = make_batch(encode_records(three_records()), 3, 2);
  for (size_t pos : {kAttributesPos, kLastOffsetDeltaPos + 3, kRecordCountPos, batch.size() - 1, size_t{70}}) {
    Bytes bad = batch;
    bad[pos] ^= 0x40;
    EXPECT_FALSE(batch_crc_valid(bad)) << pos;
    EXPECT_EQ(validate_error(bad), ErrorCode::corrupt_message) << pos;
  }
  Bytes bad = batch;
  bad[kCrcPos] ^= 1;
  EXPECT_EQ(validate_error(bad), ErrorCode::corrupt_message);
  // Base offset and leader epoch are outside the CRC.
  Bytes moved = batch;
  moved[kBaseOffsetPos + 7] = 9;
  moved[kPartitionLeaderEpochPos + 3] = 9;
  EXPECT_TRUE(batch_crc_valid(moved));
  EXPECT_EQ(validate_error(moved), ErrorCode::none);
}

TEST(RecordBatchValidation, TruncatedAndMalformedHeaders) {
  Bytes batch = make_batch(encode_records(three_records()), 3, 2);
  for (size_t size : {size_t{0}, size_t{11}, size_t{60}, size_t{61}, batch.size() - 1}) {
    EXPECT_EQ(validate_error(ByteView(batch).first(size)), ErrorCode::corrupt_message) << size;
    EXPECT_FALSE(batch_crc_valid(ByteView(batch).first(size))) << size;
  }
  EXPECT_FALSE(parse_batch_header(ByteView(batch).first(60)));
  Bytes magic1 = batch;
  magic1[kMagicPos] = 1;
  EXPECT_EQ(parse_batch_header(magic1).error().code, ErrorCode::corrupt_message);
  Bytes short_length = batch;
  short_length[kBatchLengthPos + 3] = 48;  // below the 49 bytes of header after batchLength
  EXPECT_FALSE(parse_batch_header(short_length));
  Bytes negative_length = batch;
  negative_length[kBatchLengthPos] = 0x80;
  EXPECT_FALSE(parse_batch_header(negative_length));
  EXPECT_FALSE(batch_crc_valid(negative_length));
  // Extra bytes after a whole batch are ignored by validate_batch (split_batches finds them).
  Bytes longer = batch;
  longer.push_back(0);
  EXPECT_EQ(validate_error(longer), ErrorCode::none);
}

TEST(RecordBatchValidation, RecordCountMismatch) {
  Bytes recs = encode_records(three_records());
  EXPECT_EQ(validate_error(make_batch(recs, 4, 3)), ErrorCode::invalid_record);  // too few records
  EXPECT_EQ(validate_error(make_batch(recs, 2, 1)), ErrorCode::invalid_record);  // too many
  EXPECT_FALSE(decode_batch(make_batch(recs, 4, 3)));
  EXPECT_FALSE(decode_batch(make_batch(recs, 2, 1)));
  EXPECT_EQ(validate_error(make_batch(recs, -1, 2)), ErrorCode::invalid_record);
  EXPECT_EQ(validate_error(make_batch(recs, 1000000, 999999)), ErrorCode::invalid_record);
  DecodeLimits limits;
  limits.max_records = 2;
  EXPECT_EQ(validate_error(make_batch(recs, 3, 2), limits), ErrorCode::record_list_too_large);
}

TEST(RecordBatchValidation, OffsetDeltasMustBeZeroToNMinusOne) {
  auto recs = three_records();
  recs[1].offset_delta = 2;
  recs[2].offset_delta = 1;
  EXPECT_EQ(validate_error(make_batch(encode_records(recs), 3, 2)), ErrorCode::invalid_record);
  recs = three_records();
  recs[0].offset_delta = 1;
  recs[1].offset_delta = 2;
  recs[2].offset_delta = 3;
  EXPECT_EQ(validate_error(make_batch(encode_records(recs), 3, 2)), ErrorCode::invalid_record);
}

TEST(RecordBatchValidation, LastOffsetDeltaMustBeCountMinusOne) {
  Bytes recs = encode_records(three_records());
  EXPECT_EQ(validate_error(make_batch(recs, 3, 3)), ErrorCode::invalid_record);
  EXPECT_EQ(validate_error(make_batch(recs, 3, 1)), ErrorCode::invalid_record);
  EXPECT_FALSE(decode_batch(make_batch(recs, 3, 1)));  // fewer deltas than records: never valid
}

TEST(RecordBatchValidation, UnknownCodecs) {
  Bytes recs = encode_records(three_records());
  for (int16_t codec : {5, 6, 7}) {
    EXPECT_EQ(validate_error(make_batch(recs, 3, 2, codec)), ErrorCode::unsupported_compression_type) << codec;
    auto d = decode_batch(make_batch(recs, 3, 2, codec));
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, ErrorCode::unsupported_compression_type);
  }
}

TEST(RecordBatchValidation, LyingRecordLengths) {
  for (int adjust : {-1, 1, 5, -8, 1000}) {
    auto recs = three_records();
    recs[1].length_adjust = adjust;
    EXPECT_EQ(validate_error(make_batch(encode_records(recs), 3, 2)), ErrorCode::corrupt_message) << adjust;
  }
  // Last record claims more bytes than the batch holds.
  auto recs = three_records();
  recs[2].length_adjust = 1;
  EXPECT_EQ(validate_error(make_batch(encode_records(recs), 3, 2)), ErrorCode::corrupt_message);
  // Negative record length.
  Bytes neg = encode_records(three_records());
  neg[0] = 0x01;  // zigzag -1
  EXPECT_EQ(validate_error(make_batch(neg, 3, 2)), ErrorCode::corrupt_message);
}

TEST(RecordBatchValidation, LyingFieldLengthsInsideARecord) {
  // key length 100 inside a 9-byte record
  Bytes recs = encode_records({{0, 0, "a", "1"}});
  ASSERT_EQ(recs[4], 0x02);  // key length varint
  recs[4] = 0xc8;            // zigzag 100 = 200 = c8 01 -> shortened to one byte with continuation
  recs[5] = 0x01;
  EXPECT_EQ(validate_error(make_batch(recs, 1, 0)), ErrorCode::corrupt_message);
  // Header count larger than the bytes left.
  Bytes h = encode_records({{0, 0, "a", "1"}});
  h.back() = 0x7e;  // 63 headers
  EXPECT_EQ(validate_error(make_batch(h, 1, 0)), ErrorCode::corrupt_message);
  // A varint that never ends.
  Bytes v = {0x0e, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(validate_error(make_batch(v, 1, 0)), ErrorCode::corrupt_message);
}

TEST(RecordBatchValidation, CorruptCompressedPayload) {
  auto gz = compress(Compression::gzip, encode_records(three_records()));
  ASSERT_TRUE(gz);
  Bytes payload = *gz;
  payload[payload.size() / 2] ^= 0xff;
  EXPECT_EQ(validate_error(make_batch(payload, 3, 2, 1)), ErrorCode::corrupt_message);
  Bytes truncated(gz->begin(), gz->end() - 6);
  EXPECT_EQ(validate_error(make_batch(truncated, 3, 2, 1)), ErrorCode::corrupt_message);
  // Compressed records that do not parse.
  auto gz_bad = compress(Compression::gzip, Bytes{0x01, 0x02, 0x03});
  EXPECT_EQ(validate_error(make_batch(*gz_bad, 1, 0, 1)), ErrorCode::corrupt_message);
}

TEST(RecordBatchValidation, DecompressedSizeOverLimit) {
  for (Compression codec : {Compression::gzip, Compression::snappy, Compression::lz4, Compression::zstd}) {
    RecordBatchBuilder::Options options;
    options.compression = codec;
    RecordBatchBuilder builder(options);
    Bytes big(200 * 1024, 'z');
    for (int i = 0; i < 10; ++i) builder.add(0, std::nullopt, big);
    auto batch = builder.build();
    ASSERT_TRUE(batch);
    EXPECT_LT(batch->size(), 200u * 1024);
    DecodeLimits limits;
    limits.max_decompressed_bytes = 1024 * 1024;
    EXPECT_EQ(validate_error(*batch, limits), ErrorCode::record_list_too_large) << static_cast<int>(codec);
    auto d = decode_batch(*batch, limits);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, ErrorCode::record_list_too_large);
    limits.max_decompressed_bytes = 4 * 1024 * 1024;
    EXPECT_EQ(validate_error(*batch, limits), ErrorCode::none);
    // A record count that cannot fit in the limit is refused before decompressing.
    limits.max_decompressed_bytes = 60;
    EXPECT_EQ(validate_error(*batch, limits), ErrorCode::record_list_too_large);
  }
}

// ---- header edits -----------------------------------------------------------------------------

TEST(RecordBatch, BrokerHeaderEdits) {
  Bytes batch = kGolden;
  set_base_offset(batch, 1234567890123);
  set_partition_leader_epoch(batch, 7);
  EXPECT_TRUE(batch_crc_valid(batch));
  set_log_append_time(batch, 1800000000000);
  EXPECT_TRUE(batch_crc_valid(batch));
  auto h = validate_batch(batch);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->base_offset, 1234567890123);
  EXPECT_EQ(h->last_offset(), 1234567890124);
  EXPECT_EQ(h->partition_leader_epoch, 7);
  EXPECT_EQ(h->timestamp_type(), TimestampType::log_append_time);
  EXPECT_EQ(h->max_timestamp, 1800000000000);
  EXPECT_EQ(h->base_timestamp, 1700000000000);
  auto records = decode_batch(batch);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].offset, 1234567890123);
  EXPECT_EQ((*records)[1].offset, 1234567890124);
  EXPECT_EQ((*records)[0].timestamp, 1800000000000);
  EXPECT_EQ((*records)[1].timestamp, 1800000000000);
}

// ---- split_batches ----------------------------------------------------------------------------

TEST(RecordBatch, SplitBatches) {
  Bytes second = make_batch(encode_records(three_records()), 3, 2);
  Bytes blob = kGolden;
  blob.insert(blob.end(), second.begin(), second.end());
  size_t tail = 99;
  auto spans = split_batches(blob, &tail);
  ASSERT_TRUE(spans);
  ASSERT_EQ(spans->size(), 2u);
  EXPECT_EQ(tail, 0u);
  EXPECT_EQ((*spans)[0].bytes.size(), kGolden.size());
  EXPECT_EQ((*spans)[0].bytes.data(), blob.data());
  EXPECT_EQ((*spans)[1].header.record_count, 3);
  EXPECT_EQ((*spans)[1].bytes.size(), second.size());
  EXPECT_TRUE(split_batches(blob));

  // A partial trailing batch (as Fetch may return) of various sizes.
  for (size_t cut : {size_t{1}, size_t{11}, size_t{12}, size_t{60}, size_t{61}, second.size() - 1}) {
    ByteView partial = ByteView(blob).first(kGolden.size() + cut);
    auto s = split_batches(partial, &tail);
    ASSERT_TRUE(s) << cut;
    EXPECT_EQ(s->size(), 1u);
    EXPECT_EQ(tail, cut);
    // Without a place to report it (Produce) the partial tail is an error.
    auto strict = split_batches(partial);
    ASSERT_FALSE(strict);
    EXPECT_EQ(strict.error().code, ErrorCode::corrupt_message);
  }
  auto empty = split_batches({});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  Bytes bad = blob;
  bad[kGolden.size() + kMagicPos] = 0;
  EXPECT_FALSE(split_batches(bad, &tail));
}

// ---- zero-copy visiting and allocation behaviour ---------------------------------------------

TEST(RecordBatch, ForEachRecordViewsPointIntoTheBatch) {
  int seen = 0;
  auto h = for_each_record(kGolden, {}, [&](const RecordView& r) {
    if (seen == 0) {
      ASSERT_TRUE(r.key);
      EXPECT_GE(r.key->data(), kGolden.data());
      EXPECT_LT(r.key->data(), kGolden.data() + kGolden.size());
      EXPECT_EQ(r.header_count, 0);
    } else {
      EXPECT_EQ(r.header_count, 1);
      int headers = 0;
      r.for_each_header([&](std::string_view key, std::optional<ByteView> value) {
        EXPECT_EQ(key, "h");
        EXPECT_FALSE(value);
        ++headers;
      });
      EXPECT_EQ(headers, 1);
    }
    ++seen;
  });
  ASSERT_TRUE(h);
  EXPECT_EQ(seen, 2);
  // No callback runs for an invalid batch.
  Bytes recs = encode_records(three_records());
  seen = 0;
  EXPECT_FALSE(for_each_record(make_batch(recs, 4, 3), {}, [&](const RecordView&) { ++seen; }));
  EXPECT_EQ(seen, 0);
}

TEST(RecordBatch, StreamRecordsVisitsInOnePassAndReportsErrorsAfterAPrefix) {
  Bytes recs = encode_records(three_records());
  Bytes good = make_batch(recs, 3, 2);
  std::vector<int64_t> offsets;
  auto h = stream_records(good, {}, [&](const RecordView& r) { offsets.push_back(r.offset); });
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 1, 2}));
  // Bytes after the declared records: the three are visited, then the error comes back.
  offsets.clear();
  Bytes trailing = recs;
  trailing.insert(trailing.end(), {0, 0, 0, 0, 0, 0, 0, 0});
  auto bad = stream_records(make_batch(trailing, 3, 2), {}, [&](const RecordView& r) { offsets.push_back(r.offset); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_record);
  EXPECT_EQ(offsets.size(), 3u);
}

TEST(RecordBatch, VerifyCrcOffSkipsTheChecksumOnlyWhenDecoding) {
  Bytes batch = make_batch(encode_records(three_records()), 3, 2);
  batch[34] ^= 0x01;  // lowest byte of base_timestamp: still a well-formed batch
  ASSERT_FALSE(batch_crc_valid(batch));
  DecodeLimits unchecked;
  unchecked.verify_crc = false;
  int seen = 0;
  EXPECT_FALSE(stream_records(batch, {}, [&](const RecordView&) { ++seen; }));
  EXPECT_TRUE(stream_records(batch, unchecked, [&](const RecordView&) { ++seen; }));
  EXPECT_TRUE(for_each_record(batch, unchecked, [&](const RecordView&) { ++seen; }));
  EXPECT_EQ(seen, 6);
  // Validation for append always checks the CRC.
  EXPECT_EQ(validate_error(batch, unchecked), ErrorCode::corrupt_message);
}

Bytes ten_thousand_records(Compression codec = Compression::none) {
  RecordBatchBuilder::Options options;
  options.compression = codec;
  RecordBatchBuilder builder(options);
  std::string value(100, 'v');
  std::vector<RecordHeader> headers{{"trace", b("abc")}};
  for (int i = 0; i < 10000; ++i) {
    std::string key = "k" + std::to_string(i);
    builder.add(1700000000000 + i, sv(key), sv(value), i % 2 ? headers : std::vector<RecordHeader>{});
  }
  return *builder.build();
}

TEST(RecordBatch, ValidatingAnUncompressedBatchDoesNotAllocate) {
  Bytes batch = ten_thousand_records();
  long before = g_allocations.load();
  auto h = validate_batch(batch);
  long after = g_allocations.load();
  ASSERT_TRUE(h);
  EXPECT_EQ(after - before, 0);
  before = g_allocations.load();
  int64_t bytes = 0;
  ASSERT_TRUE(for_each_record(batch, {}, [&](const RecordView& r) { bytes += static_cast<int64_t>(r.value->size()); }));
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_EQ(bytes, 10000 * 100);
}

TEST(RecordBatch, DecodeAllocatesPerRecordOnlyForItsFields) {
  Bytes batch = ten_thousand_records();
  long before = g_allocations.load();
  auto records = decode_batch(batch);
  long after = g_allocations.load();
  ASSERT_TRUE(records);
  // One for the vector; per record: key, value, and for half of them a headers vector with
  // one header value (the key "trace" fits the small-string buffer).
  EXPECT_LE(after - before, 1 + 10000 * 2 + 5000 * 2);
}

template <class Fn>
double records_per_second(Fn&& fn) {
  auto start = std::chrono::steady_clock::now();
  int rounds = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100)) {
    fn();
    ++rounds;
  }
  return rounds * 10000.0 / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(RecordBatch, Throughput) {
  // Reports records/s (the broker validates every produced batch; target > 1.5M/s per core).
  // Asserts only correctness: timing on a shared machine is not a pass/fail criterion here.
  Bytes none = ten_thousand_records();
  Bytes lz4 = ten_thousand_records(Compression::lz4);
  Bytes zstd = ten_thousand_records(Compression::zstd);
  bool ok = true;
  double validate_none = records_per_second([&] { ok &= validate_batch(none).has_value(); });
  double visit_none = records_per_second([&] {
    size_t n = 0;
    ok &= for_each_record(none, {}, [&](const RecordView& r) { n += r.value->size(); }).has_value();
    ok &= n == 1000000;
  });
  double decode_none = records_per_second([&] { ok &= decode_batch(none)->size() == 10000; });
  double validate_lz4 = records_per_second([&] { ok &= validate_batch(lz4).has_value(); });
  double validate_zstd = records_per_second([&] { ok &= validate_batch(zstd).has_value(); });
  EXPECT_TRUE(ok);
  std::printf("[ info     ] M records/s (100-byte values): validate none %.1f, for_each_record none %.1f, "
              "decode_batch none %.1f, validate lz4 %.1f, validate zstd %.1f\n",
              validate_none / 1e6, visit_none / 1e6, decode_none / 1e6, validate_lz4 / 1e6, validate_zstd / 1e6);
  RecordProperty("validate_none_records_per_second", std::to_string(static_cast<long>(validate_none)));
}

}  // namespace
}  // namespace conveyor::protocol
