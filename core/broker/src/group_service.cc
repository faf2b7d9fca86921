#include "group_service.h"

#include <map>

#include <fmt/format.h>

#include "conveyor/base/log.h"
#include "conveyor/group/offsets_records.h"
#include "conveyor/protocol/record_batch.h"

namespace conveyor::broker {

namespace {
constexpr std::string_view kLog = "group";
constexpr int32_t kReplayReadBytes = 1 << 20;  // bytes read per step when replaying a partition

// Kafka shows the client's address as InetAddress.toString(): "/127.0.0.1".
std::string client_host_of(const std::string& peer) {
  auto colon = peer.rfind(':');
  std::string host = colon == std::string::npos ? peer : peer.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return "/" + host;
}
}  // namespace

GroupService::GroupService(BrokerState& broker, group::CoordinatorConfig config)
    : broker_(broker), coordinator_([&] {
        config.random_seed = io::random_u64();
        // Groups map to partitions by the count the topic has (as Kafka): changing
        // offsets.topic.num.partitions later must not move existing groups.
        if (auto info = broker.topics->find(group::kOffsetsTopic); info && !info->partitions.empty())
          config.offsets_topic_num_partitions = static_cast<int32_t>(info->partitions.size());
        return config;
      }()) {}

GroupService::~GroupService() { stop(); }

Result<void> GroupService::ensure_offsets_topic() {
  if (broker_.topics->find(group::kOffsetsTopic)) return {};
  TopicManager::CreateRequest req;
  req.name = group::kOffsetsTopic;
  req.num_partitions = coordinator_.config().offsets_topic_num_partitions;
  req.replication_factor = 1;
  req.configs.set("cleanup.policy", "compact");
  req.configs.set("segment.bytes", std::to_string(broker_.config.offsets_topic_segment_bytes));
  auto created = broker_.topics->create(req);
  if (!created && created.error().code != ErrorCode::topic_already_exists) return fail(created.error());
  if (created) log::info(kLog, "created {} with {} partitions", group::kOffsetsTopic, req.num_partitions);
  return {};
}

Result<void> GroupService::load() {
  std::lock_guard lock(mutex_);
  auto info = broker_.topics->find(group::kOffsetsTopic);
  size_t records = 0, skipped = 0;
  if (info) {
    for (const auto& p : info->partitions) {
      auto& log = p.log;
      int64_t offset = log->log_start_offset();
      const int64_t end = log->log_end_offset();
      while (offset < end) {
        auto read = log->read(offset, kReplayReadBytes, end);
        if (!read) return fail(read.error());
        if (read->records.empty()) break;
        auto batches = protocol::split_batches(read->records);
        if (!batches) return fail(batches.error());
        int64_t next = offset;
        for (const auto& b : *batches) {
          next = std::max(next, b.header.last_offset() + 1);
          if (b.header.is_control() || b.header.last_offset() < offset) continue;
          auto walked = protocol::for_each_record(b.bytes, {}, [&](const protocol::RecordView& r) {
            if (r.offset < offset || !r.key) return;
            auto loaded = coordinator_.load_record(*r.key, r.value);
            ++records;
            if (!loaded) {
              ++skipped;
              log::warn(kLog, "{}-{} offset {}: {}", group::kOffsetsTopic, p.partition, r.offset,
                        loaded.error().message);
            }
          });
          if (!walked)
            log::warn(kLog, "{}-{}: unreadable batch at {}: {}", group::kOffsetsTopic, p.partition,
                      b.header.base_offset, walked.error().message);
        }
        if (next <= offset) break;
        offset = next;
      }
    }
  }
  coordinator_.finish_load(BrokerState::now_ms());
  if (info)
    log::info(kLog, "loaded {} group(s) from {} record(s) of {} ({} skipped)", coordinator_.group_count(), records,
              group::kOffsetsTopic, skipped);
  return {};
}

void GroupService::start() { schedule_tick(); }

void GroupService::schedule_tick() {
  std::lock_guard lock(mutex_);
  if (stopped_ || !broker_.server) return;
  timer_ = broker_.server->run_after(std::chrono::milliseconds(kGroupTickMs), [this] {
    tick();
    schedule_tick();
  });
}

void GroupService::tick() {
  Sends sends;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    group::Output out;
    coordinator_.tick(BrokerState::now_ms(), out);
    apply_locked(out, sends);
  }
  for (auto& s : sends) s();
}

