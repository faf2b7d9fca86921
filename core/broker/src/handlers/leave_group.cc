// LeaveGroup (key 13), v0–5 (protocol guide "LeaveGroup"). v3+ batches members (KIP-345); core/group.
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_leave_group(RequestContext ctx, protocol::Reader& body) {
  protocol::LeaveGroupRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  ctx.respond(ctx.broker->groups->leave_group(ctx.version(), request));
}

}  // namespace conveyor::broker
