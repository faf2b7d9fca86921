// The four Kafka codecs over the Debian libraries (PROTOCOL.md "Compression framing").
// Decompression streams into an output buffer that grows in steps up to max_output and fails as
// soon as the stream would produce one byte more (compression bombs).
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <fmt/format.h>
#include <memory>

#include "conveyor/protocol/record_batch.h"

namespace conveyor::protocol {
namespace {

constexpr size_t kFirstOutputChunk = 64 * 1024;  // first output allocation (grows ×2 to the limit)
constexpr size_t kProbeBytes = 64;               // scratch space to ask "is there more output?"
constexpr size_t kMaxHintRatio = 1024;           // largest output/input ratio a size hint may claim
constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeaderSize = 16;  // magic, int32 version, int32 compatible version

std::string_view codec_name(Compression codec) {
  switch (codec) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::snappy: return "snappy";
    case Compression::lz4: return "lz4";
    case Compression::zstd: return "zstd";
  }
  return "unknown";
}

auto too_large(Compression codec, size_t max_output) {
  return fail(ErrorCode::record_list_too_large,
              fmt::format("{} data decompresses to more than the limit of {} bytes", codec_name(codec), max_output));
}

auto corrupt(Compression codec, std::string_view why) {
  return fail(ErrorCode::corrupt_message, fmt::format("invalid {} data: {}", codec_name(codec), why));
}

enum class Step { more, done, truncated, error };

// Runs a streaming decoder. step(dst, capacity, produced, error) decodes into dst and reports
// what happened; the output grows to at most max_output, after which a probe into a small
// scratch buffer tells whether the stream has more to give (then: record_list_too_large).
// `size_hint` (0 = none) is what the stream header claims; it is trusted only up to
// kMaxHintRatio times the input, so a lying header cannot make us allocate the whole limit.
template <class StepFn>
Result<Bytes> drive(Compression codec, size_t input_size, size_t size_hint, size_t max_output, StepFn&& step) {
  Bytes out;
  size_t used = 0;
  size_t first = std::max(kFirstOutputChunk, input_size * 2);
  if (size_hint > 0 && size_hint / kMaxHintRatio <= input_size) first = size_hint;
  out.resize(std::min(max_output, first));
  uint8_t probe[kProbeBytes];
  std::string error;
  for (;;) {
    size_t produced = 0;
    Step s;
    if (used < out.size()) {
      s = step(out.data() + used, out.size() - used, produced, error);
      used += produced;
    } else if (out.size() < max_output) {
      out.resize(std::min(max_output, out.size() * 2));
      continue;
    } else {
      s = step(probe, sizeof probe, produced, error);
      if (produced > 0) return too_large(codec, max_output);
    }
    switch (s) {
      case Step::more: continue;
      case Step::done: out.resize(used); return out;
      case Step::truncated: return corrupt(codec, "truncated stream");
      case Step::error: return corrupt(codec, error);
    }
  }
}

// ---- gzip (zlib) -------------------------------------------------------------------------------

Result<Bytes> gzip_compress(ByteView input, int level) {
  z_stream z{};
  if (deflateInit2(&z, level < 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return fail(ErrorCode::local_invalid_arg, fmt::format("gzip: bad compression level {}", level));
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, deflateEnd);
  Bytes out(deflateBound(&z, static_cast<uLong>(input.size())));
  z.next_in = const_cast<Bytef*>(input.data());
  z.avail_in = static_cast<uInt>(input.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) return fail(ErrorCode::local_fail, "gzip: deflate failed");
  out.resize(z.total_out);
  return out;
}

Result<Bytes> gzip_decompress(ByteView input, size_t max_output) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return fail(ErrorCode::local_fail, "gzip: inflateInit failed");  // gzip or zlib
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  if (input.size() > std::numeric_limits<uInt>::max()) return corrupt(Compression::gzip, "input too large");
  z.next_in = const_cast<Bytef*>(input.data());
  z.avail_in = static_cast<uInt>(input.size());
  // ISIZE, the last 4 bytes of a gzip member: uncompressed size mod 2^32 (a hint only).
  size_t hint = 0;
  if (input.size() >= 18) {
    const uint8_t* t = input.data() + input.size() - 4;
    hint = uint32_t{t[0]} | (uint32_t{t[1]} << 8) | (uint32_t{t[2]} << 16) | (uint32_t{t[3]} << 24);
  }
  return drive(Compression::gzip, input.size(), hint, max_output,
               [&](uint8_t* dst, size_t cap, size_t& produced, std::string& error) {
                 z.next_out = dst;
                 z.avail_out = static_cast<uInt>(std::min<size_t>(cap, 1u << 30));
                 uInt before = z.avail_out;
                 int rc = inflate(&z, Z_NO_FLUSH);
                 produced = before - z.avail_out;
                 if (rc == Z_STREAM_END) {
                   // Concatenated gzip members form one stream (as GZIPInputStream reads them).
                   if (z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
                     inflateReset(&z);
                     return Step::more;
                   }
                   if (z.avail_in != 0) {
                     error = fmt::format("{} bytes after the end of the stream", z.avail_in);
                     return Step::error;
                   }
                   return Step::done;
                 }
                 if (rc == Z_OK) return Step::more;
                 if (rc == Z_BUF_ERROR) {  // no progress possible (output space is never zero here)
                   if (z.avail_in == 0) return Step::truncated;
                   error = "no progress";
                   return Step::error;
                 }
                 error = z.msg ? z.msg : fmt::format("zlib error {}", rc);
                 return Step::error;
               });
}

// ---- snappy ------------------------------------------------------------------------------------

Result<Bytes> snappy_compress(ByteView input) {
  Bytes out(snappy::MaxCompressedLength(input.size()));
  size_t size = 0;
  snappy::RawCompress(reinterpret_cast<const char*>(input.data()), input.size(),
                      reinterpret_cast<char*>(out.data()), &size);
  out.resize(size);
  return out;
}

// Appends one raw snappy block to out, checking its declared size against the limit first.
Result<void> snappy_block(ByteView block, Bytes& out, size_t max_output) {
  size_t size = 0;
  const char* p = reinterpret_cast<const char*>(block.data());
  if (!snappy::GetUncompressedLength(p, block.size(), &size)) return corrupt(Compression::snappy, "bad block header");
  if (size > max_output - out.size()) return too_large(Compression::snappy, max_output);
  size_t at = out.size();
  out.resize(at + size);
  if (!snappy::RawUncompress(p, block.size(), reinterpret_cast<char*>(out.data() + at))) {
    return corrupt(Compression::snappy, "bad block");
  }
  return {};
}

Result<Bytes> snappy_decompress(ByteView input, size_t max_output) {
  Bytes out;
  if (input.size() >= kXerialHeaderSize && std::memcmp(input.data(), kXerialMagic, sizeof kXerialMagic) == 0) {
    // xerial (snappy-java) framing: header, then [int32 BE compressed length][raw block]...
    size_t pos = kXerialHeaderSize;
    while (pos < input.size()) {
      if (input.size() - pos < 4) return corrupt(Compression::snappy, "truncated xerial chunk length");
      const uint8_t* p = input.data() + pos;
      uint32_t length = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
      pos += 4;
      if (length > input.size() - pos) return corrupt(Compression::snappy, "truncated xerial chunk");
      auto ok = snappy_block(input.subspan(pos, length), out, max_output);
      if (!ok) return fail(ok.error());
      pos += length;
    }
    return out;
  }
  auto ok = snappy_block(input, out, max_output);
  if (!ok) return fail(ok.error());
  return out;
}

// ---- lz4 (frame format) ------------------------------------------------------------------------

Result<Bytes> lz4_compress(ByteView input, int level) {
  LZ4F_preferences_t prefs{};
  // 64 KiB independent blocks: what Kafka's Java LZ4 stream reads (it decodes each block alone).
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.compressionLevel = level < 0 ? 0 : level;
  Bytes out(LZ4F_compressFrameBound(input.size(), &prefs));
  size_t size = LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), &prefs);
  if (LZ4F_isError(size)) return fail(ErrorCode::local_fail, fmt::format("lz4: {}", LZ4F_getErrorName(size)));
  out.resize(size);
  return out;
}

