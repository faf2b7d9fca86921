#pragma once
// Shared by AlterConfigs and IncrementalAlterConfigs: the answer for a resource that is not a
// topic. Internal to the broker.
#include <map>
#include <string>
#include <utility>

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

// The response of AlterConfigs or IncrementalAlterConfigs: one entry per resource in request
// order; a resource named twice → INVALID_REQUEST; a non-topic resource → the error above; a
// topic resource → apply(resource), a Result<void> whose error is the entry's.
template <class Response, class Request, class Apply>
Response alter_config_responses(const BrokerState& b, const Request& request, Apply&& apply) {
  std::map<std::pair<int8_t, std::string>, int> counts;
  for (const auto& res : request.resources) ++counts[{res.resource_type, res.resource_name}];
  Response response;
  for (const auto& res : request.resources) {
    auto& out = response.responses.emplace_back();
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    Error e = non_topic_resource_error(b, res.resource_type, res.resource_name);
    if (counts[{res.resource_type, res.resource_name}] > 1)
      e = Error{ErrorCode::invalid_request, fmt::format("Duplicate resource {} in the request", res.resource_name)};
    if (e.code == ErrorCode::none)
      if (Result<void> r = apply(res); !r) e = r.error();
    out.error_code = static_cast<int16_t>(e.code);
    if (e.code != ErrorCode::none) out.error_message = e.message;
  }
  return response;
}

}  // namespace conveyor::broker
