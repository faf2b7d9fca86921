// The group coordinator driven without sockets, threads or sleeps: time is a number passed in.
#include <gtest/gtest.h>

#include <map>

#include "conveyor/group/coordinator.h"
#include "conveyor/group/offsets_records.h"

namespace conveyor::group {
namespace {

int16_t code(ErrorCode e) { return static_cast<int16_t>(e); }
Bytes meta(std::string s) { return Bytes(s.begin(), s.end()); }

struct JoinArgs {
  std::string member_id;
  int16_t version = 5;
  std::optional<std::string> instance;
  std::vector<std::pair<std::string, Bytes>> protocols = {{"range", meta("sub")}};
  int32_t session_timeout_ms = 10000;
  int32_t rebalance_timeout_ms = 30000;
  std::string protocol_type = "consumer";
  std::string client_id = "client";
};
struct Harness {
  explicit Harness(CoordinatorConfig cfg = {}) : config(cfg), c(cfg) {}
  CoordinatorConfig config;
  GroupCoordinator c;
  int64_t now = 1'700'000'000'000;
  Token next = 1;
  std::map<Token, protocol::JoinGroupResponse> joins;
  std::map<Token, protocol::SyncGroupResponse> syncs;
  std::vector<Write> writes;
  Result<void> store_result;  // what appending a SyncGroup's assignment record returns

  void absorb(Output& out) {
    for (auto& [t, r] : out.joins) {
      EXPECT_FALSE(joins.contains(t)) << "token " << t << " answered twice";
      joins[t] = r;
    }
    for (auto& [t, r] : out.syncs) {
      EXPECT_FALSE(syncs.contains(t)) << "token " << t << " answered twice";
      syncs[t] = r;
    }
    for (auto& w : out.writes) writes.push_back(w);
  }

