// OffsetFetch (key 9), v1–9 (protocol guide "OffsetFetch"). v8+ batches groups; require_stable is accepted (no transactions, nothing is pending).
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_offset_fetch(RequestContext ctx, protocol::Reader& body) {
  protocol::OffsetFetchRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  ctx.respond(ctx.broker->groups->offset_fetch(ctx.version(), request));
}

}  // namespace conveyor::broker
