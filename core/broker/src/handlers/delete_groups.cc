// DeleteGroups (key 42), v0–2 (protocol guide "DeleteGroups"). Only Empty groups are deleted; others get NON_EMPTY_GROUP.
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_delete_groups(RequestContext ctx, protocol::Reader& body) {
  protocol::DeleteGroupsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  ctx.respond(ctx.broker->groups->delete_groups(ctx.version(), request));
}

}  // namespace conveyor::broker
