#include "group_membership.h"

#include <algorithm>

#include <fmt/format.h>

#include "conveyor/base/assert.h"
#include "conveyor/base/log.h"
#include "conveyor/protocol/consumer_protocol.h"

namespace conveyor::client {
namespace {
constexpr std::string_view kLog = "group";

bool coordinator_error(ErrorCode c) {
  switch (c) {
    case ErrorCode::not_coordinator:
    case ErrorCode::coordinator_not_available:
    case ErrorCode::local_transport:
    case ErrorCode::request_timed_out:
    case ErrorCode::network_exception:
    case ErrorCode::local_all_brokers_down:
    case ErrorCode::leader_not_available:
      return true;
    default:
      return false;
  }
}

std::vector<TopicPartition> minus(const std::vector<TopicPartition>& a, const std::vector<TopicPartition>& b) {
  std::vector<TopicPartition> out;
  for (const auto& tp : a)
    if (std::find(b.begin(), b.end(), tp) == b.end()) out.push_back(tp);
  return out;
}

std::vector<protocol::ConsumerTopicPartitions> group_by_topic(const std::vector<TopicPartition>& parts) {
  std::map<std::string, std::vector<int32_t>> m;
  for (const auto& tp : parts) m[tp.topic].push_back(tp.partition);
  std::vector<protocol::ConsumerTopicPartitions> out;
  for (auto& [t, ps] : m) {
    std::sort(ps.begin(), ps.end());
    out.push_back({t, std::move(ps)});
  }
  return out;
}
}  // namespace

const char* membership_state_name(GroupMembership::State s) {
  switch (s) {
    case GroupMembership::State::idle: return "idle";
    case GroupMembership::State::unjoined: return "unjoined";
    case GroupMembership::State::preparing: return "preparing";
    case GroupMembership::State::joining: return "joining";
    case GroupMembership::State::leader_wait: return "leader_wait";
    case GroupMembership::State::syncing: return "syncing";
    case GroupMembership::State::assigning: return "assigning";
    case GroupMembership::State::stable: return "stable";
    case GroupMembership::State::failed: return "failed";
  }
  return "?";
}

GroupMembership::GroupMembership(MembershipConfig config) : config_(std::move(config)) {
  CONVEYOR_ASSERT(!config_.assignors.empty());
  // KIP-429: the cooperative protocol is used only if every configured assignor supports it
  // (Java's rule), so the default "range,cooperative-sticky" rebalances eagerly.
  cooperative_ = std::all_of(config_.assignors.begin(), config_.assignors.end(),
                             [](const auto& a) { return a->cooperative(); });
}

std::vector<MembershipAction> GroupMembership::take_actions() { return std::exchange(actions_, {}); }

bool GroupMembership::poll_active(int64_t now_ms) const {
  return !poll_expired_ && now_ms - last_poll_ms_ <= config_.rebalance_timeout_ms;
}

void GroupMembership::subscribe(std::set<std::string> topics, int64_t now_ms, bool pattern) {
  if (topics.empty() && !pattern) {
    subscription_.clear();
    return;
  }
  bool changed = topics != subscription_;
  subscription_ = std::move(topics);
  last_poll_ms_ = now_ms;  // subscribing counts as poll activity: join at once
  poll_expired_ = false;
  if (state_ == State::idle || state_ == State::failed) {
    state_ = State::unjoined;
    join_after_ms_ = now_ms;
  } else if (changed) {
    if (state_ == State::stable)
      rejoin(now_ms, false);
    else if (state_ != State::unjoined && state_ != State::preparing)
      rejoin_after_event_ = true;
  }
  maybe_act(now_ms);
}

void GroupMembership::update_metadata(const std::map<std::string, int32_t>& counts, int64_t now_ms) {
  std::map<std::string, int32_t> mine;
  for (const auto& t : subscription_)
    if (auto it = counts.find(t); it != counts.end()) mine[t] = it->second;
  partition_counts_ = mine;
  // Java: only the leader watches partition counts (its assignment snapshot); a new topic or
  // more partitions since the last join trigger a rebalance.
  if (leader_ && (state_ == State::stable || state_ == State::assigning) && mine != joined_counts_) {
    bool grown = false;
    for (const auto& [t, n] : mine) {
      auto j = joined_counts_.find(t);
      if (j == joined_counts_.end() || j->second != n) grown = true;
    }
    if (grown) {
      log::info(kLog, "group {}: partition counts changed since the last join, rebalancing", config_.group_id);
      joined_counts_ = mine;
      if (state_ == State::stable)
        rejoin(now_ms, false);
      else
        rejoin_after_event_ = true;
    }
  }
}

void GroupMembership::poll_called(int64_t now_ms) {
  last_poll_ms_ = now_ms;
  if (poll_expired_) {
    log::info(kLog, "group {}: polling again after max.poll.interval.ms expired, rejoining", config_.group_id);
    poll_expired_ = false;
  }
  maybe_act(now_ms);
}

void GroupMembership::tick(int64_t now_ms) {
  bool active = state_ != State::idle && state_ != State::failed;
  if (active && !poll_expired_ && now_ms - last_poll_ms_ > config_.rebalance_timeout_ms &&
      (generation_ >= 0 || !member_id_.empty())) {
    // KIP-62: the member stopped polling; leave so the group can move on. It gets back in
    // (and gets partitions back) only by polling again.
    log::warn(kLog, "group {}: no poll for more than max.poll.interval.ms ({} ms), leaving the group",
              config_.group_id, config_.rebalance_timeout_ms);
    poll_expired_ = true;
    if (!config_.group_instance_id && coordinator_ && !member_id_.empty()) {
      protocol::LeaveGroupRequest req;
      req.group_id = config_.group_id;
      req.member_id = member_id_;
      protocol::LeaveGroupRequest::MemberIdentity m;
      m.member_id = member_id_;
      m.reason = "consumer poll timeout has expired";
      req.members.push_back(std::move(m));
      actions_.push_back(membership::LeaveGroup{std::move(req)});
    }
    reset_generation(true);
    heartbeat_in_flight_ = false;
    rejoin(now_ms, true);
    return;
  }
  if (active && generation_ >= 0 && coordinator_ &&
      now_ms - last_heartbeat_ok_ms_ > config_.session_timeout_ms &&
      (state_ == State::stable || state_ == State::assigning || state_ == State::preparing)) {
    log::warn(kLog, "group {}: no successful heartbeat within session.timeout.ms, looking for the coordinator again",
              config_.group_id);
    last_heartbeat_ok_ms_ = now_ms;
    coordinator_lost(now_ms);
    return;
  }
  maybe_act(now_ms);
}

void GroupMembership::maybe_act(int64_t now_ms) {
  if (state_ == State::idle || state_ == State::failed) return;
  if (!coordinator_) {
    if (!finding_ && now_ms >= find_after_ms_) {
      finding_ = true;
      actions_.push_back(membership::FindCoordinator{});
    }
    return;
  }
  switch (state_) {
    case State::unjoined:
      if (poll_active(now_ms) && now_ms >= join_after_ms_) send_join(now_ms);
      break;
    case State::stable:
    case State::assigning:
    case State::preparing:
      if (generation_ >= 0 && !heartbeat_in_flight_ && now_ms >= next_heartbeat_ms_) {
        protocol::HeartbeatRequest req;
        req.group_id = config_.group_id;
        req.generation_id = generation_;
        req.member_id = member_id_;
        req.group_instance_id = config_.group_instance_id;
        heartbeat_in_flight_ = true;
        next_heartbeat_ms_ = now_ms + config_.heartbeat_interval_ms;
        actions_.push_back(membership::Heartbeat{std::move(req)});
      }
      break;
    default:
      break;
  }
}

void GroupMembership::send_join(int64_t now_ms) {
  protocol::JoinGroupRequest req;
  req.group_id = config_.group_id;
  req.session_timeout_ms = config_.session_timeout_ms;
  req.rebalance_timeout_ms = config_.rebalance_timeout_ms;
  req.member_id = member_id_;
  req.group_instance_id = config_.group_instance_id;
  req.protocol_type = kProtocolType;
  for (const auto& a : config_.assignors) {
    protocol::ConsumerSubscription s;
    s.topics.assign(subscription_.begin(), subscription_.end());
    s.owned_partitions = group_by_topic(owned_);
    s.generation_id = generation_;
    s.user_data = a->user_data(generation_);
    protocol::JoinGroupRequest::JoinGroupRequestProtocol p;
    p.name = std::string(a->name());
    p.metadata = protocol::encode_consumer_subscription(s);
    req.protocols.push_back(std::move(p));
  }
  req.reason = generation_ < 0 ? "joining the group" : "rebalance";
  joined_counts_ = partition_counts_;
  rejoin_after_event_ = false;
  state_ = State::joining;
  (void)now_ms;
  actions_.push_back(membership::JoinGroup{std::move(req)});
}

void GroupMembership::rejoin(int64_t now_ms, bool lost) {
  rejoin_after_event_ = false;
  leader_ = false;
  bool generation_gone = lost || generation_ < 0;
  if (!owned_.empty() && (generation_gone || !cooperative_)) {
    // Eager protocol: revoke everything before joining. Lost generation: the partitions may
    // already belong to someone else (no commit).
    RebalanceEvent ev;
    ev.kind = generation_gone ? RebalanceEvent::Kind::lost : RebalanceEvent::Kind::revoke;
    ev.revoked = std::exchange(owned_, {});
    ev.generation = generation_;
    state_ = State::preparing;
    actions_.push_back(membership::Deliver{std::move(ev)});
  } else {
    if (generation_gone) owned_.clear();
    state_ = State::unjoined;
    join_after_ms_ = std::max(join_after_ms_, now_ms);
  }
  maybe_act(now_ms);
}

void GroupMembership::reset_generation(bool reset_member_id) {
  generation_ = -1;
  leader_ = false;
  if (reset_member_id) member_id_.clear();
}

void GroupMembership::fatal(Error e) {
  log::error(kLog, "group {}: {}", config_.group_id, e.to_string());
  if (!owned_.empty()) {
    RebalanceEvent ev;
    ev.kind = RebalanceEvent::Kind::lost;
    ev.revoked = std::exchange(owned_, {});
    ev.generation = generation_;
    actions_.push_back(membership::Deliver{std::move(ev)});
  }
  reset_generation(true);
  state_ = State::failed;
  actions_.push_back(membership::ReportError{std::move(e)});
}

void GroupMembership::on_find_coordinator(Result<int32_t> node, int64_t now_ms) {
  finding_ = false;
  if (node) {
    coordinator_ = *node;
    log::debug(kLog, "group {}: coordinator is node {}", config_.group_id, *node);
  } else {
    log::debug(kLog, "group {}: FindCoordinator failed: {}", config_.group_id, node.error().to_string());
    find_after_ms_ = now_ms + config_.retry_backoff_ms;
  }
  maybe_act(now_ms);
}

void GroupMembership::coordinator_lost(int64_t now_ms) {
  if (coordinator_) log::info(kLog, "group {}: coordinator node {} lost", config_.group_id, *coordinator_);
  coordinator_.reset();
  heartbeat_in_flight_ = false;
  if (state_ == State::joining || state_ == State::syncing || state_ == State::leader_wait) {
    state_ = State::unjoined;
    join_after_ms_ = now_ms;
  }
  maybe_act(now_ms);
}

// Errors common to JoinGroup and SyncGroup.
void GroupMembership::handle_group_error(ErrorCode code, int64_t now_ms, const char* api) {
  switch (code) {
    case ErrorCode::unknown_member_id:
      log::info(kLog, "group {}: {} says UNKNOWN_MEMBER_ID, rejoining with a new member id", config_.group_id, api);
      reset_generation(true);
      return rejoin(now_ms, true);
    case ErrorCode::illegal_generation:
      log::info(kLog, "group {}: {} says ILLEGAL_GENERATION, rejoining", config_.group_id, api);
      reset_generation(false);
      return rejoin(now_ms, true);
    case ErrorCode::rebalance_in_progress:
      return rejoin(now_ms, false);
    case ErrorCode::coordinator_load_in_progress:
    case ErrorCode::unstable_offset_commit:
      state_ = State::unjoined;
      join_after_ms_ = now_ms + config_.retry_backoff_ms;
      return maybe_act(now_ms);
    case ErrorCode::fenced_instance_id:
    case ErrorCode::invalid_session_timeout:
    case ErrorCode::group_authorization_failed:
    case ErrorCode::inconsistent_group_protocol:
    case ErrorCode::group_max_size_reached:
    case ErrorCode::invalid_group_id:
    case ErrorCode::unsupported_version:
      return fatal(Error{code, fmt::format("{} for group {} failed: {}", api, config_.group_id, error_name(code))});
    default:
      if (coordinator_error(code)) {
        // The coordinator we found refused the group (Kafka answers COORDINATOR_NOT_AVAILABLE
        // while it creates __consumer_offsets): look it up again after retry.backoff.ms, as
        // Java's joinGroupIfNeeded sleeps after a retriable failure, not at once in a loop.
        find_after_ms_ = now_ms + config_.retry_backoff_ms;
        return coordinator_lost(now_ms);
      }
      log::warn(kLog, "group {}: {} failed: {}, retrying", config_.group_id, api, error_name(code));
      state_ = State::unjoined;
      join_after_ms_ = now_ms + config_.retry_backoff_ms;
      return maybe_act(now_ms);
  }
}

void GroupMembership::on_join_group(Result<protocol::JoinGroupResponse> r, int64_t now_ms) {
  if (state_ != State::joining) return;
  ErrorCode code = r ? static_cast<ErrorCode>(r->error_code) : r.error().code;
  if (code == ErrorCode::none) {
    generation_ = r->generation_id;
    member_id_ = r->member_id;
    protocol_name_ = r->protocol_name.value_or("");
    leader_ = r->leader == member_id_;
    log::info(kLog, "group {}: joined generation {} as {}{} (protocol {})", config_.group_id, generation_,
              member_id_, leader_ ? ", leader" : "", protocol_name_);
    if (leader_) {
      join_members_ = r->members;
      std::set<std::string> topics;
      for (const auto& m : join_members_) {
        auto s = protocol::decode_consumer_subscription(m.metadata);
        if (s) topics.insert(s->topics.begin(), s->topics.end());
      }
      state_ = State::leader_wait;
      actions_.push_back(membership::NeedMetadata{std::vector<std::string>(topics.begin(), topics.end())});
      return;
    }
    protocol::SyncGroupRequest req;
    req.group_id = config_.group_id;
    req.generation_id = generation_;
    req.member_id = member_id_;
    req.group_instance_id = config_.group_instance_id;
    req.protocol_type = kProtocolType;
    req.protocol_name = protocol_name_;
    state_ = State::syncing;
    actions_.push_back(membership::SyncGroup{std::move(req)});
    return;
  }
  if (code == ErrorCode::member_id_required) {
    // KIP-394: join again at once with the member id the coordinator handed out.
    member_id_ = r->member_id;
    state_ = State::unjoined;
    join_after_ms_ = now_ms;
    return maybe_act(now_ms);
  }
  handle_group_error(code, now_ms, "JoinGroup");
}

void GroupMembership::on_leader_metadata(const std::map<std::string, int32_t>& counts, int64_t now_ms) {
  if (state_ != State::leader_wait) return;
  std::shared_ptr<const Assignor> assignor;
  for (const auto& a : config_.assignors)
    if (a->name() == protocol_name_) assignor = a;
  if (!assignor)
    return fatal(Error{ErrorCode::inconsistent_group_protocol,
                       fmt::format("group {} chose protocol \"{}\" that this member does not have", config_.group_id,
                                   protocol_name_)});
  std::vector<AssignorMember> members;
  std::map<std::string, int16_t> versions;
  for (const auto& m : join_members_) {
    AssignorMember am;
    am.member_id = m.member_id;
    am.group_instance_id = m.group_instance_id;
    auto s = protocol::decode_consumer_subscription(m.metadata);
    if (s) {
      am.topics = s->topics;
      for (const auto& tp : s->owned_partitions)
        for (int32_t p : tp.partitions) am.owned.push_back({tp.topic, p});
      am.generation = s->generation_id;
      // Subscription v0/v1 from older clients: cooperative-sticky keeps the generation in
      // its user data (int32).
      if (s->version < 2 && s->user_data && s->user_data->size() >= 4) {
        const auto& u = *s->user_data;
        am.generation = static_cast<int32_t>(uint32_t(u[0]) << 24 | uint32_t(u[1]) << 16 | uint32_t(u[2]) << 8 | u[3]);
      }
      versions[m.member_id] = s->version;
    } else {
      log::warn(kLog, "group {}: member {} sent an undecodable subscription: {}", config_.group_id, m.member_id,
                s.error().message);
    }
    members.push_back(std::move(am));
  }
  std::map<std::string, int32_t> ppt;
  for (const auto& [t, n] : counts)
    if (n > 0) ppt[t] = n;
  GroupAssignment result = assignor->assign(ppt, members);
  protocol::SyncGroupRequest req;
  req.group_id = config_.group_id;
  req.generation_id = generation_;
  req.member_id = member_id_;
  req.group_instance_id = config_.group_instance_id;
  req.protocol_type = kProtocolType;
  req.protocol_name = protocol_name_;
  for (const auto& [id, parts] : result) {
    protocol::ConsumerAssignment a;
    auto v = versions.find(id);
    a.version = std::min<int16_t>(v == versions.end() ? 0 : v->second, protocol::kConsumerAssignmentMaxVersion);
    a.assigned_partitions = group_by_topic(parts);
    protocol::SyncGroupRequest::SyncGroupRequestAssignment sa;
    sa.member_id = id;
    sa.assignment = protocol::encode_consumer_assignment(a);
    req.assignments.push_back(std::move(sa));
  }
  // The leader remembers the partition counts it assigned with (Java's assignment snapshot).
  std::map<std::string, int32_t> mine;
  for (const auto& t : subscription_)
    if (auto it = ppt.find(t); it != ppt.end()) mine[t] = it->second;
  joined_counts_ = mine;
  partition_counts_ = mine;
  state_ = State::syncing;
  (void)now_ms;
  actions_.push_back(membership::SyncGroup{std::move(req)});
}

void GroupMembership::on_sync_group(Result<protocol::SyncGroupResponse> r, int64_t now_ms) {
  if (state_ != State::syncing) return;
  ErrorCode code = r ? static_cast<ErrorCode>(r->error_code) : r.error().code;
  if (code != ErrorCode::none) return handle_group_error(code, now_ms, "SyncGroup");
  auto a = protocol::decode_consumer_assignment(r->assignment);
  if (!a) {
    log::warn(kLog, "group {}: undecodable assignment ({}), rejoining", config_.group_id, a.error().message);
    return rejoin(now_ms, false);
  }
  std::vector<TopicPartition> next;
  bool foreign = false;
  for (const auto& tp : a->assigned_partitions) {
    if (!subscription_.count(tp.topic)) foreign = true;
    for (int32_t p : tp.partitions) next.push_back({tp.topic, p});
  }
  std::sort(next.begin(), next.end());
  next.erase(std::unique(next.begin(), next.end()), next.end());
  RebalanceEvent ev;
  ev.kind = RebalanceEvent::Kind::assign;
  ev.revoked = minus(owned_, next);
  ev.added = minus(next, owned_);
  ev.assignment = next;
  ev.generation = generation_;
  // KIP-429: after giving up partitions, rejoin so they can go to their new owner. A
  // subscription that changed during the rebalance also needs another round.
  bool again = rejoin_after_event_ || (cooperative_ && !ev.revoked.empty()) || foreign;
  owned_ = next;
  state_ = State::assigning;
  rejoin_after_event_ = again;
  last_heartbeat_ok_ms_ = now_ms;
  next_heartbeat_ms_ = now_ms + config_.heartbeat_interval_ms;
  log::info(kLog, "group {}: generation {} assigns {} partition(s) ({} added, {} revoked)", config_.group_id,
            generation_, next.size(), ev.added.size(), ev.revoked.size());
  actions_.push_back(membership::Deliver{std::move(ev)});
}

void GroupMembership::on_heartbeat(Result<protocol::HeartbeatResponse> r, int64_t now_ms) {
  heartbeat_in_flight_ = false;
  if (state_ != State::stable && state_ != State::assigning && state_ != State::preparing) return;
  ErrorCode code = r ? static_cast<ErrorCode>(r->error_code) : r.error().code;
  switch (code) {
    case ErrorCode::none:
      last_heartbeat_ok_ms_ = now_ms;
      break;
    case ErrorCode::rebalance_in_progress:
      if (state_ == State::stable) {
        log::info(kLog, "group {}: rebalance in progress, rejoining", config_.group_id);
        return rejoin(now_ms, false);
      }
      if (state_ == State::assigning) rejoin_after_event_ = true;
      break;
    case ErrorCode::illegal_generation:
    case ErrorCode::unknown_member_id:
      log::info(kLog, "group {}: heartbeat says {}, partitions lost, rejoining", config_.group_id, error_name(code));
      reset_generation(code == ErrorCode::unknown_member_id);
      if (state_ == State::stable) return rejoin(now_ms, true);
      if (state_ == State::assigning) rejoin_after_event_ = true;  // event_done sees generation -1
      break;
    case ErrorCode::fenced_instance_id:
      return fatal(Error{code, fmt::format("group {}: this group.instance.id was taken over by another member",
                                           config_.group_id)});
    default:
      if (coordinator_error(code)) return coordinator_lost(now_ms);
      log::debug(kLog, "group {}: heartbeat failed: {}", config_.group_id, error_name(code));
      break;
  }
  maybe_act(now_ms);
}

void GroupMembership::on_commit_error(ErrorCode code, int64_t now_ms) {
  if (state_ == State::idle || state_ == State::failed) return;
  if (code == ErrorCode::fenced_instance_id)
    return fatal(Error{code, fmt::format("group {}: this group.instance.id was taken over", config_.group_id)});
  if (code != ErrorCode::illegal_generation && code != ErrorCode::unknown_member_id) return;
  reset_generation(code == ErrorCode::unknown_member_id);
  if (state_ == State::stable) return rejoin(now_ms, true);
  if (state_ == State::assigning) rejoin_after_event_ = true;
}

void GroupMembership::event_done(int64_t now_ms) {
  if (state_ == State::preparing) {
    state_ = State::unjoined;
    join_after_ms_ = now_ms;
  } else if (state_ == State::assigning) {
    state_ = State::stable;
    if (generation_ < 0) return rejoin(now_ms, true);
    if (rejoin_after_event_) return rejoin(now_ms, false);
  }
  maybe_act(now_ms);
}

void GroupMembership::leave(int64_t now_ms) {
  if (state_ != State::idle && !config_.group_instance_id && coordinator_ && !member_id_.empty()) {
    protocol::LeaveGroupRequest req;
    req.group_id = config_.group_id;
    req.member_id = member_id_;
    protocol::LeaveGroupRequest::MemberIdentity m;
    m.member_id = member_id_;
    m.reason = "the consumer is being closed or unsubscribed";
    req.members.push_back(std::move(m));
    actions_.push_back(membership::LeaveGroup{std::move(req)});
  }
  // Static members (KIP-345) keep their member id so a restart rejoins without a rebalance;
  // the broker keeps the id for the instance, a new process gets it back by instance id.
  reset_generation(true);
  owned_.clear();
  subscription_.clear();
  state_ = State::idle;
  rejoin_after_event_ = false;
  heartbeat_in_flight_ = false;
  poll_expired_ = false;
  (void)now_ms;
}

}  // namespace conveyor::client
