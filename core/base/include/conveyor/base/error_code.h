#pragma once
// Kafka wire error codes (protocol guide, "Error Codes"). The numeric values are the wire
// values; names are Kafka's, lower-cased. Internal failures that have no Kafka code map to
// unknown_server_error at the handler boundary.
#include <cstdint>
#include <string_view>

namespace conveyor {

// Codes below -1 are local to a client (never on the wire); their values follow
// librdkafka's internal codes so users of both see the same numbers.
#define CONVEYOR_ERROR_CODES(X)                                  \
  X(local_destroy, -197, false)                                  \
  X(local_fail, -196, false)                                     \
  X(local_transport, -195, true)                                 \
  X(local_msg_timed_out, -192, true)                             \
  X(local_partition_eof, -191, false)                            \
  X(local_unknown_partition, -190, false)                        \
  X(local_all_brokers_down, -187, true)                          \
  X(local_invalid_arg, -186, false)                              \
  X(local_timed_out, -185, true)                                 \
  X(local_queue_full, -184, true)                                \
  X(local_state, -172, false)                                    \
  X(unknown_server_error, -1, false)                             \
  X(none, 0, false)                                              \
  X(offset_out_of_range, 1, false)                               \
  X(corrupt_message, 2, true)                                    \
  X(unknown_topic_or_partition, 3, true)                         \
  X(invalid_fetch_size, 4, false)                                \
  X(leader_not_available, 5, true)                               \
  X(not_leader_or_follower, 6, true)                             \
  X(request_timed_out, 7, true)                                  \
  X(broker_not_available, 8, false)                              \
  X(replica_not_available, 9, true)                              \
  X(message_too_large, 10, false)                                \
  X(stale_controller_epoch, 11, false)                           \
  X(offset_metadata_too_large, 12, false)                        \
  X(network_exception, 13, true)                                 \
  X(coordinator_load_in_progress, 14, true)                      \
  X(coordinator_not_available, 15, true)                         \
  X(not_coordinator, 16, true)                                   \
  X(invalid_topic_exception, 17, false)                          \
  X(record_list_too_large, 18, false)                            \
  X(not_enough_replicas, 19, true)                               \
  X(not_enough_replicas_after_append, 20, true)                  \
  X(invalid_required_acks, 21, false)                            \
  X(illegal_generation, 22, false)                               \
  X(inconsistent_group_protocol, 23, false)                      \
  X(invalid_group_id, 24, false)                                 \
  X(unknown_member_id, 25, false)                                \
  X(invalid_session_timeout, 26, false)                          \
  X(rebalance_in_progress, 27, false)                            \
  X(invalid_commit_offset_size, 28, false)                       \
  X(topic_authorization_failed, 29, false)                       \
  X(group_authorization_failed, 30, false)                       \
  X(cluster_authorization_failed, 31, false)                     \
  X(invalid_timestamp, 32, false)                                \
  X(unsupported_sasl_mechanism, 33, false)                       \
  X(illegal_sasl_state, 34, false)                               \
  X(unsupported_version, 35, false)                              \
  X(topic_already_exists, 36, false)                             \
  X(invalid_partitions, 37, false)                               \
  X(invalid_replication_factor, 38, false)                       \
  X(invalid_replica_assignment, 39, false)                       \
  X(invalid_config, 40, false)                                   \
  X(not_controller, 41, true)                                    \
  X(invalid_request, 42, false)                                  \
  X(unsupported_for_message_format, 43, false)                   \
  X(policy_violation, 44, false)                                 \
  X(out_of_order_sequence_number, 45, false)                     \
  X(duplicate_sequence_number, 46, false)                        \
  X(invalid_producer_epoch, 47, false)                           \
  X(invalid_txn_state, 48, false)                                \
  X(invalid_producer_id_mapping, 49, false)                      \
  X(invalid_transaction_timeout, 50, false)                      \
  X(concurrent_transactions, 51, true)                           \
  X(transaction_coordinator_fenced, 52, false)                   \
  X(transactional_id_authorization_failed, 53, false)            \
  X(security_disabled, 54, false)                                \
  X(operation_not_attempted, 55, false)                          \
  X(kafka_storage_error, 56, true)                               \
  X(log_dir_not_found, 57, false)                                \
  X(sasl_authentication_failed, 58, false)                       \
  X(unknown_producer_id, 59, false)                              \
  X(reassignment_in_progress, 60, false)                         \
  X(delegation_token_auth_disabled, 61, false)                   \
  X(delegation_token_not_found, 62, false)                       \
  X(delegation_token_owner_mismatch, 63, false)                  \
  X(delegation_token_request_not_allowed, 64, false)             \
  X(delegation_token_authorization_failed, 65, false)            \
  X(delegation_token_expired, 66, false)                         \
  X(invalid_principal_type, 67, false)                           \
  X(non_empty_group, 68, false)                                  \
  X(group_id_not_found, 69, false)                               \
  X(fetch_session_id_not_found, 70, true)                        \
  X(invalid_fetch_session_epoch, 71, true)                       \
  X(listener_not_found, 72, true)                                \
  X(topic_deletion_disabled, 73, false)                          \
  X(fenced_leader_epoch, 74, true)                               \
  X(unknown_leader_epoch, 75, true)                              \
  X(unsupported_compression_type, 76, false)                     \
  X(stale_broker_epoch, 77, false)                               \
  X(offset_not_available, 78, true)                              \
  X(member_id_required, 79, false)                               \
  X(preferred_leader_not_available, 80, true)                    \
  X(group_max_size_reached, 81, false)                           \
  X(fenced_instance_id, 82, false)                               \
  X(eligible_leaders_not_available, 83, true)                    \
  X(election_not_needed, 84, true)                               \
  X(no_reassignment_in_progress, 85, false)                      \
  X(group_subscribed_to_topic, 86, false)                        \
  X(invalid_record, 87, false)                                   \
  X(unstable_offset_commit, 88, true)                            \
  X(throttling_quota_exceeded, 89, true)                         \
  X(producer_fenced, 90, false)                                  \
  X(resource_not_found, 91, false)                               \
  X(duplicate_resource, 92, false)                               \
  X(unacceptable_credential, 93, false)                          \
  X(inconsistent_voter_set, 94, false)                           \
  X(invalid_update_version, 95, false)                           \
  X(feature_update_failed, 96, false)                            \
  X(principal_deserialization_failure, 97, false)                \
  X(snapshot_not_found, 98, false)                               \
  X(position_out_of_range, 99, false)                            \
  X(unknown_topic_id, 100, true)                                 \
  X(duplicate_broker_registration, 101, false)                   \
  X(broker_id_not_registered, 102, false)                        \
  X(inconsistent_topic_id, 103, true)                            \
  X(inconsistent_cluster_id, 104, false)                         \
  X(transactional_id_not_found, 105, false)                      \
  X(fetch_session_topic_id_error, 106, true)                     \
  X(ineligible_replica, 107, false)                              \
  X(new_leader_elected, 108, false)                              \
  X(offset_moved_to_tiered_storage, 109, false)                  \
  X(fenced_member_epoch, 110, false)                             \
  X(unreleased_instance_id, 111, false)                          \
  X(unsupported_assignor, 112, false)                            \
  X(stale_member_epoch, 113, false)

enum class ErrorCode : int16_t {
#define CONVEYOR_X(name, value, retriable) name = value,
  CONVEYOR_ERROR_CODES(CONVEYOR_X)
#undef CONVEYOR_X
};

// Kafka's upper-case name, e.g. "UNKNOWN_TOPIC_OR_PARTITION"; "UNKNOWN_ERROR_<n>" if unknown.
std::string_view error_name(ErrorCode code);
// Whether Kafka marks the error retriable (RetriableException subclasses).
bool error_retriable(ErrorCode code);
// Whether `value` is a code in the table above.
bool error_code_known(int16_t value);

}  // namespace conveyor