  Token join(const std::string& group, JoinArgs a) {
    protocol::JoinGroupRequest req;
    req.group_id = group;
    req.member_id = a.member_id;
    req.group_instance_id = a.instance;
    req.session_timeout_ms = a.session_timeout_ms;
    req.rebalance_timeout_ms = a.rebalance_timeout_ms;
    req.protocol_type = a.protocol_type;
    for (auto& [n, m] : a.protocols) req.protocols.push_back({n, m, {}});
    Token t = next++;
    Output out;
    c.join_group(t, a.version, req, a.client_id, "/10.0.0.1", now, out);
    absorb(out);
    return t;
  }
  // v4+ two-step join of a new dynamic member; returns the join token (maybe parked).
  Token join_new(const std::string& group, JoinArgs a = {}) {
    Token first = join(group, a);
    EXPECT_TRUE(joins.contains(first));
    EXPECT_EQ(joins[first].error_code, code(ErrorCode::member_id_required));
    a.member_id = joins[first].member_id;
    return join(group, a);
  }
  Token sync(const std::string& group, const std::string& member, int32_t generation,
             std::vector<std::pair<std::string, Bytes>> assignments = {},
             std::optional<std::string> instance = std::nullopt) {
    protocol::SyncGroupRequest req;
    req.group_id = group;
    req.member_id = member;
    req.generation_id = generation;
    req.group_instance_id = instance;
    for (auto& [m, b] : assignments) req.assignments.push_back({m, b, {}});
    Token t = next++;
    Output out;
    c.sync_group(t, 3, req, now, out);
    // What GroupService does: append out.writes, then finish with the append's result.
    if (out.assignment_store_group) c.finish_assignment_store(*out.assignment_store_group, store_result, now, out);
    absorb(out);
    return t;
  }
  int16_t heartbeat(const std::string& group, const std::string& member, int32_t generation,
                    std::optional<std::string> instance = std::nullopt) {
    protocol::HeartbeatRequest req;
    req.group_id = group;
    req.member_id = member;
    req.generation_id = generation;
    req.group_instance_id = instance;
    return c.heartbeat(3, req, now).error_code;
  }
  void advance(int64_t ms) {
    now += ms;
    Output out;
    c.tick(now, out);
    absorb(out);
  }
  // Advance in steps, heartbeating for `alive` members.
  void advance_with_heartbeats(int64_t ms, const std::string& group,
                               const std::vector<std::pair<std::string, int32_t>>& alive, int64_t step = 1000) {
    for (int64_t done = 0; done < ms; done += step) {
      advance(step);
      for (auto& [m, g] : alive) heartbeat(group, m, g);
    }
  }
  OffsetCommitPlan commit(const std::string& group, int32_t generation, const std::string& member,
                          const std::string& topic, int32_t partition, int64_t offset, bool write_ok = true) {
    protocol::OffsetCommitRequest req;
    req.group_id = group;
    req.generation_id_or_member_epoch = generation;
    req.member_id = member;
    auto& t = req.topics.emplace_back();
    t.name = topic;
    auto& p = t.partitions.emplace_back();
    p.partition_index = partition;
    p.committed_offset = offset;
    p.committed_metadata = "md";
    auto plan = c.offset_commit(8, req, nullptr, now);
    for (auto& w : plan.writes) writes.push_back(w);
    c.finish_offset_commit(plan, write_ok ? Result<void>{} : Result<void>(fail(ErrorCode::kafka_storage_error)));
    return plan;
  }
  int16_t commit_error(const OffsetCommitPlan& p) { return p.response.topics.at(0).partitions.at(0).error_code; }
  GroupState state(const std::string& g) { return c.describe(g)->state; }
};

CoordinatorConfig no_delay() {
  CoordinatorConfig c;
  c.initial_rebalance_delay_ms = 0;
  return c;
}

TEST(Coordinator, SingleMemberJoinsAfterInitialDelayAndSyncs) {
  Harness h;  // group.initial.rebalance.delay.ms = 3000
  Token t = h.join_new("g");
  EXPECT_FALSE(h.joins.contains(t)) << "parked during the initial delay";
  EXPECT_EQ(h.state("g"), GroupState::preparing_rebalance);
  h.advance(2999);
  EXPECT_FALSE(h.joins.contains(t));
  h.advance(1);
  ASSERT_TRUE(h.joins.contains(t));
  const auto& j = h.joins[t];
  EXPECT_EQ(j.error_code, 0);
  EXPECT_EQ(j.generation_id, 1);
  EXPECT_EQ(j.leader, j.member_id);
  EXPECT_EQ(j.protocol_name.value_or(""), "range");
  ASSERT_EQ(j.members.size(), 1u);
  EXPECT_EQ(j.members[0].metadata, meta("sub"));
  EXPECT_TRUE(j.member_id.starts_with("client-"));
  EXPECT_EQ(j.member_id.size(), std::string("client-").size() + 36);
  EXPECT_EQ(h.state("g"), GroupState::completing_rebalance);
  EXPECT_EQ(h.heartbeat("g", j.member_id, 1), 0) << "heartbeats are fine while completing";

  size_t writes_before = h.writes.size();
  Token s = h.sync("g", j.member_id, 1, {{j.member_id, meta("assignment")}});
  ASSERT_TRUE(h.syncs.contains(s));
  EXPECT_EQ(h.syncs[s].error_code, 0);
  EXPECT_EQ(h.syncs[s].assignment, meta("assignment"));
  EXPECT_EQ(h.state("g"), GroupState::stable);
  // The group's metadata record was written to its __consumer_offsets partition.
  ASSERT_GT(h.writes.size(), writes_before);
  const Write& w = h.writes.back();
  EXPECT_EQ(w.partition, partition_for_group("g", 50));
  auto key = decode_record_key(w.key);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->kind, RecordKey::Kind::group);
  auto value = decode_group_value(*w.value);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->generation, 1);
  EXPECT_EQ(value->protocol.value_or(""), "range");
  ASSERT_EQ(value->members.size(), 1u);
  EXPECT_EQ(value->members[0].assignment, meta("assignment"));
  EXPECT_EQ(value->members[0].client_host, "/10.0.0.1");
}

TEST(Coordinator, InitialDelayExtendsAsMembersJoinUpToTheRebalanceTimeout) {
  Harness h;  // delay 3000, rebalance timeout 30000
  Token a = h.join_new("g");
  h.advance(2000);
  Token b = h.join_new("g");
  h.advance(1000);  // first delay over, but a member joined during it: extended by 3000
  EXPECT_FALSE(h.joins.contains(a));
  h.advance(2999);
  EXPECT_FALSE(h.joins.contains(a));
  h.advance(1);
  ASSERT_TRUE(h.joins.contains(a));
  ASSERT_TRUE(h.joins.contains(b));
  EXPECT_EQ(h.joins[a].generation_id, 1);
  EXPECT_EQ(h.joins[a].leader, h.joins[a].member_id) << "the first member leads";
  EXPECT_EQ(h.joins[a].members.size(), 2u);
  EXPECT_TRUE(h.joins[b].members.empty());

  // Members joining non-stop cannot delay the rebalance past the rebalance timeout.
  Harness h2;
  JoinArgs args;
  args.rebalance_timeout_ms = 7000;
  Token first = h2.join_new("g", args);
  for (int i = 0; i < 10 && !h2.joins.contains(first); ++i) {
    h2.advance(1500);
    h2.join_new("g", args);
  }
  ASSERT_TRUE(h2.joins.contains(first));
  EXPECT_LE(h2.now - 1'700'000'000'000, 7000 + 1500);
}

