#include "conveyor/storage/producer_state.h"

#include <fmt/format.h>

#include "conveyor/protocol/crc32c.h"
#include "segment.h"

namespace conveyor::storage {
namespace {

constexpr int16_t kSnapshotVersion = 1;
// Per entry: pid 8, epoch 2, last timestamp 8, batch count 1, batches 5 × 24.
constexpr size_t kBatchMetaBytes = 24;

bool same_range(const ProducerBatchMetadata& b, int32_t first, int32_t last) {
  return b.first_sequence == first && b.last_sequence == last;
}

}  // namespace

int32_t ProducerStateTable::last_sequence_of(int32_t base_sequence, int32_t record_count) {
  int64_t last = static_cast<int64_t>(base_sequence) + record_count - 1;
  if (last > INT32_MAX) last -= static_cast<int64_t>(INT32_MAX) + 1;
  return static_cast<int32_t>(last);
}

Result<SequenceCheck> ProducerStateTable::check_entry(const ProducerEntry* entry, int16_t epoch,
                                                      int32_t base_sequence, int32_t record_count) {
  SequenceCheck out;
  if (base_sequence < 0)
    return fail(ErrorCode::out_of_order_sequence_number,
                fmt::format("idempotent batch with base sequence {}", base_sequence));
  int32_t last_sequence = last_sequence_of(base_sequence, record_count);
  // No state for this producer id (new, or expired after producer.id.expiration.ms): any first
  // sequence is accepted and the batch becomes the state (KIP-360).
  if (entry == nullptr) return out;
  if (entry->batch_count == 0) {  // an epoch without batches: the epoch must start at 0
    if (epoch < entry->epoch)
      return fail(ErrorCode::invalid_producer_epoch,
                  fmt::format("producer epoch {} is older than the current epoch {}", epoch, entry->epoch));
    if (base_sequence != 0)
      return fail(ErrorCode::out_of_order_sequence_number,
                  fmt::format("epoch {} has no batches yet and must start at sequence 0, got {}", epoch,
                              base_sequence));
    return out;
  }
  if (epoch < entry->epoch)
    return fail(ErrorCode::invalid_producer_epoch,
                fmt::format("producer epoch {} is older than the current epoch {}", epoch, entry->epoch));
  if (epoch > entry->epoch) {
    if (base_sequence != 0)
      return fail(ErrorCode::out_of_order_sequence_number,
                  fmt::format("new producer epoch {} must start at sequence 0, got {}", epoch, base_sequence));
    return out;
  }
  for (int i = 0; i < entry->batch_count; ++i) {
    if (same_range(entry->batches[i], base_sequence, last_sequence)) {
      out.duplicate = true;
      out.original = entry->batches[i];
      return out;
    }
  }
  int32_t last = entry->last_batch()->last_sequence;
  int32_t expected = last == INT32_MAX ? 0 : last + 1;
  if (base_sequence != expected)
    return fail(ErrorCode::out_of_order_sequence_number,
                fmt::format("expected sequence {}, got {} (epoch {})", expected, base_sequence, epoch));
  return out;
}

Result<SequenceCheck> ProducerStateTable::check(int64_t producer_id, int16_t epoch,
                                                int32_t base_sequence, int32_t record_count) const {
  return check_entry(find(producer_id), epoch, base_sequence, record_count);
}

void ProducerStateTable::update_entry(ProducerEntry& entry, int16_t epoch, int32_t base_sequence,
                                      int32_t record_count, int64_t first_offset, int64_t last_offset,
                                      int64_t max_timestamp_ms) {
  if (epoch != entry.epoch) {
    entry.epoch = epoch;
    entry.batch_count = 0;
  }
  ProducerBatchMetadata meta{base_sequence, last_sequence_of(base_sequence, record_count), first_offset,
                             last_offset};
  if (entry.batch_count == kProducerBatchesRemembered) {
    for (int i = 1; i < kProducerBatchesRemembered; ++i) entry.batches[i - 1] = entry.batches[i];
    entry.batch_count--;
  }
  entry.batches[entry.batch_count++] = meta;
  entry.last_timestamp_ms = max_timestamp_ms;
}

void ProducerStateTable::update(int64_t producer_id, int16_t epoch, int32_t base_sequence,
                                int32_t record_count, int64_t first_offset, int64_t last_offset,
                                int64_t max_timestamp_ms) {
  update_entry(entries_[producer_id], epoch, base_sequence, record_count, first_offset, last_offset,
               max_timestamp_ms);
}

const ProducerEntry* ProducerStateTable::find(int64_t producer_id) const {
  auto it = entries_.find(producer_id);
  return it == entries_.end() ? nullptr : &it->second;
}

void ProducerStateTable::truncate_to(int64_t offset) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto& e = it->second;
    int keep = 0;
    while (keep < e.batch_count && e.batches[keep].last_offset < offset) ++keep;
    e.batch_count = keep;
    if (keep == 0)
      it = entries_.erase(it);
    else
      ++it;
  }
}

