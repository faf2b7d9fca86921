#include "conveyor/group/coordinator.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include "conveyor/base/assert.h"
#include "conveyor/group/offsets_records.h"
#include "conveyor/protocol/consumer_protocol.h"

namespace conveyor::group {

ErrorCode group_store_error(ErrorCode append_error, ErrorCode too_large) {
  switch (append_error) {
    case ErrorCode::coordinator_not_available:
    case ErrorCode::unknown_topic_or_partition:
    case ErrorCode::not_enough_replicas:
    case ErrorCode::not_enough_replicas_after_append:
    case ErrorCode::request_timed_out:
      return ErrorCode::coordinator_not_available;
    case ErrorCode::not_leader_or_follower:
    case ErrorCode::kafka_storage_error:
      return ErrorCode::not_coordinator;
    case ErrorCode::message_too_large:
    case ErrorCode::record_list_too_large:
    case ErrorCode::invalid_fetch_size:
      return too_large;
    default:
      return ErrorCode::unknown_server_error;
  }
}

namespace {
int16_t code(ErrorCode e) { return static_cast<int16_t>(e); }

// DescribeGroups v3+ authorized operations when asked: READ (3), DELETE (6), DESCRIBE (8);
// no authorizer means every group operation is allowed.
constexpr int32_t kAllGroupOperations = (1 << 3) | (1 << 6) | (1 << 8);
constexpr int32_t kOperationsNotRequested = INT32_MIN;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

const char* group_state_name(GroupState s) {
  switch (s) {
    case GroupState::empty: return "Empty";
    case GroupState::preparing_rebalance: return "PreparingRebalance";
    case GroupState::completing_rebalance: return "CompletingRebalance";
    case GroupState::stable: return "Stable";
    case GroupState::dead: return "Dead";
  }
  return "Unknown";
}

struct GroupCoordinator::Member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<std::pair<std::string, Bytes>> protocols;  // in the member's preference order
  Bytes assignment;
  std::optional<Token> join_token;
  int16_t join_version = 0;
  std::optional<Token> sync_token;
  int16_t sync_version = 0;
  int64_t heartbeat_deadline_ms = 0;
  bool is_new = false;  // has not yet received a JoinGroup response
  uint64_t join_order = 0;

  const Bytes* metadata_for(const std::string& protocol) const {
    for (const auto& [name, meta] : protocols)
      if (name == protocol) return &meta;
    return nullptr;
  }
  bool same_protocols(const protocol::JoinGroupRequest& req) const {
    if (protocols.size() != req.protocols.size()) return false;
    for (size_t i = 0; i < protocols.size(); ++i)
      if (protocols[i].first != req.protocols[i].name || protocols[i].second != req.protocols[i].metadata)
        return false;
    return true;
  }
};

struct GroupCoordinator::Group {
  std::string id;
  GroupState state = GroupState::empty;
  int64_t state_timestamp_ms = 0;
  int32_t generation_id = 0;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::optional<std::string> leader_id;
  std::map<std::string, Member> members;
  std::map<std::string, std::string> static_members;   // group.instance.id → member id
  std::map<std::string, int64_t> pending_members;      // KIP-394: member id → deadline
  uint64_t next_join_order = 0;
  // Join phase (PreparingRebalance).
  int64_t join_deadline_ms = 0;
  bool initial_delay = false;
  bool new_member_added = false;
  int64_t initial_delay_remaining_ms = 0;
  std::map<std::pair<std::string, int32_t>, CommittedOffset> offsets;
  bool had_members_on_load = false;

