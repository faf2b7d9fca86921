// ApiVersions (key 18), v0–4 (protocol guide "ApiVersions"; KIP-35, KIP-511).
#include "conveyor/protocol/messages.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

namespace {
using protocol::ApiKey;

// PROTOCOL.md "Advertising rule": librdkafka enables features only if the advertised range
// contains an exact version, so Produce, ApiVersions, InitProducerId and ListOffsets
// advertise from 0; Produce v0–2 requests are answered with UNSUPPORTED_VERSION.
constexpr BrokerApi kApis[] = {
    {ApiKey::produce, 0, 3, 11, handle_produce},
    {ApiKey::fetch, 4, 4, 12, handle_fetch},
    {ApiKey::list_offsets, 0, 0, 8, handle_list_offsets},
    {ApiKey::metadata, 0, 0, 12, handle_metadata},
    {ApiKey::api_versions, 0, 0, 4, handle_api_versions},
    {ApiKey::create_topics, 2, 2, 7, handle_create_topics},
    {ApiKey::delete_topics, 1, 1, 6, handle_delete_topics},
    {ApiKey::delete_records, 0, 0, 2, handle_delete_records},
    {ApiKey::init_producer_id, 0, 0, 4, handle_init_producer_id},
    {ApiKey::find_coordinator, 0, 0, 4, handle_find_coordinator},
    {ApiKey::join_group, 0, 0, 9, handle_join_group},
    {ApiKey::sync_group, 0, 0, 5, handle_sync_group},
    {ApiKey::heartbeat, 0, 0, 4, handle_heartbeat},
    {ApiKey::leave_group, 0, 0, 5, handle_leave_group},
    {ApiKey::offset_commit, 2, 2, 9, handle_offset_commit},
    {ApiKey::offset_fetch, 1, 1, 9, handle_offset_fetch},
    {ApiKey::list_groups, 0, 0, 4, handle_list_groups},
    {ApiKey::describe_groups, 0, 0, 5, handle_describe_groups},
    {ApiKey::delete_groups, 0, 0, 2, handle_delete_groups},
    {ApiKey::offset_delete, 0, 0, 0, handle_offset_delete},
    {ApiKey::offset_for_leader_epoch, 2, 2, 4, handle_offset_for_leader_epoch},
    {ApiKey::describe_configs, 1, 1, 4, handle_describe_configs},
    {ApiKey::alter_configs, 0, 0, 2, handle_alter_configs},
    {ApiKey::incremental_alter_configs, 0, 0, 1, handle_incremental_alter_configs},
    {ApiKey::create_partitions, 0, 0, 3, handle_create_partitions},
};
}  // namespace

std::span<const BrokerApi> broker_apis() { return kApis; }

const BrokerApi* find_broker_api(int16_t api_key) {
  for (const auto& a : kApis)
    if (static_cast<int16_t>(a.key) == api_key) return &a;
  return nullptr;
}

void fill_api_versions(protocol::ApiVersionsResponse& response) {
  for (const auto& a : kApis) {
    auto codec = protocol::find_api_versions(a.key);
    if (!codec) continue;
    auto& v = response.api_keys.emplace_back();
    v.api_key = static_cast<int16_t>(a.key);
    v.min_version = std::max(a.min_advertised, codec->min_version);
    v.max_version = std::min(a.max, codec->max_version);
  }
}

void handle_api_versions(RequestContext ctx, protocol::Reader& body) {
  protocol::ApiVersionsRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  protocol::ApiVersionsResponse response;
  fill_api_versions(response);
  ctx.respond(response);
}

}  // namespace conveyor::broker
