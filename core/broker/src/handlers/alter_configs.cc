// AlterConfigs (key 33), v0–2 (protocol guide "AlterConfigs"; KIP-133): each topic resource's
// configs replace its whole override set (keys left out go back to their defaults), validated
// completely first, then persisted and applied to the running partition logs without a restart.
// validate_only checks without changing anything. Per resource: bad key or value →
// INVALID_CONFIG naming the key; unknown topic → UNKNOWN_TOPIC_OR_PARTITION; a null value or a
// resource named twice → INVALID_REQUEST; broker resources → INVALID_CONFIG (dynamic broker
// configs are not supported: set them in the broker's properties and restart), another broker
// id → INVALID_REQUEST; other resource types → INVALID_REQUEST.
#include <map>

#include <fmt/format.h>

#include "conveyor/protocol/messages.h"
#include "handlers/config_resources.h"
#include "handlers/handlers.h"
#include "topic_configs.h"

namespace conveyor::broker {

void handle_alter_configs(RequestContext ctx, protocol::Reader& body) {
  protocol::AlterConfigsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;
  auto response = alter_config_responses<protocol::AlterConfigsResponse>(b, request, [&](const auto& res) -> Result<void> {
    Properties overrides;
    for (const auto& c : res.configs) {
      if (!c.value) return fail(ErrorCode::invalid_request, fmt::format("Null value not supported for: {}", c.name));
      if (overrides.contains(c.name))
        return fail(ErrorCode::invalid_request, fmt::format("Error due to duplicate config keys: {}", c.name));
      overrides.set(c.name, *c.value);
    }
    return b.topics->alter_config(res.resource_name, overrides, request.validate_only);
  });
  ctx.respond(response);
}

}  // namespace conveyor::broker
