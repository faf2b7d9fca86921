// DescribeGroups (key 15), v0–5 (protocol guide "DescribeGroups"). Unknown groups are described as Dead with no error (as Kafka's classic coordinator).
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_describe_groups(RequestContext ctx, protocol::Reader& body) {
  protocol::DescribeGroupsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  ctx.respond(ctx.broker->groups->describe_groups(ctx.version(), request));
}

}  // namespace conveyor::broker
