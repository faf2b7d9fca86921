// DeleteTopics (key 20), v1–6 (protocol guide "DeleteTopics"; v6 names topics by name or id,
// KIP-516). delete.topic.enable=false → TOPIC_DELETION_DISABLED.
#include "conveyor/protocol/messages.h"
#include "group_service.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

void handle_delete_topics(RequestContext ctx, protocol::Reader& body) {
  protocol::DeleteTopicsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;
  const int16_t v = ctx.version();

  struct Target {
    std::optional<std::string> name;
    protocol::Uuid id{};
  };
  std::vector<Target> targets;
  if (v >= 6) {
    for (const auto& t : request.topics) targets.push_back({t.name, t.topic_id});
  } else {
    for (const auto& n : request.topic_names) targets.push_back({n, {}});
  }

  protocol::DeleteTopicsResponse response;
  for (const auto& t : targets) {
    auto& out = response.responses.emplace_back();
    out.name = t.name;
    out.topic_id = t.id;
    auto set_error = [&](ErrorCode code, std::string message) {
      out.error_code = static_cast<int16_t>(code);
      out.error_message = std::move(message);
    };
    std::optional<storage::TopicInfo> info;
    if (t.name && !t.name->empty()) {
      info = b.topics->find(*t.name);
      if (!info) {
        set_error(ErrorCode::unknown_topic_or_partition, "This server does not host this topic.");
        continue;
      }
    } else {
      info = b.topics->find_by_id(t.id);
      if (!info) {
        set_error(ErrorCode::unknown_topic_id, "This server does not host this topic ID.");
        continue;
      }
    }
    out.name = info->name;
    out.topic_id = info->topic_id;
    if (!b.config.delete_topic_enable) {
      set_error(ErrorCode::topic_deletion_disabled, "delete.topic.enable is false");
      continue;
    }
    if (auto r = b.topics->remove(info->name); !r) {
      set_error(r.error().code, r.error().message);
      continue;
    }
    b.groups->topic_deleted(info->name);  // committed offsets go with the topic
    out.error_code = 0;
  }
  ctx.respond(response);
}

}  // namespace conveyor::broker