TEST(Coordinator, SessionTimeoutBoundsAndInvalidGroup) {
  Harness h;
  JoinArgs a;
  a.session_timeout_ms = 5999;
  Token t = h.join("g", a);
  EXPECT_EQ(h.joins[t].error_code, code(ErrorCode::invalid_session_timeout));
  a.session_timeout_ms = 1800001;
  t = h.join("g", a);
  EXPECT_EQ(h.joins[t].error_code, code(ErrorCode::invalid_session_timeout));
  EXPECT_EQ(h.c.group_count(), 0u) << "a refused join leaves no group behind";
  a.session_timeout_ms = 6000;
  t = h.join("", a);
  EXPECT_EQ(h.joins[t].error_code, code(ErrorCode::invalid_group_id));
  // v0–3 joins get a member id right away (no KIP-394 round trip).
  JoinArgs old;
  old.version = 3;
  t = h.join("g", old);
  EXPECT_FALSE(h.joins.contains(t));
  h.advance(3000);
  EXPECT_EQ(h.joins[t].error_code, 0);
  EXPECT_EQ(h.joins[t].generation_id, 1);
}

struct StableGroup {
  std::string leader, follower;
  int32_t generation = 0;
};

// Two dynamic members, Stable.
StableGroup make_stable_pair(Harness& h, const std::string& group) {
  Token a = h.join_new(group);
  Token b = h.join_new(group);
  if (h.config.initial_rebalance_delay_ms > 0) h.advance(h.config.initial_rebalance_delay_ms);
  if (!h.joins.contains(b)) {
    // Without an initial delay the first member completed a generation alone; it rejoins.
    JoinArgs again;
    again.member_id = h.joins.at(a).member_id;
    a = h.join(group, again);
  }
  StableGroup s;
  s.leader = h.joins.at(a).member_id;
  s.follower = h.joins.at(b).member_id;
  s.generation = h.joins.at(a).generation_id;
  EXPECT_EQ(h.joins.at(a).leader, s.leader);
  Token fs = h.sync(group, s.follower, s.generation);
  EXPECT_FALSE(h.syncs.contains(fs)) << "a follower's sync waits for the leader's";
  Token ls = h.sync(group, s.leader, s.generation, {{s.leader, meta("A")}, {s.follower, meta("B")}});
  EXPECT_EQ(h.syncs.at(ls).assignment, meta("A"));
  EXPECT_EQ(h.syncs.at(fs).assignment, meta("B"));
  EXPECT_EQ(h.state(group), GroupState::stable);
  return s;
}

TEST(Coordinator, AssignmentThatCannotBeStoredFailsTheSyncAndRebalances) {
  // Kafka answers SyncGroup only once the group's assignment is in __consumer_offsets; a failed
  // append gives every member an error (no assignment) and a new rebalance.
  Harness h(no_delay());
  Token a = h.join_new("g");
  Token b = h.join_new("g");
  if (!h.joins.contains(b)) {
    // Without an initial delay the first member completed a generation alone; it rejoins.
    JoinArgs again;
    again.member_id = h.joins.at(a).member_id;
    a = h.join("g", again);
  }
  const std::string leader = h.joins.at(a).member_id, follower = h.joins.at(b).member_id;
  const int32_t generation = h.joins.at(a).generation_id;
  Token fs = h.sync("g", follower, generation);
  h.store_result = fail(ErrorCode::kafka_storage_error, "log dir offline");
  size_t writes_before = h.writes.size();
  Token ls = h.sync("g", leader, generation, {{leader, meta("A")}, {follower, meta("B")}});
  EXPECT_EQ(h.writes.size(), writes_before + 1) << "the assignment record was offered for append";
  ASSERT_TRUE(h.syncs.contains(ls));
  ASSERT_TRUE(h.syncs.contains(fs));
  EXPECT_EQ(h.syncs.at(ls).error_code, code(ErrorCode::not_coordinator));
  EXPECT_EQ(h.syncs.at(fs).error_code, code(ErrorCode::not_coordinator));
  EXPECT_TRUE(h.syncs.at(ls).assignment.empty());
  EXPECT_TRUE(h.syncs.at(fs).assignment.empty());
  EXPECT_EQ(h.state("g"), GroupState::preparing_rebalance);
  EXPECT_EQ(h.heartbeat("g", leader, generation), code(ErrorCode::rebalance_in_progress));

  // Storage back: the members rejoin, and the next generation's assignment is stored and served.
  h.store_result = {};
  JoinArgs ra, rb;
  ra.member_id = leader;
  rb.member_id = follower;
  Token ja = h.join("g", ra);
  Token jb = h.join("g", rb);
  ASSERT_TRUE(h.joins.contains(ja) && h.joins.contains(jb));
  const int32_t next = h.joins.at(ja).generation_id;
  EXPECT_EQ(next, generation + 1);
  const std::string new_leader = h.joins.at(ja).leader;
  const std::string other = new_leader == leader ? follower : leader;
  Token os = h.sync("g", other, next);
  Token ns = h.sync("g", new_leader, next, {{new_leader, meta("A2")}, {other, meta("B2")}});
  EXPECT_EQ(h.syncs.at(ns).error_code, 0);
  EXPECT_EQ(h.syncs.at(ns).assignment, meta("A2"));
  EXPECT_EQ(h.syncs.at(os).assignment, meta("B2"));
  EXPECT_EQ(h.state("g"), GroupState::stable);
}