  bool all_joined() const {
    if (!pending_members.empty()) return false;
    for (const auto& [id, m] : members)
      if (!m.join_token) return false;
    return true;
  }
  int32_t max_rebalance_timeout_ms() const {
    int32_t t = 0;
    for (const auto& [id, m] : members) t = std::max(t, m.rebalance_timeout_ms);
    return t;
  }
  bool is_fenced(const std::optional<std::string>& instance, const std::string& member_id) const {
    if (!instance) return false;
    auto it = static_members.find(*instance);
    return it != static_members.end() && it->second != member_id;
  }
  // Topics subscribed by the members (consumer protocol only); nullopt if unknown.
  std::optional<std::set<std::string>> subscribed_topics() const {
    if (protocol_type != protocol::kConsumerProtocolType || !protocol_name) return std::nullopt;
    std::set<std::string> topics;
    for (const auto& [id, m] : members) {
      const Bytes* meta = m.metadata_for(*protocol_name);
      if (!meta) return std::nullopt;
      auto sub = protocol::decode_consumer_subscription(*meta);
      if (!sub) return std::nullopt;
      topics.insert(sub->topics.begin(), sub->topics.end());
    }
    return topics;
  }
};

GroupCoordinator::GroupCoordinator(CoordinatorConfig config) : config_(config), random_(config.random_seed) {
  CONVEYOR_ASSERT(config_.offsets_topic_num_partitions > 0);
}
GroupCoordinator::~GroupCoordinator() = default;

int32_t GroupCoordinator::partition_for(const std::string& group_id) const {
  return partition_for_group(group_id, config_.offsets_topic_num_partitions);
}

GroupCoordinator::Group* GroupCoordinator::find_group(const std::string& id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

GroupCoordinator::Group& GroupCoordinator::get_or_create_group(const std::string& id, int64_t now_ms) {
  auto& slot = groups_[id];
  if (!slot) {
    slot = std::make_unique<Group>();
    slot->id = id;
    slot->state_timestamp_ms = now_ms;
  }
  return *slot;
}

std::string GroupCoordinator::new_member_id(const std::string& prefix) {
  uint64_t hi = random_(), lo = random_();
  hi = (hi & ~uint64_t{0xF000}) | 0x4000;                         // version 4
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // variant 10
  return fmt::format("{}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", prefix, hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                     lo >> 48, lo & 0xFFFFFFFFFFFFull);
}

void GroupCoordinator::transition(Group& g, GroupState s, int64_t now_ms) {
  g.state = s;
  g.state_timestamp_ms = now_ms;
}

size_t GroupCoordinator::group_count() const { return groups_.size(); }

// ---------------------------------------------------------------------------------- JoinGroup

namespace {
protocol::JoinGroupResponse join_error(ErrorCode e, const std::string& member_id) {
  protocol::JoinGroupResponse r;
  r.error_code = code(e);
  r.generation_id = -1;
  r.member_id = member_id;
  r.protocol_name = std::nullopt;
  return r;
}
}  // namespace

protocol::JoinGroupResponse GroupCoordinator::join_response(const Group& g, const Member& m, int16_t version) const {
  protocol::JoinGroupResponse r;
  r.error_code = 0;
  r.generation_id = g.generation_id;
  r.protocol_type = g.protocol_type;
  r.protocol_name = g.protocol_name;
  r.leader = g.leader_id.value_or("");
  r.member_id = m.member_id;
  if (g.leader_id == m.member_id && g.protocol_name) {
    for (const auto& [id, other] : g.members) {
      auto& out = r.members.emplace_back();
      out.member_id = id;
      out.group_instance_id = other.group_instance_id;
      if (const Bytes* meta = other.metadata_for(*g.protocol_name)) out.metadata = *meta;
    }
  }
  return r;
}

bool GroupCoordinator::supports_protocols(const Group& g, const protocol::JoinGroupRequest& req) const {
  if (g.members.empty()) return !req.protocol_type.empty() && !req.protocols.empty();
  if (g.protocol_type != req.protocol_type) return false;
  for (const auto& p : req.protocols) {
    size_t count = 0;
    for (const auto& [id, m] : g.members)
      if (m.metadata_for(p.name)) ++count;
    if (count == g.members.size()) return true;
  }
  return false;
}

std::optional<std::string> GroupCoordinator::select_protocol(const Group& g) const {
  if (g.members.empty()) return std::nullopt;
  // Candidates: protocols every member supports, in the first member's preference order.
  const Member& first = g.members.begin()->second;
  std::vector<std::string> candidates;
  for (const auto& [name, meta] : first.protocols) {
    bool all = std::all_of(g.members.begin(), g.members.end(),
                           [&](const auto& kv) { return kv.second.metadata_for(name) != nullptr; });
    if (all) candidates.push_back(name);
  }
  if (candidates.empty()) return std::nullopt;
  // Each member votes for the candidate it prefers most; the most votes win (ties: the first
  // candidate in the order above).
  std::map<std::string, int> votes;
  for (const auto& [id, m] : g.members) {
    for (const auto& [name, meta] : m.protocols) {
      if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) {
        ++votes[name];
        break;
      }
    }
  }
  std::string best = candidates.front();
  for (const auto& c : candidates)
    if (votes[c] > votes[best]) best = c;
  return best;
}

GroupCoordinator::Member& GroupCoordinator::add_member(Group& g, std::string member_id, Token token,
                                                       int16_t version, const protocol::JoinGroupRequest& req,
                                                       const std::string& client_id,
                                                       const std::string& client_host, int64_t now_ms) {
  if (g.members.empty()) g.protocol_type = req.protocol_type;
  Member& m = g.members[member_id];
  m.member_id = member_id;
  m.group_instance_id = req.group_instance_id;
  m.client_id = client_id;
  m.client_host = client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = version == 0 ? req.session_timeout_ms : req.rebalance_timeout_ms;
  m.protocol_type = req.protocol_type;
  for (const auto& p : req.protocols) m.protocols.emplace_back(p.name, p.metadata);
  m.join_token = token;
  m.join_version = version;
  m.is_new = true;
  m.heartbeat_deadline_ms = now_ms + config_.new_member_join_timeout_ms;
  m.join_order = g.next_join_order++;
  if (m.group_instance_id) g.static_members[*m.group_instance_id] = member_id;
  if (!g.leader_id) g.leader_id = member_id;
  if (g.state == GroupState::preparing_rebalance && g.initial_delay) g.new_member_added = true;
  return m;
}

void GroupCoordinator::update_member(Group& g, Member& m, Token token, int16_t version,
                                     const protocol::JoinGroupRequest& req, Output& out) {
  if (m.join_token && *m.join_token != token)
    out.joins.emplace_back(*m.join_token, join_error(ErrorCode::rebalance_in_progress, m.member_id));
  m.protocols.clear();
  for (const auto& p : req.protocols) m.protocols.emplace_back(p.name, p.metadata);
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = version == 0 ? req.session_timeout_ms : req.rebalance_timeout_ms;
  m.join_token = token;
  m.join_version = version;
}

void GroupCoordinator::replace_static_member(Group& g, Member& m, const std::string& new_id, Output& out) {
  // The old member id is fenced: its parked requests are answered FENCED_INSTANCE_ID.
  if (m.join_token) out.joins.emplace_back(*m.join_token, join_error(ErrorCode::fenced_instance_id, m.member_id));
  if (m.sync_token) {
    protocol::SyncGroupResponse r;
    r.error_code = code(ErrorCode::fenced_instance_id);
    out.syncs.emplace_back(*m.sync_token, std::move(r));
  }
  m.join_token.reset();
  m.sync_token.reset();
  std::string old_id = m.member_id;
  auto node = g.members.extract(old_id);
  node.key() = new_id;
  node.mapped().member_id = new_id;
  g.members.insert(std::move(node));
  if (g.leader_id == old_id) g.leader_id = new_id;
  g.static_members[*g.members[new_id].group_instance_id] = new_id;
}

void GroupCoordinator::join_group(Token token, int16_t version, const protocol::JoinGroupRequest& req,
                                  const std::string& client_id, const std::string& client_host, int64_t now_ms,
                                  Output& out) {
  auto reply_error = [&](ErrorCode e) { out.joins.emplace_back(token, join_error(e, req.member_id)); };
  if (req.group_id.empty()) return reply_error(ErrorCode::invalid_group_id);
  if (req.session_timeout_ms < config_.min_session_timeout_ms ||
      req.session_timeout_ms > config_.max_session_timeout_ms)
    return reply_error(ErrorCode::invalid_session_timeout);

  Group* existing = find_group(req.group_id);
  if (!existing && !req.member_id.empty()) return reply_error(ErrorCode::unknown_member_id);
  Group& g = existing ? *existing : get_or_create_group(req.group_id, now_ms);
  auto drop_if_unused = [&] {
    if (g.state == GroupState::empty && g.members.empty() && g.pending_members.empty() && g.offsets.empty() &&
        g.generation_id == 0) {
      std::string id = g.id;
      groups_.erase(id);
    }
  };
  if (g.state == GroupState::dead) return reply_error(ErrorCode::coordinator_not_available);
  if (!supports_protocols(g, req)) {
    reply_error(ErrorCode::inconsistent_group_protocol);
    return drop_if_unused();
  }
  if (req.member_id.empty()) {
    join_unknown_member(g, token, version, req, client_id, client_host, now_ms, out);
  } else {
    join_known_member(g, token, version, req, client_id, client_host, now_ms, out);
  }
  drop_if_unused();
}

void GroupCoordinator::join_unknown_member(Group& g, Token token, int16_t version,
                                           const protocol::JoinGroupRequest& req, const std::string& client_id,
                                           const std::string& client_host, int64_t now_ms, Output& out) {
  const auto size = static_cast<int64_t>(g.members.size() + g.pending_members.size());
  if (req.group_instance_id) {
    auto known = g.static_members.find(*req.group_instance_id);
    std::string new_id = new_member_id(*req.group_instance_id);
    if (known != g.static_members.end() && g.members.contains(known->second)) {
      Member* m = &g.members.at(known->second);
      // KIP-345: a known instance rejoins with a new member id; the old id is fenced.
      bool unchanged = g.protocol_name && m->metadata_for(*g.protocol_name) &&
                       std::any_of(req.protocols.begin(), req.protocols.end(), [&](const auto& p) {
                         return p.name == *g.protocol_name && p.metadata == *m->metadata_for(*g.protocol_name);
                       });
      replace_static_member(g, *m, new_id, out);
      m = &g.members.at(new_id);
      m->client_id = client_id;
      m->client_host = client_host;
      if (g.state == GroupState::stable && unchanged) {
        m->session_timeout_ms = req.session_timeout_ms;
        m->rebalance_timeout_ms = version == 0 ? req.session_timeout_ms : req.rebalance_timeout_ms;
        m->heartbeat_deadline_ms = now_ms + m->session_timeout_ms;
        store_group(g, out);
        auto r = join_response(g, *m, version);
        if (g.leader_id == m->member_id) {
          // KIP-814: the leader learns the members but must not compute a new assignment.
          if (version >= 9) {
            r.skip_assignment = true;
          } else {
            r.members.clear();
          }
        }
        out.joins.emplace_back(token, std::move(r));
        return;
      }
      update_member(g, *m, token, version, req, out);
      if (g.state == GroupState::preparing_rebalance) return maybe_complete_join(g, now_ms, out);
      return prepare_rebalance(g, now_ms, out);
    }
    if (size >= config_.max_group_size)
      return out.joins.emplace_back(token, join_error(ErrorCode::group_max_size_reached, "")), void();
    add_member(g, new_id, token, version, req, client_id, client_host, now_ms);
  } else {
    if (size >= config_.max_group_size)
      return out.joins.emplace_back(token, join_error(ErrorCode::group_max_size_reached, "")), void();
    std::string new_id = new_member_id(client_id);
    if (version >= 4) {
      // KIP-394: hand out the id; the member must join again with it.
      g.pending_members[new_id] = now_ms + req.session_timeout_ms;
      out.joins.emplace_back(token, join_error(ErrorCode::member_id_required, new_id));
      return;
    }
    add_member(g, new_id, token, version, req, client_id, client_host, now_ms);
  }
  if (g.state == GroupState::preparing_rebalance) return maybe_complete_join(g, now_ms, out);
  prepare_rebalance(g, now_ms, out);
}

void GroupCoordinator::join_known_member(Group& g, Token token, int16_t version,
                                         const protocol::JoinGroupRequest& req, const std::string& client_id,
                                         const std::string& client_host, int64_t now_ms, Output& out) {
  auto reply_error = [&](ErrorCode e) { out.joins.emplace_back(token, join_error(e, req.member_id)); };
  if (auto p = g.pending_members.find(req.member_id); p != g.pending_members.end()) {
    g.pending_members.erase(p);
    if (static_cast<int64_t>(g.members.size()) >= config_.max_group_size)
      return reply_error(ErrorCode::group_max_size_reached);
    add_member(g, req.member_id, token, version, req, client_id, client_host, now_ms);
    if (g.state == GroupState::preparing_rebalance) return maybe_complete_join(g, now_ms, out);
    return prepare_rebalance(g, now_ms, out);
  }
  if (g.is_fenced(req.group_instance_id, req.member_id)) return reply_error(ErrorCode::fenced_instance_id);
  auto it = g.members.find(req.member_id);
  if (it == g.members.end()) return reply_error(ErrorCode::unknown_member_id);
  Member& m = it->second;
  switch (g.state) {
    case GroupState::preparing_rebalance:
      update_member(g, m, token, version, req, out);
      return maybe_complete_join(g, now_ms, out);
    case GroupState::completing_rebalance:
      if (m.same_protocols(req)) {
        // The member probably lost the JoinGroup response: send it again.
        m.heartbeat_deadline_ms = now_ms + m.session_timeout_ms;
        return out.joins.emplace_back(token, join_response(g, m, version)), void();
      }
      update_member(g, m, token, version, req, out);
      return prepare_rebalance(g, now_ms, out);
    case GroupState::stable:
      if (g.leader_id == m.member_id || !m.same_protocols(req)) {
        update_member(g, m, token, version, req, out);
        return prepare_rebalance(g, now_ms, out);
      }
      m.heartbeat_deadline_ms = now_ms + m.session_timeout_ms;
      return out.joins.emplace_back(token, join_response(g, m, version)), void();
    case GroupState::empty:
    case GroupState::dead:
      return reply_error(ErrorCode::unknown_member_id);
  }
}

void GroupCoordinator::prepare_rebalance(Group& g, int64_t now_ms, Output& out) {
  if (g.state == GroupState::completing_rebalance) complete_pending_syncs(g, code(ErrorCode::rebalance_in_progress), out);
  if (g.state == GroupState::empty) {
    // group.initial.rebalance.delay.ms: wait for more members before the first rebalance,
    // extended as members join, up to the rebalance timeout.
    g.initial_delay = true;
    g.new_member_added = false;
    g.join_deadline_ms = now_ms + config_.initial_rebalance_delay_ms;
    g.initial_delay_remaining_ms =
        std::max<int64_t>(int64_t{g.max_rebalance_timeout_ms()} - config_.initial_rebalance_delay_ms, 0);
  } else {
    g.initial_delay = false;
    g.join_deadline_ms = now_ms + g.max_rebalance_timeout_ms();
  }
  transition(g, GroupState::preparing_rebalance, now_ms);
  maybe_complete_join(g, now_ms, out);
}

void GroupCoordinator::maybe_complete_join(Group& g, int64_t now_ms, Output& out) {
  if (g.state != GroupState::preparing_rebalance) return;
  if (g.initial_delay) {
    if (now_ms < g.join_deadline_ms) return;
    if (g.new_member_added && g.initial_delay_remaining_ms > 0) {
      int64_t delay = std::min<int64_t>(config_.initial_rebalance_delay_ms, g.initial_delay_remaining_ms);
      g.initial_delay_remaining_ms -= delay;
      g.new_member_added = false;
      g.join_deadline_ms = now_ms + delay;
      return;
    }
    return complete_join(g, now_ms, out);
  }
  if (g.all_joined() || now_ms >= g.join_deadline_ms) complete_join(g, now_ms, out);
}

void GroupCoordinator::complete_join(Group& g, int64_t now_ms, Output& out) {
  // Dynamic members that did not rejoin in time are removed (static ones stay, KIP-345).
  std::vector<std::string> gone;
  for (const auto& [id, m] : g.members)
    if (!m.join_token && !m.group_instance_id) gone.push_back(id);
  for (const auto& id : gone) {
    if (g.members.at(id).group_instance_id) g.static_members.erase(*g.members.at(id).group_instance_id);
    g.members.erase(id);
  }
  if (g.leader_id && !g.members.contains(*g.leader_id)) g.leader_id.reset();
  g.initial_delay = false;
  ++g.generation_id;
  if (g.members.empty()) {
    g.protocol_name.reset();
    g.leader_id.reset();
    transition(g, GroupState::empty, now_ms);
    store_group(g, out);
    return;
  }
  g.protocol_name = select_protocol(g);
  // The leader: the current one if it rejoined, else the earliest member that did.
  if (!g.leader_id || !g.members.at(*g.leader_id).join_token) {
    const Member* best = nullptr;
    for (const auto& [id, m] : g.members)
      if (m.join_token && (!best || m.join_order < best->join_order)) best = &m;
    if (best) g.leader_id = best->member_id;
  }
  transition(g, GroupState::completing_rebalance, now_ms);
  for (auto& [id, m] : g.members) {
    m.assignment.clear();
    if (!m.join_token) continue;
    out.joins.emplace_back(*m.join_token, join_response(g, m, m.join_version));
    m.join_token.reset();
    m.is_new = false;
    m.heartbeat_deadline_ms = now_ms + m.session_timeout_ms;
  }
}

void GroupCoordinator::complete_pending_syncs(Group& g, int16_t error, Output& out) {
  for (auto& [id, m] : g.members) {
    if (!m.sync_token) continue;
    protocol::SyncGroupResponse r;
    r.error_code = error;
    if (error == 0) {
      r.protocol_type = g.protocol_type;
      r.protocol_name = g.protocol_name;
      r.assignment = m.assignment;
    }
    out.syncs.emplace_back(*m.sync_token, std::move(r));
    m.sync_token.reset();
  }
}

void GroupCoordinator::remove_member(Group& g, const std::string& member_id, int64_t now_ms, Output& out) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  Member& m = it->second;
  if (m.join_token) out.joins.emplace_back(*m.join_token, join_error(ErrorCode::unknown_member_id, member_id));
  if (m.sync_token) {
    protocol::SyncGroupResponse r;
    r.error_code = code(ErrorCode::unknown_member_id);
    out.syncs.emplace_back(*m.sync_token, std::move(r));
  }
  if (m.group_instance_id) g.static_members.erase(*m.group_instance_id);
  g.members.erase(it);
  if (g.leader_id == member_id) {
    g.leader_id.reset();
    const Member* best = nullptr;
    for (const auto& [id, other] : g.members)
      if (!best || other.join_order < best->join_order) best = &other;
    if (best) g.leader_id = best->member_id;
  }
  switch (g.state) {
    case GroupState::stable:
    case GroupState::completing_rebalance: prepare_rebalance(g, now_ms, out); break;
    case GroupState::preparing_rebalance: maybe_complete_join(g, now_ms, out); break;
    default: break;
  }
}

