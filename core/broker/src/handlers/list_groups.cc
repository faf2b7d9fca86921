// ListGroups (key 16), v0–4 (protocol guide "ListGroups"). v4 filters by state (KIP-518).
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_list_groups(RequestContext ctx, protocol::Reader& body) {
  protocol::ListGroupsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  ctx.respond(ctx.broker->groups->list_groups(ctx.version(), request));
}

}  // namespace conveyor::broker