Result<Bytes> lz4_decompress(ByteView input, size_t max_output) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) {
    return fail(ErrorCode::local_fail, "lz4: cannot create a decompression context");
  }
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> ctx(raw, LZ4F_freeDecompressionContext);
  size_t pos = 0;
  return drive(Compression::lz4, input.size(), 0, max_output,
               [&](uint8_t* dst, size_t cap, size_t& produced, std::string& error) {
                 size_t dst_size = cap;
                 size_t src_size = input.size() - pos;
                 size_t rc = LZ4F_decompress(ctx.get(), dst, &dst_size, input.data() + pos, &src_size, nullptr);
                 pos += src_size;
                 produced = dst_size;
                 if (LZ4F_isError(rc)) {
                   error = LZ4F_getErrorName(rc);
                   return Step::error;
                 }
                 if (rc == 0) return pos == input.size() ? Step::done : Step::more;  // next frame follows
                 if (pos == input.size() && dst_size < cap) return Step::truncated;
                 return Step::more;
               });
}

// ---- zstd --------------------------------------------------------------------------------------

Result<Bytes> zstd_compress(ByteView input, int level) {
  Bytes out(ZSTD_compressBound(input.size()));
  size_t size = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), level < 0 ? ZSTD_CLEVEL_DEFAULT : level);
  if (ZSTD_isError(size)) return fail(ErrorCode::local_fail, fmt::format("zstd: {}", ZSTD_getErrorName(size)));
  out.resize(size);
  return out;
}