// ---------------------------------------------------------------------------------- SyncGroup

void GroupCoordinator::sync_group(Token token, int16_t version, const protocol::SyncGroupRequest& req,
                                  int64_t now_ms, Output& out) {
  auto reply_error = [&](ErrorCode e) {
    protocol::SyncGroupResponse r;
    r.error_code = code(e);
    out.syncs.emplace_back(token, std::move(r));
  };
  if (req.group_id.empty()) return reply_error(ErrorCode::invalid_group_id);
  Group* gp = find_group(req.group_id);
  if (!gp) return reply_error(ErrorCode::unknown_member_id);
  Group& g = *gp;
  if (g.state == GroupState::dead) return reply_error(ErrorCode::coordinator_not_available);
  if (g.is_fenced(req.group_instance_id, req.member_id)) return reply_error(ErrorCode::fenced_instance_id);
  auto it = g.members.find(req.member_id);
  if (it == g.members.end()) return reply_error(ErrorCode::unknown_member_id);
  if (req.generation_id != g.generation_id) return reply_error(ErrorCode::illegal_generation);
  if ((req.protocol_type && *req.protocol_type != g.protocol_type.value_or("")) ||
      (req.protocol_name && *req.protocol_name != g.protocol_name.value_or("")))
    return reply_error(ErrorCode::inconsistent_group_protocol);
  Member& m = it->second;
  switch (g.state) {
    case GroupState::empty:
    case GroupState::dead: return reply_error(ErrorCode::unknown_member_id);
    case GroupState::preparing_rebalance: return reply_error(ErrorCode::rebalance_in_progress);
    case GroupState::completing_rebalance: {
      if (m.sync_token && *m.sync_token != token) {
        protocol::SyncGroupResponse r;
        r.error_code = code(ErrorCode::rebalance_in_progress);
        out.syncs.emplace_back(*m.sync_token, std::move(r));
      }
      m.sync_token = token;
      m.sync_version = version;
      m.heartbeat_deadline_ms = now_ms + m.session_timeout_ms;
      if (g.leader_id != m.member_id) return;
      for (auto& [id, member] : g.members) member.assignment.clear();
      for (const auto& a : req.assignments) {
        auto target = g.members.find(a.member_id);
        if (target != g.members.end()) target->second.assignment = a.assignment;
      }
      // Answer only once the assignment is stored: finish_assignment_store().
      store_group(g, out);
      out.assignment_store_group = g.id;
      return;
    }
    case GroupState::stable: {
      m.heartbeat_deadline_ms = now_ms + m.session_timeout_ms;
      protocol::SyncGroupResponse r;
      r.error_code = 0;
      r.protocol_type = g.protocol_type;
      r.protocol_name = g.protocol_name;
      r.assignment = m.assignment;
      out.syncs.emplace_back(token, std::move(r));
      return;
    }
  }
}

