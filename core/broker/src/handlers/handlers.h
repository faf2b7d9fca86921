#pragma once
// One handler per API key (handlers/<api>.cc). A handler decodes its request body from `body`
// (at ctx.version()), acts, and answers exactly once through ctx.respond / ctx.finish, or
// ctx.close() when the body does not decode. Handlers run on io threads.
#include <span>

#include "broker_state.h"
#include "conveyor/protocol/api.h"
#include "conveyor/protocol/codec.h"

namespace conveyor::broker {

void handle_api_versions(RequestContext ctx, protocol::Reader& body);
void handle_metadata(RequestContext ctx, protocol::Reader& body);
void handle_produce(RequestContext ctx, protocol::Reader& body);
void handle_fetch(RequestContext ctx, protocol::Reader& body);
void handle_list_offsets(RequestContext ctx, protocol::Reader& body);
void handle_create_topics(RequestContext ctx, protocol::Reader& body);
void handle_delete_topics(RequestContext ctx, protocol::Reader& body);
void handle_delete_records(RequestContext ctx, protocol::Reader& body);
void handle_init_producer_id(RequestContext ctx, protocol::Reader& body);
void handle_find_coordinator(RequestContext ctx, protocol::Reader& body);
void handle_join_group(RequestContext ctx, protocol::Reader& body);
void handle_sync_group(RequestContext ctx, protocol::Reader& body);
void handle_heartbeat(RequestContext ctx, protocol::Reader& body);
void handle_leave_group(RequestContext ctx, protocol::Reader& body);
void handle_offset_commit(RequestContext ctx, protocol::Reader& body);
void handle_offset_fetch(RequestContext ctx, protocol::Reader& body);
void handle_offset_delete(RequestContext ctx, protocol::Reader& body);
void handle_list_groups(RequestContext ctx, protocol::Reader& body);
void handle_describe_groups(RequestContext ctx, protocol::Reader& body);
void handle_delete_groups(RequestContext ctx, protocol::Reader& body);
void handle_offset_for_leader_epoch(RequestContext ctx, protocol::Reader& body);
void handle_describe_configs(RequestContext ctx, protocol::Reader& body);
void handle_alter_configs(RequestContext ctx, protocol::Reader& body);
void handle_incremental_alter_configs(RequestContext ctx, protocol::Reader& body);
void handle_create_partitions(RequestContext ctx, protocol::Reader& body);

// The versions this broker advertises in ApiVersions (PROTOCOL.md "Advertising rule") and the
// versions it actually serves; a request outside [min_served, max] of a known key is answered
// with UNSUPPORTED_VERSION errors where the message can carry them.
struct BrokerApi {
  protocol::ApiKey key;
  int16_t min_advertised;
  int16_t min_served;
  int16_t max;
  void (*handler)(RequestContext, protocol::Reader&);
};
std::span<const BrokerApi> broker_apis();
const BrokerApi* find_broker_api(int16_t api_key);

}  // namespace conveyor::broker
