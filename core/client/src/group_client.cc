#include "group_client.h"

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include <fmt/format.h>

#include "conveyor/base/log.h"

namespace conveyor::client {
namespace {
constexpr std::string_view kLog = "group";
constexpr int64_t kTickMs = 100;
constexpr size_t kMaxQueuedCommitResults = 10000;  // async outcomes waiting for poll()
constexpr int64_t kPollReportMs = 50;               // poll activity sent to the loop at most this often
constexpr size_t kMaxCoordinatorWaiters = 10000;    // commits/fetches waiting for FindCoordinator
constexpr int kLeaderMetadataAttempts = 20;         // leader's Metadata retries before using the cache

bool retry_commit_error(ErrorCode c) {
  switch (c) {
    case ErrorCode::not_coordinator:
    case ErrorCode::coordinator_not_available:
    case ErrorCode::coordinator_load_in_progress:
    case ErrorCode::local_transport:
    case ErrorCode::request_timed_out:
    case ErrorCode::network_exception:
    case ErrorCode::local_all_brokers_down:
    case ErrorCode::unstable_offset_commit:
      return true;
    default:
      return false;
  }
}
bool coordinator_moved(ErrorCode c) {
  return c == ErrorCode::not_coordinator || c == ErrorCode::coordinator_not_available ||
         c == ErrorCode::local_transport || c == ErrorCode::request_timed_out ||
         c == ErrorCode::network_exception;
}
}  // namespace

GroupClient::GroupClient(GroupClientConfig config, io::ClientLoop& loop, NetworkClient& net, GroupHooks hooks)
    : config_(std::move(config)), loop_(loop), net_(net), hooks_(std::move(hooks)), membership_(config_.membership) {
  next_auto_commit_ms_ = io::steady_now_ms() + config_.auto_commit_interval_ms;
}

GroupClient::~GroupClient() = default;

void GroupClient::start() {
  std::weak_ptr<bool> alive = alive_;
  net_.on_metadata_update([this, alive] {
    if (!alive.expired() && !stopped_) on_metadata();
  });
  tick();
}

void GroupClient::stop() {
  stopped_ = true;
  alive_.reset();
  if (tick_timer_) loop_.cancel(tick_timer_);
  for (auto& w : coordinator_waiters_) w.fn(fail(ErrorCode::local_destroy, "consumer closing"));
  coordinator_waiters_.clear();
  for (auto& fn : std::exchange(leave_done_, {})) fn();
}

// ---------------------------------------------------------------------------------------
// loop thread

void GroupClient::tick() {
  if (stopped_) return;
  int64_t now = io::steady_now_ms();
  membership_.tick(now);
  // Coordinator waiters past their deadline.
  for (auto it = coordinator_waiters_.begin(); it != coordinator_waiters_.end();) {
    if (it->deadline_ms <= now) {
      auto fn = std::move(it->fn);
      it = coordinator_waiters_.erase(it);
      fn(fail(ErrorCode::local_timed_out, "group coordinator not found in time"));
    } else {
      ++it;
    }
  }
  if (pattern_regex_ && !pattern_in_flight_ && now >= next_pattern_refresh_ms_) refresh_pattern();
  drive();
  std::weak_ptr<bool> alive = alive_;
  int64_t delay_ms = kTickMs;
  if (auto due = membership_.next_heartbeat_due_ms()) delay_ms = std::clamp<int64_t>(*due - now, 1, kTickMs);
  tick_timer_ = loop_.schedule(delay_ms, [this, alive] {
    if (!alive.expired()) tick();
  });
}

void GroupClient::find_coordinator() {
  if (find_in_flight_ || stopped_) return;
  find_in_flight_ = true;
  protocol::FindCoordinatorRequest req;
  req.key = config_.membership.group_id;
  req.key_type = 0;  // GROUP
  req.coordinator_keys = {config_.membership.group_id};
  std::weak_ptr<bool> alive = alive_;
  net_.send<protocol::FindCoordinatorRequest, protocol::FindCoordinatorResponse>(
      NetworkClient::kAnyNode, std::move(req),
      [this, alive](Result<protocol::FindCoordinatorResponse> r, int16_t version) {
        if (alive.expired() || stopped_) return;
        find_in_flight_ = false;
        int64_t now = io::steady_now_ms();
        Result<int32_t> node = fail(ErrorCode::coordinator_not_available, "FindCoordinator failed");
        if (!r) {
          node = fail(r.error());
        } else {
          int16_t code = r->error_code;
          int32_t id = r->node_id;
          std::string host = r->host;
          int32_t port = r->port;
          if (version >= 4) {
            code = static_cast<int16_t>(ErrorCode::coordinator_not_available);
            for (const auto& c : r->coordinators)
              if (c.key == config_.membership.group_id) {
                code = c.error_code;
                id = c.node_id;
                host = c.host;
                port = c.port;
              }
          }
          if (code != 0) {
            node = fail(static_cast<ErrorCode>(code), "FindCoordinator");
          } else if (port <= 0 || port > 65535 || id < 0) {
            node = fail(ErrorCode::coordinator_not_available, "FindCoordinator returned no usable address");
          } else {
            node = net_.add_coordinator_node(id, host, static_cast<uint16_t>(port));
          }
        }
        if (!node) log::debug(kLog, "FindCoordinator: {}", node.error().to_string());
        membership_.on_find_coordinator(node, now);
        auto waiters = std::move(coordinator_waiters_);
        coordinator_waiters_.clear();
        for (auto& w : waiters) {
          if (node)
            w.fn(*node);
          else if (w.deadline_ms <= now || !retry_commit_error(node.error().code))
            w.fn(fail(node.error()));
          else
            coordinator_waiters_.push_back(std::move(w));
        }
        if (!coordinator_waiters_.empty()) {
          std::weak_ptr<bool> alive2 = alive_;
          loop_.schedule(config_.retry_backoff_ms, [this, alive2] {
            if (!alive2.expired() && !stopped_ && !coordinator_waiters_.empty()) find_coordinator();
          });
        }
        drive();
      },
      protocol::FindCoordinatorRequest::kMaxVersion, 0);
}

void GroupClient::with_coordinator(int64_t deadline_ms, std::function<void(Result<int32_t>)> fn) {
  if (auto c = membership_.coordinator()) return fn(*c);
  if (coordinator_waiters_.size() >= kMaxCoordinatorWaiters)
    return fn(fail(ErrorCode::local_queue_full, "too many requests waiting for the group coordinator"));
  coordinator_waiters_.push_back({deadline_ms, std::move(fn)});
  find_coordinator();
}

void GroupClient::drive() {
  if (stopped_) return;
  auto actions = membership_.take_actions();
  bool notify = false;
  std::weak_ptr<bool> alive = alive_;
  int64_t group_timeout = config_.membership.rebalance_timeout_ms + 5000;
  for (auto& action : actions) {
    if (std::holds_alternative<membership::FindCoordinator>(action)) {
      find_coordinator();
    } else if (auto* j = std::get_if<membership::JoinGroup>(&action)) {
      net_.send<protocol::JoinGroupRequest, protocol::JoinGroupResponse>(
          membership_.coordinator().value_or(NetworkClient::kAnyNode), std::move(j->request),
          [this, alive](Result<protocol::JoinGroupResponse> r, int16_t) {
            if (alive.expired() || stopped_) return;
            membership_.on_join_group(std::move(r), io::steady_now_ms());
            drive();
          },
          protocol::JoinGroupRequest::kMaxVersion, 0, std::max(group_timeout, config_.request_timeout_ms));
    } else if (auto* s = std::get_if<membership::SyncGroup>(&action)) {
      net_.send<protocol::SyncGroupRequest, protocol::SyncGroupResponse>(
          membership_.coordinator().value_or(NetworkClient::kAnyNode), std::move(s->request),
          [this, alive](Result<protocol::SyncGroupResponse> r, int16_t) {
            if (alive.expired() || stopped_) return;
            membership_.on_sync_group(std::move(r), io::steady_now_ms());
            drive();
          },
          protocol::SyncGroupRequest::kMaxVersion, 0, std::max(group_timeout, config_.request_timeout_ms));
    } else if (auto* h = std::get_if<membership::Heartbeat>(&action)) {
      net_.send<protocol::HeartbeatRequest, protocol::HeartbeatResponse>(
          membership_.coordinator().value_or(NetworkClient::kAnyNode), std::move(h->request),
          [this, alive](Result<protocol::HeartbeatResponse> r, int16_t) {
            if (alive.expired() || stopped_) return;
            membership_.on_heartbeat(std::move(r), io::steady_now_ms());
            drive();
          });
    } else if (auto* l = std::get_if<membership::LeaveGroup>(&action)) {
      ++leaves_in_flight_;
      net_.send<protocol::LeaveGroupRequest, protocol::LeaveGroupResponse>(
          membership_.coordinator().value_or(NetworkClient::kAnyNode), std::move(l->request),
          [this, alive](Result<protocol::LeaveGroupResponse> r, int16_t) {
            if (!r) log::debug(kLog, "LeaveGroup: {}", r.error().to_string());
            if (alive.expired()) return;
            if (--leaves_in_flight_ == 0)
              for (auto& fn : std::exchange(leave_done_, {})) fn();
          });
    } else if (auto* n = std::get_if<membership::NeedMetadata>(&action)) {
      leader_metadata(std::move(n->topics), 0);
    } else if (auto* d = std::get_if<membership::Deliver>(&action)) {
      std::lock_guard lock(mu_);
      events_.push_back(std::move(d->event));
      pending_ = true;
      notify = true;
    } else if (auto* e = std::get_if<membership::ReportError>(&action)) {
      std::lock_guard lock(mu_);
      errors_.push_back(std::move(e->error));
      pending_ = true;
      notify = true;
    }
  }
  {
    std::lock_guard lock(mu_);
    member_id_snapshot_ = membership_.member_id();
    generation_snapshot_ = membership_.generation();
  }
  auto st = membership_.state();
  stable_ = membership_.generation() >= 0 &&
            (st == GroupMembership::State::stable || st == GroupMembership::State::assigning ||
             st == GroupMembership::State::preparing);
  if (notify && hooks_.notify) hooks_.notify();
}

void GroupClient::leader_metadata(std::vector<std::string> topics, int attempt) {
  std::weak_ptr<bool> alive = alive_;
  // The leader assigns from the client's metadata when it already knows every subscribed
  // topic (as Java's ConsumerCoordinator does; a later change of a partition count makes the
  // member rejoin, see on_metadata). Asking the broker again would queue the Metadata request
  // behind the consumer's own long-polling Fetch on the same connection and hold the whole
  // group's SyncGroup for up to fetch.max.wait.ms.
  if (attempt == 0) {
    std::map<std::string, int32_t> cached;
    for (const auto& t : topics) {
      auto it = net_.metadata().topics.find(t);
      if (it == net_.metadata().topics.end() || it->second.error != ErrorCode::none || it->second.partitions.empty())
        break;
      cached[t] = static_cast<int32_t>(it->second.partitions.size());
    }
    if (cached.size() == topics.size()) {
      loop_.schedule(0, [this, alive, cached] {
        if (alive.expired() || stopped_) return;
        membership_.on_leader_metadata(cached, io::steady_now_ms());
        drive();
      });
      return;
    }
  }
  auto copy = topics;
  net_.fetch_metadata(std::move(copy), false, [this, alive, topics, attempt](Result<protocol::MetadataResponse> r) {
    if (alive.expired() || stopped_) return;
    if (!r && attempt < kLeaderMetadataAttempts) {
      loop_.schedule(config_.retry_backoff_ms, [this, alive, topics, attempt] {
        if (!alive.expired() && !stopped_) leader_metadata(topics, attempt + 1);
      });
      return;
    }
    std::map<std::string, int32_t> counts;
    if (r) {
      for (const auto& t : r->topics) {
        if (!t.name || t.error_code != 0) continue;
        counts[*t.name] = static_cast<int32_t>(t.partitions.size());
      }
    } else {
      for (const auto& [name, t] : net_.metadata().topics)
        if (t.error == ErrorCode::none) counts[name] = static_cast<int32_t>(t.partitions.size());
    }
    membership_.on_leader_metadata(counts, io::steady_now_ms());
    drive();
  });
}

void GroupClient::on_metadata() {
  std::map<std::string, int32_t> counts;
  for (const auto& t : membership_.subscription()) {
    auto it = net_.metadata().topics.find(t);
    if (it != net_.metadata().topics.end() && it->second.error == ErrorCode::none && !it->second.partitions.empty())
      counts[t] = static_cast<int32_t>(it->second.partitions.size());
  }
  membership_.update_metadata(counts, io::steady_now_ms());
  drive();
}

void GroupClient::refresh_pattern() {
  pattern_in_flight_ = true;
  std::weak_ptr<bool> alive = alive_;
  net_.fetch_metadata(std::nullopt, false, [this, alive](Result<protocol::MetadataResponse> r) {
    if (alive.expired() || stopped_) return;
    pattern_in_flight_ = false;
    int64_t now = io::steady_now_ms();
    if (!r) {
      next_pattern_refresh_ms_ = now + config_.retry_backoff_ms;
      return;
    }
    next_pattern_refresh_ms_ = now + config_.metadata_max_age_ms;
    if (!pattern_regex_) return;
    std::set<std::string> matched;
    for (const auto& t : r->topics) {
      if (!t.name || t.error_code != 0) continue;
      if (t.is_internal && config_.exclude_internal_topics) continue;
      if (std::regex_match(*t.name, *pattern_regex_)) matched.insert(*t.name);
    }
    if (matched != membership_.subscription()) {
      log::info(kLog, "group {}: pattern now matches {} topic(s)", config_.membership.group_id, matched.size());
      net_.add_topics(std::vector<std::string>(matched.begin(), matched.end()));
      {
        std::lock_guard lock(mu_);
        subscription_.assign(matched.begin(), matched.end());
      }
      membership_.subscribe(matched, now, true);  // no match: a member with no topics
      on_metadata();
    }
    drive();
  });
}

void GroupClient::send_commit(std::vector<TopicPartitionOffset> offsets, int64_t deadline_ms,
                              std::function<void(Result<void>)> done) {
  std::weak_ptr<bool> alive = alive_;
  with_coordinator(deadline_ms, [this, alive, offsets, deadline_ms, done](Result<int32_t> node) {
    if (!node) return done(fail(node.error()));
    protocol::OffsetCommitRequest req;
    req.group_id = config_.membership.group_id;
    bool member = membership_.state() != GroupMembership::State::idle;
    if (member) {
      // Java commits only from a stable member (generationIfStable): between JoinGroup and
      // the assignment the group is rebalancing. Revocation before the join and the callbacks
      // after the sync still commit with the current generation.
      auto st = membership_.state();
      bool stable = st == GroupMembership::State::stable || st == GroupMembership::State::assigning ||
                    st == GroupMembership::State::preparing;
      if (!stable || membership_.generation() < 0)
        return done(fail(ErrorCode::rebalance_in_progress,
                         "the group is rebalancing (no current generation): commit again after it"));
      req.generation_id_or_member_epoch = membership_.generation();
      req.member_id = membership_.member_id();
      req.group_instance_id = config_.membership.group_instance_id;
    } else {
      req.generation_id_or_member_epoch = -1;
      req.member_id = "";
    }
    std::map<std::string, std::vector<const TopicPartitionOffset*>> by_topic;
    for (const auto& o : offsets) by_topic[o.topic].push_back(&o);
    for (const auto& [topic, list] : by_topic) {
      protocol::OffsetCommitRequest::OffsetCommitRequestTopic t;
      t.name = topic;
      for (const auto* o : list) {
        protocol::OffsetCommitRequest::OffsetCommitRequestPartition p;
        p.partition_index = o->partition;
        p.committed_offset = o->offset;
        p.committed_leader_epoch = o->leader_epoch;
        p.committed_metadata = o->metadata;
        t.partitions.push_back(std::move(p));
      }
      req.topics.push_back(std::move(t));
    }
    net_.send<protocol::OffsetCommitRequest, protocol::OffsetCommitResponse>(
        *node, std::move(req),
        [this, alive, offsets, deadline_ms, done](Result<protocol::OffsetCommitResponse> r, int16_t) {
          if (alive.expired() || stopped_) return done(fail(ErrorCode::local_destroy, "consumer closing"));
          int64_t now = io::steady_now_ms();
          Error err{ErrorCode::none, {}};
          if (!r) {
            err = r.error();
          } else {
            for (const auto& t : r->topics)
              for (const auto& p : t.partitions)
                if (p.error_code != 0 && err.code == ErrorCode::none)
                  err = Error{static_cast<ErrorCode>(p.error_code),
                              fmt::format("OffsetCommit {}-{}: {}", t.name, p.partition_index,
                                          error_name(static_cast<ErrorCode>(p.error_code)))};
          }
          if (err.code == ErrorCode::none) return done({});
          if (coordinator_moved(err.code)) {
            membership_.coordinator_lost(now);
            drive();
          }
          if (retry_commit_error(err.code) && now + config_.retry_backoff_ms < deadline_ms) {
            loop_.schedule(config_.retry_backoff_ms, [this, alive, offsets, deadline_ms, done] {
              if (alive.expired() || stopped_) return done(fail(ErrorCode::local_destroy, "consumer closing"));
              send_commit(offsets, deadline_ms, done);
            });
            return;
          }
          membership_.on_commit_error(err.code, now);
          drive();
          done(fail(err));
        },
        protocol::OffsetCommitRequest::kMaxVersion, protocol::OffsetCommitRequest::kMinVersion,
        std::max<int64_t>(1, deadline_ms - io::steady_now_ms()));
  });
}

void GroupClient::send_offset_fetch(std::vector<TopicPartition> parts, int64_t deadline_ms,
                                    std::function<void(Result<std::vector<TopicPartitionOffset>>)> done) {
  std::weak_ptr<bool> alive = alive_;
  with_coordinator(deadline_ms, [this, alive, parts, deadline_ms, done](Result<int32_t> node) {
    if (!node) return done(fail(node.error()));
    protocol::OffsetFetchRequest req;
    std::map<std::string, std::vector<int32_t>> by_topic;
    for (const auto& tp : parts) by_topic[tp.topic].push_back(tp.partition);
    req.group_id = config_.membership.group_id;
    req.topics.emplace();
    protocol::OffsetFetchRequest::OffsetFetchRequestGroup g;
    g.group_id = config_.membership.group_id;
    g.topics.emplace();
    for (const auto& [topic, ps] : by_topic) {
      protocol::OffsetFetchRequest::OffsetFetchRequestTopic t;
      t.name = topic;
      t.partition_indexes = ps;
      req.topics->push_back(t);
      protocol::OffsetFetchRequest::OffsetFetchRequestTopics gt;
      gt.name = topic;
      gt.partition_indexes = ps;
      g.topics->push_back(gt);
    }
    req.groups.push_back(std::move(g));
    req.require_stable = true;  // KIP-447: wait out pending transactional commits
    net_.send<protocol::OffsetFetchRequest, protocol::OffsetFetchResponse>(
        *node, std::move(req),
        [this, alive, parts, deadline_ms, done](Result<protocol::OffsetFetchResponse> r, int16_t version) {
          if (alive.expired() || stopped_) return done(fail(ErrorCode::local_destroy, "consumer closing"));
          int64_t now = io::steady_now_ms();
          Error err{ErrorCode::none, {}};
          std::map<TopicPartition, TopicPartitionOffset> found;
          auto take = [&](const std::string& topic, int32_t partition, int64_t offset, int32_t epoch,
                          const std::optional<std::string>& metadata, int16_t code) {
            if (code != 0 && err.code == ErrorCode::none)
              err = Error{static_cast<ErrorCode>(code), fmt::format("OffsetFetch {}-{}: {}", topic, partition,
                                                                    error_name(static_cast<ErrorCode>(code)))};
            TopicPartitionOffset o;
            o.topic = topic;
            o.partition = partition;
            o.offset = offset < 0 ? -1 : offset;
            o.leader_epoch = epoch;
            o.metadata = metadata.value_or("");
            found[{topic, partition}] = std::move(o);
          };
          if (!r) {
            err = r.error();
          } else if (version >= 8) {
            for (const auto& g : r->groups) {
              if (g.error_code != 0 && err.code == ErrorCode::none)
                err = Error{static_cast<ErrorCode>(g.error_code), "OffsetFetch"};
              for (const auto& t : g.topics)
                for (const auto& p : t.partitions)
                  take(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata, p.error_code);
            }
          } else {
            if (r->error_code != 0) err = Error{static_cast<ErrorCode>(r->error_code), "OffsetFetch"};
            for (const auto& t : r->topics)
              for (const auto& p : t.partitions)
                take(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata, p.error_code);
          }
          if (err.code != ErrorCode::none) {
            if (coordinator_moved(err.code)) {
              membership_.coordinator_lost(now);
              drive();
            }
            if (retry_commit_error(err.code) && now + config_.retry_backoff_ms < deadline_ms) {
              loop_.schedule(config_.retry_backoff_ms, [this, alive, parts, deadline_ms, done] {
                if (alive.expired() || stopped_) return done(fail(ErrorCode::local_destroy, "consumer closing"));
                send_offset_fetch(parts, deadline_ms, done);
              });
              return;
            }
            if (err.message.empty() || err.message == "OffsetFetch")
              err.message = fmt::format("OffsetFetch for group {}: {}", config_.membership.group_id, error_name(err.code));
            return done(fail(err));
          }
          std::vector<TopicPartitionOffset> out;
          for (const auto& tp : parts) {
            auto it = found.find(tp);
            if (it != found.end()) {
              out.push_back(it->second);
            } else {
              TopicPartitionOffset o;
              o.topic = tp.topic;
              o.partition = tp.partition;
              o.offset = -1;
              out.push_back(std::move(o));
            }
          }
          done(std::move(out));
        },
        protocol::OffsetFetchRequest::kMaxVersion, protocol::OffsetFetchRequest::kMinVersion,
        std::max<int64_t>(1, deadline_ms - io::steady_now_ms()));
  });
}

// ---------------------------------------------------------------------------------------
// user thread

namespace {
template <class T>
Result<T> wait_result(std::future<Result<T>>& fut, int64_t wait_ms, const char* what) {
  if (fut.wait_for(std::chrono::milliseconds(wait_ms)) != std::future_status::ready)
    return fail(ErrorCode::local_timed_out, fmt::format("{}: no answer in time", what));
  try {
    return fut.get();
  } catch (const std::future_error&) {
    return fail(ErrorCode::local_destroy, "consumer closed");
  }
}
}  // namespace

Result<void> GroupClient::subscribe(std::vector<std::string> topics, std::optional<std::string> pattern,
                                    RebalanceCallbacks callbacks) {
  std::optional<std::regex> re;
  if (pattern) {
    try {
      re.emplace(*pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return fail(ErrorCode::local_invalid_arg, fmt::format("subscribe: bad pattern \"{}\": {}", *pattern, e.what()));
    }
  } else {
    if (topics.empty()) return fail(ErrorCode::local_invalid_arg, "subscribe: no topics given (use unsubscribe())");
    for (const auto& t : topics)
      if (t.empty()) return fail(ErrorCode::local_invalid_arg, "subscribe: empty topic name");
  }
  if (hooks_.has_manual_assignment && hooks_.has_manual_assignment() && !subscribed())
    return fail(ErrorCode::local_state, "subscribe: partitions are assigned manually; call assign({}) first");
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  {
    std::lock_guard lock(mu_);
    callbacks_ = std::move(callbacks);
    subscribed_ = true;
    pattern_ = pattern;
    subscription_ = pattern ? std::vector<std::string>{} : topics;
  }
  loop_.post([this, topics, re] {
    if (stopped_) return;
    int64_t now = io::steady_now_ms();
    if (re) {
      pattern_regex_ = re;
      next_pattern_refresh_ms_ = 0;
      refresh_pattern();
    } else {
      pattern_regex_.reset();
      net_.add_topics(topics);
      membership_.subscribe(std::set<std::string>(topics.begin(), topics.end()), now);
      on_metadata();
    }
    drive();
  });
  return {};
}

bool GroupClient::subscribed() const {
  std::lock_guard lock(mu_);
  return subscribed_;
}

std::vector<std::string> GroupClient::subscription() const {
  std::lock_guard lock(mu_);
  return subscribed_ ? subscription_ : std::vector<std::string>{};
}

std::string GroupClient::member_id() const {
  std::lock_guard lock(mu_);
  return member_id_snapshot_;
}

int32_t GroupClient::generation() const {
  std::lock_guard lock(mu_);
  return generation_snapshot_;
}

void GroupClient::set_commit_callback(CommitCallback cb) {
  std::lock_guard lock(mu_);
  commit_callback_ = std::move(cb);
}

Result<void> GroupClient::commit(std::vector<TopicPartitionOffset> offsets, CommitMode mode, int timeout_ms) {
  bool current = offsets.empty();
  if (current) offsets = hooks_.positions({});
  for (const auto& o : offsets) {
    if (o.topic.empty()) return fail(ErrorCode::local_invalid_arg, "commit: empty topic name");
    if (o.partition < 0) return fail(ErrorCode::local_invalid_arg, "commit: negative partition");
    if (o.offset < 0)
      return fail(ErrorCode::local_invalid_arg,
                  fmt::format("commit: offset {} of {}-{} is negative (commit the offset of the next record)", o.offset,
                              o.topic, o.partition));
  }
  if (offsets.empty()) {
    if (mode == CommitMode::async) {
      std::lock_guard lock(mu_);
      if (commit_results_.size() < kMaxQueuedCommitResults)
        commit_results_.emplace_back(Error{ErrorCode::none, {}}, std::vector<TopicPartitionOffset>{});
      pending_ = true;
    }
    return {};
  }
  int64_t timeout = timeout_ms < 0 ? config_.request_timeout_ms : timeout_ms;
  int64_t deadline = io::steady_now_ms() + timeout;
  if (mode == CommitMode::async) {
    loop_.post([this, offsets, deadline] {
      if (stopped_) return;
      send_commit(offsets, deadline, [this, offsets](Result<void> r) {
        {
          std::lock_guard lock(mu_);
          if (commit_results_.size() < kMaxQueuedCommitResults)
            commit_results_.emplace_back(r ? Error{ErrorCode::none, {}} : r.error(), offsets);
          pending_ = true;
        }
        if (hooks_.notify) hooks_.notify();
      });
    });
    return {};
  }
  auto done = std::make_shared<std::promise<Result<void>>>();
  auto fut = done->get_future();
  loop_.post([this, offsets, deadline, done] {
    if (stopped_) return done->set_value(fail(ErrorCode::local_destroy, "consumer closing"));
    send_commit(offsets, deadline, [done](Result<void> r) { done->set_value(std::move(r)); });
  });
  return wait_result(fut, timeout + 2000, "OffsetCommit");
}

Result<std::vector<TopicPartitionOffset>> GroupClient::committed(const std::vector<TopicPartition>& partitions,
                                                                int timeout_ms) {
  for (const auto& tp : partitions)
    if (tp.topic.empty() || tp.partition < 0)
      return fail(ErrorCode::local_invalid_arg, "committed: empty topic name or negative partition");
  if (partitions.empty()) return std::vector<TopicPartitionOffset>{};
  int64_t timeout = timeout_ms < 0 ? config_.request_timeout_ms : timeout_ms;
  int64_t deadline = io::steady_now_ms() + timeout;
  auto done = std::make_shared<std::promise<Result<std::vector<TopicPartitionOffset>>>>();
  auto fut = done->get_future();
  loop_.post([this, partitions, deadline, done] {
    if (stopped_) return done->set_value(fail(ErrorCode::local_destroy, "consumer closing"));
    send_offset_fetch(partitions, deadline,
                      [done](Result<std::vector<TopicPartitionOffset>> r) { done->set_value(std::move(r)); });
  });
  return wait_result(fut, timeout + 2000, "OffsetFetch");
}

void GroupClient::post_event_done() {
  loop_.post([this] {
    if (stopped_) return;
    membership_.event_done(io::steady_now_ms());
    drive();
  });
}

void GroupClient::auto_commit_sync(const std::vector<TopicPartition>& parts) {
  if (!config_.enable_auto_commit || parts.empty()) return;
  auto offsets = hooks_.positions(parts);
  if (offsets.empty()) return;
  auto r = commit(offsets, CommitMode::sync, -1);
  if (!r) log::warn(kLog, "group {}: commit before revocation failed: {}", config_.membership.group_id, r.error().to_string());
}

void GroupClient::process_event(const RebalanceEvent& ev) {
  RebalanceCallbacks cbs;
  {
    std::lock_guard lock(mu_);
    cbs = callbacks_;
  }
  auto revoke_cb = [&](const std::vector<TopicPartition>& parts, bool lost) {
    if (lost) {
      if (cbs.on_lost)
        cbs.on_lost(parts);
      else if (cbs.on_revoked)
        cbs.on_revoked(parts);
    } else if (cbs.on_revoked) {
      cbs.on_revoked(parts);
    }
  };
  switch (ev.kind) {
    case RebalanceEvent::Kind::revoke:
      auto_commit_sync(ev.revoked);
      revoke_cb(ev.revoked, false);
      hooks_.unassign(ev.revoked);
      break;
    case RebalanceEvent::Kind::lost:
      revoke_cb(ev.revoked, true);
      hooks_.unassign(ev.revoked);
      break;
    case RebalanceEvent::Kind::assign: {
      if (!ev.revoked.empty()) {
        auto_commit_sync(ev.revoked);
        revoke_cb(ev.revoked, false);
        hooks_.unassign(ev.revoked);
      }
      std::vector<TopicPartitionOffset> starts;
      if (!ev.added.empty()) {
        auto c = committed(ev.added, -1);
        if (!c)
          log::warn(kLog, "group {}: could not read committed offsets ({}); starting per auto.offset.reset",
                    config_.membership.group_id, c.error().to_string());
        for (const auto& tp : ev.added) {
          TopicPartitionOffset o;
          o.topic = tp.topic;
          o.partition = tp.partition;
          o.offset = kOffsetInvalid;
          if (c)
            for (const auto& x : *c)
              if (x.topic == tp.topic && x.partition == tp.partition && x.offset >= 0) o.offset = x.offset;
          starts.push_back(std::move(o));
        }
        hooks_.assign_more(starts);
      }
      if (cbs.on_assigned) cbs.on_assigned(ev.added);
      break;
    }
  }
}

Result<void> GroupClient::before_poll() {
  int64_t now = io::steady_now_ms();
  // Poll activity for max.poll.interval.ms, reported at most every kPollReportMs.
  if (subscribed() && now - last_poll_report_ms_.load() >= kPollReportMs) {
    last_poll_report_ms_ = now;
    loop_.post([this, now] {
      if (stopped_) return;
      membership_.poll_called(now);
      drive();
    });
  }
  if (processing_) return {};  // poll() from inside a callback: no nested rebalance handling
  processing_ = true;
  std::optional<Error> fatal;
  for (;;) {
    std::optional<RebalanceEvent> ev;
    std::optional<std::pair<Error, std::vector<TopicPartitionOffset>>> cr;
    CommitCallback ccb;
    {
      std::lock_guard lock(mu_);
      if (!events_.empty()) {
        ev = std::move(events_.front());
        events_.pop_front();
      } else if (!commit_results_.empty()) {
        cr = std::move(commit_results_.front());
        commit_results_.pop_front();
        ccb = commit_callback_;
      } else {
        if (!errors_.empty() && !fatal) {
          fatal = std::move(errors_.front());
          errors_.pop_front();
        }
        pending_ = !errors_.empty();
        break;
      }
    }
    if (ev) {
      process_event(*ev);
      post_event_done();
    } else if (cr) {
      if (ccb) ccb(cr->first, cr->second);
      else if (cr->first.code != ErrorCode::none)
        log::warn(kLog, "group {}: commit failed: {}", config_.membership.group_id, cr->first.to_string());
    }
  }
  // Auto-commit of what earlier polls returned (Java: in poll, every auto.commit.interval.ms).
  // (While the group rebalances the commit would fail: wait for the next poll after it.)
  if (config_.enable_auto_commit && now >= next_auto_commit_ms_ && (!subscribed() || stable_.load())) {
    next_auto_commit_ms_ = now + config_.auto_commit_interval_ms;
    auto offsets = hooks_.positions({});
    if (!offsets.empty()) (void)commit(offsets, CommitMode::async, -1);
  }
  processing_ = false;
  if (fatal) return fail(*fatal);
  return {};
}

Result<void> GroupClient::unsubscribe(int timeout_ms) {
  if (!subscribed()) return {};
  // Deliver what is pending first (an assignment that just arrived must be revoked too).
  (void)before_poll();
  // Revoke every partition the group assigned to this member.
  std::vector<TopicPartition> parts;
  auto done = std::make_shared<std::promise<std::pair<int32_t, std::vector<TopicPartition>>>>();
  auto fut = done->get_future();
  loop_.post([this, done] {
    done->set_value({membership_.generation(), membership_.owned()});
  });
  std::pair<int32_t, std::vector<TopicPartition>> state{-1, {}};
  if (fut.wait_for(std::chrono::milliseconds(5000)) == std::future_status::ready) state = fut.get();
  parts = state.second;
  RebalanceCallbacks cbs;
  {
    std::lock_guard lock(mu_);
    cbs = callbacks_;
  }
  if (!parts.empty()) {
    if (state.first >= 0) {
      auto_commit_sync(parts);
      if (cbs.on_revoked) cbs.on_revoked(parts);
    } else if (cbs.on_lost) {
      cbs.on_lost(parts);
    } else if (cbs.on_revoked) {
      cbs.on_revoked(parts);
    }
  }
  auto left = std::make_shared<std::promise<void>>();
  auto left_fut = left->get_future();
  loop_.post([this, left] {
    if (stopped_) return left->set_value();
    pattern_regex_.reset();
    membership_.leave(io::steady_now_ms());
    leave_done_.push_back([left] { left->set_value(); });
    drive();
    if (leaves_in_flight_ == 0)
      for (auto& fn : std::exchange(leave_done_, {})) fn();
  });
  left_fut.wait_for(std::chrono::milliseconds(std::max(timeout_ms, 1000)));
  hooks_.clear_assignment();
  std::lock_guard lock(mu_);
  subscribed_ = false;
  pattern_.reset();
  subscription_.clear();
  events_.clear();
  return {};
}

void GroupClient::close(int timeout_ms) {
  if (subscribed()) {
    (void)unsubscribe(timeout_ms);
  } else if (config_.enable_auto_commit) {
    auto offsets = hooks_.positions({});
    if (!offsets.empty()) {
      auto r = commit(offsets, CommitMode::sync, timeout_ms);
      if (!r) log::warn(kLog, "group {}: commit on close failed: {}", config_.membership.group_id, r.error().to_string());
    }
  }
  // Outcomes of async commits still run their callback (inside close, on the caller's thread).
  std::deque<std::pair<Error, std::vector<TopicPartitionOffset>>> results;
  CommitCallback ccb;
  {
    std::lock_guard lock(mu_);
    results.swap(commit_results_);
    ccb = commit_callback_;
  }
  if (ccb)
    for (auto& [e, o] : results) ccb(e, o);
}

}  // namespace conveyor::client
