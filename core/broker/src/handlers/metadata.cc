// Metadata (key 3), v0–12 (protocol guide "Metadata"). One broker, which leads every
// partition with itself as the only replica and ISR member (leader epoch 0). Topic ids from
// v10 (KIP-516). v0: an empty topic list means all topics; v1+: null means all topics.
// Unknown topics are auto-created when auto.create.topics.enable and the request's
// allow_auto_topic_creation (v4+; earlier versions always allow) both say so.
#include "conveyor/protocol/messages.h"
#include "conveyor/storage/log_manager.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

namespace {
using Response = protocol::MetadataResponse;
using TopicResponse = Response::MetadataResponseTopic;

void fill_topic(const BrokerState& b, const storage::TopicInfo& info, TopicResponse& t) {
  t.error_code = 0;
  t.name = info.name;
  t.topic_id = info.topic_id;
  t.is_internal = is_internal_topic(info.name);
  for (const auto& p : info.partitions) {
    auto& out = t.partitions.emplace_back();
    out.error_code = 0;
    out.partition_index = p.partition;
    out.leader_id = b.config.node_id;
    out.leader_epoch = 0;
    out.replica_nodes = {b.config.node_id};
    out.isr_nodes = {b.config.node_id};
    if (p.log && p.log->offline()) {
      // Its log dir failed (KIP-112): the only replica is offline (v5+ lists it).
      out.error_code = static_cast<int16_t>(ErrorCode::kafka_storage_error);
      out.offline_replicas = {b.config.node_id};
    }
  }
}
}  // namespace

void handle_metadata(RequestContext ctx, protocol::Reader& body) {
  protocol::MetadataRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;
  const int16_t v = ctx.version();

  Response response;
  auto& broker = response.brokers.emplace_back();
  broker.node_id = b.config.node_id;
  broker.host = b.advertised_host;
  broker.port = b.advertised_port;
  response.cluster_id = b.cluster_id;
  response.controller_id = b.config.node_id;

  bool all = !request.topics.has_value() || (v == 0 && request.topics->empty());
  if (all) {
    for (const auto& info : b.topics->all()) fill_topic(b, info, response.topics.emplace_back());
    return ctx.respond(response);
  }

  bool may_create = b.config.auto_create_topics_enable && (v < 4 || request.allow_auto_topic_creation);
  for (const auto& requested : *request.topics) {
    auto& t = response.topics.emplace_back();
    if (!requested.name.has_value()) {
      // v10+: by topic id.
      t.topic_id = requested.topic_id;
      auto info = b.topics->find_by_id(requested.topic_id);
      if (!info) {
        t.error_code = static_cast<int16_t>(ErrorCode::unknown_topic_id);
        continue;
      }
      fill_topic(b, *info, t);
      continue;
    }
    const std::string& name = *requested.name;
    t.name = name;
    auto info = b.topics->find(name);
    if (!info) {
      if (auto valid = storage::validate_topic_name(name); !valid) {
        t.error_code = static_cast<int16_t>(ErrorCode::invalid_topic_exception);
        continue;
      }
      if (!may_create) {
        t.error_code = static_cast<int16_t>(ErrorCode::unknown_topic_or_partition);
        continue;
      }
      auto created = b.topics->get_or_create(name);
      if (!created) {
        t.error_code = static_cast<int16_t>(created.error().code == ErrorCode::invalid_topic_exception
                                                ? ErrorCode::invalid_topic_exception
                                                : ErrorCode::leader_not_available);
        continue;
      }
      info = std::move(*created);
    }
    fill_topic(b, *info, t);
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