void GroupCoordinator::finish_assignment_store(const std::string& group_id, const Result<void>& written,
                                               int64_t now_ms, Output& out) {
  Group* g = find_group(group_id);
  if (!g || g->state != GroupState::completing_rebalance) return;
  if (written) {
    transition(*g, GroupState::stable, now_ms);
    complete_pending_syncs(*g, 0, out);
    return;
  }
  const ErrorCode e = group_store_error(written.error().code, ErrorCode::unknown_server_error);
  for (auto& [id, m] : g->members) m.assignment.clear();
  complete_pending_syncs(*g, code(e), out);
  prepare_rebalance(*g, now_ms, out);
}

// ---------------------------------------------------------------------------------- Heartbeat

protocol::HeartbeatResponse GroupCoordinator::heartbeat(int16_t version, const protocol::HeartbeatRequest& req,
                                                        int64_t now_ms) {
  protocol::HeartbeatResponse r;
  auto error = [&](ErrorCode e) {
    r.error_code = code(e);
    return r;
  };
  if (req.group_id.empty()) return error(ErrorCode::invalid_group_id);
  Group* g = find_group(req.group_id);
  if (!g) return error(ErrorCode::unknown_member_id);
  if (g->state == GroupState::dead) return error(ErrorCode::coordinator_not_available);
  if (g->is_fenced(req.group_instance_id, req.member_id)) return error(ErrorCode::fenced_instance_id);
  auto it = g->members.find(req.member_id);
  if (it == g->members.end() || g->state == GroupState::empty) return error(ErrorCode::unknown_member_id);
  if (req.generation_id != g->generation_id) return error(ErrorCode::illegal_generation);
  it->second.heartbeat_deadline_ms = now_ms + it->second.session_timeout_ms;
  if (g->state == GroupState::preparing_rebalance) return error(ErrorCode::rebalance_in_progress);
  return error(ErrorCode::none);
}