Result<Bytes> zstd_decompress(ByteView input, size_t max_output) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) return fail(ErrorCode::local_fail, "zstd: cannot create a decompression context");
  // zstd's default window limit (2^27) bounds the decoder's own memory; frames asking for more fail.
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  unsigned long long content_size = ZSTD_getFrameContentSize(input.data(), input.size());
  size_t hint = content_size < ZSTD_CONTENTSIZE_ERROR ? static_cast<size_t>(content_size) : 0;
  return drive(Compression::zstd, input.size(), hint, max_output,
               [&](uint8_t* dst, size_t cap, size_t& produced, std::string& error) {
                 ZSTD_outBuffer out{dst, cap, 0};
                 size_t rc = ZSTD_decompressStream(ctx.get(), &out, &in);
                 produced = out.pos;
                 if (ZSTD_isError(rc)) {
                   error = ZSTD_getErrorName(rc);
                   return Step::error;
                 }
                 if (rc == 0) return in.pos == in.size ? Step::done : Step::more;  // next frame follows
                 if (in.pos == in.size && out.pos < cap) return Step::truncated;
                 return Step::more;
               });
}

}  // namespace

Result<Bytes> compress(Compression codec, ByteView input, int level) {
  switch (codec) {
    case Compression::none: return Bytes(input.begin(), input.end());
    case Compression::gzip: return gzip_compress(input, level);
    case Compression::snappy: return snappy_compress(input);
    case Compression::lz4: return lz4_compress(input, level);
    case Compression::zstd: return zstd_compress(input, level);
  }
  return fail(ErrorCode::unsupported_compression_type, fmt::format("unknown codec {}", static_cast<int>(codec)));
}

Result<Bytes> decompress(Compression codec, ByteView input, size_t max_output) {
  switch (codec) {
    case Compression::none:
      if (input.size() > max_output) return too_large(codec, max_output);
      return Bytes(input.begin(), input.end());
    case Compression::gzip: return gzip_decompress(input, max_output);
    case Compression::snappy: return snappy_decompress(input, max_output);
    case Compression::lz4: return lz4_decompress(input, max_output);
    case Compression::zstd: return zstd_decompress(input, max_output);
  }
  return fail(ErrorCode::unsupported_compression_type, fmt::format("unknown codec {}", static_cast<int>(codec)));
}

}  // namespace conveyor::protocol
