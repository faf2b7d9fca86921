// Assignors (expected results derived by hand from the algorithms Kafka's Java client uses)
// and the classic-protocol membership state machine, driven without a broker.
#include <gtest/gtest.h>

#include "../src/assignors.h"
#include "../src/group_membership.h"
#include "conveyor/protocol/consumer_protocol.h"

namespace conveyor::client {
namespace {

using TPs = std::vector<TopicPartition>;

AssignorMember member(std::string id, std::vector<std::string> topics, TPs owned = {}, int32_t gen = -1) {
  AssignorMember m;
  m.member_id = std::move(id);
  m.topics = std::move(topics);
  m.owned = std::move(owned);
  m.generation = gen;
  return m;
}

TEST(Assignors, ParseStrategyNamesAndJavaClassNames) {
  auto a = parse_assignment_strategy("range, org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0]->name(), "range");
  EXPECT_EQ((*a)[1]->name(), "cooperative-sticky");
  EXPECT_TRUE((*a)[1]->cooperative());
  EXPECT_FALSE((*a)[0]->cooperative());
  auto rr = parse_assignment_strategy("org.apache.kafka.clients.consumer.RoundRobinAssignor");
  ASSERT_TRUE(rr);
  EXPECT_EQ((*rr)[0]->name(), "roundrobin");
  auto bad = parse_assignment_strategy("range,sticky-ish");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_config);
  EXPECT_NE(bad.error().message.find("partition.assignment.strategy"), std::string::npos);
  EXPECT_FALSE(parse_assignment_strategy(" , "));
  EXPECT_FALSE(parse_assignment_strategy("range,range"));
}

TEST(Assignors, RangeTwoTopicsTwoMembers) {
  // Kafka's documented example: t0 and t1 with 3 partitions, C0 and C1 subscribed to both.
  auto a = make_assignor("range")->assign({{"t0", 3}, {"t1", 3}},
                                          {member("C1", {"t0", "t1"}), member("C0", {"t0", "t1"})});
  EXPECT_EQ(a["C0"], (TPs{{"t0", 0}, {"t0", 1}, {"t1", 0}, {"t1", 1}}));
  EXPECT_EQ(a["C1"], (TPs{{"t0", 2}, {"t1", 2}}));
}

TEST(Assignors, RangeFirstMembersGetTheExtraPartitions) {
  // 7 partitions over 3 members: 7/3 = 2 each, the first 7%3 = 1 member gets one more.
  auto a = make_assignor("range")->assign({{"t", 7}}, {member("c", {"t"}), member("a", {"t"}), member("b", {"t"})});
  EXPECT_EQ(a["a"], (TPs{{"t", 0}, {"t", 1}, {"t", 2}}));
  EXPECT_EQ(a["b"], (TPs{{"t", 3}, {"t", 4}}));
  EXPECT_EQ(a["c"], (TPs{{"t", 5}, {"t", 6}}));
  // More members than partitions: the last ones get nothing but stay in the result.
  auto b = make_assignor("range")->assign({{"t", 1}}, {member("a", {"t"}), member("b", {"t"})});
  EXPECT_EQ(b["a"], (TPs{{"t", 0}}));
  ASSERT_TRUE(b.count("b"));
  EXPECT_TRUE(b["b"].empty());
}

TEST(Assignors, RangeOrdersStaticMembersFirst) {
  // Java's MemberInfo order: members with a group.instance.id first (by instance id).
  auto s = member("zzz", {"t"});
  s.group_instance_id = "instance-1";
  auto a = make_assignor("range")->assign({{"t", 3}}, {member("aaa", {"t"}), s});
  EXPECT_EQ(a["zzz"], (TPs{{"t", 0}, {"t", 1}}));
  EXPECT_EQ(a["aaa"], (TPs{{"t", 2}}));
}

TEST(Assignors, RoundRobinSameSubscriptions) {
  // Kafka's documented example: C0 gets t0p0, t0p2, t1p1; C1 gets t0p1, t1p0, t1p2.
  auto a = make_assignor("roundrobin")->assign({{"t0", 3}, {"t1", 3}},
                                               {member("C0", {"t0", "t1"}), member("C1", {"t0", "t1"})});
  EXPECT_EQ(a["C0"], (TPs{{"t0", 0}, {"t0", 2}, {"t1", 1}}));
  EXPECT_EQ(a["C1"], (TPs{{"t0", 1}, {"t1", 0}, {"t1", 2}}));
}

TEST(Assignors, RoundRobinSkipsMembersNotSubscribed) {
  // Kafka's RoundRobinAssignor javadoc example: C0 [t0], C1 [t0,t1], C2 [t0,t1,t2];
  // t0 has 1 partition, t1 2, t2 3 -> C0 [t0p0], C1 [t1p0], C2 [t1p1, t2p0, t2p1, t2p2].
  auto a = make_assignor("roundrobin")
               ->assign({{"t0", 1}, {"t1", 2}, {"t2", 3}},
                        {member("C0", {"t0"}), member("C1", {"t0", "t1"}), member("C2", {"t0", "t1", "t2"})});
  EXPECT_EQ(a["C0"], (TPs{{"t0", 0}}));
  EXPECT_EQ(a["C1"], (TPs{{"t1", 0}}));
  EXPECT_EQ(a["C2"], (TPs{{"t1", 1}, {"t2", 0}, {"t2", 1}, {"t2", 2}}));
}

TEST(Assignors, CooperativeStickyFreshGroupDealsRoundRobin) {
  // No owned partitions: minQuota 2, maxQuota 3, one member over minQuota. Partitions in
  // (topic, partition) order dealt a, b, a, b, then a (the first member at minQuota).
  auto a = make_assignor("cooperative-sticky")->assign({{"t", 5}}, {member("b", {"t"}), member("a", {"t"})});
  EXPECT_EQ(a["a"], (TPs{{"t", 0}, {"t", 2}, {"t", 4}}));
  EXPECT_EQ(a["b"], (TPs{{"t", 1}, {"t", 3}}));
}

TEST(Assignors, CooperativeStickyKafkaDocumentedExample) {
  // Kafka's StickyAssignor javadoc: C0, C1, C2 subscribed to t0..t3 with 2 partitions each.
  auto sticky = make_assignor("cooperative-sticky");
  std::vector<std::string> all{"t0", "t1", "t2", "t3"};
  std::map<std::string, int32_t> ppt{{"t0", 2}, {"t1", 2}, {"t2", 2}, {"t3", 2}};
  auto a = sticky->assign(ppt, {member("C0", all), member("C1", all), member("C2", all)});
  EXPECT_EQ(a["C0"], (TPs{{"t0", 0}, {"t1", 1}, {"t3", 0}}));
  EXPECT_EQ(a["C1"], (TPs{{"t0", 1}, {"t2", 0}, {"t3", 1}}));
  EXPECT_EQ(a["C2"], (TPs{{"t1", 0}, {"t2", 1}}));
  // C1 leaves. Everything C0 and C2 own stays; C1's partitions (t0p1, t2p0, t3p1, in topic
  // order) are dealt round robin to the members under quota sorted by id: C0 takes t0p1
  // (reaching 4), C2 takes t2p0 and t3p1. (The javadoc shows the pre-3.x algorithm's answer,
  // C0 t2p0 / C2 t0p1; Java 3.x's constrained builder computes this one.)
  auto b = sticky->assign(ppt, {member("C0", all, a["C0"], 1), member("C2", all, a["C2"], 1)});
  EXPECT_EQ(b["C0"], (TPs{{"t0", 0}, {"t0", 1}, {"t1", 1}, {"t3", 0}}));
  EXPECT_EQ(b["C2"], (TPs{{"t1", 0}, {"t2", 0}, {"t2", 1}, {"t3", 1}}));
}

TEST(Assignors, CooperativeStickyKeepsOwnedAndDefersMoves) {
  // a owns 0-2, b owns 3-5 (generation 1); c joins. Quota 2 each: a keeps 0,1 and b keeps
  // 3,4 (owned sorted by partition); 2 and 5 would go to c, but KIP-429 withholds them this
  // generation (they must be revoked first).
  auto sticky = make_assignor("cooperative-sticky");
  auto first = sticky->assign({{"t", 6}}, {member("a", {"t"}, {{"t", 0}, {"t", 1}, {"t", 2}}, 1),
                                           member("b", {"t"}, {{"t", 3}, {"t", 4}, {"t", 5}}, 1),
                                           member("c", {"t"})});
  EXPECT_EQ(first["a"], (TPs{{"t", 0}, {"t", 1}}));
  EXPECT_EQ(first["b"], (TPs{{"t", 3}, {"t", 4}}));
  EXPECT_TRUE(first["c"].empty());
  // Next rebalance (after a and b revoked): c gets the two free partitions.
  auto second = sticky->assign({{"t", 6}}, {member("a", {"t"}, first["a"], 2), member("b", {"t"}, first["b"], 2),
                                            member("c", {"t"}, {}, 2)});
  EXPECT_EQ(second["a"], (TPs{{"t", 0}, {"t", 1}}));
  EXPECT_EQ(second["b"], (TPs{{"t", 3}, {"t", 4}}));
  EXPECT_EQ(second["c"], (TPs{{"t", 2}, {"t", 5}}));
}

TEST(Assignors, CooperativeStickyHigherGenerationWinsAClaim) {
  auto a = make_assignor("cooperative-sticky")
               ->assign({{"t", 2}}, {member("a", {"t"}, {{"t", 0}}, 3), member("b", {"t"}, {{"t", 0}, {"t", 1}}, 2)});
  // a (generation 3) keeps t-0; b keeps t-1 only.
  EXPECT_EQ(a["a"], (TPs{{"t", 0}}));
  EXPECT_EQ(a["b"], (TPs{{"t", 1}}));
}

TEST(Assignors, CooperativeStickyDifferentSubscriptionsBalanced) {
  auto a = make_assignor("cooperative-sticky")
               ->assign({{"x", 2}, {"y", 4}}, {member("a", {"x", "y"}), member("b", {"y"})});
  EXPECT_EQ(a["a"].size() + a["b"].size(), 6u);
  EXPECT_EQ(a["a"].size(), 3u);
  EXPECT_EQ(a["b"].size(), 3u);
  for (const auto& tp : a["b"]) EXPECT_EQ(tp.topic, "y");
}

// ---------------------------------------------------------------------------------------
// Membership state machine

MembershipConfig config(const std::string& strategy = "range") {
  MembershipConfig c;
  c.group_id = "g";
  c.session_timeout_ms = 10000;
  c.rebalance_timeout_ms = 60000;
  c.heartbeat_interval_ms = 3000;
  c.assignors = *parse_assignment_strategy(strategy);
  return c;
}

template <class T>
std::vector<T> of(const std::vector<MembershipAction>& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (auto* p = std::get_if<T>(&a)) out.push_back(*p);
  return out;
}

protocol::JoinGroupResponse join_ok(int32_t gen, const std::string& me, const std::string& leader,
                                    const std::vector<std::pair<std::string, std::vector<std::string>>>& members,
                                    const std::string& protocol = "range") {
  protocol::JoinGroupResponse r;
  r.generation_id = gen;
  r.member_id = me;
  r.leader = leader;
  r.protocol_name = protocol;
  for (const auto& [id, topics] : members) {
    protocol::JoinGroupResponse::JoinGroupResponseMember m;
    m.member_id = id;
    protocol::ConsumerSubscription s;
    s.topics = topics;
    m.metadata = protocol::encode_consumer_subscription(s);
    r.members.push_back(m);
  }
  return r;
}

protocol::SyncGroupResponse sync_ok(const TPs& parts) {
  protocol::ConsumerAssignment a;
  std::map<std::string, std::vector<int32_t>> m;
  for (const auto& tp : parts) m[tp.topic].push_back(tp.partition);
  for (auto& [t, ps] : m) a.assigned_partitions.push_back({t, ps});
  protocol::SyncGroupResponse r;
  r.assignment = protocol::encode_consumer_assignment(a);
  return r;
}

protocol::HeartbeatResponse hb(ErrorCode code) {
  protocol::HeartbeatResponse r;
  r.error_code = static_cast<int16_t>(code);
  return r;
}

// Takes the group to Stable as the only member (the leader) with partitions t-0, t-1.
void join_alone(GroupMembership& g, int64_t now) {
  g.subscribe({"t"}, now);
  auto acts = g.take_actions();
  ASSERT_EQ(of<membership::FindCoordinator>(acts).size(), 1u);
  g.on_find_coordinator(7, now);
  auto joins = of<membership::JoinGroup>(g.take_actions());
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].request.member_id, "");
  EXPECT_EQ(joins[0].request.protocol_type, "consumer");
  EXPECT_EQ(joins[0].request.session_timeout_ms, 10000);
  EXPECT_EQ(joins[0].request.rebalance_timeout_ms, 60000);
  // KIP-394: MEMBER_ID_REQUIRED carries the id to join with.
  protocol::JoinGroupResponse required;
  required.error_code = static_cast<int16_t>(ErrorCode::member_id_required);
  required.member_id = "m-1";
  g.on_join_group(required, now);
  joins = of<membership::JoinGroup>(g.take_actions());
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].request.member_id, "m-1");
  g.on_join_group(join_ok(1, "m-1", "m-1", {{"m-1", {"t"}}}), now);
  auto need = of<membership::NeedMetadata>(g.take_actions());
  ASSERT_EQ(need.size(), 1u);
  EXPECT_EQ(need[0].topics, std::vector<std::string>{"t"});
  g.on_leader_metadata({{"t", 2}}, now);
  auto syncs = of<membership::SyncGroup>(g.take_actions());
  ASSERT_EQ(syncs.size(), 1u);
  ASSERT_EQ(syncs[0].request.assignments.size(), 1u);
  auto assigned = protocol::decode_consumer_assignment(syncs[0].request.assignments[0].assignment);
  ASSERT_TRUE(assigned);
  ASSERT_EQ(assigned->assigned_partitions.size(), 1u);
  EXPECT_EQ(assigned->assigned_partitions[0].partitions, (std::vector<int32_t>{0, 1}));
  g.on_sync_group(sync_ok({{"t", 0}, {"t", 1}}), now);
  auto ev = of<membership::Deliver>(g.take_actions());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event.kind, RebalanceEvent::Kind::assign);
  EXPECT_EQ(ev[0].event.added, (TPs{{"t", 0}, {"t", 1}}));
  g.event_done(now);
  EXPECT_EQ(g.state(), GroupMembership::State::stable);
  EXPECT_EQ(g.generation(), 1);
}

