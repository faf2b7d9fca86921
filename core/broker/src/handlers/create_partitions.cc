// CreatePartitions (key 37), v0–3 (protocol guide "CreatePartitions"; KIP-195): grows each
// topic to `count` partitions. New partitions get the topic's id and config overrides, are on
// disk (and so survive a restart) and in Metadata before the answer. Per topic:
// UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS (count not larger than now, or above the
// per-topic limit), INVALID_REPLICA_ASSIGNMENT (assignments not one per new partition, or
// replicas other than [node.id] on this single node), INVALID_REQUEST (a topic named twice,
// an internal topic). validate_only checks without creating. timeout_ms is unused: creation
// is synchronous.
#include <map>

#include <fmt/format.h>

#include "conveyor/protocol/messages.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_create_partitions(RequestContext ctx, protocol::Reader& body) {
  protocol::CreatePartitionsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;
  std::map<std::string, int> counts;
  for (const auto& t : request.topics) ++counts[t.name];
  protocol::CreatePartitionsResponse response;
  for (const auto& t : request.topics) {
    auto& out = response.results.emplace_back();
    out.name = t.name;
    Error e{ErrorCode::none, {}};
    if (counts[t.name] > 1) {
      e = Error{ErrorCode::invalid_request, "Duplicate topic in request."};
    } else {
      std::optional<std::vector<std::vector<int32_t>>> assignments;
      if (t.assignments) {
        assignments.emplace();
        for (const auto& a : *t.assignments) assignments->push_back(a.broker_ids);
      }
      if (auto r = b.topics->create_partitions(t.name, t.count, assignments, request.validate_only); !r) e = r.error();
    }
    out.error_code = static_cast<int16_t>(e.code);
    if (e.code != ErrorCode::none) out.error_message = e.message;
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
