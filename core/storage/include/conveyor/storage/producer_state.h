#pragma once
// Idempotent producer state of one partition (KIP-98): for each producer id, its epoch and the
// last 5 batches appended (sequence range and offsets). Sans-IO: PartitionLog feeds it batch
// headers and persists snapshots; nothing here touches files.
//
// Rules (Kafka's ProducerStateManager semantics, decisions documented in storage/README.md):
//  - epoch < known epoch                  → invalid_producer_epoch
//  - epoch > known epoch                  → the batch must start at sequence 0, else
//                                           out_of_order_sequence_number; the old batches
//                                           are forgotten
//  - same epoch, sequence range equal to one of the 5 remembered batches → duplicate
//    (not appended; the original offsets are reported)
//  - same epoch, first sequence != last sequence + 1 (wrapping INT32_MAX → 0)
//                                         → out_of_order_sequence_number
//  - unknown producer id (new, or its state expired: producer.id.expiration.ms) → accepted
//    whatever its first sequence, and the batch becomes its state (KIP-360, Kafka ≥ 2.5;
//    unknown_producer_id is no longer answered)
// Batches with producer_id < 0 carry no state and are never checked.
// Expiry (KIP-854 producer.id.expiration.ms): remove_expired drops the entries whose last
// batch's max timestamp is at least that old; nothing else removes entries except truncation
// (state outlives the producer's batches when retention or DeleteRecords deletes them, as in
// Kafka since KAFKA-7190).
//
// Thread-safety: none; PartitionLog serialises access under its mutex.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "conveyor/base/result.h"
#include "conveyor/protocol/bytes.h"

namespace conveyor::storage {

inline constexpr int kProducerBatchesRemembered = 5;  // Kafka's NUM_BATCHES_TO_RETAIN

struct ProducerBatchMetadata {
  int32_t first_sequence = -1;
  int32_t last_sequence = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
};

struct ProducerEntry {
  int16_t epoch = -1;
  int64_t last_timestamp_ms = -1;  // max timestamp of the last batch appended (expiry)
  // Oldest first; only the last `batch_count` slots are meaningful.
  std::array<ProducerBatchMetadata, kProducerBatchesRemembered> batches{};
  int batch_count = 0;

  const ProducerBatchMetadata* last_batch() const {
    return batch_count ? &batches[batch_count - 1] : nullptr;
  }
};

// The outcome of checking one batch before it is appended.
struct SequenceCheck {
  bool duplicate = false;                 // true: skip the append and report `original`
  ProducerBatchMetadata original;         // offsets of the earlier identical batch
};

class ProducerStateTable {
 public:
  // Checks a batch of `record_count` records from (producer_id ≥ 0, epoch, base_sequence)
  // against the table's state of that producer.
  // Errors: invalid_producer_epoch, out_of_order_sequence_number.
  Result<SequenceCheck> check(int64_t producer_id, int16_t epoch, int32_t base_sequence,
                              int32_t record_count) const;
  // The same check against an explicit entry (nullptr = unknown producer); PartitionLog uses it
  // to check several batches of one append against staged copies.
  static Result<SequenceCheck> check_entry(const ProducerEntry* entry, int16_t epoch,
                                           int32_t base_sequence, int32_t record_count);
  static void update_entry(ProducerEntry& entry, int16_t epoch, int32_t base_sequence,
                           int32_t record_count, int64_t first_offset, int64_t last_offset,
                           int64_t max_timestamp_ms);
  // Replaces (or inserts) the whole entry of a producer.
  void put(int64_t producer_id, const ProducerEntry& entry) { entries_[producer_id] = entry; }

  // Records an appended batch (also used when rebuilding from the log, where no check runs).
  void update(int64_t producer_id, int16_t epoch, int32_t base_sequence, int32_t record_count,
              int64_t first_offset, int64_t last_offset, int64_t max_timestamp_ms);

  const ProducerEntry* find(int64_t producer_id) const;
  size_t size() const { return entries_.size(); }
  void clear() { entries_.clear(); }
  // Drops batches at or after `offset` (log truncation); producers left with none are removed.
  void truncate_to(int64_t offset);
  // Removes every producer whose entry expired: now_ms - last_timestamp_ms ≥ expiration_ms
  // (Kafka's producer.id.expiration.ms check; an entry without a timestamp, -1, is as old as
  // the epoch). Returns how many were removed. When transactions exist, an entry with an open
  // transaction must not expire (Kafka's condition); conveyor has none yet.
  size_t remove_expired(int64_t now_ms, int64_t expiration_ms);

  // Snapshot as bytes: version, entry count, entries, CRC-32C of the rest (conveyor's own
  // format; Kafka's .snapshot layout is not reproduced). Parsing fails with corrupt_message
  // on any inconsistency.
  Bytes serialize() const;
  static Result<ProducerStateTable> parse(ByteView data);

  // Last sequence of a batch starting at base_sequence with record_count records, wrapping at
  // INT32_MAX (Kafka's DefaultRecordBatch.incrementSequence).
  static int32_t last_sequence_of(int32_t base_sequence, int32_t record_count);

 private:
  std::unordered_map<int64_t, ProducerEntry> entries_;
};

}  // namespace conveyor::storage
