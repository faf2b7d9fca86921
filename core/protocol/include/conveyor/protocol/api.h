#pragma once
// Kafka API keys (protocol guide, "Api Keys") and the versions conveyor's messages support.
// Thread-safety: everything here is immutable.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace conveyor::protocol {

// Kafka's API key numbers; names are Kafka's request names in snake_case.
enum class ApiKey : int16_t {
  produce = 0,
  fetch = 1,
  list_offsets = 2,
  metadata = 3,
  leader_and_isr = 4,
  stop_replica = 5,
  update_metadata = 6,
  controlled_shutdown = 7,
  offset_commit = 8,
  offset_fetch = 9,
  find_coordinator = 10,
  join_group = 11,
  heartbeat = 12,
  leave_group = 13,
  sync_group = 14,
  describe_groups = 15,
  list_groups = 16,
  sasl_handshake = 17,
  api_versions = 18,
  create_topics = 19,
  delete_topics = 20,
  delete_records = 21,
  init_producer_id = 22,
  offset_for_leader_epoch = 23,
  add_partitions_to_txn = 24,
  add_offsets_to_txn = 25,
  end_txn = 26,
  write_txn_markers = 27,
  txn_offset_commit = 28,
  describe_acls = 29,
  create_acls = 30,
  delete_acls = 31,
  describe_configs = 32,
  alter_configs = 33,
  alter_replica_log_dirs = 34,
  describe_log_dirs = 35,
  sasl_authenticate = 36,
  create_partitions = 37,
  create_delegation_token = 38,
  renew_delegation_token = 39,
  expire_delegation_token = 40,
  describe_delegation_token = 41,
  delete_groups = 42,
  elect_leaders = 43,
  incremental_alter_configs = 44,
  alter_partition_reassignments = 45,
  list_partition_reassignments = 46,
  offset_delete = 47,
  describe_client_quotas = 48,
  alter_client_quotas = 49,
  describe_user_scram_credentials = 50,
  alter_user_scram_credentials = 51,
  vote = 52,
  begin_quorum_epoch = 53,
  end_quorum_epoch = 54,
  describe_quorum = 55,
  alter_partition = 56,
  update_features = 57,
  envelope = 58,
  fetch_snapshot = 59,
  describe_cluster = 60,
  describe_producers = 61,
  broker_registration = 62,
  broker_heartbeat = 63,
  unregister_broker = 64,
  describe_transactions = 65,
  list_transactions = 66,
  allocate_producer_ids = 67,
  consumer_group_heartbeat = 68,
  consumer_group_describe = 69,
};

// Kafka's name for the API ("Produce", "ApiVersions"); "Unknown" for keys not listed above.
std::string_view api_name(ApiKey key);

// Versions of one API that conveyor's generated messages encode and decode.
struct ApiVersionRange {
  ApiKey key;
  int16_t min_version;
  int16_t max_version;
  int16_t first_flexible_version;  // -1: no flexible version in the range
};

// Every API with a spec in core/protocol/spec, ordered by key (generated: api_table.cc).
// These are the message codecs' ranges; a broker advertises its own (possibly narrower) ranges.
std::span<const ApiVersionRange> message_api_versions();

// The entry for `key`, or nullopt when conveyor has no messages for it.
std::optional<ApiVersionRange> find_api_versions(ApiKey key);

// True when `version` of `key` uses the flexible encoding (KIP-482). False for unknown keys.
bool is_flexible_version(ApiKey key, int16_t version);

}  // namespace conveyor::protocol
