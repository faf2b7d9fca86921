#pragma once
// RecordBatch v2 (magic 2): header view, validation, building and decoding.
// Layout: ../../../../../shared/PROTOCOL.md "RecordBatch v2"; protocol guide "Record Batch".
//
// Thread-safety: every function here is pure; a RecordBatchBuilder is single-threaded.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "conveyor/base/result.h"
#include "conveyor/protocol/bytes.h"

namespace conveyor::protocol {

enum class Compression : int8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

enum class TimestampType : int8_t { create_time = 0, log_append_time = 1 };

inline constexpr size_t kBatchHeaderSize = 61;  // bytes before the first record
inline constexpr size_t kBatchOffsetsSize = 12;  // baseOffset + batchLength precede the rest

// Field offsets inside a batch (bytes from the start of baseOffset).
inline constexpr size_t kBaseOffsetPos = 0;
inline constexpr size_t kBatchLengthPos = 8;
inline constexpr size_t kPartitionLeaderEpochPos = 12;
inline constexpr size_t kMagicPos = 16;
inline constexpr size_t kCrcPos = 17;
inline constexpr size_t kAttributesPos = 21;  // CRC covers [kAttributesPos, end)
inline constexpr size_t kLastOffsetDeltaPos = 23;
inline constexpr size_t kBaseTimestampPos = 27;
inline constexpr size_t kMaxTimestampPos = 35;
inline constexpr size_t kProducerIdPos = 43;
inline constexpr size_t kProducerEpochPos = 51;
inline constexpr size_t kBaseSequencePos = 53;
inline constexpr size_t kRecordCountPos = 57;

struct RecordBatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;  // bytes after the batchLength field
  int32_t partition_leader_epoch = -1;
  int8_t magic = 2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  Compression compression() const { return static_cast<Compression>(attributes & 0x7); }
  TimestampType timestamp_type() const {
    return (attributes & 0x8) ? TimestampType::log_append_time : TimestampType::create_time;
  }
  bool is_transactional() const { return attributes & 0x10; }
  bool is_control() const { return attributes & 0x20; }
  int64_t last_offset() const {  // wraps rather than overflow on hostile input
    return static_cast<int64_t>(static_cast<uint64_t>(base_offset) + static_cast<uint64_t>(int64_t{last_offset_delta}));
  }
  // Whole batch size on disk/wire: 12 + batch_length.
  int64_t size_in_bytes() const { return kBatchOffsetsSize + static_cast<int64_t>(batch_length); }
};

// Reads the fixed 61-byte header. Fails (corrupt_message) if fewer than 61 bytes, magic != 2,
// or batch_length is below the header's own size. Does not check the CRC or that the whole
// batch is present.
Result<RecordBatchHeader> parse_batch_header(ByteView data);

// CRC-32C over [kAttributesPos, 12 + batch_length) equals the stored CRC. `batch` must hold
// the whole batch.
bool batch_crc_valid(ByteView batch);

// In-place header edits the broker makes on append. set_max_timestamp recomputes the CRC;
// base offset and leader epoch are outside the CRC.
void set_base_offset(std::span<uint8_t> batch, int64_t base_offset);
void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch);
void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms);

struct RecordHeader {
  std::string key;
  std::optional<Bytes> value;
};

struct Record {
  int64_t offset = 0;     // absolute: base_offset + offset delta
  int64_t timestamp = 0;  // absolute ms (LogAppendTime batches: the batch max timestamp)
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<RecordHeader> headers;
};

struct DecodeLimits {
  // A decompressor never produces more than this (compression bombs; PROTOCOL.md).
  size_t max_decompressed_bytes = 64 * 1024 * 1024;
  int32_t max_records = 1 << 22;
  // Check the batch CRC-32C (a consumer's check.crcs=false skips it; validation for append
  // always checks).
  bool verify_crc = true;
};

// Validation the broker does before appending one batch (LogValidator's job in Kafka):
// (`batch` holds at least the whole batch; bytes after it are ignored — use split_batches)
// header, CRC, magic, that record_count records parse (decompressing within limits) with
// offset deltas 0..record_count-1 and last_offset_delta == record_count-1; record_count 0 is
// invalid_record (as in Kafka's LogValidator), above limits.max_records record_list_too_large.
// Every record's length must match its contents exactly and the records must fill the batch.
// Uncompressed batches are validated without heap allocation; compressed ones allocate at most
// limits.max_decompressed_bytes for the decompressed records.
// Errors: corrupt_message (CRC, truncation, bad varints), invalid_record (count/delta
// mismatch), unsupported_compression_type (codec 5-7), record_list_too_large (decompressed
// over the limit).
Result<RecordBatchHeader> validate_batch(ByteView batch, const DecodeLimits& limits = {});

// Decodes every record of one whole batch (decompressing as needed). Accepts what Kafka's
// Fetch may return: record_count 0 and offset-delta gaps (compaction), see for_each_record.
// Allocates the key, value and headers of each record; for_each_record avoids that.
Result<std::vector<Record>> decode_batch(ByteView batch, const DecodeLimits& limits = {});

// Zero-copy view of one record, valid only during the for_each_record callback (it points into
// the batch, or into a decompressed buffer freed when for_each_record returns).
struct RecordView {
  int64_t offset = 0;     // absolute: base_offset + offset delta
  int64_t timestamp = 0;  // absolute ms (LogAppendTime batches: the batch max timestamp)
  int8_t attributes = 0;  // per-record attributes (unused by Kafka today)
  std::optional<ByteView> key;
  std::optional<ByteView> value;
  int32_t header_count = 0;
  ByteView headers_bytes;  // the encoded headers section (already validated)

