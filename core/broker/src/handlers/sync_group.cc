// SyncGroup (key 14), v0–5 (protocol guide "SyncGroup"). A follower's SyncGroup is parked until the leader's arrives (core/group).
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_sync_group(RequestContext ctx, protocol::Reader& body) {
  protocol::SyncGroupRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  ctx.broker->groups->sync_group(std::move(ctx), request);
}

}  // namespace conveyor::broker
