// CreateTopics (key 19), v2–7 (protocol guide "CreateTopics"; KIP-464 -1 defaults, KIP-525
// returned configs v5+, KIP-516 topic ids v7). One node: replication factor 1 only.
// A name given twice in one request fails both entries with INVALID_REQUEST (as Kafka).
#include <map>

#include <fmt/format.h>

#include "conveyor/protocol/messages.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_create_topics(RequestContext ctx, protocol::Reader& body) {
  protocol::CreateTopicsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;

  std::map<std::string, int> counts;
  for (const auto& t : request.topics) ++counts[t.name];

  protocol::CreateTopicsResponse response;
  for (const auto& t : request.topics) {
    auto& out = response.topics.emplace_back();
    out.name = t.name;
    auto set_error = [&](const Error& e) {
      out.error_code = static_cast<int16_t>(e.code);
      out.error_message = e.message;
    };
    if (counts[t.name] > 1) {
      set_error(Error{ErrorCode::invalid_request, fmt::format("Create topic request contains duplicate topic {}", t.name)});
      continue;
    }
    TopicManager::CreateRequest req;
    req.name = t.name;
    req.num_partitions = t.num_partitions;
    req.replication_factor = t.replication_factor;
    req.validate_only = request.validate_only;
    if (!t.assignments.empty()) {
      req.has_assignments = true;
      std::map<int32_t, std::vector<int32_t>> by_partition;
      for (const auto& a : t.assignments) by_partition[a.partition_index] = a.broker_ids;
      bool dense = true;
      int32_t expect = 0;
      for (const auto& [p, ids] : by_partition) {
        if (p != expect++) dense = false;
        req.assignments.push_back(ids);
      }
      if (!dense || by_partition.size() != t.assignments.size()) {
        set_error(Error{ErrorCode::invalid_replica_assignment, "partitions must be numbered 0..n-1, each once"});
        continue;
      }
    }
    bool bad_config = false;
    for (const auto& c : t.configs) {
      if (!c.value) {
        set_error(Error{ErrorCode::invalid_config, fmt::format("{}: null value", c.name)});
        bad_config = true;
        break;
      }
      req.configs.set(c.name, *c.value);
    }
    if (bad_config) continue;

    auto created = b.topics->create(req);
    if (!created) {
      set_error(created.error());
      continue;
    }
    out.error_code = 0;
    out.topic_id = request.validate_only ? protocol::Uuid{} : created->topic_id;
    out.num_partitions = created->num_partitions;
    out.replication_factor = created->replication_factor;
    std::vector<protocol::CreateTopicsResponse::CreatableTopicResult::CreatableTopicConfigs> configs;
    for (const auto& [name, value] : req.configs.values()) {
      auto& c = configs.emplace_back();
      c.name = name;
      c.value = value;
      c.config_source = 1;  // DYNAMIC_TOPIC_CONFIG
    }
    out.configs = std::move(configs);
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
