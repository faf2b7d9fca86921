#pragma once
// Internal: writes records of a RecordBatch v2 straight into the batch's wire buffer
// (PROTOCOL.md "RecordBatch v2"; protocol guide "Record"), and fills the batch header.
// No allocation per record beyond growing the batch buffer.
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "conveyor/protocol/bytes.h"
#include "conveyor/protocol/crc32c.h"
#include "conveyor/protocol/record_batch.h"

namespace conveyor::client {

inline size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
inline uint64_t zigzag64(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline size_t varlong_size(int64_t v) { return uvarint_size(zigzag64(v)); }
inline uint8_t* put_uvarint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}
inline uint8_t* put_varlong(uint8_t* p, int64_t v) { return put_uvarint(p, zigzag64(v)); }
inline uint8_t* put_be(uint8_t* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) *p++ = static_cast<uint8_t>(v >> (8 * i));
  return p;
}

// Body size of one record (without its own length varint).
inline size_t record_body_size(int64_t timestamp_delta, int32_t offset_delta, const std::optional<Bytes>& key,
                               const std::optional<Bytes>& value,
                               const std::vector<protocol::RecordHeader>& headers) {
  size_t n = 1 + varlong_size(timestamp_delta) + varlong_size(offset_delta);
  n += key ? varlong_size(static_cast<int64_t>(key->size())) + key->size() : 1;
  n += value ? varlong_size(static_cast<int64_t>(value->size())) + value->size() : 1;
  n += varlong_size(static_cast<int64_t>(headers.size()));
  for (const auto& h : headers) {
    n += varlong_size(static_cast<int64_t>(h.key.size())) + h.key.size();
    n += h.value ? varlong_size(static_cast<int64_t>(h.value->size())) + h.value->size() : 1;
  }
  return n;
}

inline size_t record_total_size(size_t body) { return varlong_size(static_cast<int64_t>(body)) + body; }

// Appends one record (length-prefixed) at the end of `buf`. `body` from record_body_size().
inline void append_record(Bytes& buf, size_t body, int64_t timestamp_delta, int32_t offset_delta,
                          const std::optional<Bytes>& key, const std::optional<Bytes>& value,
                          const std::vector<protocol::RecordHeader>& headers) {
  size_t at = buf.size();
  buf.resize(at + record_total_size(body));
  uint8_t* p = buf.data() + at;
  p = put_varlong(p, static_cast<int64_t>(body));
  *p++ = 0;  // attributes
  p = put_varlong(p, timestamp_delta);
  p = put_varlong(p, offset_delta);
  auto put_bytes = [&p](const uint8_t* data, size_t size) {
    p = put_varlong(p, static_cast<int64_t>(size));
    if (size) std::memcpy(p, data, size);
    p += size;
  };
  if (key) put_bytes(key->data(), key->size()); else p = put_varlong(p, -1);
  if (value) put_bytes(value->data(), value->size()); else p = put_varlong(p, -1);
  p = put_varlong(p, static_cast<int64_t>(headers.size()));
  for (const auto& h : headers) {
    put_bytes(reinterpret_cast<const uint8_t*>(h.key.data()), h.key.size());
    if (h.value) put_bytes(h.value->data(), h.value->size()); else p = put_varlong(p, -1);
  }
}

// Writes the 61-byte header at buf[0..61) for a batch whose records follow (possibly
// compressed), except producer id/epoch/base sequence and the CRC (see finish_batch_header).
inline void write_batch_header(Bytes& buf, protocol::Compression codec, int32_t record_count, int64_t base_timestamp,
                               int64_t max_timestamp) {
  uint8_t* p = buf.data();
  p = put_be(p, 0, 8);                                                      // baseOffset
  p = put_be(p, static_cast<uint32_t>(buf.size() - protocol::kBatchOffsetsSize), 4);  // batchLength
  p = put_be(p, static_cast<uint32_t>(-1), 4);                              // partitionLeaderEpoch
  *p++ = 2;                                                                 // magic
  p += 4;                                                                   // crc (later)
  p = put_be(p, static_cast<uint16_t>(static_cast<int16_t>(codec)), 2);    // attributes
  p = put_be(p, static_cast<uint32_t>(record_count - 1), 4);                // lastOffsetDelta
  p = put_be(p, static_cast<uint64_t>(base_timestamp), 8);
  p = put_be(p, static_cast<uint64_t>(max_timestamp), 8);
  p += 8 + 2 + 4;                                                           // producer fields (later)
  put_be(p, static_cast<uint32_t>(record_count), 4);
}

// Sets producer id, epoch and base sequence, then the CRC-32C over [attributes, end).
inline void finish_batch_header(Bytes& buf, int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
  put_be(buf.data() + protocol::kProducerIdPos, static_cast<uint64_t>(producer_id), 8);
  put_be(buf.data() + protocol::kProducerEpochPos, static_cast<uint16_t>(producer_epoch), 2);
  put_be(buf.data() + protocol::kBaseSequencePos, static_cast<uint32_t>(base_sequence), 4);
  uint32_t crc = protocol::crc32c(buf.data() + protocol::kAttributesPos, buf.size() - protocol::kAttributesPos);
  put_be(buf.data() + protocol::kCrcPos, crc, 4);
}

}  // namespace conveyor::client