TEST(GroupMembership, JoinSyncHeartbeatAndEagerRevokeBeforeRejoin) {
  GroupMembership g(config());
  int64_t now = 1000;
  join_alone(g, now);
  // Heartbeats every heartbeat.interval.ms.
  g.tick(now + 1000);
  EXPECT_TRUE(of<membership::Heartbeat>(g.take_actions()).empty());
  g.tick(now + 3000);
  auto beats = of<membership::Heartbeat>(g.take_actions());
  ASSERT_EQ(beats.size(), 1u);
  EXPECT_EQ(beats[0].request.generation_id, 1);
  EXPECT_EQ(beats[0].request.member_id, "m-1");
  // REBALANCE_IN_PROGRESS: eager protocol revokes everything before the JoinGroup.
  g.on_heartbeat(hb(ErrorCode::rebalance_in_progress), now + 3001);
  auto acts = g.take_actions();
  EXPECT_TRUE(of<membership::JoinGroup>(acts).empty());
  auto ev = of<membership::Deliver>(acts);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event.kind, RebalanceEvent::Kind::revoke);
  EXPECT_EQ(ev[0].event.revoked, (TPs{{"t", 0}, {"t", 1}}));
  g.event_done(now + 3002);
  auto joins = of<membership::JoinGroup>(g.take_actions());
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].request.member_id, "m-1");  // keeps its member id
  auto sub = protocol::decode_consumer_subscription(joins[0].request.protocols[0].metadata);
  ASSERT_TRUE(sub);
  EXPECT_TRUE(sub->owned_partitions.empty());
  EXPECT_EQ(sub->generation_id, 1);
}

