// OffsetCommit (key 8), v2–9 (protocol guide "OffsetCommit"). Answered once the commit's records are in __consumer_offsets (core/group, group_service.h).
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_offset_commit(RequestContext ctx, protocol::Reader& body) {
  protocol::OffsetCommitRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  ctx.respond(ctx.broker->groups->offset_commit(ctx.version(), request));
}

}  // namespace conveyor::broker