// --------------------------------------------------------------------------------- LeaveGroup

protocol::LeaveGroupResponse GroupCoordinator::leave_group(int16_t version, const protocol::LeaveGroupRequest& req,
                                                           int64_t now_ms, Output& out) {
  protocol::LeaveGroupResponse r;
  std::vector<protocol::LeaveGroupRequest::MemberIdentity> leaving;
  if (version >= 3) {
    leaving = req.members;
  } else {
    leaving.emplace_back().member_id = req.member_id;
  }
  if (req.group_id.empty()) {
    r.error_code = code(ErrorCode::invalid_group_id);
    return r;
  }
  Group* g = find_group(req.group_id);
  for (const auto& who : leaving) {
    auto& mr = r.members.emplace_back();
    mr.member_id = who.member_id;
    mr.group_instance_id = who.group_instance_id;
    ErrorCode e = ErrorCode::none;
    if (!g || g->state == GroupState::dead) {
      e = g ? ErrorCode::coordinator_not_available : ErrorCode::unknown_member_id;
    } else if (who.group_instance_id) {
      // KIP-345: removal by instance id; an empty member id means "whoever holds it" (admin).
      auto s = g->static_members.find(*who.group_instance_id);
      if (s == g->static_members.end()) {
        e = ErrorCode::unknown_member_id;
      } else if (!who.member_id.empty() && s->second != who.member_id) {
        e = ErrorCode::fenced_instance_id;
      } else {
        remove_member(*g, s->second, now_ms, out);
      }
    } else if (g->pending_members.erase(who.member_id)) {
      maybe_complete_join(*g, now_ms, out);
    } else if (g->members.contains(who.member_id)) {
      remove_member(*g, who.member_id, now_ms, out);
    } else {
      e = ErrorCode::unknown_member_id;
    }
    mr.error_code = code(e);
  }
  if (version < 3) {
    r.error_code = r.members.front().error_code;
    r.members.clear();
  } else {
    r.error_code = 0;
  }
  return r;
}

// -------------------------------------------------------------------------------- OffsetCommit

