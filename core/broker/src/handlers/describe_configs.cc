// DescribeConfigs (key 32), v1–4 (protocol guide "DescribeConfigs"; KIP-226 synonyms and
// config_source, KIP-569 config_type and documentation in v3+). Resources:
// - topic (2): every topic key (topic_configs.h) with its effective value and source
//   (1 DYNAMIC_TOPIC_CONFIG override, 4 STATIC_BROKER_CONFIG from the broker's properties,
//   5 DEFAULT_CONFIG); unknown topic → UNKNOWN_TOPIC_OR_PARTITION, bad name →
//   INVALID_TOPIC_EXCEPTION;
// - broker (4) named by this broker's node.id: every broker key, read-only (no dynamic broker
//   configs); "" = the cluster-wide dynamic defaults, of which conveyor has none (empty list,
//   as Kafka without dynamic defaults); another id or a non-number → INVALID_REQUEST;
// - any other type → INVALID_REQUEST.
// configuration_keys null = every key; unknown names are left out (as Kafka). Synonyms only
// with include_synonyms, documentation only with include_documentation.
#include <fmt/format.h>

#include "conveyor/protocol/messages.h"
#include "handlers/handlers.h"
#include "topic_configs.h"

namespace conveyor::broker {

void handle_describe_configs(RequestContext ctx, protocol::Reader& body) {
  protocol::DescribeConfigsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;
  protocol::DescribeConfigsResponse response;
  for (const auto& res : request.resources) {
    auto& out = response.results.emplace_back();
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    auto set_error = [&](ErrorCode code, std::string message) {
      out.error_code = static_cast<int16_t>(code);
      out.error_message = std::move(message);
    };
    std::vector<DescribedConfig> configs;
    if (res.resource_type == kResourceTopic) {
      if (auto r = storage::validate_topic_name(res.resource_name); !r) {
        set_error(ErrorCode::invalid_topic_exception, r.error().message);
        continue;
      }
      auto topic = b.topics->find(res.resource_name);
      if (!topic) {
        set_error(ErrorCode::unknown_topic_or_partition, fmt::format("Topic {} does not exist.", res.resource_name));
        continue;
      }
      configs = describe_topic_configs(b.topics->broker_properties(), topic->config_overrides);
    } else if (res.resource_type == kResourceBroker) {
      if (!res.resource_name.empty()) {
        if (res.resource_name != std::to_string(b.config.node_id)) {
          set_error(ErrorCode::invalid_request,
                    fmt::format("Unexpected broker id, expected {} or empty string, but received {}", b.config.node_id,
                                res.resource_name));
          continue;
        }
        configs = describe_broker_configs(b.config.properties);
      }
    } else {
      set_error(ErrorCode::invalid_request, fmt::format("Unsupported resource type {}", res.resource_type));
      continue;
    }
    out.error_code = 0;
    out.error_message = std::nullopt;
    for (auto& c : configs) {
      if (res.configuration_keys &&
          std::find(res.configuration_keys->begin(), res.configuration_keys->end(), c.name) ==
              res.configuration_keys->end())
        continue;
      auto& o = out.configs.emplace_back();
      o.name = c.name;
      o.value = c.value;
      o.read_only = c.read_only;
      o.config_source = static_cast<int8_t>(c.source);
      o.is_sensitive = c.is_sensitive;
      o.config_type = static_cast<int8_t>(c.type);
      if (request.include_documentation && !c.documentation.empty()) o.documentation = c.documentation;
      if (request.include_synonyms)
        for (const auto& s : c.synonyms) {
          auto& so = o.synonyms.emplace_back();
          so.name = s.name;
          so.value = s.value;
          so.source = static_cast<int8_t>(s.source);
        }
    }
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