  // Calls fn(std::string_view key, std::optional<ByteView> value) for each header, in order.
  template <class Fn>
  void for_each_header(Fn&& fn) const;
};

namespace detail {
using RecordVisitFn = void (*)(void* ctx, const RecordView& record);
Result<RecordBatchHeader> for_each_record(ByteView batch, const DecodeLimits& limits, void* ctx,
                                          RecordVisitFn fn);
Result<RecordBatchHeader> stream_records(ByteView batch, const DecodeLimits& limits, void* ctx,
                                         RecordVisitFn fn);
// Reads the unsigned LEB128 part of a zigzag varint at p (bounds already validated).
int64_t read_validated_varlong(const uint8_t*& p);
}  // namespace detail

// Validates one batch exactly as validate_batch does, except that offset deltas need only be
// increasing within [0, last_offset_delta] and record_count >= 0 (compacted batches fetched from
// Kafka), then calls visit(const RecordView&) for each record without copying keys or values.
// Uncompressed batches allocate nothing; compressed ones allocate the decompressed buffer.
// Errors as validate_batch; no callback runs unless the whole batch is valid.
template <class Visit>
Result<RecordBatchHeader> for_each_record(ByteView batch, const DecodeLimits& limits, Visit&& visit) {
  return detail::for_each_record(batch, limits, &visit, [](void* ctx, const RecordView& r) {
    (*static_cast<std::remove_reference_t<Visit>*>(ctx))(r);
  });
}

// for_each_record in one pass: validates each record while visiting it, so on an error the
// visitor may already have seen the records before the bad one — the caller must discard what
// it collected from this batch. About half the work of for_each_record for an uncompressed
// batch (which walks the records twice to run no callback for an invalid batch). Used by the
// consumer's fetch decoding, which drops the whole fetched chunk on any error.
template <class Visit>
Result<RecordBatchHeader> stream_records(ByteView batch, const DecodeLimits& limits, Visit&& visit) {
  return detail::stream_records(batch, limits, &visit, [](void* ctx, const RecordView& r) {
    (*static_cast<std::remove_reference_t<Visit>*>(ctx))(r);
  });
}

template <class Fn>
void RecordView::for_each_header(Fn&& fn) const {
  const uint8_t* p = headers_bytes.data();
  for (int32_t i = 0; i < header_count; ++i) {
    auto key_size = static_cast<size_t>(detail::read_validated_varlong(p));
    std::string_view key(reinterpret_cast<const char*>(p), key_size);
    p += key_size;
    int64_t value_size = detail::read_validated_varlong(p);
    if (value_size < 0) {
      fn(key, std::optional<ByteView>());
    } else {
      fn(key, std::optional<ByteView>(ByteView(p, static_cast<size_t>(value_size))));
      p += value_size;
    }
  }
}

// Splits a records blob (as in Produce/Fetch) into whole batches. A trailing partial batch
// (Fetch may return one) is reported through `partial_tail_bytes`, not as an error; when
// `partial_tail_bytes` is null (Produce) a partial tail fails with corrupt_message instead of
// being dropped silently. Each batch's header is parsed (corrupt_message: magic != 2, bad
// batch_length); CRCs and records are not checked (validate_batch does that).
struct BatchSpan {
  RecordBatchHeader header;
  ByteView bytes;  // the whole batch
};
Result<std::vector<BatchSpan>> split_batches(ByteView records, size_t* partial_tail_bytes = nullptr);

// Builds one RecordBatch v2 (CreateTime, base_timestamp = the first record's timestamp).
// Usage: add() records, then build(). Offsets in the built batch start at 0 (the broker assigns
// real ones); partition_leader_epoch is -1. build() resets the builder for reuse with the same
// options. Records are encoded as they are added into one growing buffer (no per-record
// allocation); for Compression::none build() hands that buffer over without copying.
class RecordBatchBuilder {
 public:
  struct Options {
    Compression compression = Compression::none;
    int compression_level = -1;  // codec default
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    bool transactional = false;
  };
  explicit RecordBatchBuilder(Options options);
  void add(int64_t timestamp_ms, std::optional<ByteView> key, std::optional<ByteView> value,
           const std::vector<RecordHeader>& headers = {});
  int32_t record_count() const;
  // Uncompressed size of the records added so far plus the header (an upper bound on the
  // built size for none, an estimate for codecs).
  size_t estimated_size() const;
  // Fails: invalid_record with no records; record_list_too_large if the batch would exceed
  // INT32_MAX bytes; local_fail if the compressor fails.
  Result<Bytes> build();

 private:
  Options options_;
  Bytes records_;  // kBatchHeaderSize placeholder bytes, then the encoded records, uncompressed
  int32_t count_ = 0;
  int64_t base_timestamp_ = 0;
  int64_t max_timestamp_ = 0;
};

// Codec primitives (compression.cc). decompress never writes more than max_output bytes and
// fails with record_list_too_large beyond it. snappy accepts raw blocks and xerial framing;
// lz4 is the frame format; zstd is streaming (content size may be absent).
Result<Bytes> compress(Compression codec, ByteView input, int level = -1);
Result<Bytes> decompress(Compression codec, ByteView input, size_t max_output);

}  // namespace conveyor::protocol
