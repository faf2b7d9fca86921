#pragma once
// Internal: the member side of Kafka's classic consumer group protocol as a sans-IO state
// machine (DESIGN.md §2). It takes inputs — the subscription, topic metadata, the time, the
// broker's answers, the user's "rebalance callbacks done" — and returns actions: requests to
// send (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup), rebalance events for
// the user thread, errors. It never touches the network or the clock; GroupClient
// (group_client.cc) drives it on the consumer's loop thread, tests drive it directly.
//
// Kafka sources: protocol guide (JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// FindCoordinator), KIP-62 (max.poll.interval.ms / rebalance timeout), KIP-345 (static
// membership), KIP-394 (MEMBER_ID_REQUIRED), KIP-429 (cooperative rebalancing).
//
// States:
//   idle         no subscription
//   unjoined     subscribed, about to join (waits for the coordinator and poll activity)
//   preparing    a revoke/lost event is with the user; joins once it is done
//   joining      JoinGroup in flight
//   leader_wait  leader waiting for metadata of every member's topics
//   syncing      SyncGroup in flight
//   assigning    the new assignment is with the user (heartbeats continue)
//   stable       member of generation N, heartbeating every heartbeat.interval.ms
//   failed       fatal error (reported once); subscribe() again to retry
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "assignors.h"
#include "conveyor/base/result.h"
#include "conveyor/client/types.h"
#include "conveyor/protocol/messages.h"

namespace conveyor::client {

struct MembershipConfig {
  std::string group_id;
  std::optional<std::string> group_instance_id;  // group.instance.id (KIP-345)
  int32_t session_timeout_ms = 45000;            // session.timeout.ms
  int32_t rebalance_timeout_ms = 300000;         // max.poll.interval.ms
  int32_t heartbeat_interval_ms = 3000;          // heartbeat.interval.ms
  int64_t retry_backoff_ms = 100;                // retry.backoff.ms
  std::vector<std::shared_ptr<const Assignor>> assignors;  // preference order, not empty
};

// What the user thread must do inside poll(): run the callbacks, update the fetch positions.
struct RebalanceEvent {
  enum class Kind { revoke, lost, assign };
  Kind kind = Kind::assign;
  std::vector<TopicPartition> revoked;     // revoke/lost: to give up; assign: cooperative revocations
  std::vector<TopicPartition> added;       // assign: newly assigned
  std::vector<TopicPartition> assignment;  // assign: the complete new assignment
  int32_t generation = -1;
};

namespace membership {
struct FindCoordinator {};
struct JoinGroup { protocol::JoinGroupRequest request; };
struct SyncGroup { protocol::SyncGroupRequest request; };
struct Heartbeat { protocol::HeartbeatRequest request; };
struct LeaveGroup { protocol::LeaveGroupRequest request; };
// The leader needs partition counts of these topics before it can assign: answer with
// on_leader_metadata().
struct NeedMetadata { std::vector<std::string> topics; };
// Hand to the user thread; answer with event_done() once processed.
struct Deliver { RebalanceEvent event; };
// A fatal group error (FENCED_INSTANCE_ID, INVALID_SESSION_TIMEOUT, ...), surfaced by poll().
struct ReportError { Error error; };
}  // namespace membership

using MembershipAction =
    std::variant<membership::FindCoordinator, membership::JoinGroup, membership::SyncGroup, membership::Heartbeat,
                 membership::LeaveGroup, membership::NeedMetadata, membership::Deliver, membership::ReportError>;

class GroupMembership {
 public:
  enum class State { idle, unjoined, preparing, joining, leader_wait, syncing, assigning, stable, failed };

  explicit GroupMembership(MembershipConfig config);

