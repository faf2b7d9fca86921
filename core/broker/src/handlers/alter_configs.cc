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
  std::map<std::pair<int8_t, std::string>, int> counts;
  for (const auto& res : request.resources) ++counts[{res.resource_type, res.resource_name}];
  protocol::AlterConfigsResponse response;
  for (const auto& res : request.resources) {
    auto& out = response.responses.emplace_back();
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    Error e = non_topic_resource_error(b, res.resource_type, res.resource_name);
    if (counts[{res.resource_type, res.resource_name}] > 1)
      e = Error{ErrorCode::invalid_request, fmt::format("Duplicate resource {} in the request", res.resource_name)};
    if (e.code == ErrorCode::none) {
      Properties overrides;
      for (const auto& c : res.configs) {
        if (!c.value) {
          e = Error{ErrorCode::invalid_request, fmt::format("Null value not supported for: {}", c.name)};
          break;
        }
        if (overrides.contains(c.name)) {
          e = Error{ErrorCode::invalid_request, fmt::format("Error due to duplicate config keys: {}", c.name)};
          break;
        }
        overrides.set(c.name, *c.value);
      }
      if (e.code == ErrorCode::none)
        if (auto r = b.topics->alter_config(res.resource_name, overrides, request.validate_only); !r) e = r.error();
    }
    out.error_code = static_cast<int16_t>(e.code);
    if (e.code != ErrorCode::none) out.error_message = e.message;
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
