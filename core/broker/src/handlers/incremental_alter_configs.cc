// IncrementalAlterConfigs (key 44), v0–1 (protocol guide "IncrementalAlterConfigs"; KIP-339):
// per topic resource, SET (0) / DELETE (1) single keys and APPEND (2) / SUBTRACT (3) items of
// list keys such as cleanup.policy, on top of the current overrides; the result is validated
// completely, then persisted and applied to the running partition logs. validate_only checks
// without changing anything. Errors per resource as AlterConfigs (alter_configs.cc), plus
// INVALID_REQUEST for an unknown operation, a duplicate key or a null value where one is
// needed, and INVALID_CONFIG for APPEND/SUBTRACT on a key that is not a list.
#include <map>

#include <fmt/format.h>

#include "conveyor/protocol/messages.h"
#include "handlers/config_resources.h"
#include "handlers/handlers.h"
#include "topic_configs.h"

namespace conveyor::broker {

void handle_incremental_alter_configs(RequestContext ctx, protocol::Reader& body) {
  protocol::IncrementalAlterConfigsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;
  std::map<std::pair<int8_t, std::string>, int> counts;
  for (const auto& res : request.resources) ++counts[{res.resource_type, res.resource_name}];
  protocol::IncrementalAlterConfigsResponse response;
  for (const auto& res : request.resources) {
    auto& out = response.responses.emplace_back();
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    Error e = non_topic_resource_error(b, res.resource_type, res.resource_name);
    if (counts[{res.resource_type, res.resource_name}] > 1)
      e = Error{ErrorCode::invalid_request, fmt::format("Duplicate resource {} in the request", res.resource_name)};
    if (e.code == ErrorCode::none) {
      std::vector<TopicManager::ConfigChange> changes;
      for (const auto& c : res.configs) changes.push_back(TopicManager::ConfigChange{c.name, c.config_operation, c.value});
      if (auto r = b.topics->incremental_alter_config(res.resource_name, changes, request.validate_only); !r)
        e = r.error();
    }
    out.error_code = static_cast<int16_t>(e.code);
    if (e.code != ErrorCode::none) out.error_message = e.message;
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