OffsetCommitPlan GroupCoordinator::offset_commit(int16_t version, const protocol::OffsetCommitRequest& req,
                                                 const PartitionExists& exists, int64_t now_ms) {
  OffsetCommitPlan plan;
  plan.group_id = req.group_id;
  ErrorCode group_error = ErrorCode::none;
  Group* g = find_group(req.group_id);
  const int32_t generation = req.generation_id_or_member_epoch;
  if (req.group_id.empty()) {
    group_error = ErrorCode::invalid_group_id;
  } else if (!g) {
    // No group: only a commit outside group management (generation < 0) is accepted; it
    // creates an Empty group that holds offsets only.
    if (generation < 0) {
      g = &get_or_create_group(req.group_id, now_ms);
      plan.created_group = true;
    } else {
      group_error = ErrorCode::illegal_generation;
    }
  } else if (g->state == GroupState::dead) {
    group_error = ErrorCode::coordinator_not_available;
  } else if (g->is_fenced(req.group_instance_id, req.member_id)) {
    group_error = ErrorCode::fenced_instance_id;
  } else if (generation < 0 && g->state == GroupState::empty) {
    // admin/manual commit into an Empty group
  } else if (!g->members.contains(req.member_id)) {
    group_error = ErrorCode::unknown_member_id;
  } else if (generation != g->generation_id) {
    group_error = ErrorCode::illegal_generation;
  } else if (g->state == GroupState::completing_rebalance) {
    group_error = ErrorCode::rebalance_in_progress;
  } else if (g->state == GroupState::stable) {
    Member& m = g->members.at(req.member_id);
    m.heartbeat_deadline_ms = std::max(m.heartbeat_deadline_ms, now_ms + m.session_timeout_ms);
  }

  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    const auto& t = req.topics[ti];
    auto& tr = plan.response.topics.emplace_back();
    tr.name = t.name;
    for (size_t pi = 0; pi < t.partitions.size(); ++pi) {
      const auto& p = t.partitions[pi];
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = p.partition_index;
      ErrorCode e = group_error;
      const std::string metadata = p.committed_metadata.value_or("");
      if (e == ErrorCode::none && exists && !exists(t.name, p.partition_index))
        e = ErrorCode::unknown_topic_or_partition;
      if (e == ErrorCode::none && static_cast<int64_t>(metadata.size()) > config_.offset_metadata_max_bytes)
        e = ErrorCode::offset_metadata_too_large;
      pr.error_code = code(e);
      if (e != ErrorCode::none) continue;
      OffsetCommitPlan::Accepted a;
      a.topic_index = ti;
      a.partition_index = pi;
      a.topic = t.name;
      a.partition = p.partition_index;
      a.offset = p.committed_offset;
      a.leader_epoch = version >= 6 ? p.committed_leader_epoch : -1;
      a.metadata = metadata;
      a.commit_timestamp_ms = now_ms;
      Write w;
      w.partition = partition_for(req.group_id);
      w.key = encode_offset_key({req.group_id, a.topic, a.partition});
      w.value = encode_offset_value({a.offset, a.leader_epoch, a.metadata, a.commit_timestamp_ms, -1});
      plan.writes.push_back(std::move(w));
      plan.accepted.push_back(std::move(a));
    }
  }
  return plan;
}

void GroupCoordinator::finish_offset_commit(OffsetCommitPlan& plan, const Result<void>& written) {
  Group* g = find_group(plan.group_id);
  if (!written || !g) {
    int16_t e = code(written ? ErrorCode::coordinator_not_available
                             : group_store_error(written.error().code, ErrorCode::invalid_commit_offset_size));
    for (const auto& a : plan.accepted) plan.response.topics[a.topic_index].partitions[a.partition_index].error_code = e;
    if (g && plan.created_group && g->offsets.empty() && g->members.empty() && g->generation_id == 0)
      groups_.erase(plan.group_id);
    return;
  }
  for (const auto& a : plan.accepted)
    g->offsets[{a.topic, a.partition}] = CommittedOffset{a.offset, a.leader_epoch, a.metadata, a.commit_timestamp_ms};
}

// --------------------------------------------------------------------------------- OffsetFetch

protocol::OffsetFetchResponse GroupCoordinator::offset_fetch(int16_t version,
                                                             const protocol::OffsetFetchRequest& req) const {
  using Resp = protocol::OffsetFetchResponse;
  struct Part {
    std::string topic;
    int32_t partition;
    const CommittedOffset* committed;
  };
  // Collects the answer of one group: requested partitions, or every committed one (null topics).
  auto collect = [&](const std::string& group_id, const auto* topics) {
    std::vector<Part> parts;
    const Group* g = find_group(group_id);
    if (!topics) {
      if (g)
        for (const auto& [tp, c] : g->offsets) parts.push_back({tp.first, tp.second, &c});
      return parts;
    }
    for (const auto& t : *topics) {
      for (int32_t p : t.partition_indexes) {
        const CommittedOffset* c = nullptr;
        if (g)
          if (auto it = g->offsets.find({t.name, p}); it != g->offsets.end()) c = &it->second;
        parts.push_back({t.name, p, c});
      }
    }
    return parts;
  };
  auto fill = [](auto& topics_out, const std::vector<Part>& parts) {
    for (const auto& part : parts) {
      if (topics_out.empty() || topics_out.back().name != part.topic) topics_out.emplace_back().name = part.topic;
      auto& p = topics_out.back().partitions.emplace_back();
      p.partition_index = part.partition;
      p.committed_offset = part.committed ? part.committed->offset : -1;
      p.committed_leader_epoch = part.committed ? part.committed->leader_epoch : -1;
      p.metadata = part.committed ? part.committed->metadata : std::string();
      p.error_code = 0;
    }
  };
  Resp r;
  if (version >= 8) {
    for (const auto& group : req.groups) {
      auto& gr = r.groups.emplace_back();
      gr.group_id = group.group_id;
      gr.error_code = 0;
      fill(gr.topics, collect(group.group_id, group.topics ? &*group.topics : nullptr));
    }
  } else {
    r.error_code = 0;
    fill(r.topics, collect(req.group_id, req.topics ? &*req.topics : nullptr));
  }
  return r;
}

