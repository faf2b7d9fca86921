// ListOffsets (key 2), v0–8 (protocol guide "ListOffsets"; KIP-79 by timestamp, KIP-734 max
// timestamp). timestamp -1 = latest (the high watermark, which is the last stable offset too
// since there are no transactions yet), -2 = earliest (log start), -3 (v7+) = the record with
// the largest timestamp, -4 (v8+, KIP-405) = local log start = earliest. Other timestamps: the
// first offset whose timestamp is >= it, or offset -1 when none is that late.
// v0 answers with old_style_offsets (a list of at most one offset here).
#include "conveyor/protocol/messages.h"
#include "conveyor/protocol/record_batch.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

namespace {
constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
constexpr int64_t kMaxTimestamp = -3;
constexpr int64_t kLocalEarliest = -4;
// Bytes read per step while scanning for the max timestamp.
constexpr int32_t kScanChunkBytes = 1 << 20;

// The first record with the largest timestamp: batch headers give each batch's max timestamp;
// the winning batch is decoded to find the record.
Result<storage::TimestampOffset> find_max_timestamp(const storage::PartitionLog& log) {
  storage::TimestampOffset best;
  Bytes best_batch;
  int64_t offset = log.log_start_offset();
  const int64_t end = log.high_watermark();
  while (offset < end) {
    auto read = log.read(offset, kScanChunkBytes, end, true);
    if (!read) return fail(read.error());
    if (read->records.empty()) break;
    size_t tail = 0;
    auto batches = protocol::split_batches(read->records, &tail);
    if (!batches) return fail(batches.error());
    if (batches->empty()) break;
    for (const auto& b : *batches) {
      if (b.header.max_timestamp > best.timestamp_ms) {
        best.timestamp_ms = b.header.max_timestamp;
        best.offset = b.header.base_offset;
        best_batch.assign(b.bytes.begin(), b.bytes.end());
      }
      offset = std::max(offset, b.header.last_offset() + 1);
    }
  }
  if (best.offset < 0) return best;
  auto records = protocol::decode_batch(best_batch);
  if (!records) return best;  // the batch's base offset is a fine approximation
  for (const auto& r : *records) {
    if (r.timestamp == best.timestamp_ms) {
      best.offset = r.offset;
      break;
    }
  }
  return best;
}
}  // namespace

void handle_list_offsets(RequestContext ctx, protocol::Reader& body) {
  protocol::ListOffsetsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;
  const int16_t v = ctx.version();

  protocol::ListOffsetsResponse response;
  for (const auto& topic : request.topics) {
    auto& tr = response.topics.emplace_back();
    tr.name = topic.name;
    for (const auto& p : topic.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = p.partition_index;
      auto log = b.topics->partition(topic.name, p.partition_index);
      if (!log) {
        pr.error_code = static_cast<int16_t>(ErrorCode::unknown_topic_or_partition);
        continue;
      }
      if (log->offline()) {  // its log dir failed (KIP-112)
        pr.error_code = static_cast<int16_t>(ErrorCode::kafka_storage_error);
        continue;
      }
      storage::TimestampOffset found;  // offset -1 = none
      if (p.timestamp == kLatest) {
        found.offset = log->high_watermark();
      } else if (p.timestamp == kEarliest || (p.timestamp == kLocalEarliest && v >= 8)) {
        found.offset = log->log_start_offset();
      } else if (p.timestamp == kMaxTimestamp && v >= 7) {
        auto r = find_max_timestamp(*log);
        if (!r) {
          pr.error_code = static_cast<int16_t>(r.error().code);
          continue;
        }
        found = *r;
      } else if (p.timestamp < 0) {
        pr.error_code = static_cast<int16_t>(ErrorCode::invalid_request);
        continue;
      } else {
        auto r = log->offset_for_timestamp(p.timestamp);
        if (!r) {
          pr.error_code = static_cast<int16_t>(r.error().code);
          continue;
        }
        if (*r) found = **r;
      }
      pr.error_code = 0;
      if (v == 0) {
        if (found.offset >= 0 && p.max_num_offsets > 0) pr.old_style_offsets.push_back(found.offset);
      } else {
        pr.offset = found.offset;
        pr.timestamp = found.offset >= 0 ? found.timestamp_ms : -1;
        pr.leader_epoch = found.offset >= 0 ? 0 : -1;
      }
    }
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