TEST(Coordinator, StoreErrorsMapLikeKafkas) {
  EXPECT_EQ(group_store_error(ErrorCode::unknown_topic_or_partition, ErrorCode::unknown_server_error),
            ErrorCode::coordinator_not_available);
  EXPECT_EQ(group_store_error(ErrorCode::not_enough_replicas, ErrorCode::unknown_server_error),
            ErrorCode::coordinator_not_available);
  EXPECT_EQ(group_store_error(ErrorCode::kafka_storage_error, ErrorCode::unknown_server_error),
            ErrorCode::not_coordinator);
  EXPECT_EQ(group_store_error(ErrorCode::not_leader_or_follower, ErrorCode::unknown_server_error),
            ErrorCode::not_coordinator);
  EXPECT_EQ(group_store_error(ErrorCode::message_too_large, ErrorCode::invalid_commit_offset_size),
            ErrorCode::invalid_commit_offset_size);
  EXPECT_EQ(group_store_error(ErrorCode::local_transport, ErrorCode::unknown_server_error),
            ErrorCode::unknown_server_error)
      << "local codes never reach the wire";
}

TEST(Coordinator, CrashedMemberIsRemovedAfterSessionTimeout) {
  Harness h(no_delay());
  auto s = make_stable_pair(h, "g");
  // The follower keeps heartbeating, the leader crashed (silent).
  h.advance_with_heartbeats(9000, "g", {{s.follower, s.generation}});
  EXPECT_EQ(h.state("g"), GroupState::stable);
  h.advance_with_heartbeats(2000, "g", {});
  EXPECT_EQ(h.state("g"), GroupState::preparing_rebalance);
  EXPECT_EQ(h.heartbeat("g", s.follower, s.generation), code(ErrorCode::rebalance_in_progress));
  EXPECT_EQ(h.heartbeat("g", s.leader, s.generation), code(ErrorCode::unknown_member_id));
  JoinArgs a;
  a.member_id = s.follower;
  Token t = h.join("g", a);
  ASSERT_TRUE(h.joins.contains(t)) << "the only member rejoined: the join completes at once";
  EXPECT_EQ(h.joins[t].generation_id, s.generation + 1);
  EXPECT_EQ(h.joins[t].leader, s.follower) << "the survivor leads";
  EXPECT_EQ(h.joins[t].members.size(), 1u);
}

TEST(Coordinator, MemberNotRejoiningWithinRebalanceTimeoutIsRemoved) {
  Harness h(no_delay());
  auto s = make_stable_pair(h, "g");
  Token newcomer = h.join_new("g");
  EXPECT_FALSE(h.joins.contains(newcomer));
  EXPECT_EQ(h.heartbeat("g", s.leader, s.generation), code(ErrorCode::rebalance_in_progress));
  JoinArgs a;
  a.member_id = s.leader;
  Token lt = h.join("g", a);
  // The follower keeps heartbeating but never rejoins: removed at the rebalance timeout (30 s).
  h.advance_with_heartbeats(29000, "g", {{s.follower, s.generation}});
  EXPECT_FALSE(h.joins.contains(lt));
  h.advance(1000);
  ASSERT_TRUE(h.joins.contains(lt));
  ASSERT_TRUE(h.joins.contains(newcomer));
  EXPECT_EQ(h.joins[lt].generation_id, s.generation + 1);
  EXPECT_EQ(h.joins[lt].members.size(), 2u);
  EXPECT_EQ(h.heartbeat("g", s.follower, s.generation), code(ErrorCode::unknown_member_id));
  EXPECT_EQ(h.heartbeat("g", s.leader, s.generation), code(ErrorCode::illegal_generation));
}

TEST(Coordinator, RebalanceDuringCompletingFailsPendingSyncs) {
  Harness h(no_delay());
  Token a = h.join_new("g");
  ASSERT_TRUE(h.joins.contains(a));
  const std::string leader = h.joins[a].member_id;
  Token fs = h.sync("g", leader + "x", 1);
  EXPECT_EQ(h.syncs[fs].error_code, code(ErrorCode::unknown_member_id));
  Token ls_wrong_gen = h.sync("g", leader, 7);
  EXPECT_EQ(h.syncs[ls_wrong_gen].error_code, code(ErrorCode::illegal_generation));
  // A second member joins while the leader has not synced: the group rebalances again.
  Token b = h.join_new("g");
  EXPECT_EQ(h.state("g"), GroupState::preparing_rebalance);
  Token late = h.sync("g", leader, 1);
  EXPECT_EQ(h.syncs[late].error_code, code(ErrorCode::rebalance_in_progress));
  JoinArgs args;
  args.member_id = leader;
  Token a2 = h.join("g", args);
  ASSERT_TRUE(h.joins.contains(a2));
  ASSERT_TRUE(h.joins.contains(b));
  EXPECT_EQ(h.joins[b].generation_id, 2);
}