void GroupService::stop() {
  std::shared_ptr<io::Timer> timer;
  std::unordered_map<group::Token, RequestContext> parked;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    timer = std::move(timer_);
    parked.swap(parked_);
  }
  if (timer) timer->cancel();
}

size_t GroupService::parked_count() const {
  std::lock_guard lock(mutex_);
  return parked_.size();
}

Result<void> GroupService::append_locked(const std::vector<group::Write>& writes) {
  if (writes.empty()) return {};
  if (auto r = ensure_offsets_topic(); !r) return r;
  std::map<int32_t, std::vector<const group::Write*>> by_partition;
  for (const auto& w : writes) by_partition[w.partition].push_back(&w);
  const int64_t now = BrokerState::now_ms();
  Result<void> result;
  for (const auto& [partition, ws] : by_partition) {
    auto log = broker_.topics->partition(group::kOffsetsTopic, partition);
    if (!log) {
      result = fail(ErrorCode::coordinator_not_available,
                    fmt::format("{} has no partition {}", group::kOffsetsTopic, partition));
      continue;
    }
    protocol::RecordBatchBuilder builder({});
    for (const auto* w : ws) {
      std::optional<ByteView> value;
      if (w->value) value = ByteView(*w->value);
      builder.add(now, ByteView(w->key), value);
    }
    auto batch = builder.build();
    if (!batch) {
      result = fail(batch.error());
      continue;
    }
    auto appended = log->append(*batch, /*leader_epoch=*/0, now);
    if (!appended) {
      log::error(kLog, "append to {}-{} failed: {}", group::kOffsetsTopic, partition, appended.error().message);
      result = fail(appended.error());
      continue;
    }
    broker_.purgatory->notify(group::kOffsetsTopic, partition);
  }
  return result;
}

void GroupService::apply_locked(group::Output& out, Sends& sends) {
  auto written = append_locked(out.writes);
  if (!written) log::error(kLog, "group metadata not stored: {}", written.error().to_string());
  if (out.assignment_store_group) {
    const size_t stored = out.writes.size();
    coordinator_.finish_assignment_store(*out.assignment_store_group, written, BrokerState::now_ms(), out);
    if (out.writes.size() > stored) {
      std::vector<group::Write> more(std::make_move_iterator(out.writes.begin() + static_cast<ptrdiff_t>(stored)),
                                     std::make_move_iterator(out.writes.end()));
      if (auto r = append_locked(more); !r) log::error(kLog, "group metadata not stored: {}", r.error().to_string());
    }
  }
  for (auto& [token, response] : out.joins) {
    auto it = parked_.find(token);
    if (it == parked_.end()) continue;
    sends.push_back([ctx = std::move(it->second), r = std::move(response)] { ctx.respond(r); });
    parked_.erase(it);
  }
  for (auto& [token, response] : out.syncs) {
    auto it = parked_.find(token);
    if (it == parked_.end()) continue;
    sends.push_back([ctx = std::move(it->second), r = std::move(response)] { ctx.respond(r); });
    parked_.erase(it);
  }
}

void GroupService::join_group(RequestContext ctx, const protocol::JoinGroupRequest& request) {
  Sends sends;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    const group::Token token = next_token_++;
    const int16_t version = ctx.version();
    std::string client_id = ctx.header.client_id.value_or("");
    std::string host = client_host_of(ctx.connection->peer());
    parked_.emplace(token, std::move(ctx));
    group::Output out;
    coordinator_.join_group(token, version, request, client_id, host, BrokerState::now_ms(), out);
    apply_locked(out, sends);
  }
  for (auto& s : sends) s();
}