// -------------------------------------------------------------------------------- OffsetDelete

protocol::OffsetDeleteResponse GroupCoordinator::offset_delete(const protocol::OffsetDeleteRequest& req,
                                                               int64_t now_ms, Output& out) {
  protocol::OffsetDeleteResponse r;
  if (req.group_id.empty()) {
    r.error_code = code(ErrorCode::invalid_group_id);
    return r;
  }
  Group* g = find_group(req.group_id);
  if (!g || g->state == GroupState::dead) {
    r.error_code = code(ErrorCode::group_id_not_found);
    return r;
  }
  std::optional<std::set<std::string>> subscribed;
  if (g->state != GroupState::empty) {
    subscribed = g->subscribed_topics();
    if (!subscribed) {
      r.error_code = code(ErrorCode::non_empty_group);
      return r;
    }
  }
  r.error_code = 0;
  for (const auto& t : req.topics) {
    auto& tr = r.topics.emplace_back();
    tr.name = t.name;
    const bool busy = subscribed && subscribed->contains(t.name);
    for (const auto& p : t.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = p.partition_index;
      if (busy) {
        pr.error_code = code(ErrorCode::group_subscribed_to_topic);
        continue;
      }
      pr.error_code = 0;
      if (g->offsets.erase({t.name, p.partition_index}))
        out.writes.push_back({partition_for(g->id), encode_offset_key({g->id, t.name, p.partition_index}), std::nullopt});
    }
  }
  return r;
}

// ------------------------------------------------------------------ ListGroups / DescribeGroups

protocol::ListGroupsResponse GroupCoordinator::list_groups(int16_t version,
                                                           const protocol::ListGroupsRequest& req) const {
  protocol::ListGroupsResponse r;
  r.error_code = 0;
  for (const auto& [id, g] : groups_) {
    const char* state = group_state_name(g->state);
    if (version >= 4 && !req.states_filter.empty() &&
        std::none_of(req.states_filter.begin(), req.states_filter.end(),
                     [&](const std::string& s) { return iequals(s, state); }))
      continue;
    auto& lg = r.groups.emplace_back();
    lg.group_id = id;
    lg.protocol_type = g->protocol_type.value_or("");
    lg.group_state = state;
  }
  return r;
}

protocol::DescribeGroupsResponse GroupCoordinator::describe_groups(
    int16_t version, const protocol::DescribeGroupsRequest& req) const {
  protocol::DescribeGroupsResponse r;
  for (const auto& id : req.groups) {
    auto& d = r.groups.emplace_back();
    d.group_id = id;
    d.authorized_operations = version >= 3 && req.include_authorized_operations ? kAllGroupOperations
                                                                                 : kOperationsNotRequested;
    if (id.empty()) {
      d.error_code = code(ErrorCode::invalid_group_id);
      continue;
    }
    d.error_code = 0;
    const Group* g = find_group(id);
    if (!g) {
      d.group_state = group_state_name(GroupState::dead);
      continue;
    }
    d.group_state = group_state_name(g->state);
    d.protocol_type = g->protocol_type.value_or("");
    const bool stable = g->state == GroupState::stable;
    d.protocol_data = stable ? g->protocol_name.value_or("") : "";
    for (const auto& [mid, m] : g->members) {
      auto& dm = d.members.emplace_back();
      dm.member_id = mid;
      dm.group_instance_id = m.group_instance_id;
      dm.client_id = m.client_id;
      dm.client_host = m.client_host;
      if (stable) {
        if (const Bytes* meta = m.metadata_for(g->protocol_name.value_or(""))) dm.member_metadata = *meta;
        dm.member_assignment = m.assignment;
      }
    }
  }
  return r;
}

// -------------------------------------------------------------------------------- DeleteGroups

void GroupCoordinator::store_group(Group& g, Output& out) {
  GroupMetadataValue v;
  v.protocol_type = g.protocol_type.value_or("");
  v.generation = g.generation_id;
  v.protocol = g.protocol_name;
  v.leader = g.leader_id;
  v.current_state_timestamp_ms = g.state_timestamp_ms;
  if (g.state != GroupState::empty) {
    for (const auto& [id, m] : g.members) {
      auto& mv = v.members.emplace_back();
      mv.member_id = id;
      mv.group_instance_id = m.group_instance_id;
      mv.client_id = m.client_id;
      mv.client_host = m.client_host;
      mv.rebalance_timeout_ms = m.rebalance_timeout_ms;
      mv.session_timeout_ms = m.session_timeout_ms;
      if (g.protocol_name)
        if (const Bytes* meta = m.metadata_for(*g.protocol_name)) mv.subscription = *meta;
      mv.assignment = m.assignment;
    }
  }
  out.writes.push_back({partition_for(g.id), encode_group_key(g.id), encode_group_value(v)});
}

void GroupCoordinator::delete_group(Group& g, Output& out) {
  const int32_t partition = partition_for(g.id);
  for (const auto& [tp, c] : g.offsets)
    out.writes.push_back({partition, encode_offset_key({g.id, tp.first, tp.second}), std::nullopt});
  out.writes.push_back({partition, encode_group_key(g.id), std::nullopt});
  g.state = GroupState::dead;
  std::string id = g.id;
  groups_.erase(id);
}

protocol::DeleteGroupsResponse GroupCoordinator::delete_groups(int16_t version,
                                                               const protocol::DeleteGroupsRequest& req,
                                                               int64_t now_ms, Output& out) {
  protocol::DeleteGroupsResponse r;
  for (const auto& id : req.groups_names) {
    auto& res = r.results.emplace_back();
    res.group_id = id;
    Group* g = find_group(id);
    if (id.empty()) {
      res.error_code = code(ErrorCode::invalid_group_id);
    } else if (!g || g->state == GroupState::dead) {
      res.error_code = code(ErrorCode::group_id_not_found);
    } else if (g->state != GroupState::empty) {
      res.error_code = code(ErrorCode::non_empty_group);
    } else {
      delete_group(*g, out);
      res.error_code = 0;
    }
  }
  return r;
}