TEST(Coordinator, StaticMemberRejoinsWithoutRebalanceAndFencesTheOldId) {
  Harness h(no_delay());
  JoinArgs a;
  a.instance = "instance-1";
  Token t = h.join("g", a);  // static members skip MEMBER_ID_REQUIRED
  ASSERT_TRUE(h.joins.contains(t));
  const auto first = h.joins[t];
  EXPECT_EQ(first.error_code, 0);
  EXPECT_TRUE(first.member_id.starts_with("instance-1-"));
  JoinArgs b;
  b.instance = "instance-2";
  Token t2 = h.join("g", b);
  EXPECT_FALSE(h.joins.contains(t2));
  JoinArgs again = a;
  again.member_id = first.member_id;
  Token t1b = h.join("g", again);
  ASSERT_TRUE(h.joins.contains(t2));
  const int32_t gen = h.joins[t1b].generation_id;
  const std::string second_id = h.joins[t2].member_id;
  h.sync("g", second_id, gen, {}, "instance-2");
  h.sync("g", first.member_id, gen, {{first.member_id, meta("A")}, {second_id, meta("B")}}, "instance-1");
  ASSERT_EQ(h.state("g"), GroupState::stable);

  // instance-2 restarts (new process, empty member id, same metadata): no rebalance.
  Token restart = h.join("g", b);
  ASSERT_TRUE(h.joins.contains(restart));
  const auto& r = h.joins[restart];
  EXPECT_EQ(r.error_code, 0);
  EXPECT_NE(r.member_id, second_id);
  EXPECT_EQ(r.generation_id, gen);
  EXPECT_EQ(h.state("g"), GroupState::stable);
  Token s = h.sync("g", r.member_id, gen, {}, "instance-2");
  EXPECT_EQ(h.syncs[s].assignment, meta("B")) << "it keeps its assignment";
  // The old id is fenced.
  EXPECT_EQ(h.heartbeat("g", second_id, gen, "instance-2"), code(ErrorCode::fenced_instance_id));
  EXPECT_EQ(h.heartbeat("g", r.member_id, gen, "instance-2"), 0);
  auto plan = h.commit("g", gen, second_id, "t", 0, 5);
  EXPECT_EQ(h.commit_error(plan), code(ErrorCode::unknown_member_id));

  // Restarting with different metadata rebalances.
  JoinArgs changed = b;
  changed.protocols = {{"range", meta("other topics")}};
  h.join("g", changed);
  EXPECT_EQ(h.state("g"), GroupState::preparing_rebalance);

  // A static member that leaves by instance id (KIP-345 admin removal, empty member id).
  protocol::LeaveGroupRequest leave;
  leave.group_id = "g";
  leave.members.push_back({"", std::string("instance-1"), std::nullopt, {}});
  leave.members.push_back({"wrong-id", std::string("instance-2"), std::nullopt, {}});
  leave.members.push_back({"nobody", std::nullopt, std::nullopt, {}});
  Output out;
  auto lr = h.c.leave_group(5, leave, h.now, out);
  h.absorb(out);
  ASSERT_EQ(lr.members.size(), 3u);
  EXPECT_EQ(lr.members[0].error_code, 0);
  EXPECT_EQ(lr.members[1].error_code, code(ErrorCode::fenced_instance_id));
  EXPECT_EQ(lr.members[2].error_code, code(ErrorCode::unknown_member_id));
  EXPECT_EQ(h.c.describe("g")->members.size(), 1u);
}