size_t ProducerStateTable::remove_expired(int64_t now_ms, int64_t expiration_ms) {
  // now - last ≥ expiration, written without overflow for any stored timestamp.
  if (expiration_ms < 0 || now_ms < INT64_MIN + expiration_ms) return 0;
  const int64_t newest_expired = now_ms - expiration_ms;
  size_t removed = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.last_timestamp_ms <= newest_expired) {
      it = entries_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

Bytes ProducerStateTable::serialize() const {
  Bytes out{static_cast<uint8_t>(kSnapshotVersion >> 8), static_cast<uint8_t>(kSnapshotVersion & 0xff)};
  uint8_t tmp[8];
  put_be32(tmp, static_cast<uint32_t>(entries_.size()));
  out.insert(out.end(), tmp, tmp + 4);
  for (const auto& [pid, e] : entries_) {
    put_be64(tmp, static_cast<uint64_t>(pid));
    out.insert(out.end(), tmp, tmp + 8);
    out.push_back(static_cast<uint8_t>(static_cast<uint16_t>(e.epoch) >> 8));
    out.push_back(static_cast<uint8_t>(e.epoch));
    put_be64(tmp, static_cast<uint64_t>(e.last_timestamp_ms));
    out.insert(out.end(), tmp, tmp + 8);
    out.push_back(static_cast<uint8_t>(e.batch_count));
    for (int i = 0; i < e.batch_count; ++i) {
      const auto& b = e.batches[i];
      put_be32(tmp, static_cast<uint32_t>(b.first_sequence));
      out.insert(out.end(), tmp, tmp + 4);
      put_be32(tmp, static_cast<uint32_t>(b.last_sequence));
      out.insert(out.end(), tmp, tmp + 4);
      put_be64(tmp, static_cast<uint64_t>(b.first_offset));
      out.insert(out.end(), tmp, tmp + 8);
      put_be64(tmp, static_cast<uint64_t>(b.last_offset));
      out.insert(out.end(), tmp, tmp + 8);
    }
  }
  put_be32(tmp, protocol::crc32c(out.data(), out.size()));
  out.insert(out.end(), tmp, tmp + 4);
  return out;
}

Result<ProducerStateTable> ProducerStateTable::parse(ByteView data) {
  auto corrupt = [](std::string why) { return fail(ErrorCode::corrupt_message, "producer state snapshot: " + why); };
  if (data.size() < 10) return corrupt("too short");
  uint32_t stored_crc = get_be32(data.data() + data.size() - 4);
  ByteView body = data.first(data.size() - 4);
  if (protocol::crc32c(body.data(), body.size()) != stored_crc) return corrupt("CRC mismatch");
  int16_t version = static_cast<int16_t>((body[0] << 8) | body[1]);
  if (version != kSnapshotVersion) return corrupt(fmt::format("unknown version {}", version));
  uint32_t count = get_be32(body.data() + 2);
  size_t pos = 6;
  ProducerStateTable table;
  for (uint32_t n = 0; n < count; ++n) {
    if (body.size() - pos < 19) return corrupt("truncated entry");
    int64_t pid = static_cast<int64_t>(get_be64(body.data() + pos));
    ProducerEntry e;
    e.epoch = static_cast<int16_t>((body[pos + 8] << 8) | body[pos + 9]);
    e.last_timestamp_ms = static_cast<int64_t>(get_be64(body.data() + pos + 10));
    int batches = body[pos + 18];
    pos += 19;
    if (batches > kProducerBatchesRemembered) return corrupt("too many batches");
    if (body.size() - pos < batches * kBatchMetaBytes) return corrupt("truncated batches");
    for (int i = 0; i < batches; ++i) {
      auto& b = e.batches[i];
      b.first_sequence = static_cast<int32_t>(get_be32(body.data() + pos));
      b.last_sequence = static_cast<int32_t>(get_be32(body.data() + pos + 4));
      b.first_offset = static_cast<int64_t>(get_be64(body.data() + pos + 8));
      b.last_offset = static_cast<int64_t>(get_be64(body.data() + pos + 16));
      pos += kBatchMetaBytes;
    }
    e.batch_count = batches;
    table.entries_[pid] = e;
  }
  if (pos != body.size()) return corrupt("trailing bytes");
  return table;
}

}  // namespace conveyor::storage
