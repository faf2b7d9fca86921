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
  auto response = alter_config_responses<protocol::IncrementalAlterConfigsResponse>(
      b, request, [&](const auto& res) -> Result<void> {
        std::vector<TopicManager::ConfigChange> changes;
        for (const auto& c : res.configs)
          changes.push_back(TopicManager::ConfigChange{c.name, c.config_operation, c.value});
        return b.topics->incremental_alter_config(res.resource_name, changes, request.validate_only);
      });
  ctx.respond(response);
}

}  // namespace conveyor::broker