TEST(Coordinator, ProtocolSelectionByVotesAndInconsistentProtocols) {
  Harness h(no_delay());
  JoinArgs a, b, c;
  a.protocols = {{"roundrobin", meta("1")}, {"range", meta("1")}};
  b.protocols = {{"range", meta("2")}, {"roundrobin", meta("2")}};
  c.protocols = {{"range", meta("3")}, {"sticky", meta("3")}, {"roundrobin", meta("3")}};
  Token ta = h.join_new("g", a);
  ASSERT_TRUE(h.joins.contains(ta));
  const std::string ida = h.joins[ta].member_id;
  Token tb = h.join_new("g", b);
  Token tc = h.join_new("g", c);
  a.member_id = ida;
  Token ta2 = h.join("g", a);
  ASSERT_TRUE(h.joins.contains(tb) && h.joins.contains(tc) && h.joins.contains(ta2));
  EXPECT_EQ(h.joins[ta2].protocol_name.value_or(""), "range");  // 2 votes to 1
  ASSERT_EQ(h.joins[ta2].members.size(), 3u);
  for (const auto& m : h.joins[ta2].members)
    EXPECT_EQ(m.metadata.size(), 1u) << "the leader gets each member's metadata of the chosen protocol";

  JoinArgs odd;
  odd.protocols = {{"sticky", meta("4")}};
  Token t = h.join("g", odd);
  EXPECT_EQ(h.joins[t].error_code, code(ErrorCode::inconsistent_group_protocol));
  JoinArgs other_type;
  other_type.protocol_type = "connect";
  t = h.join("g", other_type);
  EXPECT_EQ(h.joins[t].error_code, code(ErrorCode::inconsistent_group_protocol));
  JoinArgs none;
  none.protocols = {};
  t = h.join("fresh", none);
  EXPECT_EQ(h.joins[t].error_code, code(ErrorCode::inconsistent_group_protocol));
}

TEST(Coordinator, GroupMaxSize) {
  CoordinatorConfig cfg = no_delay();
  cfg.max_group_size = 2;
  Harness h(cfg);
  make_stable_pair(h, "g");
  Token t = h.join("g", {});
  EXPECT_EQ(h.joins[t].error_code, code(ErrorCode::group_max_size_reached));
}

TEST(Coordinator, PendingMemberDelaysCompletionUntilItJoinsOrExpires) {
  Harness h(no_delay());
  auto s = make_stable_pair(h, "g");
  // A new member got its id (MEMBER_ID_REQUIRED) but never comes back.
  Token first = h.join("g", {});
  EXPECT_EQ(h.joins[first].error_code, code(ErrorCode::member_id_required));
  EXPECT_EQ(h.c.describe("g")->pending_members, 1u);
  EXPECT_EQ(h.state("g"), GroupState::stable) << "a pending member does not rebalance the group yet";
  // The leader rejoins (e.g. subscription change): both current members rejoin...
  JoinArgs l;
  l.member_id = s.leader;
  l.protocols = {{"range", meta("new")}};
  Token lt = h.join("g", l);
  JoinArgs f;
  f.member_id = s.follower;
  Token ft = h.join("g", f);
  EXPECT_FALSE(h.joins.contains(lt)) << "...but the pending member may still join";
  h.advance_with_heartbeats(10000, "g", {});
  ASSERT_TRUE(h.joins.contains(lt));
  ASSERT_TRUE(h.joins.contains(ft));
  EXPECT_EQ(h.c.describe("g")->pending_members, 0u);
}

TEST(Coordinator, OffsetCommitGenerationAndMemberChecks) {
  Harness h(no_delay());
  // Manual commit (generation -1, no member) into a non-existent group creates it Empty.
  auto p = h.commit("manual", -1, "", "t", 0, 10);
  EXPECT_EQ(h.commit_error(p), 0);
  EXPECT_EQ(h.c.committed("manual", "t", 0)->offset, 10);
  EXPECT_EQ(h.state("manual"), GroupState::empty);
  // A generation into a non-existent group is stale.
  p = h.commit("nothing", 3, "m", "t", 0, 10);
  EXPECT_EQ(h.commit_error(p), code(ErrorCode::illegal_generation));
  EXPECT_FALSE(h.c.describe("nothing").has_value());

  auto s = make_stable_pair(h, "g");
  p = h.commit("g", s.generation, s.leader, "t", 0, 100);
  EXPECT_EQ(h.commit_error(p), 0);
  p = h.commit("g", s.generation - 1, s.leader, "t", 0, 50);
  EXPECT_EQ(h.commit_error(p), code(ErrorCode::illegal_generation));
  EXPECT_EQ(h.c.committed("g", "t", 0)->offset, 100) << "a stale commit changes nothing";
  p = h.commit("g", -1, "", "t", 0, 1);
  EXPECT_EQ(h.commit_error(p), code(ErrorCode::unknown_member_id)) << "no admin commits into an active group";
  // A commit whose write fails is not visible.
  p = h.commit("g", s.generation, s.leader, "t", 0, 200, /*write_ok=*/false);
  // The log's KAFKA_STORAGE_ERROR reaches the client as NOT_COORDINATOR, as in Kafka: it finds
  // the coordinator again and retries the commit.
  EXPECT_EQ(h.commit_error(p), code(ErrorCode::not_coordinator));
  EXPECT_EQ(h.c.committed("g", "t", 0)->offset, 100);
  // Metadata limit.
  protocol::OffsetCommitRequest big;
  big.group_id = "g";
  big.generation_id_or_member_epoch = s.generation;
  big.member_id = s.leader;
  big.topics.push_back({"t", {{1, 5, -1, std::string(4097, 'x'), {}}}, {}});
  auto plan = h.c.offset_commit(8, big, nullptr, h.now);
  EXPECT_EQ(plan.response.topics[0].partitions[0].error_code, code(ErrorCode::offset_metadata_too_large));
  EXPECT_TRUE(plan.writes.empty());
  // While completing a rebalance commits are refused with REBALANCE_IN_PROGRESS.
  Token newcomer = h.join_new("g");
  (void)newcomer;
  JoinArgs l, f;
  l.member_id = s.leader;
  f.member_id = s.follower;
  Token lt = h.join("g", l);
  h.join("g", f);
  ASSERT_TRUE(h.joins.contains(lt));
  EXPECT_EQ(h.state("g"), GroupState::completing_rebalance);
  p = h.commit("g", h.joins[lt].generation_id, s.leader, "t", 0, 300);
  EXPECT_EQ(h.commit_error(p), code(ErrorCode::rebalance_in_progress));

  // OffsetFetch: committed metadata exactly, unknown partitions -1, v8 batches groups.
  protocol::OffsetFetchRequest fr;
  fr.groups.push_back({"g", std::nullopt, -1, std::nullopt, {}});
  fr.groups.push_back({"unknown", std::nullopt, -1,
                       std::vector<protocol::OffsetFetchRequest::OffsetFetchRequestTopics>{{"t", {0}, {}}}, {}});
  auto got = h.c.offset_fetch(8, fr);
  ASSERT_EQ(got.groups.size(), 2u);
  ASSERT_EQ(got.groups[0].topics.size(), 1u);
  EXPECT_EQ(got.groups[0].topics[0].partitions[0].committed_offset, 100);
  EXPECT_EQ(got.groups[0].topics[0].partitions[0].metadata.value_or(""), "md");
  EXPECT_EQ(got.groups[1].topics[0].partitions[0].committed_offset, -1);
}