TEST(GroupMembership, UnknownMemberIdLosesPartitionsAndResetsTheMemberId) {
  GroupMembership g(config());
  join_alone(g, 0);
  g.tick(3000);
  g.take_actions();
  g.on_heartbeat(hb(ErrorCode::unknown_member_id), 3001);
  auto ev = of<membership::Deliver>(g.take_actions());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event.kind, RebalanceEvent::Kind::lost);
  EXPECT_EQ(g.member_id(), "");
  EXPECT_EQ(g.generation(), -1);
  g.event_done(3002);
  auto joins = of<membership::JoinGroup>(g.take_actions());
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].request.member_id, "");
}

TEST(GroupMembership, IllegalGenerationKeepsMemberId) {
  GroupMembership g(config());
  join_alone(g, 0);
  g.tick(3000);
  g.take_actions();
  g.on_heartbeat(hb(ErrorCode::illegal_generation), 3001);
  auto ev = of<membership::Deliver>(g.take_actions());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event.kind, RebalanceEvent::Kind::lost);
  EXPECT_EQ(g.member_id(), "m-1");
}

TEST(GroupMembership, NotCoordinatorRediscoversAndKeepsTheGeneration) {
  GroupMembership g(config());
  join_alone(g, 0);
  g.tick(3000);
  g.take_actions();
  g.on_heartbeat(hb(ErrorCode::not_coordinator), 3001);
  EXPECT_FALSE(g.coordinator().has_value());
  EXPECT_EQ(of<membership::FindCoordinator>(g.take_actions()).size(), 1u);
  EXPECT_EQ(g.generation(), 1);
  g.on_find_coordinator(8, 3002);
  g.take_actions();
  g.tick(6000);
  EXPECT_EQ(of<membership::Heartbeat>(g.take_actions()).size(), 1u);
}