void GroupCoordinator::delete_topic_offsets(const std::string& topic, Output& out) {
  for (auto& [id, g] : groups_) {
    const int32_t partition = partition_for(id);
    for (auto it = g->offsets.lower_bound({topic, INT32_MIN}); it != g->offsets.end() && it->first.first == topic;) {
      out.writes.push_back({partition, encode_offset_key({id, topic, it->first.second}), std::nullopt});
      it = g->offsets.erase(it);
    }
  }
}

// ------------------------------------------------------------------------------------ Timeouts

void GroupCoordinator::tick(int64_t now_ms, Output& out) {
  std::vector<std::string> ids;
  ids.reserve(groups_.size());
  for (const auto& [id, g] : groups_) ids.push_back(id);
  for (const auto& id : ids) {
    Group* g = find_group(id);
    if (!g) continue;
    for (auto it = g->pending_members.begin(); it != g->pending_members.end();) {
      if (now_ms >= it->second) {
        it = g->pending_members.erase(it);
      } else {
        ++it;
      }
    }
    std::vector<std::string> expired;
    for (const auto& [mid, m] : g->members) {
      bool alive;
      if (m.join_token) {
        alive = !m.is_new || now_ms < m.heartbeat_deadline_ms;
      } else if (m.sync_token) {
        alive = true;
      } else {
        alive = now_ms < m.heartbeat_deadline_ms;
      }
      if (!alive) expired.push_back(mid);
    }
    for (const auto& mid : expired) remove_member(*g, mid, now_ms, out);
    maybe_complete_join(*g, now_ms, out);
  }
  if (next_retention_check_ms_ < 0) next_retention_check_ms_ = now_ms + config_.offsets_retention_check_interval_ms;
  if (now_ms >= next_retention_check_ms_) {
    expire_offsets(now_ms, out);
    next_retention_check_ms_ = now_ms + config_.offsets_retention_check_interval_ms;
  }
}

void GroupCoordinator::expire_offsets(int64_t now_ms, Output& out) {
  std::vector<std::string> ids;
  for (const auto& [id, g] : groups_) ids.push_back(id);
  for (const auto& id : ids) {
    Group& g = *groups_.at(id);
    std::optional<std::set<std::string>> subscribed;
    if (g.state == GroupState::stable) subscribed = g.subscribed_topics();
    if (g.state != GroupState::empty && !subscribed) continue;
    const int32_t partition = partition_for(g.id);
    for (auto it = g.offsets.begin(); it != g.offsets.end();) {
      // KIP-211: an Empty group's offsets expire `retention` after it became Empty (groups
      // that never had members: after the commit); a Stable consumer group's offsets of
      // topics nobody subscribes to expire `retention` after their commit.
      int64_t base = it->second.commit_timestamp_ms;
      if (g.state == GroupState::empty && g.protocol_type) base = g.state_timestamp_ms;
      bool expire = (g.state == GroupState::empty || !subscribed->contains(it->first.first)) &&
                    base + config_.offsets_retention_ms <= now_ms;
      if (expire) {
        out.writes.push_back({partition, encode_offset_key({g.id, it->first.first, it->first.second}), std::nullopt});
        it = g.offsets.erase(it);
      } else {
        ++it;
      }
    }
    if (g.state == GroupState::empty && g.offsets.empty() && g.members.empty() && g.pending_members.empty())
      delete_group(g, out);
  }
}

// ------------------------------------------------------------------------------------- Loading

Result<void> GroupCoordinator::load_record(ByteView key, std::optional<ByteView> value) {
  auto k = decode_record_key(key);
  if (!k) return fail(k.error());
  if (k->kind == RecordKey::Kind::offset) {
    if (!value) {
      if (Group* g = find_group(k->group)) g->offsets.erase({k->offset.topic, k->offset.partition});
      return {};
    }
    auto v = decode_offset_value(*value);
    if (!v) return fail(v.error());
    Group& g = get_or_create_group(k->group, 0);
    g.offsets[{k->offset.topic, k->offset.partition}] =
        CommittedOffset{v->offset, v->leader_epoch, v->metadata, v->commit_timestamp_ms};
    return {};
  }
  if (!value) {
    groups_.erase(k->group);
    return {};
  }
  auto v = decode_group_value(*value);
  if (!v) return fail(v.error());
  Group& g = get_or_create_group(k->group, 0);
  g.protocol_type = v->protocol_type.empty() ? std::nullopt : std::optional<std::string>(v->protocol_type);
  g.generation_id = v->generation;
  g.state_timestamp_ms = v->current_state_timestamp_ms;
  g.had_members_on_load = !v->members.empty();
  return {};
}

void GroupCoordinator::finish_load(int64_t now_ms) {
  for (auto& [id, g] : groups_) {
    // Members are not restored: they find their ids unknown and rejoin (a new generation).
    g->state = GroupState::empty;
    if (g->had_members_on_load || g->state_timestamp_ms <= 0) g->state_timestamp_ms = now_ms;
    g->had_members_on_load = false;
  }
}

// ---------------------------------------------------------------------------------- Inspection

std::optional<GroupView> GroupCoordinator::describe(const std::string& group_id) const {
  const Group* g = find_group(group_id);
  if (!g) return std::nullopt;
  GroupView v;
  v.state = g->state;
  v.generation_id = g->generation_id;
  v.protocol_type = g->protocol_type.value_or("");
  v.protocol_name = g->protocol_name;
  v.leader_id = g->leader_id;
  for (const auto& [id, m] : g->members) v.members.push_back({id, m.group_instance_id, m.client_id, m.assignment});
  v.pending_members = g->pending_members.size();
  v.committed_offsets = g->offsets.size();
  return v;
}

std::optional<CommittedOffset> GroupCoordinator::committed(const std::string& group_id, const std::string& topic,
                                                           int32_t partition) const {
  const Group* g = find_group(group_id);
  if (!g) return std::nullopt;
  auto it = g->offsets.find({topic, partition});
  if (it == g->offsets.end()) return std::nullopt;
  return it->second;
}

}  // namespace conveyor::group