  // ---- inputs (now_ms: a monotonic clock) ----
  // Sets the subscribed topic names (already resolved for a pattern). A change rejoins; an
  // empty set is unsubscribe: the caller revokes on the user side first, then calls leave() —
  // except for a pattern (pattern=true), where matching no topic is a valid subscription.
  void subscribe(std::set<std::string> topics, int64_t now_ms, bool pattern = false);
  // Partition counts of the subscribed topics; a change of a count after the last join rejoins.
  void update_metadata(const std::map<std::string, int32_t>& partitions_per_topic, int64_t now_ms);
  // poll()/consume() ran (max.poll.interval.ms, KIP-62).
  void poll_called(int64_t now_ms);
  void tick(int64_t now_ms);
  // When the next heartbeat is due (steady ms), or nullopt when none is scheduled: the
  // owner wakes the loop then rather than at its next fixed tick, so heartbeat.interval.ms
  // is kept instead of being rounded up to a multiple of the tick.
  std::optional<int64_t> next_heartbeat_due_ms() const {
    if ((state_ == State::stable || state_ == State::assigning || state_ == State::preparing) &&
        generation_ >= 0 && !heartbeat_in_flight_)
      return next_heartbeat_ms_;
    return std::nullopt;
  }
  // node id of the coordinator, or the error of FindCoordinator / the connection.
  void on_find_coordinator(Result<int32_t> node, int64_t now_ms);
  void on_join_group(Result<protocol::JoinGroupResponse> r, int64_t now_ms);
  void on_leader_metadata(const std::map<std::string, int32_t>& partitions_per_topic, int64_t now_ms);
  void on_sync_group(Result<protocol::SyncGroupResponse> r, int64_t now_ms);
  void on_heartbeat(Result<protocol::HeartbeatResponse> r, int64_t now_ms);
  // Coordinator errors seen by commits/offset fetches (NOT_COORDINATOR, ...): rediscover.
  void coordinator_lost(int64_t now_ms);
  // ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID seen by OffsetCommit.
  void on_commit_error(ErrorCode code, int64_t now_ms);
  // The user processed the last Deliver event.
  void event_done(int64_t now_ms);
  // Leaves the group (close, unsubscribe): LeaveGroup unless static; forgets the assignment.
  void leave(int64_t now_ms);

  // ---- outputs ----
  std::vector<MembershipAction> take_actions();

  // ---- queries ----
  State state() const { return state_; }
  int32_t generation() const { return generation_; }
  const std::string& member_id() const { return member_id_; }
  std::optional<int32_t> coordinator() const { return coordinator_; }
  const std::vector<TopicPartition>& owned() const { return owned_; }
  bool cooperative() const { return cooperative_; }
  const std::string& protocol_name() const { return protocol_name_; }
  bool is_leader() const { return leader_; }
  const std::set<std::string>& subscription() const { return subscription_; }
  const MembershipConfig& config() const { return config_; }
  // Next time tick() has something to do (for the driver's timer).
  static constexpr const char* kProtocolType = "consumer";

 private:
  void rejoin(int64_t now_ms, bool lost);
  void maybe_act(int64_t now_ms);
  void send_join(int64_t now_ms);
  void reset_generation(bool reset_member_id);
  void fatal(Error e);
  void handle_group_error(ErrorCode code, int64_t now_ms, const char* api);
  bool poll_active(int64_t now_ms) const;

  MembershipConfig config_;
  bool cooperative_ = false;
  State state_ = State::idle;
  std::set<std::string> subscription_;
  std::map<std::string, int32_t> partition_counts_;   // latest metadata of subscribed topics
  std::map<std::string, int32_t> joined_counts_;      // snapshot at the last join
  std::optional<int32_t> coordinator_;
  bool finding_ = false;
  int64_t find_after_ms_ = 0;
  int64_t join_after_ms_ = 0;
  std::string member_id_;
  int32_t generation_ = -1;
  std::string protocol_name_;
  bool leader_ = false;
  std::vector<protocol::JoinGroupResponse::JoinGroupResponseMember> join_members_;
  std::vector<TopicPartition> owned_;
  bool rejoin_after_event_ = false;  // set while assigning/preparing
  bool heartbeat_in_flight_ = false;
  int64_t next_heartbeat_ms_ = 0;
  int64_t last_heartbeat_ok_ms_ = 0;
  int64_t last_poll_ms_ = 0;
  bool poll_expired_ = false;
  std::vector<MembershipAction> actions_;
};

const char* membership_state_name(GroupMembership::State s);

}  // namespace conveyor::client
