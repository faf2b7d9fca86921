// DeleteRecords (key 21), v0–2 (KIP-107; protocol guide "DeleteRecords"): moves each
// partition's log start offset forward. Per partition: offset -1 = the high watermark; an
// offset below -1 or above the high watermark → OFFSET_OUT_OF_RANGE; an unknown topic or
// partition → UNKNOWN_TOPIC_OR_PARTITION; an internal topic → INVALID_TOPIC_EXCEPTION (as
// Kafka's ReplicaManager). low_watermark is the log start offset after the call, -1 on error.
// The new start is in log-start-offset-checkpoint before the answer (storage's
// LogManager::delete_records), so it survives a restart; the retention task deletes the
// whole segments below it later. Single node: nothing to wait for, timeout_ms is unused.
#include "conveyor/protocol/messages.h"
#include "handlers/handlers.h"
#include "topic_manager.h"

namespace conveyor::broker {

void handle_delete_records(RequestContext ctx, protocol::Reader& body) {
  protocol::DeleteRecordsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;
  protocol::DeleteRecordsResponse response;
  for (const auto& topic : request.topics) {
    auto& out_topic = response.topics.emplace_back();
    out_topic.name = topic.name;
    const bool internal = is_internal_topic(topic.name);
    for (const auto& p : topic.partitions) {
      auto& out = out_topic.partitions.emplace_back();
      out.partition_index = p.partition_index;
      out.low_watermark = -1;
      if (internal) {
        out.error_code = static_cast<int16_t>(ErrorCode::invalid_topic_exception);
        continue;
      }
      auto log = b.logs->get(topic.name, p.partition_index);
      if (!log) {
        out.error_code = static_cast<int16_t>(ErrorCode::unknown_topic_or_partition);
        continue;
      }
      if (p.offset < -1) {
        out.error_code = static_cast<int16_t>(ErrorCode::offset_out_of_range);
        continue;
      }
      int64_t offset = p.offset == -1 ? log->high_watermark() : p.offset;
      auto low = b.logs->delete_records(topic.name, p.partition_index, offset);
      if (!low) {
        out.error_code = static_cast<int16_t>(low.error().code);
        continue;
      }
      out.low_watermark = *low;
      out.error_code = 0;
    }
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
