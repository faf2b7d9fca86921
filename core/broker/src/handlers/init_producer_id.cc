// InitProducerId (key 22), v0–4 (protocol guide "InitProducerId"; KIP-98 idempotence, KIP-360
// epoch bump in v3+). Idempotent producers (null transactional_id) get a fresh producer id
// with epoch 0, or — v3+ with a known (producer_id, epoch) — the same id with the epoch
// bumped (a new id when the epoch would overflow). Transactions are a later issue: a
// non-empty transactional_id is answered with INVALID_REQUEST (a fatal error for clients, so
// they fail fast instead of retrying), and the broker logs why.
#include "conveyor/base/log.h"
#include "conveyor/protocol/messages.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_init_producer_id(RequestContext ctx, protocol::Reader& body) {
  protocol::InitProducerIdRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;

  protocol::InitProducerIdResponse response;
  if (request.transactional_id && !request.transactional_id->empty()) {
    log::info("broker", "InitProducerId for transactional id \"{}\" refused: transactions are not supported yet",
              *request.transactional_id);
    response.error_code = static_cast<int16_t>(ErrorCode::invalid_request);
    response.producer_id = -1;
    response.producer_epoch = -1;
    return ctx.respond(response);
  }
  if (request.producer_id >= 0 && request.producer_epoch >= 0 && request.producer_epoch < INT16_MAX - 1) {
    response.producer_id = request.producer_id;
    response.producer_epoch = static_cast<int16_t>(request.producer_epoch + 1);
    return ctx.respond(response);
  }
  auto id = b.producer_ids->next_id();
  if (!id) {
    log::error("broker", "producer id allocation failed: {}", id.error().to_string());
    response.error_code = static_cast<int16_t>(ErrorCode::kafka_storage_error);
    response.producer_id = -1;
    response.producer_epoch = -1;
    return ctx.respond(response);
  }
  response.producer_id = *id;
  response.producer_epoch = 0;
  ctx.respond(response);
}

}  // namespace conveyor::broker
