// OffsetDelete (key 47), v0 (protocol guide "OffsetDelete"). KIP-496: offsets of an Empty group, or of topics no member subscribes to.
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_offset_delete(RequestContext ctx, protocol::Reader& body) {
  protocol::OffsetDeleteRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  ctx.respond(ctx.broker->groups->offset_delete(request));
}

}  // namespace conveyor::broker
