#include <gtest/gtest.h>
#include <lz4frame.h>
#include <sys/resource.h>
#include <zstd.h>

#include <chrono>
#include <string>

#include "conveyor/protocol/crc32c.h"
#include "conveyor/protocol/record_batch.h"

namespace conveyor::protocol {
namespace {

Bytes hex(std::string_view h) {
  Bytes out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}
Bytes b(std::string_view s) { return Bytes(s.begin(), s.end()); }
void append(Bytes& to, const Bytes& from) { to.insert(to.end(), from.begin(), from.end()); }
void append_be32(Bytes& to, uint32_t v) {
  for (int i = 3; i >= 0; --i) to.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

const Compression kCodecs[] = {Compression::gzip, Compression::snappy, Compression::lz4, Compression::zstd};

Bytes sample(size_t size) {
  Bytes out(size);
  uint32_t x = 12345;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245 + 12345;
    out[i] = (i % 64 < 40) ? static_cast<uint8_t>('a' + (i / 64) % 26) : static_cast<uint8_t>(x >> 24);
  }
  return out;
}

ErrorCode decompress_error(Compression codec, const Bytes& data, size_t limit) {
  auto r = decompress(codec, data, limit);
  return r ? ErrorCode::none : r.error().code;
}

TEST(Compression, RoundTripEachCodec) {
  for (Compression codec : kCodecs) {
    SCOPED_TRACE(static_cast<int>(codec));
    for (size_t size : {size_t{0}, size_t{1}, size_t{100}, size_t{65536}, size_t{65537}, size_t{1} << 20}) {
      Bytes input = sample(size);
      auto c = compress(codec, input);
      ASSERT_TRUE(c) << c.error().to_string();
      auto d = decompress(codec, *c, size);  // limit exactly the size: allowed
      ASSERT_TRUE(d) << size << ": " << d.error().to_string();
      EXPECT_EQ(*d, input) << size;
      if (size > 0) {
        EXPECT_EQ(decompress_error(codec, *c, size - 1), ErrorCode::record_list_too_large) << size;
      }
    }
    Bytes zeros(1 << 20, 0);
    auto c = compress(codec, zeros);
    ASSERT_TRUE(c);
    EXPECT_LT(c->size(), zeros.size() / 20);
    EXPECT_EQ(*decompress(codec, *c, zeros.size()), zeros);
  }
}

TEST(Compression, LevelsAndNone) {
  Bytes input = sample(200000);
  for (int level : {1, 9}) {
    auto gz = compress(Compression::gzip, input, level);
    ASSERT_TRUE(gz);
    EXPECT_EQ(*decompress(Compression::gzip, *gz, input.size()), input);
  }
  for (int level : {1, 12}) {
    auto lz = compress(Compression::lz4, input, level);
    ASSERT_TRUE(lz);
    EXPECT_EQ(*decompress(Compression::lz4, *lz, input.size()), input);
  }
  for (int level : {1, 19}) {
    auto zs = compress(Compression::zstd, input, level);
    ASSERT_TRUE(zs);
    EXPECT_EQ(*decompress(Compression::zstd, *zs, input.size()), input);
  }
  EXPECT_FALSE(compress(Compression::gzip, input, 42));
  EXPECT_EQ(*compress(Compression::none, input), input);
  EXPECT_EQ(*decompress(Compression::none, input, input.size()), input);
  EXPECT_EQ(decompress_error(Compression::none, input, input.size() - 1), ErrorCode::record_list_too_large);
  EXPECT_EQ(compress(static_cast<Compression>(5), input).error().code, ErrorCode::unsupported_compression_type);
  EXPECT_EQ(decompress_error(static_cast<Compression>(6), input, 1 << 20), ErrorCode::unsupported_compression_type);
}

TEST(Compression, FramingMagics) {
  Bytes input = b("hello hello hello hello");
  auto gz = *compress(Compression::gzip, input);
  EXPECT_EQ(Bytes(gz.begin(), gz.begin() + 2), (Bytes{0x1f, 0x8b}));
  auto lz = *compress(Compression::lz4, input);
  EXPECT_EQ(Bytes(lz.begin(), lz.begin() + 4), (Bytes{0x04, 0x22, 0x4d, 0x18}));
  EXPECT_EQ(lz[4] & 0x20, 0x20) << "block independence flag (Kafka's Java reader needs it)";
  EXPECT_EQ(lz[5], 0x40) << "64 KiB blocks";
  auto zs = *compress(Compression::zstd, input);
  EXPECT_EQ(Bytes(zs.begin(), zs.begin() + 4), (Bytes{0x28, 0xb5, 0x2f, 0xfd}));
  auto sn = *compress(Compression::snappy, input);
  EXPECT_EQ(sn[0], input.size()) << "raw snappy block starts with the uncompressed length varint";
}

TEST(Compression, GoldenStreamsFromOtherTools) {
  const Bytes expected = b("hello conveyor");
  // Python's gzip.compress(b"hello conveyor", mtime=0).
  EXPECT_EQ(*decompress(Compression::gzip, hex("1f8b0800000000000203cb48cdc9c95748cecf2b4badcc2f02003aaa28c40e000000"), 100),
            expected);
  // lz4 1.9 command line tool (frame format, independent blocks).
  EXPECT_EQ(*decompress(Compression::lz4, hex("04224d186040820e00008068656c6c6f20636f6e7665796f7200000000"), 100), expected);
  // zstd command line tool reading a pipe: no content size in the frame header.
  EXPECT_EQ(*decompress(Compression::zstd, hex("28b52ffd045871000068656c6c6f20636f6e7665796f72b8b49120"), 100), expected);
  // ...and from a file: content size present.
  EXPECT_EQ(*decompress(Compression::zstd, hex("28b52ffd240e71000068656c6c6f20636f6e7665796f72b8b49120"), 100), expected);
  // Snappy raw block by hand: length varint 14, literal tag (14-1)<<2.
  Bytes raw = {14, 13 << 2};
  append(raw, expected);
  EXPECT_EQ(*decompress(Compression::snappy, raw, 100), expected);
}

Bytes xerial_header() {
  Bytes out = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
  append_be32(out, 1);  // version
  append_be32(out, 1);  // compatible version
  return out;
}

TEST(Compression, SnappyXerialFraming) {
  Bytes input = sample(100000);
  Bytes framed = xerial_header();
  for (size_t pos = 0; pos < input.size(); pos += 32768) {
    Bytes chunk(input.begin() + pos, input.begin() + std::min(input.size(), pos + 32768));
    Bytes block = *compress(Compression::snappy, chunk);
    append_be32(framed, static_cast<uint32_t>(block.size()));
    append(framed, block);
  }
  auto d = decompress(Compression::snappy, framed, input.size());
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(*d, input);
  EXPECT_EQ(decompress_error(Compression::snappy, framed, input.size() - 1), ErrorCode::record_list_too_large);
  // Header only: no chunks, empty output.
  EXPECT_TRUE(decompress(Compression::snappy, xerial_header(), 10)->empty());
  // Truncated chunk length, truncated chunk, corrupt chunk.
  Bytes cut(framed.begin(), framed.end() - 1);
  EXPECT_EQ(decompress_error(Compression::snappy, cut, 1 << 20), ErrorCode::corrupt_message);
  Bytes cut_length = xerial_header();
  cut_length.push_back(0);
  EXPECT_EQ(decompress_error(Compression::snappy, cut_length, 1 << 20), ErrorCode::corrupt_message);
  Bytes lying = xerial_header();
  append_be32(lying, 0x7fffffff);
  lying.push_back(1);
  EXPECT_EQ(decompress_error(Compression::snappy, lying, 1 << 20), ErrorCode::corrupt_message);
}

TEST(Compression, ConcatenatedStreamsDecodeAsOne) {
  Bytes a = b("first part, "), c = b("second part");
  for (Compression codec : {Compression::gzip, Compression::lz4, Compression::zstd}) {
    Bytes joined = *compress(codec, a);
    append(joined, *compress(codec, c));
    auto d = decompress(codec, joined, 100);
    ASSERT_TRUE(d) << static_cast<int>(codec) << ": " << d.error().to_string();
    EXPECT_EQ(std::string(d->begin(), d->end()), "first part, second part");
  }
}

TEST(Compression, CorruptAndTruncatedInput) {
  Bytes input = sample(300000);
  for (Compression codec : kCodecs) {
    SCOPED_TRACE(static_cast<int>(codec));
    Bytes c = *compress(codec, input);
    Bytes truncated(c.begin(), c.begin() + static_cast<long>(c.size() / 2));
    EXPECT_EQ(decompress_error(codec, truncated, 1 << 20), ErrorCode::corrupt_message);
    Bytes last_byte_missing(c.begin(), c.end() - 1);
    EXPECT_EQ(decompress_error(codec, last_byte_missing, 1 << 20), ErrorCode::corrupt_message);
    EXPECT_EQ(decompress_error(codec, Bytes{}, 1 << 20), ErrorCode::corrupt_message);
    Bytes garbage = sample(1000);
    EXPECT_EQ(decompress_error(codec, garbage, 1 << 20), ErrorCode::corrupt_message);
  }
  // Flipped bits inside the payload (gzip and zstd carry checksums in these streams).
  for (Compression codec : {Compression::gzip, Compression::zstd, Compression::snappy}) {
    Bytes c = *compress(codec, input);
    c[c.size() / 2] ^= 0x55;
    auto d = decompress(codec, c, 1 << 20);
    EXPECT_TRUE(!d || *d != input) << static_cast<int>(codec);
  }
  Bytes trailing = *compress(Compression::gzip, input);
  trailing.push_back(0x42);
  EXPECT_EQ(decompress_error(Compression::gzip, trailing, 1 << 20), ErrorCode::corrupt_message);
}

// ---- compression bombs: 1 GiB of zeros, limit 1 MiB ------------------------------------------

long max_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

constexpr size_t kMiB = 1024 * 1024;
constexpr size_t kBombBytes = 1024 * kMiB;

Bytes gzip_bomb() {  // 1024 gzip members of 1 MiB zeros each: one gzip stream of 1 GiB
  Bytes one = *compress(Compression::gzip, Bytes(kMiB, 0), 9);
  Bytes out;
  for (size_t i = 0; i < kBombBytes / kMiB; ++i) append(out, one);
  return out;
}

Bytes snappy_xerial_bomb() {
  Bytes block = *compress(Compression::snappy, Bytes(kMiB, 0));
  Bytes out = xerial_header();
  for (size_t i = 0; i < kBombBytes / kMiB; ++i) {
    append_be32(out, static_cast<uint32_t>(block.size()));
    append(out, block);
  }
  return out;
}

Bytes lz4_bomb() {  // one frame, no content size, streamed in
  LZ4F_cctx* ctx = nullptr;
  EXPECT_FALSE(LZ4F_isError(LZ4F_createCompressionContext(&ctx, LZ4F_VERSION)));
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max4MB;
  Bytes zeros(kMiB, 0);
  Bytes out(LZ4F_compressBound(kMiB, &prefs) + 64);
  Bytes frame;
  size_t n = LZ4F_compressBegin(ctx, out.data(), out.size(), &prefs);
  frame.insert(frame.end(), out.begin(), out.begin() + static_cast<long>(n));
  for (size_t i = 0; i < kBombBytes / kMiB; ++i) {
    n = LZ4F_compressUpdate(ctx, out.data(), out.size(), zeros.data(), zeros.size(), nullptr);
    frame.insert(frame.end(), out.begin(), out.begin() + static_cast<long>(n));
  }
  n = LZ4F_compressEnd(ctx, out.data(), out.size(), nullptr);
  frame.insert(frame.end(), out.begin(), out.begin() + static_cast<long>(n));
  LZ4F_freeCompressionContext(ctx);
  return frame;
}

Bytes zstd_bomb() {  // one frame, no content size, streamed in
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, 1);
  Bytes zeros(kMiB, 0);
  Bytes out(ZSTD_CStreamOutSize());
  Bytes frame;
  for (size_t i = 0; i < kBombBytes / kMiB; ++i) {
    bool last = i + 1 == kBombBytes / kMiB;
    ZSTD_inBuffer in{zeros.data(), zeros.size(), 0};
    size_t remaining;
    do {
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      remaining = ZSTD_compressStream2(ctx, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
      frame.insert(frame.end(), out.begin(), out.begin() + static_cast<long>(o.pos));
    } while (last ? remaining != 0 : in.pos < in.size);
  }
  ZSTD_freeCCtx(ctx);
  EXPECT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  return frame;
}

TEST(Compression, BombsFailFastWithinTheLimit) {
  struct Bomb {
    const char* name;
    Compression codec;
    Bytes data;
  };
  Bomb bombs[] = {{"gzip", Compression::gzip, gzip_bomb()},
                  {"snappy xerial", Compression::snappy, snappy_xerial_bomb()},
                  {"lz4", Compression::lz4, lz4_bomb()},
                  {"zstd", Compression::zstd, zstd_bomb()}};
  long rss_before = max_rss_kib();
  for (const auto& bomb : bombs) {
    SCOPED_TRACE(bomb.name);
    EXPECT_LT(bomb.data.size(), 64 * kMiB);
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(decompress_error(bomb.codec, bomb.data, kMiB), ErrorCode::record_list_too_large);
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(1));
    // Inside a batch: validate_batch refuses it the same way.
    RecordBatchBuilder builder({});
    builder.add(0, std::nullopt, Bytes{});
    Bytes batch = *builder.build();
    batch.resize(kBatchHeaderSize);
    append(batch, bomb.data);
    uint32_t length = static_cast<uint32_t>(batch.size() - kBatchOffsetsSize);
    for (int i = 0; i < 4; ++i) batch[kBatchLengthPos + i] = static_cast<uint8_t>(length >> (24 - 8 * i));
    batch[kAttributesPos + 1] = static_cast<uint8_t>(bomb.codec);
    uint32_t crc = crc32c(batch.data() + kAttributesPos, batch.size() - kAttributesPos);
    for (int i = 0; i < 4; ++i) batch[kCrcPos + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
    DecodeLimits limits;
    limits.max_decompressed_bytes = kMiB;
    auto v = validate_batch(batch, limits);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, ErrorCode::record_list_too_large);
  }
  // Nothing near 1 GiB was ever resident (the inputs themselves are a few MiB).
  EXPECT_LT(max_rss_kib() - rss_before, 256 * 1024);
}

TEST(Compression, SnappyRawBlockClaimingHugeSizeIsRefusedBeforeAllocating) {
  // Length varint 2^30 followed by a few bytes: refused from the header alone.
  Bytes claim = {0x80, 0x80, 0x80, 0x80, 0x04, 0x00, 0x01, 0x02};
  EXPECT_EQ(decompress_error(Compression::snappy, claim, kMiB), ErrorCode::record_list_too_large);
  // A real raw block of 64 MiB zeros (about 3 MiB compressed).
  Bytes block = *compress(Compression::snappy, Bytes(64 * kMiB, 0));
  EXPECT_EQ(decompress_error(Compression::snappy, block, kMiB), ErrorCode::record_list_too_large);
  // A block whose header understates its content.
  Bytes small = *compress(Compression::snappy, Bytes(1000, 'x'));
  small[0] = 10;  // claims 10 bytes (varint was e8 07)
  small.erase(small.begin() + 1);
  EXPECT_EQ(decompress_error(Compression::snappy, small, kMiB), ErrorCode::corrupt_message);
}

}  // namespace
}  // namespace conveyor::protocol
