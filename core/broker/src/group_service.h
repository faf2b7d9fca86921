#pragma once
// The broker side of the group coordinator: core/group's sans-IO GroupCoordinator driven by
// real requests, time and the `__consumer_offsets` log.
//
// - One mutex serialises every coordinator call together with the appends it asks for, so the
//   log holds the records in the order the coordinator applied them (replay rebuilds the
//   same state).
// - JoinGroup/SyncGroup requests are parked by token (their RequestContext is kept here) and
//   answered when the coordinator completes them; a closed connection simply drops the answer.
//   Parked requests are bounded by the members of the groups (one join or sync per member).
// - A timer ticks the coordinator every kGroupTickMs (sessions, rebalance deadlines, retention).
// - `__consumer_offsets` (offsets.topic.num.partitions partitions, cleanup.policy=compact,
//   offsets.topic.segment.bytes) is created on first use; on start it is replayed.
// - An OffsetCommit is answered after its records are appended (fsync per the log's flush
//   policy, as Produce acks=-1 on a single node); a failed append fails the commit and leaves
//   the committed offsets unchanged.
//
// Thread-safety: every public method is thread-safe.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "broker_state.h"
#include "conveyor/group/coordinator.h"
#include "conveyor/io/client_loop.h"

namespace conveyor::broker {

inline constexpr int64_t kGroupTickMs = 100;  // coordinator timer period

class GroupService {
 public:
  GroupService(BrokerState& broker, group::CoordinatorConfig config);
  ~GroupService();

  // Replays __consumer_offsets if it exists (before the listener serves requests).
  // Errors: kafka_storage_error from reads; corrupt records are logged and skipped.
  Result<void> load();
  // Starts the periodic tick on the broker's server.
  void start();
  // Cancels the tick and drops parked requests unanswered (broker stop, after the server).
  void stop();

  // Creates __consumer_offsets if missing. Errors: from TopicManager::create.
  Result<void> ensure_offsets_topic();

  void join_group(RequestContext ctx, const protocol::JoinGroupRequest& request);
  void sync_group(RequestContext ctx, const protocol::SyncGroupRequest& request);
  protocol::HeartbeatResponse heartbeat(int16_t version, const protocol::HeartbeatRequest& request);
  protocol::LeaveGroupResponse leave_group(int16_t version, const protocol::LeaveGroupRequest& request);
  protocol::OffsetCommitResponse offset_commit(int16_t version, const protocol::OffsetCommitRequest& request);
  protocol::OffsetFetchResponse offset_fetch(int16_t version, const protocol::OffsetFetchRequest& request);
  protocol::OffsetDeleteResponse offset_delete(const protocol::OffsetDeleteRequest& request);
  protocol::ListGroupsResponse list_groups(int16_t version, const protocol::ListGroupsRequest& request);
  protocol::DescribeGroupsResponse describe_groups(int16_t version, const protocol::DescribeGroupsRequest& request);
  protocol::DeleteGroupsResponse delete_groups(int16_t version, const protocol::DeleteGroupsRequest& request);

  size_t parked_count() const;

 private:
  using Sends = std::vector<std::function<void()>>;
  // Appends the writes (one batch per partition) and turns completions into sends.
  void apply_locked(group::Output& out, Sends& sends);
  Result<void> append_locked(const std::vector<group::Write>& writes);
  void tick();
  void schedule_tick();

  BrokerState& broker_;
  mutable std::mutex mutex_;
  group::GroupCoordinator coordinator_;
  std::unordered_map<group::Token, RequestContext> parked_;
  group::Token next_token_ = 1;
  std::shared_ptr<io::Timer> timer_;
  bool stopped_ = false;
};

}  // namespace conveyor::broker
