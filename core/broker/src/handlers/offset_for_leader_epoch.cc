// OffsetForLeaderEpoch (key 23), v2–4 (protocol guide "OffsetForLeaderEpoch"; KIP-101,
// KIP-320). Clients (librdkafka v2, Java) use it to validate a position after a leader change.
// A single node leads every partition in epoch 0 from its first record, so the end offset of
// epoch 0 is the log end offset and later epochs are unknown (−1/−1), as Kafka's leader-epoch
// cache answers. current_leader_epoch (−1 = not given) older than 0 → FENCED_LEADER_EPOCH,
// newer → UNKNOWN_LEADER_EPOCH.
#include "conveyor/protocol/messages.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

namespace {
constexpr int32_t kLeaderEpoch = 0;  // single node: never a leader change
}

void handle_offset_for_leader_epoch(RequestContext ctx, protocol::Reader& body) {
  protocol::OffsetForLeaderEpochRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;
  protocol::OffsetForLeaderEpochResponse response;
  for (const auto& t : request.topics) {
    auto& tr = response.topics.emplace_back();
    tr.topic = t.topic;
    for (const auto& p : t.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition = p.partition;
      pr.leader_epoch = -1;
      pr.end_offset = -1;
      auto log = b.topics->partition(t.topic, p.partition);
      if (!log) {
        pr.error_code = static_cast<int16_t>(ErrorCode::unknown_topic_or_partition);
        continue;
      }
      if (p.current_leader_epoch != -1 && p.current_leader_epoch < kLeaderEpoch) {
        pr.error_code = static_cast<int16_t>(ErrorCode::fenced_leader_epoch);
        continue;
      }
      if (p.current_leader_epoch > kLeaderEpoch) {
        pr.error_code = static_cast<int16_t>(ErrorCode::unknown_leader_epoch);
        continue;
      }
      pr.error_code = 0;
      if (p.leader_epoch == kLeaderEpoch) {
        pr.leader_epoch = kLeaderEpoch;
        pr.end_offset = log->log_end_offset();
      } else if (p.leader_epoch < -1) {
        // Older than every epoch: the requested epoch ends where epoch 0 starts.
        pr.leader_epoch = p.leader_epoch;
        pr.end_offset = log->log_start_offset();
      }
    }
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