TEST(GroupMembership, PollTimeoutLeavesAndRejoinsOnlyAfterPollingAgain) {
  GroupMembership g(config());
  join_alone(g, 0);
  g.poll_called(1000);
  g.tick(1000 + 60001);
  auto acts = g.take_actions();
  ASSERT_EQ(of<membership::LeaveGroup>(acts).size(), 1u);
  auto ev = of<membership::Deliver>(acts);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event.kind, RebalanceEvent::Kind::lost);
  EXPECT_EQ(g.generation(), -1);
  g.event_done(61002);  // (a poll delivering the event would also call poll_called)
  EXPECT_TRUE(of<membership::JoinGroup>(g.take_actions()).empty());
  g.tick(70000);
  EXPECT_TRUE(of<membership::JoinGroup>(g.take_actions()).empty());
  g.poll_called(70001);
  EXPECT_EQ(of<membership::JoinGroup>(g.take_actions()).size(), 1u);
}

TEST(GroupMembership, StaticMemberDoesNotSendLeaveGroup) {
  auto c = config();
  c.group_instance_id = "instance-a";
  GroupMembership g(c);
  join_alone(g, 0);
  g.leave(10);
  EXPECT_TRUE(of<membership::LeaveGroup>(g.take_actions()).empty());
  GroupMembership d(config());
  join_alone(d, 0);
  d.leave(10);
  auto leaves = of<membership::LeaveGroup>(d.take_actions());
  ASSERT_EQ(leaves.size(), 1u);
  ASSERT_EQ(leaves[0].request.members.size(), 1u);
  EXPECT_EQ(leaves[0].request.members[0].member_id, "m-1");
  EXPECT_EQ(d.state(), GroupMembership::State::idle);
}