TEST(Coordinator, DeleteGroupsAndOffsetDelete) {
  Harness h(no_delay());
  auto s = make_stable_pair(h, "busy");
  h.commit("busy", s.generation, s.leader, "sub", 0, 1);
  h.commit("idle", -1, "", "t", 0, 1);
  h.commit("idle", -1, "", "t", 1, 2);
  protocol::DeleteGroupsRequest del;
  del.groups_names = {"busy", "idle", "ghost", ""};
  Output out;
  auto r = h.c.delete_groups(2, del, h.now, out);
  h.absorb(out);
  EXPECT_EQ(r.results[0].error_code, code(ErrorCode::non_empty_group));
  EXPECT_EQ(r.results[1].error_code, 0);
  EXPECT_EQ(r.results[2].error_code, code(ErrorCode::group_id_not_found));
  EXPECT_EQ(r.results[3].error_code, code(ErrorCode::invalid_group_id));
  EXPECT_FALSE(h.c.describe("idle").has_value());
  // Tombstones: two offsets and the group.
  ASSERT_EQ(out.writes.size(), 3u);
  for (const auto& w : out.writes) EXPECT_FALSE(w.value.has_value());

  // OffsetDelete on a Stable consumer group: subscribed topics are refused.
  protocol::OffsetDeleteRequest od;
  od.group_id = "busy";
  od.topics.push_back({"sub", {{0, {}}}, {}});
  od.topics.push_back({"other", {{0, {}}}, {}});
  Output out2;
  auto odr = h.c.offset_delete(od, h.now, out2);
  // The members' metadata ("sub") is not a valid consumer subscription: the broker cannot tell
  // what they consume, so the whole request is refused.
  EXPECT_EQ(odr.error_code, code(ErrorCode::non_empty_group));
}

