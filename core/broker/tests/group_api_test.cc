// The group coordinator over the wire: FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups,
// OffsetDelete, OffsetForLeaderEpoch against a real broker; persistence across restarts.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "conveyor/io/file_faults.h"
#include "conveyor/protocol/consumer_protocol.h"
#include "test_client.h"

namespace conveyor::broker {
namespace {

using namespace testing;
constexpr int16_t kNone = 0;
int16_t code(ErrorCode e) { return static_cast<int16_t>(e); }

Bytes subscription(std::vector<std::string> topics) {
  protocol::ConsumerSubscription s;
  s.version = 0;
  s.topics = std::move(topics);
  return protocol::encode_consumer_subscription(s);
}

protocol::JoinGroupRequest join_request(const std::string& group, const std::string& member_id = "",
                                        int32_t session_timeout_ms = 10000) {
  protocol::JoinGroupRequest req;
  req.group_id = group;
  req.session_timeout_ms = session_timeout_ms;
  req.rebalance_timeout_ms = 10000;
  req.member_id = member_id;
  req.protocol_type = "consumer";
  auto& p = req.protocols.emplace_back();
  p.name = "range";
  p.metadata = subscription({"orders"});
  return req;
}

protocol::OffsetCommitRequest commit_request(const std::string& group, int32_t generation, const std::string& member,
                                             const std::string& topic, int32_t partition, int64_t offset,
                                             std::optional<std::string> metadata = "m") {
  protocol::OffsetCommitRequest req;
  req.group_id = group;
  req.generation_id_or_member_epoch = generation;
  req.member_id = member;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = partition;
  p.committed_offset = offset;
  p.committed_leader_epoch = 0;
  p.committed_metadata = std::move(metadata);
  return req;
}

protocol::OffsetFetchRequest fetch_offsets_request(const std::string& group, const std::string& topic,
                                                   std::vector<int32_t> partitions, int16_t version) {
  protocol::OffsetFetchRequest req;
  if (version >= 8) {
    auto& g = req.groups.emplace_back();
    g.group_id = group;
    g.topics.emplace();
    auto& t = g.topics->emplace_back();
    t.name = topic;
    t.partition_indexes = std::move(partitions);
  } else {
    req.group_id = group;
    req.topics.emplace();
    auto& t = req.topics->emplace_back();
    t.name = topic;
    t.partition_indexes = std::move(partitions);
  }
  return req;
}

struct Committed {
  int64_t offset = -2;
  int32_t leader_epoch = -2;
  std::optional<std::string> metadata;
  int16_t error = -1;
};

Committed fetch_committed(TestClient& c, const std::string& group, const std::string& topic, int32_t partition,
                          int16_t version = 5) {
  auto r = c.call<protocol::OffsetFetchResponse>(fetch_offsets_request(group, topic, {partition}, version), version);
  auto pick = [](const auto& topics) -> Committed {
    if (topics.size() != 1 || topics[0].partitions.size() != 1) {
      ADD_FAILURE() << "unexpected OffsetFetch shape";
      return {};
    }
    const auto& p = topics[0].partitions[0];
    return {p.committed_offset, p.committed_leader_epoch, p.metadata, p.error_code};
  };
  if (version >= 8) return pick(r.groups.at(0).topics);
  return pick(r.topics);
}

class GroupApiTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void start(Properties props = {}) {
    props.set("group.initial.rebalance.delay.ms", "0");
    if (!props.contains("offsets.topic.num.partitions")) props.set("offsets.topic.num.partitions", "5");
    if (!data_dir_.empty()) props.set("log.dirs", data_dir_);
    broker_ = start_broker(props);
    ASSERT_NE(broker_, nullptr);
    client_ = std::make_unique<TestClient>(broker_->port());
    // A topic to commit offsets for.
    protocol::CreateTopicsRequest create;
    create.timeout_ms = 5000;
    auto& t = create.topics.emplace_back();
    t.name = "orders";
    t.num_partitions = 3;
    t.replication_factor = 1;
    auto r = client_->call<protocol::CreateTopicsResponse>(create, 5);
    ASSERT_EQ(r.topics.size(), 1u);
  }
  std::string data_dir_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<TestClient> client_;
};

// join (v4+: MEMBER_ID_REQUIRED first) → sync as leader → heartbeat; returns member id and generation.
std::pair<std::string, int32_t> join_alone(TestClient& c, const std::string& group, int16_t join_v, int16_t sync_v) {
  auto req = join_request(group);
  auto j = c.call<protocol::JoinGroupResponse>(req, join_v);
  if (join_v >= 4) {
    EXPECT_EQ(j.error_code, code(ErrorCode::member_id_required));
    EXPECT_FALSE(j.member_id.empty());
    EXPECT_TRUE(j.member_id.starts_with("conveyor-test-")) << j.member_id;
    req.member_id = j.member_id;
    j = c.call<protocol::JoinGroupResponse>(req, join_v);
  }
  EXPECT_EQ(j.error_code, kNone);
  EXPECT_EQ(j.leader, j.member_id);
  EXPECT_EQ(j.protocol_name.value_or(""), "range");
  EXPECT_EQ(j.members.size(), 1u);
  EXPECT_GE(j.generation_id, 1);

  protocol::SyncGroupRequest sync;
  sync.group_id = group;
  sync.generation_id = j.generation_id;
  sync.member_id = j.member_id;
  if (sync_v >= 5) {
    sync.protocol_type = "consumer";
    sync.protocol_name = "range";
  }
  auto& a = sync.assignments.emplace_back();
  a.member_id = j.member_id;
  a.assignment = Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  auto s = c.call<protocol::SyncGroupResponse>(sync, sync_v);
  EXPECT_EQ(s.error_code, kNone);
  EXPECT_EQ(s.assignment, a.assignment);
  return {j.member_id, j.generation_id};
}

void check_cycle(TestClient& c, const std::string& group, int16_t join_v, int16_t sync_v, int16_t hb_v,
                 int16_t commit_v, int16_t fetch_v, int16_t leave_v) {
  auto [member, generation] = join_alone(c, group, join_v, sync_v);
  protocol::HeartbeatRequest hb;
  hb.group_id = group;
  hb.generation_id = generation;
  hb.member_id = member;
  EXPECT_EQ(c.call<protocol::HeartbeatResponse>(hb, hb_v).error_code, kNone);

  auto commit = c.call<protocol::OffsetCommitResponse>(
      commit_request(group, generation, member, "orders", 1, 42, "meta \xC3\xA9 data"), commit_v);
  ASSERT_EQ(commit.topics.size(), 1u);
  EXPECT_EQ(commit.topics[0].partitions.at(0).error_code, kNone);
  auto got = fetch_committed(c, group, "orders", 1, fetch_v);
  EXPECT_EQ(got.error, kNone);
  EXPECT_EQ(got.offset, 42);
  EXPECT_EQ(got.metadata.value_or("<null>"), "meta \xC3\xA9 data");
  if (fetch_v >= 5) EXPECT_EQ(got.leader_epoch, commit_v >= 6 ? 0 : -1);
  // Never committed: -1, no error.
  auto none = fetch_committed(c, group, "orders", 2, fetch_v);
  EXPECT_EQ(none.offset, -1);
  EXPECT_EQ(none.error, kNone);

  protocol::LeaveGroupRequest leave;
  leave.group_id = group;
  if (leave_v >= 3) {
    leave.members.emplace_back().member_id = member;
  } else {
    leave.member_id = member;
  }
  auto l = c.call<protocol::LeaveGroupResponse>(leave, leave_v);
  EXPECT_EQ(l.error_code, kNone);
  if (leave_v >= 3) {
    ASSERT_EQ(l.members.size(), 1u);
    EXPECT_EQ(l.members[0].error_code, kNone);
  }
  // Left: the member is unknown now and the group is Empty.
  EXPECT_EQ(c.call<protocol::HeartbeatResponse>(hb, hb_v).error_code, code(ErrorCode::unknown_member_id));
  protocol::DescribeGroupsRequest d;
  d.groups = {group};
  auto desc = c.call<protocol::DescribeGroupsResponse>(d, 0);
  EXPECT_EQ(desc.groups.at(0).group_state, "Empty");
}

TEST_F(GroupApiTest, FullCycleClassicVersions) {
  check_cycle(*client_, "classic", /*join*/ 2, /*sync*/ 2, /*hb*/ 2, /*commit*/ 2, /*fetch*/ 3, /*leave*/ 2);
  check_cycle(*client_, "classic-v5", 5, 3, 3, 7, 5, 3);
}

TEST_F(GroupApiTest, FullCycleFlexibleVersions) {
  check_cycle(*client_, "flexible", /*join*/ 9, /*sync*/ 5, /*hb*/ 4, /*commit*/ 9, /*fetch*/ 9, /*leave*/ 5);
  check_cycle(*client_, "flexible-low", 6, 4, 4, 8, 6, 4);
}

TEST_F(GroupApiTest, InvalidSessionTimeout) {
  for (int32_t timeout : {1000, 5999, 1800001}) {
    auto j = client_->call<protocol::JoinGroupResponse>(join_request("g", "", timeout), 5);
    EXPECT_EQ(j.error_code, code(ErrorCode::invalid_session_timeout)) << timeout;
  }
}

TEST_F(GroupApiTest, IllegalGenerationLeavesCommittedOffsetUnchanged) {
  auto [member, generation] = join_alone(*client_, "g", 5, 3);
  auto ok = client_->call<protocol::OffsetCommitResponse>(commit_request("g", generation, member, "orders", 0, 10), 8);
  EXPECT_EQ(ok.topics.at(0).partitions.at(0).error_code, kNone);
  auto stale = client_->call<protocol::OffsetCommitResponse>(
      commit_request("g", generation - 1, member, "orders", 0, 5), 8);
  EXPECT_EQ(stale.topics.at(0).partitions.at(0).error_code, code(ErrorCode::illegal_generation));
  EXPECT_EQ(fetch_committed(*client_, "g", "orders", 0).offset, 10);
  // A non-existent group with a generation is refused too; unknown partitions are flagged.
  auto nogroup = client_->call<protocol::OffsetCommitResponse>(commit_request("nope", 3, "x", "orders", 0, 5), 8);
  EXPECT_EQ(nogroup.topics.at(0).partitions.at(0).error_code, code(ErrorCode::illegal_generation));
  auto unknown = client_->call<protocol::OffsetCommitResponse>(
      commit_request("g", generation, member, "orders", 7, 5), 8);
  EXPECT_EQ(unknown.topics.at(0).partitions.at(0).error_code, code(ErrorCode::unknown_topic_or_partition));
  // Too much metadata.
  auto big = client_->call<protocol::OffsetCommitResponse>(
      commit_request("g", generation, member, "orders", 0, 11, std::string(4097, 'x')), 8);
  EXPECT_EQ(big.topics.at(0).partitions.at(0).error_code, code(ErrorCode::offset_metadata_too_large));
  EXPECT_EQ(fetch_committed(*client_, "g", "orders", 0).offset, 10);
}

TEST_F(GroupApiTest, UnknownMemberId) {
  auto [member, generation] = join_alone(*client_, "g", 5, 3);
  protocol::HeartbeatRequest hb;
  hb.group_id = "g";
  hb.generation_id = generation;
  hb.member_id = "somebody-else";
  EXPECT_EQ(client_->call<protocol::HeartbeatResponse>(hb, 3).error_code, code(ErrorCode::unknown_member_id));
  hb.member_id = member;
  hb.generation_id = generation + 5;
  EXPECT_EQ(client_->call<protocol::HeartbeatResponse>(hb, 3).error_code, code(ErrorCode::illegal_generation));
  auto commit = client_->call<protocol::OffsetCommitResponse>(
      commit_request("g", generation, "somebody-else", "orders", 0, 1), 8);
  EXPECT_EQ(commit.topics.at(0).partitions.at(0).error_code, code(ErrorCode::unknown_member_id));
  // A join with an unknown id.
  auto j = client_->call<protocol::JoinGroupResponse>(join_request("g", "somebody-else"), 5);
  EXPECT_EQ(j.error_code, code(ErrorCode::unknown_member_id));
}

TEST_F(GroupApiTest, DeleteGroupsOnlyWhenEmpty) {
  auto [member, generation] = join_alone(*client_, "busy", 5, 3);
  client_->call<protocol::OffsetCommitResponse>(commit_request("busy", generation, member, "orders", 0, 3), 8);
  protocol::DeleteGroupsRequest del;
  del.groups_names = {"busy", "never-existed"};
  auto r = client_->call<protocol::DeleteGroupsResponse>(del, 2);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].error_code, code(ErrorCode::non_empty_group));
  EXPECT_EQ(r.results[1].error_code, code(ErrorCode::group_id_not_found));
  EXPECT_EQ(fetch_committed(*client_, "busy", "orders", 0).offset, 3);

  protocol::LeaveGroupRequest leave;
  leave.group_id = "busy";
  leave.member_id = member;
  EXPECT_EQ(client_->call<protocol::LeaveGroupResponse>(leave, 1).error_code, kNone);
  del.groups_names = {"busy"};
  r = client_->call<protocol::DeleteGroupsResponse>(del, 0);
  EXPECT_EQ(r.results.at(0).error_code, kNone);
  EXPECT_EQ(fetch_committed(*client_, "busy", "orders", 0).offset, -1);
  protocol::ListGroupsRequest list;
  EXPECT_TRUE(client_->call<protocol::ListGroupsResponse>(list, 4).groups.empty());
}