TEST(GroupMembership, CooperativeKeepsPartitionsThroughTheJoinAndRejoinsAfterRevoking) {
  GroupMembership g(config("cooperative-sticky"));
  ASSERT_TRUE(g.cooperative());
  g.subscribe({"t"}, 0);
  g.take_actions();
  g.on_find_coordinator(1, 0);
  g.take_actions();
  g.on_join_group(join_ok(1, "m-1", "other", {}, "cooperative-sticky"), 0);
  g.take_actions();
  g.on_sync_group(sync_ok({{"t", 0}, {"t", 1}, {"t", 2}}), 0);
  g.take_actions();
  g.event_done(0);
  g.tick(3000);
  g.take_actions();
  // A rebalance: no revocation before the join; the subscription lists what it owns.
  g.on_heartbeat(hb(ErrorCode::rebalance_in_progress), 3001);
  auto acts = g.take_actions();
  EXPECT_TRUE(of<membership::Deliver>(acts).empty());
  auto joins = of<membership::JoinGroup>(acts);
  ASSERT_EQ(joins.size(), 1u);
  auto sub = protocol::decode_consumer_subscription(joins[0].request.protocols[0].metadata);
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->owned_partitions.size(), 1u);
  EXPECT_EQ(sub->owned_partitions[0].partitions, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(sub->generation_id, 1);
  g.on_join_group(join_ok(2, "m-1", "other", {}, "cooperative-sticky"), 3002);
  g.take_actions();
  // The new assignment drops t-2: revoked in this event, then a rejoin follows.
  g.on_sync_group(sync_ok({{"t", 0}, {"t", 1}}), 3003);
  auto ev = of<membership::Deliver>(g.take_actions());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event.revoked, (TPs{{"t", 2}}));
  EXPECT_TRUE(ev[0].event.added.empty());
  g.event_done(3004);
  joins = of<membership::JoinGroup>(g.take_actions());
  ASSERT_EQ(joins.size(), 1u);
  sub = protocol::decode_consumer_subscription(joins[0].request.protocols[0].metadata);
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->owned_partitions[0].partitions, (std::vector<int32_t>{0, 1}));
}