void GroupService::sync_group(RequestContext ctx, const protocol::SyncGroupRequest& request) {
  Sends sends;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    const group::Token token = next_token_++;
    const int16_t version = ctx.version();
    parked_.emplace(token, std::move(ctx));
    group::Output out;
    coordinator_.sync_group(token, version, request, BrokerState::now_ms(), out);
    apply_locked(out, sends);
  }
  for (auto& s : sends) s();
}

protocol::HeartbeatResponse GroupService::heartbeat(int16_t version, const protocol::HeartbeatRequest& request) {
  std::lock_guard lock(mutex_);
  return coordinator_.heartbeat(version, request, BrokerState::now_ms());
}

protocol::LeaveGroupResponse GroupService::leave_group(int16_t version, const protocol::LeaveGroupRequest& request) {
  Sends sends;
  protocol::LeaveGroupResponse response;
  {
    std::lock_guard lock(mutex_);
    group::Output out;
    response = coordinator_.leave_group(version, request, BrokerState::now_ms(), out);
    apply_locked(out, sends);
  }
  for (auto& s : sends) s();
  return response;
}

protocol::OffsetCommitResponse GroupService::offset_commit(int16_t version,
                                                           const protocol::OffsetCommitRequest& request) {
  std::lock_guard lock(mutex_);
  auto exists = [this](const std::string& topic, int32_t partition) {
    auto info = broker_.topics->find(topic);
    return info && partition >= 0 && static_cast<size_t>(partition) < info->partitions.size();
  };
  auto plan = coordinator_.offset_commit(version, request, exists, BrokerState::now_ms());
  auto written = append_locked(plan.writes);
  coordinator_.finish_offset_commit(plan, written);
  return std::move(plan.response);
}

protocol::OffsetFetchResponse GroupService::offset_fetch(int16_t version, const protocol::OffsetFetchRequest& request) {
  std::lock_guard lock(mutex_);
  return coordinator_.offset_fetch(version, request);
}

protocol::OffsetDeleteResponse GroupService::offset_delete(const protocol::OffsetDeleteRequest& request) {
  Sends sends;
  protocol::OffsetDeleteResponse response;
  {
    std::lock_guard lock(mutex_);
    group::Output out;
    response = coordinator_.offset_delete(request, BrokerState::now_ms(), out);
    apply_locked(out, sends);
  }
  for (auto& s : sends) s();
  return response;
}

void GroupService::topic_deleted(const std::string& topic) {
  Sends sends;
  {
    std::lock_guard lock(mutex_);
    group::Output out;
    coordinator_.delete_topic_offsets(topic, out);
    apply_locked(out, sends);
  }
  for (auto& s : sends) s();
}

protocol::ListGroupsResponse GroupService::list_groups(int16_t version, const protocol::ListGroupsRequest& request) {
  std::lock_guard lock(mutex_);
  return coordinator_.list_groups(version, request);
}

protocol::DescribeGroupsResponse GroupService::describe_groups(int16_t version,
                                                               const protocol::DescribeGroupsRequest& request) {
  std::lock_guard lock(mutex_);
  return coordinator_.describe_groups(version, request);
}

protocol::DeleteGroupsResponse GroupService::delete_groups(int16_t version,
                                                           const protocol::DeleteGroupsRequest& request) {
  Sends sends;
  protocol::DeleteGroupsResponse response;
  {
    std::lock_guard lock(mutex_);
    group::Output out;
    response = coordinator_.delete_groups(version, request, BrokerState::now_ms(), out);
    apply_locked(out, sends);
  }
  for (auto& s : sends) s();
  return response;
}

}  // namespace conveyor::broker