TEST_F(GroupApiTest, DeletingATopicDeletesItsCommittedOffsets) {
  client_->call<protocol::OffsetCommitResponse>(commit_request("g", -1, "", "orders", 0, 9), 8);
  ASSERT_EQ(fetch_committed(*client_, "g", "orders", 0).offset, 9);
  protocol::DeleteTopicsRequest del;
  del.timeout_ms = 5000;
  del.topic_names = {"orders"};
  client_->call<protocol::DeleteTopicsResponse>(del, 4);
  EXPECT_EQ(fetch_committed(*client_, "g", "orders", 0).offset, -1);
}

TEST_F(GroupApiTest, ManualCommitWithoutGroupManagement) {
  // generation -1 and no member id: kcat/assign()-style commits into a group nobody joined.
  auto r = client_->call<protocol::OffsetCommitResponse>(commit_request("manual", -1, "", "orders", 2, 99, std::nullopt), 2);
  EXPECT_EQ(r.topics.at(0).partitions.at(0).error_code, kNone);
  auto got = fetch_committed(*client_, "manual", "orders", 2, 1);
  EXPECT_EQ(got.offset, 99);
  EXPECT_EQ(got.metadata.value_or("<null>"), "");  // null metadata is stored as "" (as Kafka)

  protocol::ListGroupsRequest list;
  auto groups = client_->call<protocol::ListGroupsResponse>(list, 4).groups;
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].group_id, "manual");
  EXPECT_EQ(groups[0].group_state, "Empty");
  list.states_filter = {"stable"};
  EXPECT_TRUE(client_->call<protocol::ListGroupsResponse>(list, 4).groups.empty());

  protocol::OffsetDeleteRequest od;
  od.group_id = "manual";
  auto& t = od.topics.emplace_back();
  t.name = "orders";
  t.partitions.emplace_back().partition_index = 2;
  auto del = client_->call<protocol::OffsetDeleteResponse>(od, 0);
  EXPECT_EQ(del.error_code, kNone);
  EXPECT_EQ(del.topics.at(0).partitions.at(0).error_code, kNone);
  EXPECT_EQ(fetch_committed(*client_, "manual", "orders", 2).offset, -1);
  od.group_id = "nope";
  EXPECT_EQ(client_->call<protocol::OffsetDeleteResponse>(od, 0).error_code, code(ErrorCode::group_id_not_found));
}

