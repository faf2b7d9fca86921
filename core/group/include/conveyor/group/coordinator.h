#pragma once
// The classic consumer-group coordinator (protocol guide: JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups,
// OffsetDelete; KIP-345 static membership, KIP-394 MEMBER_ID_REQUIRED, KIP-211 offset
// retention, KIP-496 OffsetDelete), written sans-IO (DESIGN.md §2):
//
//   - it takes decoded requests, their version and the current time `now_ms` (wall clock ms,
//     passed in), and `tick(now_ms)` for timeouts (sessions, rebalances, retention);
//   - it returns responses, `Write`s (records for `__consumer_offsets`, see offsets_records.h)
//     and completions of parked requests: a JoinGroup is parked until its rebalance completes,
//     a follower's SyncGroup until the leader's arrives. Parked requests are named by a
//     caller-chosen `Token`; their responses come back in `Output::joins` / `Output::syncs`,
//     possibly from a later call (another member's request or a tick). Every JoinGroup and
//     SyncGroup is answered through Output, also when the answer is immediate.
//   - it never touches sockets, threads, clocks or files; randomness (member ids) comes from a
//     generator seeded by `CoordinatorConfig::random_seed`.
//
// Offset commits are two-phase so that a commit is visible only once its record is in the
// log: offset_commit() validates and returns the records; the caller appends them and calls
// finish_offset_commit() with the outcome. Other writes (group metadata after a rebalance,
// tombstones) are applied in memory at once and handed to the caller to append.
//
// Thread-safety: none; the caller serialises every call (the broker holds one mutex).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/base/result.h"
#include "conveyor/protocol/bytes.h"
#include "conveyor/protocol/messages.h"

namespace conveyor::group {

// Broker configs of the coordinator (Kafka's names and defaults).
struct CoordinatorConfig {
  int32_t min_session_timeout_ms = 6000;        // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;     // group.max.session.timeout.ms
  int32_t initial_rebalance_delay_ms = 3000;    // group.initial.rebalance.delay.ms
  int32_t max_group_size = INT32_MAX;           // group.max.size
  int32_t offset_metadata_max_bytes = 4096;     // offset.metadata.max.bytes
  int64_t offsets_retention_ms = 10080LL * 60 * 1000;      // offsets.retention.minutes
  int64_t offsets_retention_check_interval_ms = 600000;    // offsets.retention.check.interval.ms
  int32_t offsets_topic_num_partitions = 50;    // offsets.topic.num.partitions
  // A new member whose first JoinGroup is parked is kept this long without heartbeats
  // (Kafka's fixed 5 minutes for new members).
  int32_t new_member_join_timeout_ms = 300000;
  uint64_t random_seed = 1;
};

using Token = uint64_t;

// A record for __consumer_offsets: `value` nullopt is a tombstone.
struct Write {
  int32_t partition = 0;
  Bytes key;
  std::optional<Bytes> value;
};

struct Output {
  std::vector<std::pair<Token, protocol::JoinGroupResponse>> joins;
  std::vector<std::pair<Token, protocol::SyncGroupResponse>> syncs;
  std::vector<Write> writes;
  // Set when a leader's SyncGroup wrote this group's assignment into `writes`: the members'
  // SyncGroup answers wait until the caller has appended `writes` and called
  // GroupCoordinator::finish_assignment_store() with the result.
  std::optional<std::string> assignment_store_group;
};

// What a coordinator answers when appending to __consumer_offsets failed with `append_error`
// (Kafka's GroupMetadataManager mapping): COORDINATOR_NOT_AVAILABLE for a missing partition,
// too few replicas or a timeout, NOT_COORDINATOR for a lost leadership or a failed log dir,
// `too_large` for an oversized batch, UNKNOWN_SERVER_ERROR for the rest (and for local codes,
// which never go on the wire).
ErrorCode group_store_error(ErrorCode append_error, ErrorCode too_large);

enum class GroupState { empty, preparing_rebalance, completing_rebalance, stable, dead };
// Kafka's names: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
const char* group_state_name(GroupState s);

// Does the topic partition exist? (OffsetCommit answers UNKNOWN_TOPIC_OR_PARTITION otherwise.)
using PartitionExists = std::function<bool(const std::string& topic, int32_t partition)>;

// Phase one of a commit; see the header comment.
struct OffsetCommitPlan {
  protocol::OffsetCommitResponse response;  // final except for the accepted partitions
  std::vector<Write> writes;                // one per accepted partition
  struct Accepted {
    size_t topic_index = 0, partition_index = 0;  // into response.topics
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
    int32_t leader_epoch = -1;
    std::string metadata;
    int64_t commit_timestamp_ms = 0;
  };
  std::string group_id;
  std::vector<Accepted> accepted;
  bool created_group = false;  // the commit created an Empty group (admin/manual commit)
};

// Read-only views for tests and tools.
struct MemberView {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  Bytes assignment;
};
struct GroupView {
  GroupState state = GroupState::empty;
  int32_t generation_id = 0;
  std::string protocol_type;
  std::optional<std::string> protocol_name;
  std::optional<std::string> leader_id;
  std::vector<MemberView> members;
  size_t pending_members = 0;
  size_t committed_offsets = 0;
};

struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = 0;
};

