// RecordBatch v2: header access, validation, decoding and building (PROTOCOL.md "RecordBatch v2").
#include "conveyor/protocol/record_batch.h"

#include <fmt/format.h>

#include <limits>

#include "conveyor/base/assert.h"
#include "conveyor/protocol/codec.h"
#include "conveyor/protocol/crc32c.h"

namespace conveyor::protocol {
namespace {

// Smallest encoded record: length, attributes, timestampDelta, offsetDelta, key length, value
// length, header count — one byte each.
constexpr size_t kMinRecordSize = 7;
constexpr size_t kMinBatchLength = kBatchHeaderSize - kBatchOffsetsSize;

uint64_t load_be(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

void store_be(uint8_t* p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

uint32_t compute_crc(ByteView batch, size_t size) {
  return crc32c(batch.data() + kAttributesPos, size - kAttributesPos);
}

void write_crc(std::span<uint8_t> batch, size_t size) {
  store_be(batch.data() + kCrcPos, compute_crc(batch, size), 4);
}

size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
size_t varint_size(int64_t v) {
  return uvarint_size((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

// Sums of untrusted wire values wrap instead of overflowing (signed overflow is undefined).
int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

enum class Strictness {
  produce,  // validate_batch: offset deltas exactly 0..n-1
  fetch,    // decode: increasing deltas within [0, last_offset_delta] (compaction leaves gaps)
};

// Walks `count` records in `region`, calling visit(RecordView) for each. Only checks; the
// header-level checks (count vs last_offset_delta etc.) are the caller's.
template <class Visit>
Result<void> walk_records(ByteView region, const RecordBatchHeader& h, Strictness strictness,
                          Visit&& visit) {
  Reader r(region);
  const bool append_time = h.timestamp_type() == TimestampType::log_append_time;
  int64_t previous_delta = -1;
  RecordView rec;
  for (int32_t i = 0; i < h.record_count; ++i) {
    if (r.remaining() == 0) {
      return fail(ErrorCode::invalid_record,
                  fmt::format("record_count is {} but the batch holds only {} records", h.record_count, i));
    }
    int32_t length = r.varint();
    if (!r.ok() || length < 0 || static_cast<size_t>(length) > r.remaining()) {
      return fail(ErrorCode::corrupt_message, fmt::format("record {}: bad record length {}", i, length));
    }
    ByteView body = r.view(static_cast<size_t>(length));
    Reader b(body);
    rec.attributes = b.int8();
    int64_t timestamp_delta = b.varlong();
    int32_t offset_delta = b.varint();
    int32_t key_size = b.varint();
    if (key_size < -1) b.fail();
    rec.key = key_size < 0 ? std::nullopt : std::optional<ByteView>(b.view(static_cast<size_t>(key_size)));
    int32_t value_size = b.varint();
    if (value_size < -1) b.fail();
    rec.value = value_size < 0 ? std::nullopt : std::optional<ByteView>(b.view(static_cast<size_t>(value_size)));
    int32_t header_count = b.varint();
    // Each header takes at least two bytes (key length, value length).
    if (header_count < 0 || static_cast<size_t>(header_count) > b.remaining() / 2) b.fail();
    size_t headers_start = b.position();
    for (int32_t k = 0; k < header_count && b.ok(); ++k) {
      int32_t hk = b.varint();
      if (hk < 0) b.fail();
      b.view(static_cast<size_t>(hk));
      int32_t hv = b.varint();
      if (hv < -1) b.fail();
      if (hv > 0) b.view(static_cast<size_t>(hv));
    }
    if (!b.ok()) {
      return fail(ErrorCode::corrupt_message, fmt::format("record {}: malformed or truncated record", i));
    }
    if (b.remaining() != 0) {
      return fail(ErrorCode::corrupt_message,
                  fmt::format("record {}: length {} does not match its contents ({} bytes left over)", i,
                              length, b.remaining()));
    }
    if (strictness == Strictness::produce) {
      if (offset_delta != i) {
        return fail(ErrorCode::invalid_record,
                    fmt::format("record {} has offset delta {}, expected {}", i, offset_delta, i));
      }
    } else if (offset_delta <= previous_delta || offset_delta > h.last_offset_delta) {
      return fail(ErrorCode::invalid_record,
                  fmt::format("record {} has offset delta {} (previous {}, last_offset_delta {})", i,
                              offset_delta, previous_delta, h.last_offset_delta));
    }
    previous_delta = offset_delta;
    rec.offset = wrapping_add(h.base_offset, offset_delta);
    rec.timestamp = append_time ? h.max_timestamp : wrapping_add(h.base_timestamp, timestamp_delta);
    rec.header_count = header_count;
    rec.headers_bytes = body.subspan(headers_start);
    visit(static_cast<const RecordView&>(rec));
  }
  if (r.remaining() != 0) {
    return fail(ErrorCode::invalid_record,
                fmt::format("{} bytes follow the {} records the batch declares", r.remaining(), h.record_count));
  }
  return {};
}

// Header, size, CRC and codec checks shared by validation and decoding.
Result<RecordBatchHeader> check_batch(ByteView batch, const DecodeLimits& limits, Strictness strictness) {
  auto parsed = parse_batch_header(batch);
  if (!parsed) return parsed;
  const RecordBatchHeader& h = *parsed;
  if (static_cast<uint64_t>(h.size_in_bytes()) > batch.size()) {
    return fail(ErrorCode::corrupt_message, fmt::format("truncated batch: {} bytes of {}", batch.size(),
                                                        h.size_in_bytes()));
  }
  const bool verify = limits.verify_crc || strictness == Strictness::produce;  // append always checks
  uint32_t crc = verify ? compute_crc(batch, static_cast<size_t>(h.size_in_bytes())) : h.crc;
  if (crc != h.crc) {
    return fail(ErrorCode::corrupt_message,
                fmt::format("batch CRC mismatch: stored {:#010x}, computed {:#010x}", h.crc, crc));
  }
  if ((h.attributes & 0x7) > static_cast<int>(Compression::zstd)) {
    return fail(ErrorCode::unsupported_compression_type,
                fmt::format("unknown compression codec {}", h.attributes & 0x7));
  }
  if (h.record_count < 0 || (strictness == Strictness::produce && h.record_count == 0)) {
    return fail(ErrorCode::invalid_record, fmt::format("invalid record_count {}", h.record_count));
  }
  if (h.record_count > limits.max_records) {
    return fail(ErrorCode::record_list_too_large,
                fmt::format("record_count {} exceeds the limit {}", h.record_count, limits.max_records));
  }
  if (strictness == Strictness::produce ? h.last_offset_delta != h.record_count - 1
                                        : h.last_offset_delta < h.record_count - 1) {
    return fail(ErrorCode::invalid_record, fmt::format("last_offset_delta {} does not match record_count {}",
                                                       h.last_offset_delta, h.record_count));
  }
  size_t region_size = static_cast<size_t>(h.size_in_bytes()) - kBatchHeaderSize;
  uint64_t min_records_size = static_cast<uint64_t>(h.record_count) * kMinRecordSize;
  if (h.compression() == Compression::none) {
    if (min_records_size > region_size) {
      return fail(ErrorCode::invalid_record, fmt::format("record_count {} cannot fit in {} bytes",
                                                         h.record_count, region_size));
    }
  } else if (min_records_size > limits.max_decompressed_bytes) {
    return fail(ErrorCode::record_list_too_large,
                fmt::format("record_count {} needs more than the {} bytes allowed decompressed", h.record_count,
                            limits.max_decompressed_bytes));
  }
  return parsed;
}

// Runs walk_records over the (decompressed) records of a checked batch.
// single_pass: visit while validating (stream_records); else validate fully, then visit.
template <class Visit>
Result<void> with_records(ByteView batch, const RecordBatchHeader& h, const DecodeLimits& limits,
                          Strictness strictness, Visit&& visit, bool single_pass = false) {
  ByteView region = batch.subspan(kBatchHeaderSize, static_cast<size_t>(h.size_in_bytes()) - kBatchHeaderSize);
  if (h.compression() == Compression::none) return walk_records(region, h, strictness, visit);
  auto plain = decompress(h.compression(), region, limits.max_decompressed_bytes);
  if (!plain) return fail(plain.error());
  if (plain->size() < static_cast<uint64_t>(h.record_count) * kMinRecordSize) {
    return fail(ErrorCode::invalid_record, fmt::format("record_count {} cannot fit in {} decompressed bytes",
                                                       h.record_count, plain->size()));
  }
  // The visitor may keep views only while the buffer lives: the two-pass callers below copy.
  if (single_pass) return walk_records(*plain, h, strictness, visit);
  auto checked = walk_records(*plain, h, strictness, [](const RecordView&) {});
  if (!checked) return checked;
  return walk_records(*plain, h, strictness, visit);
}

}  // namespace

Result<RecordBatchHeader> parse_batch_header(ByteView data) {
  if (data.size() < kBatchHeaderSize) {
    return fail(ErrorCode::corrupt_message, fmt::format("batch header needs {} bytes, have {}", kBatchHeaderSize,
                                                        data.size()));
  }
  const uint8_t* p = data.data();
  RecordBatchHeader h;
  h.base_offset = static_cast<int64_t>(load_be(p + kBaseOffsetPos, 8));
  h.batch_length = static_cast<int32_t>(load_be(p + kBatchLengthPos, 4));
  h.partition_leader_epoch = static_cast<int32_t>(load_be(p + kPartitionLeaderEpochPos, 4));
  h.magic = static_cast<int8_t>(p[kMagicPos]);
  h.crc = static_cast<uint32_t>(load_be(p + kCrcPos, 4));
  h.attributes = static_cast<int16_t>(load_be(p + kAttributesPos, 2));
  h.last_offset_delta = static_cast<int32_t>(load_be(p + kLastOffsetDeltaPos, 4));
  h.base_timestamp = static_cast<int64_t>(load_be(p + kBaseTimestampPos, 8));
  h.max_timestamp = static_cast<int64_t>(load_be(p + kMaxTimestampPos, 8));
  h.producer_id = static_cast<int64_t>(load_be(p + kProducerIdPos, 8));
  h.producer_epoch = static_cast<int16_t>(load_be(p + kProducerEpochPos, 2));
  h.base_sequence = static_cast<int32_t>(load_be(p + kBaseSequencePos, 4));
  h.record_count = static_cast<int32_t>(load_be(p + kRecordCountPos, 4));
  if (h.magic != 2) {
    return fail(ErrorCode::corrupt_message, fmt::format("unsupported record batch magic {}", h.magic));
  }
  if (h.batch_length < 0 || static_cast<size_t>(h.batch_length) < kMinBatchLength) {
    return fail(ErrorCode::corrupt_message, fmt::format("batch_length {} is below the header size", h.batch_length));
  }
  return h;
}

bool batch_crc_valid(ByteView batch) {
  if (batch.size() < kBatchHeaderSize) return false;
  auto length = static_cast<int32_t>(load_be(batch.data() + kBatchLengthPos, 4));
  if (length < 0 || static_cast<size_t>(length) < kMinBatchLength) return false;
  size_t size = kBatchOffsetsSize + static_cast<size_t>(length);
  if (size > batch.size()) return false;
  return compute_crc(batch, size) == static_cast<uint32_t>(load_be(batch.data() + kCrcPos, 4));
}

void set_base_offset(std::span<uint8_t> batch, int64_t base_offset) {
  CONVEYOR_ASSERT(batch.size() >= kBatchHeaderSize);
  store_be(batch.data() + kBaseOffsetPos, static_cast<uint64_t>(base_offset), 8);
}

void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch) {
  CONVEYOR_ASSERT(batch.size() >= kBatchHeaderSize);
  store_be(batch.data() + kPartitionLeaderEpochPos, static_cast<uint32_t>(epoch), 4);
}

void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms) {
  CONVEYOR_ASSERT(batch.size() >= kBatchHeaderSize);
  size_t size = kBatchOffsetsSize + static_cast<uint32_t>(load_be(batch.data() + kBatchLengthPos, 4));
  CONVEYOR_ASSERT(size >= kBatchHeaderSize && size <= batch.size());
  auto attributes = static_cast<uint16_t>(load_be(batch.data() + kAttributesPos, 2) | 0x8);
  store_be(batch.data() + kAttributesPos, attributes, 2);
  store_be(batch.data() + kMaxTimestampPos, static_cast<uint64_t>(timestamp_ms), 8);
  write_crc(batch, size);
}

Result<RecordBatchHeader> validate_batch(ByteView batch, const DecodeLimits& limits) {
  auto h = check_batch(batch, limits, Strictness::produce);
  if (!h) return h;
  ByteView region = batch.subspan(kBatchHeaderSize, static_cast<size_t>(h->size_in_bytes()) - kBatchHeaderSize);
  if (h->compression() == Compression::none) {
    auto ok = walk_records(region, *h, Strictness::produce, [](const RecordView&) {});
    if (!ok) return fail(ok.error());
    return h;
  }
  auto plain = decompress(h->compression(), region, limits.max_decompressed_bytes);
  if (!plain) return fail(plain.error());
  auto ok = walk_records(*plain, *h, Strictness::produce, [](const RecordView&) {});
  if (!ok) return fail(ok.error());
  return h;
}

namespace detail {

int64_t read_validated_varlong(const uint8_t*& p) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

Result<RecordBatchHeader> for_each_record(ByteView batch, const DecodeLimits& limits, void* ctx,
                                          RecordVisitFn fn) {
  auto h = check_batch(batch, limits, Strictness::fetch);
  if (!h) return h;
  if (h->compression() == Compression::none) {
    // Validate first so no callback runs for an invalid batch, then visit.
    ByteView region = batch.subspan(kBatchHeaderSize, static_cast<size_t>(h->size_in_bytes()) - kBatchHeaderSize);
    auto ok = walk_records(region, *h, Strictness::fetch, [](const RecordView&) {});
    if (!ok) return fail(ok.error());
    (void)walk_records(region, *h, Strictness::fetch, [&](const RecordView& r) { fn(ctx, r); });
    return h;
  }
  auto ok = with_records(batch, *h, limits, Strictness::fetch, [&](const RecordView& r) { fn(ctx, r); });
  if (!ok) return fail(ok.error());
  return h;
}

Result<RecordBatchHeader> stream_records(ByteView batch, const DecodeLimits& limits, void* ctx,
                                         RecordVisitFn fn) {
  auto h = check_batch(batch, limits, Strictness::fetch);
  if (!h) return h;
  auto ok = with_records(batch, *h, limits, Strictness::fetch, [&](const RecordView& r) { fn(ctx, r); },
                         /*single_pass=*/true);
  if (!ok) return fail(ok.error());
  return h;
}

}  // namespace detail

Result<std::vector<Record>> decode_batch(ByteView batch, const DecodeLimits& limits) {
  std::vector<Record> out;
  bool reserved = false;
  auto h = for_each_record(batch, limits, [&](const RecordView& v) {
    if (!reserved) {
      // Callbacks run only once the whole batch is valid, so record_count is trustworthy here.
      reserved = true;
      out.reserve(static_cast<size_t>(parse_batch_header(batch)->record_count));
    }
    Record& r = out.emplace_back();
    r.offset = v.offset;
    r.timestamp = v.timestamp;
    if (v.key) r.key.emplace(v.key->begin(), v.key->end());
    if (v.value) r.value.emplace(v.value->begin(), v.value->end());
    if (v.header_count > 0) {
      r.headers.reserve(static_cast<size_t>(v.header_count));
      v.for_each_header([&](std::string_view key, std::optional<ByteView> value) {
        RecordHeader& hdr = r.headers.emplace_back();
        hdr.key.assign(key);
        if (value) hdr.value.emplace(value->begin(), value->end());
      });
    }
  });
  if (!h) return fail(h.error());
  return out;
}

Result<std::vector<BatchSpan>> split_batches(ByteView records, size_t* partial_tail_bytes) {
  std::vector<BatchSpan> out;
  size_t pos = 0;
  if (partial_tail_bytes) *partial_tail_bytes = 0;
  while (pos < records.size()) {
    ByteView rest = records.subspan(pos);
    bool partial = rest.size() < kBatchHeaderSize;
    if (!partial) {
      auto h = parse_batch_header(rest);
      if (!h) return fail(h.error());
      partial = static_cast<uint64_t>(h->size_in_bytes()) > rest.size();
      if (!partial) {
        out.push_back(BatchSpan{*h, rest.first(static_cast<size_t>(h->size_in_bytes()))});
        pos += static_cast<size_t>(h->size_in_bytes());
        continue;
      }
    }
    if (!partial_tail_bytes) {
      return fail(ErrorCode::corrupt_message,
                  fmt::format("records end with a partial batch of {} bytes", rest.size()));
    }
    *partial_tail_bytes = rest.size();
    break;
  }
  return out;
}

RecordBatchBuilder::RecordBatchBuilder(Options options) : options_(options) {
  records_.resize(kBatchHeaderSize);
}

void RecordBatchBuilder::add(int64_t timestamp_ms, std::optional<ByteView> key, std::optional<ByteView> value,
                             const std::vector<RecordHeader>& headers) {
  CONVEYOR_ASSERT(count_ < std::numeric_limits<int32_t>::max());
  if (count_ == 0) {
    base_timestamp_ = timestamp_ms;
    max_timestamp_ = timestamp_ms;
  } else if (timestamp_ms > max_timestamp_) {
    max_timestamp_ = timestamp_ms;
  }
  constexpr size_t kMaxField = static_cast<size_t>(std::numeric_limits<int32_t>::max());
  auto timestamp_delta =
      static_cast<int64_t>(static_cast<uint64_t>(timestamp_ms) - static_cast<uint64_t>(base_timestamp_));
  size_t body = 1 + varint_size(timestamp_delta) + varint_size(count_);
  auto field_size = [](const std::optional<ByteView>& f) {
    if (!f) return size_t{1};
    CONVEYOR_ASSERT(f->size() <= kMaxField);
    return varint_size(static_cast<int64_t>(f->size())) + f->size();
  };
  body += field_size(key) + field_size(value);
  body += varint_size(static_cast<int64_t>(headers.size()));
  for (const auto& hdr : headers) {
    CONVEYOR_ASSERT(hdr.key.size() <= kMaxField);
    body += varint_size(static_cast<int64_t>(hdr.key.size())) + hdr.key.size();
    body += hdr.value ? varint_size(static_cast<int64_t>(hdr.value->size())) + hdr.value->size() : 1;
  }
  CONVEYOR_ASSERT(body <= kMaxField);

  Writer w(records_);
  w.varint(static_cast<int32_t>(body));
  w.int8(0);
  w.varlong(timestamp_delta);
  w.varint(count_);
  auto write_field = [&](const std::optional<ByteView>& f) {
    if (!f) return w.varint(-1);
    w.varint(static_cast<int32_t>(f->size()));
    w.raw(*f);
  };
  write_field(key);
  write_field(value);
  w.varint(static_cast<int32_t>(headers.size()));
  for (const auto& hdr : headers) {
    w.varint(static_cast<int32_t>(hdr.key.size()));
    w.raw(ByteView(reinterpret_cast<const uint8_t*>(hdr.key.data()), hdr.key.size()));
    if (hdr.value) {
      w.varint(static_cast<int32_t>(hdr.value->size()));
      w.raw(*hdr.value);
    } else {
      w.varint(-1);
    }
  }
  ++count_;
}

int32_t RecordBatchBuilder::record_count() const { return count_; }

size_t RecordBatchBuilder::estimated_size() const { return records_.size(); }

Result<Bytes> RecordBatchBuilder::build() {
  if (count_ == 0) return fail(ErrorCode::invalid_record, "a record batch needs at least one record");
  Bytes out;
  if (options_.compression == Compression::none) {
    out = std::move(records_);
  } else {
    auto compressed = compress(options_.compression, ByteView(records_).subspan(kBatchHeaderSize),
                               options_.compression_level);
    if (!compressed) return fail(compressed.error());
    out.reserve(kBatchHeaderSize + compressed->size());
    out.resize(kBatchHeaderSize);
    out.insert(out.end(), compressed->begin(), compressed->end());
  }
  if (out.size() - kBatchOffsetsSize > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    records_.assign(kBatchHeaderSize, 0);
    count_ = 0;
    return fail(ErrorCode::record_list_too_large, fmt::format("batch of {} bytes is too large", out.size()));
  }
  int16_t attributes = static_cast<int16_t>(static_cast<int>(options_.compression) & 0x7);
  if (options_.transactional) attributes |= 0x10;
  uint8_t* p = out.data();
  store_be(p + kBaseOffsetPos, 0, 8);
  store_be(p + kBatchLengthPos, out.size() - kBatchOffsetsSize, 4);
  store_be(p + kPartitionLeaderEpochPos, static_cast<uint32_t>(-1), 4);
  p[kMagicPos] = 2;
  store_be(p + kAttributesPos, static_cast<uint16_t>(attributes), 2);
  store_be(p + kLastOffsetDeltaPos, static_cast<uint32_t>(count_ - 1), 4);
  store_be(p + kBaseTimestampPos, static_cast<uint64_t>(base_timestamp_), 8);
  store_be(p + kMaxTimestampPos, static_cast<uint64_t>(max_timestamp_), 8);
  store_be(p + kProducerIdPos, static_cast<uint64_t>(options_.producer_id), 8);
  store_be(p + kProducerEpochPos, static_cast<uint16_t>(options_.producer_epoch), 2);
  store_be(p + kBaseSequencePos, static_cast<uint32_t>(options_.base_sequence), 4);
  store_be(p + kRecordCountPos, static_cast<uint32_t>(count_), 4);
  write_crc(out, out.size());
  records_.assign(kBatchHeaderSize, 0);
  count_ = 0;
  base_timestamp_ = max_timestamp_ = 0;
  return out;
}

}  // namespace conveyor::protocol