TEST_F(GroupApiTest, SecondMemberRebalancesThroughParkedJoins) {
  auto [first, generation] = join_alone(*client_, "pair", 5, 3);
  TestClient second(broker_->port());
  auto req2 = join_request("pair");
  auto j2 = second.call<protocol::JoinGroupResponse>(req2, 5);
  ASSERT_EQ(j2.error_code, code(ErrorCode::member_id_required));
  req2.member_id = j2.member_id;
  int32_t parked = second.send(req2, 5);  // parked until the first member rejoins

  protocol::HeartbeatRequest hb;
  hb.group_id = "pair";
  hb.generation_id = generation;
  hb.member_id = first;
  // The parked join travels on another connection: heartbeat until the broker has seen it
  // (answers 0 before, REBALANCE_IN_PROGRESS after), at most 10 s.
  int16_t hb_error = -1;
  for (int i = 0; i < 200; ++i) {
    hb_error = client_->call<protocol::HeartbeatResponse>(hb, 3).error_code;
    if (hb_error != code(ErrorCode::none)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(hb_error, code(ErrorCode::rebalance_in_progress));
  // A third client joins and vanishes while parked: nothing may break.
  {
    TestClient ghost(broker_->port());
    auto g = join_request("pair");
    auto gj = ghost.call<protocol::JoinGroupResponse>(g, 5);
    g.member_id = gj.member_id;
    ghost.send(g, 5);
  }
  auto j1 = client_->call<protocol::JoinGroupResponse>(join_request("pair", first), 5, 15000ms);
  auto j2b = second.receive<protocol::JoinGroupResponse>(5, parked, 15000ms);
  ASSERT_TRUE(j2b.has_value());
  EXPECT_EQ(j1.error_code, kNone);
  EXPECT_EQ(j2b->error_code, kNone);
  EXPECT_EQ(j1.generation_id, generation + 1);
  EXPECT_EQ(j2b->generation_id, generation + 1);
  EXPECT_EQ(j1.leader, first);  // the leader stays
  EXPECT_EQ(j1.members.size(), 3u);  // including the ghost, which joined
  EXPECT_TRUE(j2b->members.empty());

  // The follower's sync waits for the leader's.
  protocol::SyncGroupRequest s2;
  s2.group_id = "pair";
  s2.generation_id = j2b->generation_id;
  s2.member_id = j2b->member_id;
  int32_t sync_id = second.send(s2, 3);
  EXPECT_FALSE(second.wait_readable(300ms));
  protocol::SyncGroupRequest s1 = s2;
  s1.member_id = first;
  s1.assignments.push_back({first, Bytes{1}, {}});
  s1.assignments.push_back({j2b->member_id, Bytes{2}, {}});
  auto r1 = client_->call<protocol::SyncGroupResponse>(s1, 3);
  EXPECT_EQ(r1.error_code, kNone);
  EXPECT_EQ(r1.assignment, Bytes{1});
  auto r2 = second.receive<protocol::SyncGroupResponse>(3, sync_id);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->error_code, kNone);
  EXPECT_EQ(r2->assignment, Bytes{2});

  protocol::DescribeGroupsRequest d;
  d.groups = {"pair", "unknown-group"};
  d.include_authorized_operations = true;
  auto desc = client_->call<protocol::DescribeGroupsResponse>(d, 5);
  ASSERT_EQ(desc.groups.size(), 2u);
  EXPECT_EQ(desc.groups[0].group_state, "Stable");
  EXPECT_EQ(desc.groups[0].protocol_type, "consumer");
  EXPECT_EQ(desc.groups[0].protocol_data, "range");
  EXPECT_EQ(desc.groups[0].members.size(), 3u);
  EXPECT_EQ(desc.groups[1].group_state, "Dead");
  EXPECT_EQ(desc.groups[1].error_code, kNone);

  protocol::OffsetDeleteRequest od;
  od.group_id = "pair";
  auto& t = od.topics.emplace_back();
  t.name = "orders";
  t.partitions.emplace_back().partition_index = 0;
  auto del = client_->call<protocol::OffsetDeleteResponse>(od, 0);
  EXPECT_EQ(del.topics.at(0).partitions.at(0).error_code, code(ErrorCode::group_subscribed_to_topic));
}

TEST_F(GroupApiTest, AssignmentThatCannotBeStoredFailsSyncGroupAndTheGroupRebalances) {
  // The leader's SyncGroup writes the group's assignment to __consumer_offsets; with that disk
  // full, SyncGroup must fail (Kafka answers only once the record is stored) and the group goes
  // back to PreparingRebalance. Once space is back, a rejoin and sync succeed.
  auto dir = std::filesystem::temp_directory_path() / ("conveyor-group-full-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  client_.reset();
  broker_.reset();
  data_dir_ = dir.string();
  start();
  auto req = join_request("full-disk");
  auto j = client_->call<protocol::JoinGroupResponse>(req, 5);
  ASSERT_EQ(j.error_code, code(ErrorCode::member_id_required));
  req.member_id = j.member_id;
  j = client_->call<protocol::JoinGroupResponse>(req, 5);
  ASSERT_EQ(j.error_code, kNone);

  int64_t rule = io::faults::add({io::faults::Op::write, data_dir_ + "/__consumer_offsets-", ENOSPC});
  protocol::SyncGroupRequest sync;
  sync.group_id = "full-disk";
  sync.generation_id = j.generation_id;
  sync.member_id = j.member_id;
  auto& a = sync.assignments.emplace_back();
  a.member_id = j.member_id;
  a.assignment = Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  auto failed = client_->call<protocol::SyncGroupResponse>(sync, 3);
  EXPECT_GT(io::faults::failed(rule), 0) << "the assignment write reached the full disk";
  EXPECT_EQ(failed.error_code, code(ErrorCode::not_coordinator));
  EXPECT_TRUE(failed.assignment.empty());
  protocol::DescribeGroupsRequest d;
  d.groups = {"full-disk"};
  EXPECT_EQ(client_->call<protocol::DescribeGroupsResponse>(d, 0).groups.at(0).group_state, "PreparingRebalance");

  io::faults::remove(rule);
  j = client_->call<protocol::JoinGroupResponse>(req, 5);
  ASSERT_EQ(j.error_code, kNone);
  sync.generation_id = j.generation_id;
  auto ok = client_->call<protocol::SyncGroupResponse>(sync, 3);
  EXPECT_EQ(ok.error_code, kNone);
  EXPECT_EQ(ok.assignment, a.assignment);
  EXPECT_EQ(client_->call<protocol::DescribeGroupsResponse>(d, 0).groups.at(0).group_state, "Stable");
  client_.reset();
  broker_.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(GroupApiTest, CommitsSurviveRestart) {
  auto dir = std::filesystem::temp_directory_path() / ("conveyor-group-restart-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  client_.reset();
  broker_.reset();
  data_dir_ = dir.string();
  start();
  auto [member, generation] = join_alone(*client_, "durable", 5, 3);
  auto r = client_->call<protocol::OffsetCommitResponse>(
      commit_request("durable", generation, member, "orders", 1, 1234, "keep me"), 8);
  ASSERT_EQ(r.topics.at(0).partitions.at(0).error_code, kNone);
  client_->call<protocol::OffsetCommitResponse>(commit_request("manual", -1, "", "orders", 0, 7), 8);
  client_.reset();
  broker_->stop();
  broker_.reset();

  start();
  auto got = fetch_committed(*client_, "durable", "orders", 1);
  EXPECT_EQ(got.offset, 1234);
  EXPECT_EQ(got.metadata.value_or(""), "keep me");
  EXPECT_EQ(fetch_committed(*client_, "manual", "orders", 0).offset, 7);
  // Clients cannot append to the internal topic.
  auto produced = client_->call<protocol::ProduceResponse>(produce_request("__consumer_offsets", 0, make_batch(1)), 9);
  EXPECT_EQ(produced.responses.at(0).partition_responses.at(0).error_code, code(ErrorCode::invalid_topic_exception));
  // The group comes back Empty (members rejoin) with a generation that keeps increasing.
  protocol::DescribeGroupsRequest d;
  d.groups = {"durable"};
  EXPECT_EQ(client_->call<protocol::DescribeGroupsResponse>(d, 0).groups.at(0).group_state, "Empty");
  protocol::HeartbeatRequest hb;
  hb.group_id = "durable";
  hb.generation_id = generation;
  hb.member_id = member;
  EXPECT_EQ(client_->call<protocol::HeartbeatResponse>(hb, 3).error_code, code(ErrorCode::unknown_member_id));
  auto [member2, generation2] = join_alone(*client_, "durable", 5, 3);
  EXPECT_GT(generation2, generation);

  // Abandon the broker without a clean stop (no flush, no clean-shutdown marker): a new broker
  // on the same log dir still finds every acknowledged commit.
  auto c2 = client_->call<protocol::OffsetCommitResponse>(
      commit_request("durable", generation2, member2, "orders", 2, 555), 8);
  ASSERT_EQ(c2.topics.at(0).partitions.at(0).error_code, kNone);
  // A restart with another offsets.topic.num.partitions keeps using the topic's count.
  client_.reset();
  broker_->stop();
  broker_.reset();
  {
    Properties props;
    props.set("offsets.topic.num.partitions", "7");
    start(props);
  }
  EXPECT_EQ(fetch_committed(*client_, "durable", "orders", 2).offset, 555);
  auto c3 = client_->call<protocol::OffsetCommitResponse>(commit_request("manual", -1, "", "orders", 1, 8), 8);
  ASSERT_EQ(c3.topics.at(0).partitions.at(0).error_code, kNone);
  client_.reset();
  Broker* abandoned = broker_.release();
  (void)abandoned;  // leaked on purpose: its threads idle until the test process exits
  start();
  EXPECT_EQ(fetch_committed(*client_, "durable", "orders", 2).offset, 555);
  EXPECT_EQ(fetch_committed(*client_, "durable", "orders", 1).offset, 1234);
  EXPECT_EQ(fetch_committed(*client_, "manual", "orders", 1).offset, 8);
  client_.reset();
  broker_.reset();
  std::filesystem::remove_all(dir);
}

// The coordinator's timer: the initial rebalance delay completes a parked join, and a member
// that stops heartbeating is removed after its session timeout.
TEST(GroupTimers, InitialDelayAndSessionExpiryRunOnTheBrokerTimer) {
  Properties props;
  props.set("group.initial.rebalance.delay.ms", "300");
  props.set("group.min.session.timeout.ms", "500");
  props.set("offsets.topic.num.partitions", "1");
  auto broker = start_broker(props);
  ASSERT_NE(broker, nullptr);
  TestClient c(broker->port());
  auto req = join_request("timed", "", 1000);
  int32_t id = c.send(req, 3);  // v3: no MEMBER_ID_REQUIRED; parked for the initial delay
  auto j = c.receive<protocol::JoinGroupResponse>(3, id, 20000ms);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->error_code, kNone);
  EXPECT_EQ(j->generation_id, 1);
  protocol::SyncGroupRequest sync;
  sync.group_id = "timed";
  sync.generation_id = j->generation_id;
  sync.member_id = j->member_id;
  EXPECT_EQ(c.call<protocol::SyncGroupResponse>(sync, 2).error_code, kNone);
  // No more heartbeats: the session (1 s) expires and the group empties.
  protocol::DescribeGroupsRequest d;
  d.groups = {"timed"};
  std::string state;
  for (int i = 0; i < 200; ++i) {
    state = c.call<protocol::DescribeGroupsResponse>(d, 0).groups.at(0).group_state;
    if (state == "Empty") break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(state, "Empty");
  protocol::HeartbeatRequest hb;
  hb.group_id = "timed";
  hb.generation_id = j->generation_id;
  hb.member_id = j->member_id;
  EXPECT_EQ(c.call<protocol::HeartbeatResponse>(hb, 2).error_code, code(ErrorCode::unknown_member_id));
}

TEST_F(GroupApiTest, OffsetForLeaderEpoch) {
  client_->call<protocol::ProduceResponse>(produce_request("orders", 0, make_batch(5)), 9);
  protocol::OffsetForLeaderEpochRequest req;
  auto& t = req.topics.emplace_back();
  t.topic = "orders";
  auto add = [&](int32_t partition, int32_t current, int32_t epoch) {
    auto& p = t.partitions.emplace_back();
    p.partition = partition;
    p.current_leader_epoch = current;
    p.leader_epoch = epoch;
  };
  add(0, 0, 0);    // end of epoch 0 = LEO
  add(0, -1, 3);   // unknown later epoch
  add(0, 1, 0);    // current epoch newer than the leader's
  add(9, -1, 0);   // no such partition
  for (int16_t v = 2; v <= 4; ++v) {
    auto r = client_->call<protocol::OffsetForLeaderEpochResponse>(req, v);
    ASSERT_EQ(r.topics.at(0).partitions.size(), 4u);
    const auto& ps = r.topics[0].partitions;
    EXPECT_EQ(ps[0].error_code, kNone);
    EXPECT_EQ(ps[0].leader_epoch, 0);
    EXPECT_EQ(ps[0].end_offset, 5);
    EXPECT_EQ(ps[1].error_code, kNone);
    EXPECT_EQ(ps[1].end_offset, -1);
    EXPECT_EQ(ps[2].error_code, code(ErrorCode::unknown_leader_epoch));
    EXPECT_EQ(ps[3].error_code, code(ErrorCode::unknown_topic_or_partition));
  }
}

}  // namespace
}  // namespace conveyor::broker