TEST(GroupMembership, FencedInstanceIdIsFatal) {
  auto c = config();
  c.group_instance_id = "i";
  GroupMembership g(c);
  join_alone(g, 0);
  g.tick(3000);
  g.take_actions();
  g.on_heartbeat(hb(ErrorCode::fenced_instance_id), 3001);
  auto acts = g.take_actions();
  auto errs = of<membership::ReportError>(acts);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].error.code, ErrorCode::fenced_instance_id);
  EXPECT_EQ(of<membership::Deliver>(acts).size(), 1u);  // partitions lost
  EXPECT_EQ(g.state(), GroupMembership::State::failed);
}

TEST(GroupMembership, LeaderRejoinsWhenPartitionsAreAdded) {
  GroupMembership g(config());
  join_alone(g, 0);
  g.update_metadata({{"t", 2}}, 10);
  EXPECT_TRUE(of<membership::Deliver>(g.take_actions()).empty());
  g.update_metadata({{"t", 4}}, 20);
  auto ev = of<membership::Deliver>(g.take_actions());
  ASSERT_EQ(ev.size(), 1u);  // eager: revoke before rejoining
  EXPECT_EQ(ev[0].event.kind, RebalanceEvent::Kind::revoke);
}

TEST(GroupMembership, SubscriptionChangeRejoins) {
  GroupMembership g(config());
  join_alone(g, 0);
  g.subscribe({"t", "u"}, 10);
  auto ev = of<membership::Deliver>(g.take_actions());
  ASSERT_EQ(ev.size(), 1u);
  g.event_done(11);
  auto joins = of<membership::JoinGroup>(g.take_actions());
  ASSERT_EQ(joins.size(), 1u);
  auto sub = protocol::decode_consumer_subscription(joins[0].request.protocols[0].metadata);
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->topics, (std::vector<std::string>{"t", "u"}));
}


TEST(GroupMembership, NoSuccessfulHeartbeatWithinSessionTimeoutRediscoversTheCoordinator) {
  GroupMembership g(config());
  join_alone(g, 0);
  // Heartbeats are sent but never answered successfully (e.g. the coordinator hangs).
  for (int64_t t = 3000; t <= 9000; t += 3000) {
    g.tick(t);
    g.take_actions();
    g.on_heartbeat(fail(ErrorCode::unknown_server_error, "x"), t + 1);
    g.take_actions();
  }
  EXPECT_TRUE(g.coordinator().has_value());
  g.tick(10001);  // session.timeout.ms = 10000 since the last success (the sync at 0)
  EXPECT_FALSE(g.coordinator().has_value());
  EXPECT_EQ(of<membership::FindCoordinator>(g.take_actions()).size(), 1u);
  EXPECT_EQ(g.generation(), 1);  // the generation is kept; heartbeats resume once found
}