TEST(Coordinator, OffsetRetentionOfEmptyGroups) {
  CoordinatorConfig cfg = no_delay();
  cfg.offsets_retention_ms = 60'000;
  cfg.offsets_retention_check_interval_ms = 1000;
  Harness h(cfg);
  h.commit("manual", -1, "", "t", 0, 10);
  h.advance(30'000);
  h.commit("manual", -1, "", "t", 1, 11);
  h.advance(30'000);
  // Groups without a protocol expire per commit timestamp.
  EXPECT_FALSE(h.c.committed("manual", "t", 0).has_value());
  EXPECT_TRUE(h.c.committed("manual", "t", 1).has_value());
  h.advance(30'000);
  EXPECT_FALSE(h.c.describe("manual").has_value()) << "an empty group without offsets is removed";
  EXPECT_FALSE(h.writes.back().value.has_value());

  // A consumer group's offsets are kept while it has members, and expire retention after it
  // became Empty.
  Token t = h.join_new("g");
  const std::string m = h.joins.at(t).member_id;
  h.sync("g", m, 1, {{m, {}}});
  h.commit("g", 1, m, "t", 0, 5);
  h.advance_with_heartbeats(120'000, "g", {{m, 1}});
  EXPECT_TRUE(h.c.committed("g", "t", 0).has_value());
  protocol::LeaveGroupRequest leave;
  leave.group_id = "g";
  leave.member_id = m;
  Output out;
  h.c.leave_group(1, leave, h.now, out);
  h.absorb(out);
  EXPECT_EQ(h.state("g"), GroupState::empty);
  h.advance(59'000);
  EXPECT_TRUE(h.c.committed("g", "t", 0).has_value());
  h.advance(2'000);
  EXPECT_FALSE(h.c.committed("g", "t", 0).has_value());
}

TEST(Coordinator, ReplayRebuildsGroupsAndOffsets) {
  Harness h(no_delay());
  auto s = make_stable_pair(h, "g");
  h.commit("g", s.generation, s.leader, "t", 0, 100);
  h.commit("g", s.generation, s.leader, "t", 0, 150);
  h.commit("gone", -1, "", "t", 0, 1);
  protocol::DeleteGroupsRequest del;
  del.groups_names = {"gone"};
  Output out;
  h.c.delete_groups(0, del, h.now, out);
  h.absorb(out);

  GroupCoordinator fresh(no_delay());
  for (const auto& w : h.writes) {
    std::optional<ByteView> value;
    if (w.value) value = ByteView(*w.value);
    ASSERT_TRUE(fresh.load_record(w.key, value).has_value());
  }
  EXPECT_FALSE(fresh.load_record(Bytes{0, 9}, std::nullopt).has_value()) << "unknown key version";
  fresh.finish_load(h.now);
  EXPECT_EQ(fresh.committed("g", "t", 0)->offset, 150);
  EXPECT_EQ(fresh.committed("g", "t", 0)->metadata, "md");
  EXPECT_FALSE(fresh.describe("gone").has_value());
  auto view = fresh.describe("g");
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->state, GroupState::empty);
  EXPECT_EQ(view->generation_id, s.generation);
  EXPECT_EQ(view->protocol_type, "consumer");
  EXPECT_TRUE(view->members.empty());
  // Old members are unknown; a new join starts the next generation.
  protocol::HeartbeatRequest hb;
  hb.group_id = "g";
  hb.member_id = s.leader;
  hb.generation_id = s.generation;
  EXPECT_EQ(fresh.heartbeat(3, hb, h.now).error_code, code(ErrorCode::unknown_member_id));
}

TEST(Coordinator, DeletedTopicLosesItsOffsetsInEveryGroup) {
  Harness h(no_delay());
  h.commit("a", -1, "", "gone", 0, 1);
  h.commit("a", -1, "", "gone", 3, 1);
  h.commit("a", -1, "", "kept", 0, 1);
  h.commit("b", -1, "", "gone", 1, 1);
  Output out;
  h.c.delete_topic_offsets("gone", out);
  EXPECT_EQ(out.writes.size(), 3u);
  for (const auto& w : out.writes) {
    EXPECT_FALSE(w.value.has_value());
    EXPECT_EQ(decode_record_key(w.key)->offset.topic, "gone");
  }
  EXPECT_FALSE(h.c.committed("a", "gone", 0).has_value());
  EXPECT_FALSE(h.c.committed("b", "gone", 1).has_value());
  EXPECT_TRUE(h.c.committed("a", "kept", 0).has_value());
}

TEST(Coordinator, ListAndDescribe) {
  Harness h(no_delay());
  make_stable_pair(h, "stable");
  h.commit("empty", -1, "", "t", 0, 1);
  protocol::ListGroupsRequest list;
  auto all = h.c.list_groups(4, list);
  EXPECT_EQ(all.groups.size(), 2u);
  list.states_filter = {"STABLE"};
  auto stable = h.c.list_groups(4, list);
  ASSERT_EQ(stable.groups.size(), 1u);
  EXPECT_EQ(stable.groups[0].group_id, "stable");
  EXPECT_EQ(stable.groups[0].protocol_type, "consumer");
  EXPECT_EQ(h.c.list_groups(3, list).groups.size(), 2u) << "v3 has no filter";

  protocol::DescribeGroupsRequest d;
  d.groups = {"stable", "missing"};
  auto r = h.c.describe_groups(2, d);
  EXPECT_EQ(r.groups[0].group_state, "Stable");
  EXPECT_EQ(r.groups[0].members.size(), 2u);
  EXPECT_EQ(r.groups[0].members[0].client_host, "/10.0.0.1");
  EXPECT_EQ(r.groups[1].group_state, "Dead");
  EXPECT_EQ(r.groups[0].authorized_operations, INT32_MIN);
}

}  // namespace
}  // namespace conveyor::group