class GroupCoordinator {
 public:
  explicit GroupCoordinator(CoordinatorConfig config);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  const CoordinatorConfig& config() const { return config_; }
  // The __consumer_offsets partition of a group.
  int32_t partition_for(const std::string& group_id) const;

  // JoinGroup v0–9. The answer to `token` (and maybe to other parked joins) comes in out.joins.
  // Errors in the response: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, INCONSISTENT_GROUP_PROTOCOL,
  // UNKNOWN_MEMBER_ID, MEMBER_ID_REQUIRED (v4+, empty member id, no instance id),
  // GROUP_MAX_SIZE_REACHED, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS (a parked join replaced).
  void join_group(Token token, int16_t version, const protocol::JoinGroupRequest& request,
                  const std::string& client_id, const std::string& client_host, int64_t now_ms, Output& out);
  // SyncGroup v0–5. The answer to `token` comes in out.syncs, now or when the leader syncs.
  // Errors: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID,
  // INCONSISTENT_GROUP_PROTOCOL (v5 protocol type/name mismatch), INVALID_GROUP_ID.
  void sync_group(Token token, int16_t version, const protocol::SyncGroupRequest& request, int64_t now_ms,
                  Output& out);
  // Completes a leader's SyncGroup once its assignment record was appended (see
  // Output::assignment_store_group): on success the group becomes Stable and every member gets
  // its assignment; on failure every waiting member gets group_store_error(...) with no
  // assignment and the group goes back to PreparingRebalance (Kafka's
  // resetAndPropagateAssignmentError), so the members rejoin.
  void finish_assignment_store(const std::string& group_id, const Result<void>& written, int64_t now_ms,
                               Output& out);
  // Heartbeat v0–4: NONE, REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
  // FENCED_INSTANCE_ID, INVALID_GROUP_ID.
  protocol::HeartbeatResponse heartbeat(int16_t version, const protocol::HeartbeatRequest& request, int64_t now_ms);
  // LeaveGroup v0–5 (v3+ batches members; KIP-345 removal by instance id).
  protocol::LeaveGroupResponse leave_group(int16_t version, const protocol::LeaveGroupRequest& request,
                                           int64_t now_ms, Output& out);

  // OffsetCommit v2–9, phase one. Errors per partition: ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
  // REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID, OFFSET_METADATA_TOO_LARGE,
  // UNKNOWN_TOPIC_OR_PARTITION, INVALID_GROUP_ID.
  OffsetCommitPlan offset_commit(int16_t version, const protocol::OffsetCommitRequest& request,
                                 const PartitionExists& exists, int64_t now_ms);
  // Phase two: on success the accepted offsets become visible; on failure they get the
  // write's error code (e.g. KAFKA_STORAGE_ERROR) and nothing changes.
  void finish_offset_commit(OffsetCommitPlan& plan, const Result<void>& written);