TEST(GroupMembership, JoinErrors) {
  // COORDINATOR_LOAD_IN_PROGRESS: the join is retried after retry.backoff.ms.
  GroupMembership g(config());
  g.subscribe({"t"}, 0);
  g.take_actions();
  g.on_find_coordinator(1, 0);
  g.take_actions();
  protocol::JoinGroupResponse loading;
  loading.error_code = static_cast<int16_t>(ErrorCode::coordinator_load_in_progress);
  g.on_join_group(loading, 0);
  EXPECT_TRUE(of<membership::JoinGroup>(g.take_actions()).empty());
  g.tick(50);
  EXPECT_TRUE(of<membership::JoinGroup>(g.take_actions()).empty());
  g.tick(100);
  EXPECT_EQ(of<membership::JoinGroup>(g.take_actions()).size(), 1u);
  // NOT_COORDINATOR: find the coordinator again, then join.
  protocol::JoinGroupResponse moved;
  moved.error_code = static_cast<int16_t>(ErrorCode::not_coordinator);
  g.on_join_group(moved, 200);
  EXPECT_TRUE(of<membership::FindCoordinator>(g.take_actions()).empty());  // retry.backoff.ms first
  g.tick(250);
  EXPECT_TRUE(of<membership::FindCoordinator>(g.take_actions()).empty());
  g.tick(300);
  EXPECT_EQ(of<membership::FindCoordinator>(g.take_actions()).size(), 1u);
  g.on_find_coordinator(2, 301);
  EXPECT_EQ(of<membership::JoinGroup>(g.take_actions()).size(), 1u);
  // INVALID_SESSION_TIMEOUT is fatal and reported once.
  protocol::JoinGroupResponse bad;
  bad.error_code = static_cast<int16_t>(ErrorCode::invalid_session_timeout);
  g.on_join_group(bad, 400);
  auto errs = of<membership::ReportError>(g.take_actions());
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].error.code, ErrorCode::invalid_session_timeout);
  EXPECT_EQ(g.state(), GroupMembership::State::failed);
  g.tick(10000);
  EXPECT_TRUE(g.take_actions().empty());
}

TEST(GroupMembership, PatternMatchingNothingStillJoins) {
  GroupMembership g(config());
  g.subscribe({}, 0, true);
  g.take_actions();
  g.on_find_coordinator(1, 0);
  auto joins = of<membership::JoinGroup>(g.take_actions());
  ASSERT_EQ(joins.size(), 1u);
  auto sub = protocol::decode_consumer_subscription(joins[0].request.protocols[0].metadata);
  ASSERT_TRUE(sub);
  EXPECT_TRUE(sub->topics.empty());
  // Plain subscribe({}) is no subscription at all.
  GroupMembership h(config());
  h.subscribe({}, 0);
  EXPECT_TRUE(h.take_actions().empty());
  EXPECT_EQ(h.state(), GroupMembership::State::idle);
}

TEST(GroupMembership, JoinAdvertisesEveryConfiguredAssignorInOrder) {
  GroupMembership g(config("range,cooperative-sticky"));
  EXPECT_FALSE(g.cooperative());  // range is eager: the group rebalances eagerly
  g.subscribe({"t"}, 0);
  g.take_actions();
  g.on_find_coordinator(1, 0);
  auto joins = of<membership::JoinGroup>(g.take_actions());
  ASSERT_EQ(joins.size(), 1u);
  ASSERT_EQ(joins[0].request.protocols.size(), 2u);
  EXPECT_EQ(joins[0].request.protocols[0].name, "range");
  EXPECT_EQ(joins[0].request.protocols[1].name, "cooperative-sticky");
  auto sticky = protocol::decode_consumer_subscription(joins[0].request.protocols[1].metadata);
  ASSERT_TRUE(sticky);
  ASSERT_TRUE(sticky->user_data.has_value());
  EXPECT_EQ(*sticky->user_data, (Bytes{0xff, 0xff, 0xff, 0xff}));  // generation -1
}

}  // namespace
}  // namespace conveyor::client
