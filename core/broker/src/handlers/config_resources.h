#pragma once
// Shared by AlterConfigs and IncrementalAlterConfigs: the answer for a resource that is not a
// topic. Internal to the broker.
#include <fmt/format.h>

#include "broker_state.h"
#include "topic_configs.h"

namespace conveyor::broker {

// none for a topic resource; for a broker resource of this node (or "", the cluster default)
// INVALID_CONFIG saying that dynamic broker configs are not supported; for another broker id
// and any other resource type INVALID_REQUEST.
inline Error non_topic_resource_error(const BrokerState& b, int8_t type, const std::string& name) {
  if (type == kResourceTopic) return Error{ErrorCode::none, {}};
  if (type == kResourceBroker) {
    if (!name.empty() && name != std::to_string(b.config.node_id))
      return Error{ErrorCode::invalid_request,
                   fmt::format("Unexpected broker id, expected {} or empty string, but received {}", b.config.node_id, name)};
    return Error{ErrorCode::invalid_config,
                 "conveyor does not support dynamic broker configs: broker configs are read-only; set them in the "
                 "broker's properties (server.properties or --override) and restart the broker"};
  }
  return Error{ErrorCode::invalid_request, fmt::format("Unsupported resource type {}", type)};
}

}  // namespace conveyor::broker
