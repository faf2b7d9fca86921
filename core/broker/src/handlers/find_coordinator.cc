// FindCoordinator (key 10), v0–4 (protocol guide "FindCoordinator"; KIP-699 batches keys in
// v4). A single node is the coordinator of every group: key type 0 (GROUP) is answered with
// this broker, after making sure `__consumer_offsets` exists (Kafka creates it on the first
// lookup too). Key type 1 (TRANSACTION) gets COORDINATOR_NOT_AVAILABLE until transactions
// land; any other key type INVALID_REQUEST.
//
// v0 stays advertised: librdkafka (kcat, confluent-kafka) turns lz4 compression on only when
// the broker's ApiVersions range contains FindCoordinator v0 (PROTOCOL.md "Advertising rule").
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

namespace {
constexpr int8_t kGroupKeyType = 0;
constexpr int8_t kTransactionKeyType = 1;

struct Answer {
  int16_t error_code = 0;
  std::optional<std::string> error_message;
  int32_t node_id = -1;
  std::string host;
  int32_t port = -1;
};

Answer find(BrokerState& b, int8_t key_type) {
  Answer a;
  if (key_type == kTransactionKeyType) {
    a.error_code = static_cast<int16_t>(ErrorCode::coordinator_not_available);
    a.error_message = "the transaction coordinator is not available on this broker yet";
    return a;
  }
  if (key_type != kGroupKeyType) {
    a.error_code = static_cast<int16_t>(ErrorCode::invalid_request);
    a.error_message = "unknown coordinator key type";
    return a;
  }
  if (auto r = b.groups->ensure_offsets_topic(); !r) {
    a.error_code = static_cast<int16_t>(ErrorCode::coordinator_not_available);
    a.error_message = r.error().message;
    return a;
  }
  a.node_id = b.config.node_id;
  a.host = b.advertised_host;
  a.port = b.advertised_port;
  return a;
}
}  // namespace

void handle_find_coordinator(RequestContext ctx, protocol::Reader& body) {
  protocol::FindCoordinatorRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;
  protocol::FindCoordinatorResponse response;
  if (ctx.version() >= 4) {
    for (const auto& key : request.coordinator_keys) {
      Answer a = find(b, request.key_type);
      auto& c = response.coordinators.emplace_back();
      c.key = key;
      c.node_id = a.node_id;
      c.host = a.host;
      c.port = a.port;
      c.error_code = a.error_code;
      c.error_message = a.error_message;
    }
  } else {
    Answer a = find(b, request.key_type);
    response.error_code = a.error_code;
    response.error_message = a.error_message;
    response.node_id = a.node_id;
    response.host = a.host;
    response.port = a.port;
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