  // OffsetFetch v1–9 (v8+ batches groups). Unknown groups and partitions give offset -1.
  protocol::OffsetFetchResponse offset_fetch(int16_t version, const protocol::OffsetFetchRequest& request) const;
  // OffsetDelete v0 (KIP-496): GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, per partition
  // GROUP_SUBSCRIBED_TO_TOPIC.
  protocol::OffsetDeleteResponse offset_delete(const protocol::OffsetDeleteRequest& request, int64_t now_ms,
                                               Output& out);
  protocol::ListGroupsResponse list_groups(int16_t version, const protocol::ListGroupsRequest& request) const;
  protocol::DescribeGroupsResponse describe_groups(int16_t version,
                                                   const protocol::DescribeGroupsRequest& request) const;
  // DeleteGroups v0–2: only Empty groups; NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, INVALID_GROUP_ID.
  protocol::DeleteGroupsResponse delete_groups(int16_t version, const protocol::DeleteGroupsRequest& request,
                                               int64_t now_ms, Output& out);

  // A topic was deleted: its committed offsets are removed from every group (tombstones),
  // as Kafka does (KAFKA-2000), so a re-created topic does not inherit stale positions.
  void delete_topic_offsets(const std::string& topic, Output& out);

  // Timeouts: member sessions, pending (KIP-394) members, rebalance deadlines, the initial
  // rebalance delay, and every offsets.retention.check.interval.ms the offset retention.
  void tick(int64_t now_ms, Output& out);

  // Replay of __consumer_offsets (in log order) at startup; then finish_load(). A group that
  // had members comes back Empty with its generation and offsets (as Kafka after a coordinator
  // move: members rejoin). Errors: corrupt_message (the record is skipped by the caller).
  Result<void> load_record(ByteView key, std::optional<ByteView> value);
  void finish_load(int64_t now_ms);

  // Inspection (tests, tools).
  std::optional<GroupView> describe(const std::string& group_id) const;
  std::optional<CommittedOffset> committed(const std::string& group_id, const std::string& topic,
                                           int32_t partition) const;
  size_t group_count() const;

 private:
  struct Member;
  struct Group;
  using GroupPtr = std::unique_ptr<Group>;

  Group* find_group(const std::string& id) const;
  Group& get_or_create_group(const std::string& id, int64_t now_ms);
  std::string new_member_id(const std::string& prefix);

  void join_unknown_member(Group& g, Token token, int16_t version, const protocol::JoinGroupRequest& req,
                           const std::string& client_id, const std::string& client_host, int64_t now_ms,
                           Output& out);
  void join_known_member(Group& g, Token token, int16_t version, const protocol::JoinGroupRequest& req,
                         const std::string& client_id, const std::string& client_host, int64_t now_ms,
                         Output& out);
  Member& add_member(Group& g, std::string member_id, Token token, int16_t version,
                     const protocol::JoinGroupRequest& req, const std::string& client_id,
                     const std::string& client_host, int64_t now_ms);
  void update_member(Group& g, Member& m, Token token, int16_t version, const protocol::JoinGroupRequest& req,
                     Output& out);
  void replace_static_member(Group& g, Member& m, const std::string& new_id, Output& out);
  void prepare_rebalance(Group& g, int64_t now_ms, Output& out);
  void maybe_complete_join(Group& g, int64_t now_ms, Output& out);
  void complete_join(Group& g, int64_t now_ms, Output& out);
  void remove_member(Group& g, const std::string& member_id, int64_t now_ms, Output& out);
  void transition(Group& g, GroupState s, int64_t now_ms);
  protocol::JoinGroupResponse join_response(const Group& g, const Member& m, int16_t version) const;
  void complete_pending_syncs(Group& g, int16_t error, Output& out);
  void store_group(Group& g, Output& out);
  void delete_group(Group& g, Output& out);
  void expire_offsets(int64_t now_ms, Output& out);
  std::optional<std::string> select_protocol(const Group& g) const;
  bool supports_protocols(const Group& g, const protocol::JoinGroupRequest& req) const;

  CoordinatorConfig config_;
  std::mt19937_64 random_;
  std::map<std::string, GroupPtr> groups_;
  int64_t next_retention_check_ms_ = -1;
};

}  // namespace conveyor::group
