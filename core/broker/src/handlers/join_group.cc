// JoinGroup (key 11), v0–9 (protocol guide "JoinGroup"). Parked in the group coordinator until the rebalance completes (core/group).
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_join_group(RequestContext ctx, protocol::Reader& body) {
  protocol::JoinGroupRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  ctx.broker->groups->join_group(std::move(ctx), request);
}

}  // namespace conveyor::broker
