// FindCoordinator (key 10), v0–4 (protocol guide "FindCoordinator"; KIP-699 batches keys in
// v4). The group and transaction coordinators arrive with the consumer-group issue; until
// then every key is answered with COORDINATOR_NOT_AVAILABLE (retriable), so clients keep
// working by manual assignment and retry the lookup later.
//
// The API is advertised anyway: librdkafka (kcat, confluent-kafka) turns lz4 compression on
// only when the broker's ApiVersions range contains FindCoordinator v0 (PROTOCOL.md
// "Advertising rule"); without it lz4 batches are silently sent uncompressed.
#include "conveyor/protocol/messages.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

namespace {
constexpr const char* kNotYet = "the group and transaction coordinators are not available on this broker yet";
}

void handle_find_coordinator(RequestContext ctx, protocol::Reader& body) {
  protocol::FindCoordinatorRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();

  const auto code = static_cast<int16_t>(ErrorCode::coordinator_not_available);
  protocol::FindCoordinatorResponse response;
  if (ctx.version() >= 4) {
    for (const auto& key : request.coordinator_keys) {
      auto& c = response.coordinators.emplace_back();
      c.key = key;
      c.node_id = -1;
      c.port = -1;
      c.error_code = code;
      c.error_message = kNotYet;
    }
  } else {
    response.error_code = code;
    response.error_message = kNotYet;
    response.node_id = -1;
    response.port = -1;
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
