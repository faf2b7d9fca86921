// Heartbeat (key 12), v0–4 (protocol guide "Heartbeat"). Answered at once by the group coordinator (core/group).
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_heartbeat(RequestContext ctx, protocol::Reader& body) {
  protocol::HeartbeatRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  ctx.respond(ctx.broker->groups->heartbeat(ctx.version(), request));
}

}  // namespace conveyor::broker
