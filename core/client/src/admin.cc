#include "conveyor/client/admin.h"

#include <algorithm>
#include <charconv>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "client_config.h"
#include "conveyor/base/log.h"
#include "conveyor/io/client_loop.h"
#include "conveyor/protocol/consumer_protocol.h"
#include "network_client.h"

namespace conveyor::client {
namespace {
constexpr int64_t kPollMetadataMs = 50;  // while waiting for a created/deleted topic to settle

template <class T>
using Promise = std::shared_ptr<std::promise<Result<T>>>;

bool transient(ErrorCode c) {
  return c == ErrorCode::local_transport || c == ErrorCode::request_timed_out || c == ErrorCode::not_controller ||
         c == ErrorCode::leader_not_available || c == ErrorCode::local_all_brokers_down;
}

// Errors after which a group request is sent again (after finding the coordinator anew).
// leader_not_available: NetworkClient does not know the coordinator's node id yet.
bool coordinator_retriable(ErrorCode c) {
  return c == ErrorCode::coordinator_load_in_progress || c == ErrorCode::coordinator_not_available ||
         c == ErrorCode::not_coordinator || c == ErrorCode::local_transport ||
         c == ErrorCode::request_timed_out || c == ErrorCode::leader_not_available ||
         c == ErrorCode::local_all_brokers_down;
}

// Partition errors after which ListOffsets is asked again with fresh metadata.
bool list_offsets_retriable(ErrorCode c) {
  return c == ErrorCode::not_leader_or_follower || c == ErrorCode::leader_not_available ||
         c == ErrorCode::request_timed_out || c == ErrorCode::local_transport ||
         c == ErrorCode::local_all_brokers_down || c == ErrorCode::unknown_leader_epoch ||
         c == ErrorCode::fenced_leader_epoch || c == ErrorCode::offset_not_available;
}

// For each partition out[i] (i in todo): its leader from md into by_leader, or its error into
// out[i].error; partitions whose error is worth another metadata round go to retry.
void route_to_leaders(const protocol::MetadataResponse& md, const std::vector<size_t>& todo,
                      std::vector<PartitionOffset>& out, std::map<int32_t, std::vector<size_t>>& by_leader,
                      std::vector<size_t>& retry) {
  for (size_t i : todo) {
    PartitionOffset& po = out[i];
    po.error = ErrorCode::unknown_topic_or_partition;
    for (const auto& t : md.topics) {
      if (t.name != po.topic) continue;
      po.error = static_cast<ErrorCode>(t.error_code);
      if (po.error != ErrorCode::none) break;
      po.error = ErrorCode::unknown_topic_or_partition;
      for (const auto& p : t.partitions)
        if (p.partition_index == po.partition) {
          po.error = p.leader_id >= 0 ? ErrorCode::none : ErrorCode::leader_not_available;
          if (p.leader_id >= 0) by_leader[p.leader_id].push_back(i);
        }
    }
    if (list_offsets_retriable(po.error)) retry.push_back(i);
  }
}

template <class Resp>
struct Answer {
  Resp resp;
  int16_t version = 0;
};
}  // namespace

struct Admin::Impl {
  NetworkConfig net_config;
  std::unique_ptr<io::ClientLoop> loop;
  std::unique_ptr<NetworkClient> net;
  std::mutex mu;
  bool closed = false;
  bool stopping = false;  // loop thread

  // Runs fn(promise, deadline_ms) on the loop and waits for its result.
  template <class T, class Fn>
  Result<T> run(int timeout_ms, Fn fn) {
    {
      std::lock_guard lock(mu);
      if (closed) return fail(ErrorCode::local_state, "admin client is closed");
    }
    auto done = std::make_shared<std::promise<Result<T>>>();
    auto fut = done->get_future();
    int64_t budget = timeout_ms < 0 ? INT32_MAX : timeout_ms;
    int64_t deadline = io::steady_now_ms() + budget;
    loop->post([this, done, deadline, fn] {
      if (stopping) return done->set_value(fail(ErrorCode::local_destroy, "admin client closed"));
      fn(done, deadline);
    });
    if (fut.wait_for(std::chrono::milliseconds(budget + 2000)) != std::future_status::ready)
      return fail(ErrorCode::local_timed_out, "admin request: no answer in time");
    try {
      return fut.get();
    } catch (const std::future_error&) {
      return fail(ErrorCode::local_destroy, "admin client closed");
    }
  }

  // Metadata for `topics` (null = all), retrying transient failures until the deadline.
  void metadata(std::optional<std::vector<std::string>> topics, int64_t deadline,
                std::function<void(Result<protocol::MetadataResponse>)> done) {
    net->fetch_metadata(topics, false, [this, topics, deadline, done](Result<protocol::MetadataResponse> r) {
      if (!r && !stopping && transient(r.error().code) && io::steady_now_ms() + net_config.retry_backoff_ms < deadline) {
        loop->schedule(net_config.retry_backoff_ms, [this, topics, deadline, done] { metadata(topics, deadline, done); });
        return;
      }
      if (!r && transient(r.error().code)) return done(fail(ErrorCode::local_timed_out, r.error().message));
      done(std::move(r));
    });
  }

  int32_t controller() const {
    const auto& md = net->metadata();
    if (md.controller_id >= 0 && md.brokers.count(md.controller_id)) return md.controller_id;
    return NetworkClient::kAnyNode;
  }

  // ---- synchronous helpers (user thread; each request runs on the loop) ----

  Result<void> check_open() {
    std::lock_guard lock(mu);
    if (closed) return fail(ErrorCode::local_state, "admin client is closed");
    return {};
  }

  // Posts fn(promise) to the loop and waits for its result until the deadline (+ slack for
  // the loop to answer with its own timeout error).
  template <class T, class Fn>
  Result<T> await(int64_t deadline, Fn fn) {
    if (auto open = check_open(); !open) return fail(open.error());
    auto done = std::make_shared<std::promise<Result<T>>>();
    auto fut = done->get_future();
    loop->post([this, done, fn]() mutable {
      if (stopping) return done->set_value(fail(ErrorCode::local_destroy, "admin client closed"));
      fn(done);
    });
    int64_t wait_ms = std::max<int64_t>(deadline - io::steady_now_ms(), 0) + 2000;
    if (fut.wait_for(std::chrono::milliseconds(wait_ms)) != std::future_status::ready)
      return fail(ErrorCode::local_timed_out, "admin request: no answer in time");
    try {
      return fut.get();
    } catch (const std::future_error&) {
      return fail(ErrorCode::local_destroy, "admin client closed");
    }
  }

  template <class Req, class Resp>
  Result<Answer<Resp>> request(int32_t node, Req req, int64_t deadline, int16_t min_version = Req::kMinVersion,
                               int16_t max_version = Req::kMaxVersion) {
    return await<Answer<Resp>>(deadline, [this, node, req = std::move(req), min_version,
                                          max_version](Promise<Answer<Resp>> done) mutable {
      net->send<Req, Resp>(
          node, std::move(req),
          [done](Result<Resp> r, int16_t version) {
            if (!r) return done->set_value(fail(r.error()));
            done->set_value(Answer<Resp>{std::move(*r), version});
          },
          max_version, min_version);
    });
  }

  Result<protocol::MetadataResponse> metadata_sync(std::optional<std::vector<std::string>> topics, int64_t deadline) {
    return await<protocol::MetadataResponse>(deadline, [this, topics, deadline](Promise<protocol::MetadataResponse> done) {
      metadata(topics, deadline, [done](Result<protocol::MetadataResponse> r) { done->set_value(std::move(r)); });
    });
  }

  // Sleeps the next step of an exponential backoff (retry.backoff.ms doubling up to
  // kCoordinatorBackoffMaxMs); false when that would pass the deadline.
  bool backoff(int& attempt, int64_t deadline) {
    int64_t ms = std::min<int64_t>(net_config.retry_backoff_ms << std::min(attempt, 10), kCoordinatorBackoffMaxMs);
    ++attempt;
    if (io::steady_now_ms() + ms >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return check_open().has_value();
  }

  Result<BrokerDescription> find_coordinator(const std::string& group, int64_t deadline);

  // Sends req to the group's coordinator; group_error(resp, version) extracts the error that
  // says whether the coordinator took it (coordinator errors are retried here).
  template <class Req, class Resp, class ErrFn>
  Result<Answer<Resp>> coordinator_call(const std::string& group, const Req& req, int64_t deadline, ErrFn group_error,
                                        int16_t min_version = Req::kMinVersion,
                                        BrokerDescription* coordinator_out = nullptr);

  Result<std::vector<PartitionOffset>> list_offsets(const std::vector<TopicPartition>& partitions, int64_t spec,
                                                    int64_t deadline);
  Result<std::vector<GroupDescription>> describe_groups(const std::vector<std::string>& groups, int64_t deadline);
  Result<std::vector<GroupOffset>> group_offsets(const std::string& group,
                                                 const std::optional<std::vector<TopicPartition>>& partitions,
                                                 int64_t deadline);

  void create(protocol::CreateTopicsRequest req, int16_t min_version, int64_t deadline, Promise<void> done);
  void wait_created(std::string name, int64_t deadline, Promise<void> done);
  void remove(std::string name, int64_t deadline, Promise<void> done);
  void wait_deleted(std::string name, int64_t deadline, Promise<void> done);
};

void Admin::Impl::create(protocol::CreateTopicsRequest req, int16_t min_version, int64_t deadline,
                         Promise<void> done) {
  metadata(std::vector<std::string>{}, deadline, [=, this](Result<protocol::MetadataResponse> md) mutable {
    if (!md) return done->set_value(fail(md.error()));
    std::string name = req.topics.front().name;
    net->send<protocol::CreateTopicsRequest, protocol::CreateTopicsResponse>(
        controller(), req,
        [=, this](Result<protocol::CreateTopicsResponse> r, int16_t) {
          ErrorCode code = ErrorCode::none;
          std::string message;
          if (!r) {
            code = r.error().code;
            message = r.error().message;
          } else {
            code = ErrorCode::unknown_server_error;
            for (const auto& t : r->topics)
              if (t.name == name) {
                code = static_cast<ErrorCode>(t.error_code);
                message = t.error_message.value_or("");
              }
          }
          if (code == ErrorCode::none) return wait_created(name, deadline, done);
          if (transient(code) && !stopping && io::steady_now_ms() + net_config.retry_backoff_ms < deadline) {
            loop->schedule(net_config.retry_backoff_ms, [=, this] { create(req, min_version, deadline, done); });
            return;
          }
          if (message.empty()) message = fmt::format("create topic {}: {}", name, error_name(code));
          done->set_value(fail(transient(code) ? ErrorCode::local_timed_out : code, message));
        },
        protocol::CreateTopicsRequest::kMaxVersion, min_version);
  });
}

void Admin::Impl::wait_created(std::string name, int64_t deadline, Promise<void> done) {
  metadata(std::vector<std::string>{name}, deadline, [=, this](Result<protocol::MetadataResponse> r) {
    bool ready = false;
    if (r)
      for (const auto& t : r->topics)
        if (t.name == name && t.error_code == 0 && !t.partitions.empty()) {
          ready = std::all_of(t.partitions.begin(), t.partitions.end(), [](auto& p) { return p.leader_id >= 0; });
        }
    if (ready) return done->set_value({});
    if (stopping || io::steady_now_ms() + kPollMetadataMs >= deadline)
      return done->set_value(fail(ErrorCode::local_timed_out,
                                  fmt::format("topic {} was created but has no leaders yet", name)));
    loop->schedule(kPollMetadataMs, [=, this] { wait_created(name, deadline, done); });
  });
}

void Admin::Impl::remove(std::string name, int64_t deadline, Promise<void> done) {
  metadata(std::vector<std::string>{}, deadline, [=, this](Result<protocol::MetadataResponse> md) {
    if (!md) return done->set_value(fail(md.error()));
    protocol::DeleteTopicsRequest req;
    protocol::DeleteTopicsRequest::DeleteTopicState state;
    state.name = name;
    req.topics.push_back(state);
    req.topic_names.push_back(name);
    req.timeout_ms = static_cast<int32_t>(std::clamp<int64_t>(deadline - io::steady_now_ms(), 1, INT32_MAX));
    net->send<protocol::DeleteTopicsRequest, protocol::DeleteTopicsResponse>(
        controller(), req, [=, this](Result<protocol::DeleteTopicsResponse> r, int16_t) {
          ErrorCode code = ErrorCode::none;
          std::string message;
          if (!r) {
            code = r.error().code;
            message = r.error().message;
          } else {
            code = ErrorCode::unknown_server_error;
            for (const auto& t : r->responses)
              if (t.name == name) {
                code = static_cast<ErrorCode>(t.error_code);
                message = t.error_message.value_or("");
              }
          }
          if (code == ErrorCode::none) return wait_deleted(name, deadline, done);
          if (transient(code) && !stopping && io::steady_now_ms() + net_config.retry_backoff_ms < deadline) {
            loop->schedule(net_config.retry_backoff_ms, [=, this] { remove(name, deadline, done); });
            return;
          }
          if (message.empty()) message = fmt::format("delete topic {}: {}", name, error_name(code));
          done->set_value(fail(transient(code) ? ErrorCode::local_timed_out : code, message));
        });
  });
}

void Admin::Impl::wait_deleted(std::string name, int64_t deadline, Promise<void> done) {
  // Deletion is asynchronous in Kafka; wait (bounded) until metadata no longer lists it.
  metadata(std::nullopt, deadline, [=, this](Result<protocol::MetadataResponse> r) {
    bool gone = r && std::none_of(r->topics.begin(), r->topics.end(), [&](auto& t) { return t.name == name; });
    if (gone || stopping || io::steady_now_ms() + kPollMetadataMs >= deadline) return done->set_value({});
    loop->schedule(kPollMetadataMs, [=, this] { wait_deleted(name, deadline, done); });
  });
}

// ---- consumer groups and offsets ------------------------------------------------------------

namespace {

std::string timed_out_message(const std::string& what, const Error& last) {
  return fmt::format("{}: timed out; last error {}{}{}", what, error_name(last.code), last.message.empty() ? "" : ": ",
                     last.message);
}

}  // namespace

Result<BrokerDescription> Admin::Impl::find_coordinator(const std::string& group, int64_t deadline) {
  protocol::FindCoordinatorRequest req;
  req.key = group;
  req.key_type = 0;  // GROUP
  req.coordinator_keys = {group};
  int attempt = 0;
  Error last{ErrorCode::local_timed_out, "no answer"};
  for (;;) {
    auto r = request<protocol::FindCoordinatorRequest, protocol::FindCoordinatorResponse>(NetworkClient::kAnyNode, req,
                                                                                           deadline);
    ErrorCode code;
    std::string message;
    BrokerDescription node;
    if (!r) {
      code = r.error().code;
      message = r.error().message;
    } else if (r->version >= 4) {
      code = ErrorCode::unknown_server_error;
      message = "coordinator missing from FindCoordinator response";
      for (const auto& c : r->resp.coordinators)
        if (c.key == group) {
          code = static_cast<ErrorCode>(c.error_code);
          message = c.error_message.value_or("");
          node = BrokerDescription{c.node_id, c.host, c.port, std::nullopt};
        }
    } else {
      code = static_cast<ErrorCode>(r->resp.error_code);
      message = r->resp.error_message.value_or("");
      node = BrokerDescription{r->resp.node_id, r->resp.host, r->resp.port, std::nullopt};
    }
    if (code == ErrorCode::none) return node;
    last = Error{code, message};
    if (code == ErrorCode::local_destroy || !coordinator_retriable(code))
      return fail(code, message.empty() ? fmt::format("FindCoordinator for group {}: {}", group, error_name(code))
                                        : message);
    if (!backoff(attempt, deadline))
      return fail(ErrorCode::local_timed_out, timed_out_message(fmt::format("find the coordinator of group {}", group), last));
  }
}

template <class Req, class Resp, class ErrFn>
Result<Answer<Resp>> Admin::Impl::coordinator_call(const std::string& group, const Req& req, int64_t deadline,
                                                   ErrFn group_error, int16_t min_version,
                                                   BrokerDescription* coordinator_out) {
  int attempt = 0;
  Error last{ErrorCode::local_timed_out, "no answer"};
  for (;;) {
    auto coordinator = find_coordinator(group, deadline);
    if (!coordinator) return fail(coordinator.error());
    auto r = request<Req, Resp>(coordinator->node_id, req, deadline, min_version);
    ErrorCode code = r ? group_error(r->resp, r->version) : r.error().code;
    if (r && !coordinator_retriable(code)) {
      if (coordinator_out) *coordinator_out = *coordinator;
      return r;
    }
    if (!r && (code == ErrorCode::local_destroy || !coordinator_retriable(code))) return fail(r.error());
    last = r ? Error{code, std::string(error_name(code))} : r.error();
    if (code == ErrorCode::leader_not_available) metadata_sync(std::vector<std::string>{}, deadline);  // learn the node
    if (!backoff(attempt, deadline))
      return fail(ErrorCode::local_timed_out,
                  timed_out_message(fmt::format("{} for group {}", protocol::api_name(Req::kApiKey), group), last));
  }
}

Result<std::vector<PartitionOffset>> Admin::Impl::list_offsets(const std::vector<TopicPartition>& partitions,
                                                               int64_t spec, int64_t deadline) {
  std::vector<PartitionOffset> out(partitions.size());
  std::vector<size_t> todo;
  for (size_t i = 0; i < partitions.size(); ++i) {
    out[i].topic = partitions[i].topic;
    out[i].partition = partitions[i].partition;
    todo.push_back(i);
  }
  int attempt = 0;
  while (!todo.empty()) {
    std::set<std::string> names;
    for (size_t i : todo) names.insert(out[i].topic);
    auto md = metadata_sync(std::vector<std::string>(names.begin(), names.end()), deadline);
    if (!md) return fail(md.error());
    std::map<int32_t, std::vector<size_t>> by_leader;
    std::vector<size_t> retry;
    route_to_leaders(*md, todo, out, by_leader, retry);
    for (const auto& [leader, idx] : by_leader) {
      protocol::ListOffsetsRequest req;
      req.replica_id = -1;
      req.isolation_level = 0;  // read_uncommitted
      for (size_t i : idx) {
        auto it = std::find_if(req.topics.begin(), req.topics.end(), [&](auto& t) { return t.name == out[i].topic; });
        if (it == req.topics.end()) {
          req.topics.emplace_back();
          req.topics.back().name = out[i].topic;
          it = req.topics.end() - 1;
        }
        protocol::ListOffsetsRequest::ListOffsetsTopic::ListOffsetsPartition p;
        p.partition_index = out[i].partition;
        p.timestamp = spec;
        it->partitions.push_back(p);
      }
      auto r = request<protocol::ListOffsetsRequest, protocol::ListOffsetsResponse>(leader, std::move(req), deadline, 1);
      for (size_t i : idx) {
        PartitionOffset& po = out[i];
        if (!r) {
          po.error = r.error().code;
        } else {
          po.error = ErrorCode::unknown_server_error;
          for (const auto& t : r->resp.topics)
            if (t.name == po.topic)
              for (const auto& p : t.partitions)
                if (p.partition_index == po.partition) {
                  po.error = static_cast<ErrorCode>(p.error_code);
                  po.offset = p.offset;
                  po.timestamp_ms = p.timestamp;
                }
        }
        if (po.error == ErrorCode::local_destroy) return fail(r.error());
        if (list_offsets_retriable(po.error)) retry.push_back(i);
      }
    }
    todo = std::move(retry);
    if (todo.empty()) break;
    if (!backoff(attempt, deadline)) {
      for (size_t i : todo) out[i].error = ErrorCode::local_timed_out;
      break;
    }
  }
  return out;
}

Result<std::vector<GroupDescription>> Admin::Impl::describe_groups(const std::vector<std::string>& groups,
                                                                   int64_t deadline) {
  std::vector<GroupDescription> out;
  for (const auto& group : groups) {
    protocol::DescribeGroupsRequest req;
    req.groups = {group};
    BrokerDescription coordinator;
    auto r = coordinator_call<protocol::DescribeGroupsRequest, protocol::DescribeGroupsResponse>(
        group, req, deadline,
        [&](const protocol::DescribeGroupsResponse& resp, int16_t) {
          for (const auto& g : resp.groups)
            if (g.group_id == group) return static_cast<ErrorCode>(g.error_code);
          return ErrorCode::unknown_server_error;
        },
        protocol::DescribeGroupsRequest::kMinVersion, &coordinator);
    if (!r) return fail(r.error());
    GroupDescription d;
    d.group_id = group;
    d.error = ErrorCode::unknown_server_error;
    d.coordinator = coordinator;
    for (const auto& g : r->resp.groups) {
      if (g.group_id != group) continue;
      d.error = static_cast<ErrorCode>(g.error_code);
      d.state = g.group_state;
      d.protocol_type = g.protocol_type;
      d.protocol = g.protocol_data;
      for (const auto& m : g.members) {
        MemberDescription md;
        md.member_id = m.member_id;
        md.group_instance_id = m.group_instance_id;
        md.client_id = m.client_id;
        md.host = m.client_host;
        if (g.protocol_type == protocol::kConsumerProtocolType || g.protocol_type.empty()) {
          if (auto a = protocol::decode_consumer_assignment(m.member_assignment)) {
            for (const auto& tp : a->assigned_partitions)
              for (int32_t p : tp.partitions) md.assignment.push_back(TopicPartition{tp.topic, p});
            std::sort(md.assignment.begin(), md.assignment.end());
          }
        }
        d.members.push_back(std::move(md));
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<GroupOffset>> Admin::Impl::group_offsets(const std::string& group,
                                                            const std::optional<std::vector<TopicPartition>>& partitions,
                                                            int64_t deadline) {
  protocol::OffsetFetchRequest req;
  req.group_id = group;
  protocol::OffsetFetchRequest::OffsetFetchRequestGroup g;
  g.group_id = group;
  if (partitions) {
    std::vector<protocol::OffsetFetchRequest::OffsetFetchRequestTopic> topics;
    std::vector<protocol::OffsetFetchRequest::OffsetFetchRequestTopics> gtopics;
    for (const auto& tp : *partitions) {
      auto it = std::find_if(topics.begin(), topics.end(), [&](auto& t) { return t.name == tp.topic; });
      if (it == topics.end()) {
        topics.emplace_back().name = tp.topic;
        gtopics.emplace_back().name = tp.topic;
        it = topics.end() - 1;
      }
      it->partition_indexes.push_back(tp.partition);
      gtopics[static_cast<size_t>(it - topics.begin())].partition_indexes.push_back(tp.partition);
    }
    req.topics = std::move(topics);
    g.topics = std::move(gtopics);
  }
  req.groups.push_back(std::move(g));
  auto group_error = [&](const protocol::OffsetFetchResponse& resp, int16_t version) {
    if (version >= 8) {
      for (const auto& rg : resp.groups)
        if (rg.group_id == group) return static_cast<ErrorCode>(rg.error_code);
      return ErrorCode::unknown_server_error;
    }
    if (version >= 2 && resp.error_code != 0) return static_cast<ErrorCode>(resp.error_code);
    // v1 reports coordinator errors per partition.
    for (const auto& t : resp.topics)
      for (const auto& p : t.partitions)
        if (coordinator_retriable(static_cast<ErrorCode>(p.error_code))) return static_cast<ErrorCode>(p.error_code);
    return ErrorCode::none;
  };
  auto r = coordinator_call<protocol::OffsetFetchRequest, protocol::OffsetFetchResponse>(
      group, req, deadline, group_error, partitions ? int16_t{1} : int16_t{2});
  if (!r) return fail(r.error());
  if (ErrorCode code = group_error(r->resp, r->version); code != ErrorCode::none)
    return fail(code, fmt::format("OffsetFetch for group {}: {}", group, error_name(code)));
  std::vector<GroupOffset> out;
  auto add = [&](const std::string& topic, int32_t partition, int64_t offset, int32_t epoch,
                 const std::optional<std::string>& metadata, int16_t error) {
    GroupOffset o;
    o.topic = topic;
    o.partition = partition;
    o.offset = offset;
    o.leader_epoch = epoch;
    o.metadata = metadata.value_or("");
    o.error = static_cast<ErrorCode>(error);
    out.push_back(std::move(o));
  };
  if (r->version >= 8) {
    for (const auto& rg : r->resp.groups)
      if (rg.group_id == group)
        for (const auto& t : rg.topics)
          for (const auto& p : t.partitions)
            add(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata, p.error_code);
  } else {
    for (const auto& t : r->resp.topics)
      for (const auto& p : t.partitions)
        add(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata, p.error_code);
  }
  std::sort(out.begin(), out.end(),
            [](auto& a, auto& b) { return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition); });
  return out;
}

namespace {
int64_t deadline_for(int timeout_ms) { return io::steady_now_ms() + (timeout_ms < 0 ? INT32_MAX : timeout_ms); }
}  // namespace

Result<std::vector<PartitionOffset>> Admin::list_offsets(const std::vector<TopicPartition>& partitions, int64_t spec,
                                                         int timeout_ms) {
  if (spec < -2) return fail(ErrorCode::local_invalid_arg, "list_offsets: spec must be -1 (latest), -2 (earliest) or a timestamp >= 0");
  if (partitions.empty()) return std::vector<PartitionOffset>{};
  return impl_->list_offsets(partitions, spec, deadline_for(timeout_ms));
}

Result<std::vector<PartitionOffset>> Admin::delete_records(const std::vector<TopicPartitionOffset>& offsets,
                                                           int timeout_ms) {
  for (const auto& o : offsets)
    if (o.offset < -1)
      return fail(ErrorCode::local_invalid_arg,
                  fmt::format("delete_records: offset {} for {}-{} (>= 0, or -1 for the high watermark)", o.offset,
                              o.topic, o.partition));
  Impl& im = *impl_;
  int64_t deadline = deadline_for(timeout_ms);
  std::vector<PartitionOffset> out(offsets.size());
  std::vector<size_t> todo;
  for (size_t i = 0; i < offsets.size(); ++i) {
    out[i].topic = offsets[i].topic;
    out[i].partition = offsets[i].partition;
    todo.push_back(i);
  }
  int attempt = 0;
  while (!todo.empty()) {
    std::set<std::string> names;
    for (size_t i : todo) names.insert(out[i].topic);
    auto md = im.metadata_sync(std::vector<std::string>(names.begin(), names.end()), deadline);
    if (!md) return fail(md.error());
    std::map<int32_t, std::vector<size_t>> by_leader;
    std::vector<size_t> retry;
    for (size_t i : todo) out[i].offset = -1;
    route_to_leaders(*md, todo, out, by_leader, retry);
    for (const auto& [leader, idx] : by_leader) {
      protocol::DeleteRecordsRequest req;
      req.timeout_ms = static_cast<int32_t>(std::clamp<int64_t>(deadline - io::steady_now_ms(), 1, INT32_MAX));
      for (size_t i : idx) {
        auto it = std::find_if(req.topics.begin(), req.topics.end(), [&](auto& t) { return t.name == out[i].topic; });
        if (it == req.topics.end()) {
          req.topics.emplace_back();
          req.topics.back().name = out[i].topic;
          it = req.topics.end() - 1;
        }
        auto& p = it->partitions.emplace_back();
        p.partition_index = out[i].partition;
        p.offset = offsets[i].offset;
      }
      auto r = im.request<protocol::DeleteRecordsRequest, protocol::DeleteRecordsResponse>(leader, std::move(req),
                                                                                          deadline);
      for (size_t i : idx) {
        PartitionOffset& po = out[i];
        if (!r) {
          po.error = r.error().code;
        } else {
          po.error = ErrorCode::unknown_server_error;
          for (const auto& t : r->resp.topics)
            if (t.name == po.topic)
              for (const auto& p : t.partitions)
                if (p.partition_index == po.partition) {
                  po.error = static_cast<ErrorCode>(p.error_code);
                  po.offset = p.low_watermark;
                }
        }
        if (po.error == ErrorCode::local_destroy) return fail(r.error());
        if (list_offsets_retriable(po.error)) retry.push_back(i);
      }
    }
    todo = std::move(retry);
    if (todo.empty()) break;
    if (!im.backoff(attempt, deadline)) {
      for (size_t i : todo) out[i].error = ErrorCode::local_timed_out;
      break;
    }
  }
  return out;
}

Result<std::vector<GroupListing>> Admin::list_groups(const std::vector<std::string>& states, int timeout_ms) {
  Impl& im = *impl_;
  int64_t deadline = deadline_for(timeout_ms);
  auto md = im.metadata_sync(std::vector<std::string>{}, deadline);
  if (!md) return fail(md.error());
  std::vector<GroupListing> out;
  protocol::ListGroupsRequest req;
  req.states_filter = states;
  for (const auto& b : md->brokers) {
    int attempt = 0;
    for (;;) {
      auto r = im.request<protocol::ListGroupsRequest, protocol::ListGroupsResponse>(
          b.node_id, req, deadline, states.empty() ? int16_t{0} : int16_t{4});
      ErrorCode code = r ? static_cast<ErrorCode>(r->resp.error_code) : r.error().code;
      if (code == ErrorCode::none) {
        for (const auto& g : r->resp.groups) out.push_back(GroupListing{g.group_id, g.protocol_type, g.group_state, b.node_id});
        break;
      }
      if (code == ErrorCode::unsupported_version && !states.empty())
        return fail(code, "list_groups: filtering by state needs ListGroups v4 (KIP-518), which the broker does not support");
      if (code == ErrorCode::local_destroy || !coordinator_retriable(code))
        return fail(code, fmt::format("ListGroups on broker {}: {}", b.node_id, r ? std::string(error_name(code)) : r.error().message));
      if (!im.backoff(attempt, deadline))
        return fail(ErrorCode::local_timed_out, timed_out_message(fmt::format("ListGroups on broker {}", b.node_id),
                                                                  Error{code, r ? "" : r.error().message}));
    }
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.group_id < b.group_id; });
  return out;
}

Result<std::vector<GroupDescription>> Admin::describe_groups(const std::vector<std::string>& groups, int timeout_ms) {
  for (const auto& g : groups)
    if (g.empty()) return fail(ErrorCode::local_invalid_arg, "describe_groups: empty group id");
  return impl_->describe_groups(groups, deadline_for(timeout_ms));
}

Result<std::vector<GroupOffset>> Admin::list_group_offsets(const std::string& group,
                                                           const std::optional<std::vector<TopicPartition>>& partitions,
                                                           int timeout_ms) {
  if (group.empty()) return fail(ErrorCode::local_invalid_arg, "list_group_offsets: empty group id");
  if (partitions && partitions->empty()) return std::vector<GroupOffset>{};
  return impl_->group_offsets(group, partitions, deadline_for(timeout_ms));
}

Result<GroupLag> Admin::group_lag(const std::string& group, int timeout_ms) {
  if (group.empty()) return fail(ErrorCode::local_invalid_arg, "group_lag: empty group id");
  int64_t deadline = deadline_for(timeout_ms);
  auto described = impl_->describe_groups({group}, deadline);
  if (!described) return fail(described.error());
  GroupLag out;
  out.group = std::move(described->front());
  if (out.group.error != ErrorCode::none)
    return fail(out.group.error, fmt::format("DescribeGroups for group {}: {}", group, error_name(out.group.error)));
  auto committed = impl_->group_offsets(group, std::nullopt, deadline);
  if (!committed) return fail(committed.error());
  std::map<TopicPartition, PartitionLag> rows;
  for (const auto& m : out.group.members)
    for (const auto& tp : m.assignment) {
      PartitionLag& row = rows[tp];
      row.topic = tp.topic;
      row.partition = tp.partition;
      row.consumer_id = m.member_id;
      row.host = m.host;
      row.client_id = m.client_id;
    }
  for (const auto& o : *committed) {
    TopicPartition tp{o.topic, o.partition};
    PartitionLag& row = rows[tp];
    row.topic = o.topic;
    row.partition = o.partition;
    if (o.error == ErrorCode::none && o.offset >= 0) row.current_offset = o.offset;
  }
  std::vector<TopicPartition> tps;
  for (const auto& [tp, row] : rows) tps.push_back(tp);
  if (!tps.empty()) {
    auto ends = impl_->list_offsets(tps, kOffsetEnd, deadline);
    if (!ends) return fail(ends.error());
    for (const auto& e : *ends) {
      PartitionLag& row = rows[TopicPartition{e.topic, e.partition}];
      row.error = e.error;
      if (e.error == ErrorCode::none) row.log_end_offset = e.offset;
    }
  }
  for (auto& [tp, row] : rows) {
    if (row.current_offset >= 0 && row.log_end_offset >= 0)
      row.lag = std::max<int64_t>(row.log_end_offset - row.current_offset, 0);
    out.partitions.push_back(std::move(row));
  }
  return out;
}

Result<void> Admin::alter_group_offsets(const std::string& group, const std::vector<TopicPartitionOffset>& offsets,
                                        int timeout_ms) {
  if (group.empty()) return fail(ErrorCode::local_invalid_arg, "alter_group_offsets: empty group id");
  for (const auto& o : offsets)
    if (o.offset < 0)
      return fail(ErrorCode::local_invalid_arg,
                  fmt::format("alter_group_offsets: offset for {}-{} is {}; it must be >= 0", o.topic, o.partition, o.offset));
  if (offsets.empty()) return {};
  int64_t deadline = deadline_for(timeout_ms);
  auto described = impl_->describe_groups({group}, deadline);
  if (!described) return fail(described.error());
  const GroupDescription& d = described->front();
  if (d.error != ErrorCode::none)
    return fail(d.error, fmt::format("DescribeGroups for group {}: {}", group, error_name(d.error)));
  if (!d.members.empty() || (d.state != "Empty" && d.state != "Dead" && !d.state.empty()))
    return fail(ErrorCode::non_empty_group,
                fmt::format("group {} has {} active member(s) (state {}): its offsets can be changed only while it "
                            "is inactive; stop its consumers first",
                            group, d.members.size(), d.state));
  protocol::OffsetCommitRequest req;
  req.group_id = group;
  req.generation_id_or_member_epoch = -1;
  req.member_id = "";
  req.retention_time_ms = -1;
  for (const auto& o : offsets) {
    auto it = std::find_if(req.topics.begin(), req.topics.end(), [&](auto& t) { return t.name == o.topic; });
    if (it == req.topics.end()) {
      req.topics.emplace_back().name = o.topic;
      it = req.topics.end() - 1;
    }
    protocol::OffsetCommitRequest::OffsetCommitRequestTopic::OffsetCommitRequestPartition p;
    p.partition_index = o.partition;
    p.committed_offset = o.offset;
    p.committed_leader_epoch = -1;
    p.committed_metadata = std::string();
    it->partitions.push_back(std::move(p));
  }
  auto first_error = [](const protocol::OffsetCommitResponse& resp, int16_t) {
    for (const auto& t : resp.topics)
      for (const auto& p : t.partitions)
        if (p.error_code != 0) return static_cast<ErrorCode>(p.error_code);
    return ErrorCode::none;
  };
  auto r = impl_->coordinator_call<protocol::OffsetCommitRequest, protocol::OffsetCommitResponse>(group, req, deadline,
                                                                                                   first_error);
  if (!r) return fail(r.error());
  for (const auto& t : r->resp.topics)
    for (const auto& p : t.partitions) {
      auto code = static_cast<ErrorCode>(p.error_code);
      if (code == ErrorCode::none) continue;
      std::string why;
      if (code == ErrorCode::unknown_member_id || code == ErrorCode::illegal_generation ||
          code == ErrorCode::rebalance_in_progress)
        why = " (the group has active members now; stop its consumers first)";
      return fail(code, fmt::format("alter offsets of group {} at {}-{}: {}{}", group, t.name, p.partition_index,
                                    error_name(code), why));
    }
  return {};
}

Result<std::vector<GroupResult>> Admin::delete_groups(const std::vector<std::string>& groups, int timeout_ms) {
  for (const auto& g : groups)
    if (g.empty()) return fail(ErrorCode::local_invalid_arg, "delete_groups: empty group id");
  int64_t deadline = deadline_for(timeout_ms);
  std::vector<GroupResult> out;
  for (const auto& group : groups) {
    protocol::DeleteGroupsRequest req;
    req.groups_names = {group};
    auto result_of = [&](const protocol::DeleteGroupsResponse& resp, int16_t) {
      for (const auto& g : resp.results)
        if (g.group_id == group) return static_cast<ErrorCode>(g.error_code);
      return ErrorCode::unknown_server_error;
    };
    auto r = impl_->coordinator_call<protocol::DeleteGroupsRequest, protocol::DeleteGroupsResponse>(group, req, deadline,
                                                                                                     result_of);
    GroupResult gr;
    gr.group_id = group;
    if (!r) {
      if (r.error().code == ErrorCode::local_destroy) return fail(r.error());
      gr.error = r.error();
    } else if (ErrorCode code = result_of(r->resp, r->version); code != ErrorCode::none) {
      std::string why;
      if (code == ErrorCode::non_empty_group) why = ": the group has active members";
      if (code == ErrorCode::group_id_not_found) why = ": no such group";
      gr.error = Error{code, fmt::format("delete group {}: {}{}", group, error_name(code), why)};
    }
    out.push_back(std::move(gr));
  }
  return out;
}

const ConfigSchema& Admin::config_schema() {
  static const ConfigSchema schema = [] {
    ConfigSchema s;
    add_common_keys(s);
    for (const char* k : {"default.api.timeout.ms", "retries"}) s.ignore(k);
    return s;
  }();
  return schema;
}

Result<std::unique_ptr<Admin>> Admin::create(const Properties& config) {
  auto net = read_network_config(config, config_schema());
  if (!net) return fail(net.error());
  auto impl = std::make_unique<Impl>();
  impl->net_config = std::move(*net);
  impl->net_config.allow_auto_topic_creation = false;
  impl->loop = std::make_unique<io::ClientLoop>("cv-admin");
  impl->net = std::make_unique<NetworkClient>(*impl->loop, impl->net_config);
  return std::unique_ptr<Admin>(new Admin(std::move(impl)));
}

Admin::Admin(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Admin::~Admin() { close(); }

Result<void> Admin::create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                                 const std::map<std::string, std::string>& configs, int timeout_ms) {
  if (name.empty()) return fail(ErrorCode::local_invalid_arg, "create_topic: empty name");
  if (partitions == 0 || partitions < -1) return fail(ErrorCode::invalid_partitions, "partitions must be > 0 or -1");
  if (replication_factor == 0 || replication_factor < -1)
    return fail(ErrorCode::invalid_replication_factor, "replication factor must be > 0 or -1");
  protocol::CreateTopicsRequest req;
  protocol::CreateTopicsRequest::CreatableTopic t;
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = replication_factor;
  for (const auto& [k, v] : configs) {
    protocol::CreateTopicsRequest::CreatableTopic::CreatableTopicConfig c;
    c.name = k;
    c.value = v;
    t.configs.push_back(std::move(c));
  }
  req.topics.push_back(std::move(t));
  req.timeout_ms = timeout_ms < 0 ? 60000 : timeout_ms;
  req.validate_only = false;
  int16_t min_version = (partitions == -1 || replication_factor == -1) ? 4 : 2;  // KIP-464
  Impl* im = impl_.get();
  return im->run<void>(timeout_ms, [im, req, min_version](Promise<void> done, int64_t deadline) {
    im->create(req, min_version, deadline, done);
  });
}

Result<void> Admin::delete_topic(const std::string& name, int timeout_ms) {
  if (name.empty()) return fail(ErrorCode::local_invalid_arg, "delete_topic: empty name");
  Impl* im = impl_.get();
  return im->run<void>(timeout_ms, [im, name](Promise<void> done, int64_t deadline) { im->remove(name, deadline, done); });
}

Result<std::vector<TopicDescription>> Admin::list_topics(int timeout_ms) {
  Impl* im = impl_.get();
  return im->run<std::vector<TopicDescription>>(
      timeout_ms, [im](Promise<std::vector<TopicDescription>> done, int64_t deadline) {
        im->metadata(std::nullopt, deadline, [done](Result<protocol::MetadataResponse> r) {
          if (!r) return done->set_value(fail(r.error()));
          std::vector<TopicDescription> out;
          for (const auto& t : r->topics)
            if (t.name) out.push_back(to_description(topic_from_response(t)));
          std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
          done->set_value(std::move(out));
        });
      });
}

Result<std::vector<TopicDescription>> Admin::describe_topics(const std::vector<std::string>& names, int timeout_ms) {
  if (names.empty()) return std::vector<TopicDescription>{};
  Impl* im = impl_.get();
  return im->run<std::vector<TopicDescription>>(
      timeout_ms, [im, names](Promise<std::vector<TopicDescription>> done, int64_t deadline) {
        im->metadata(names, deadline, [done, names](Result<protocol::MetadataResponse> r) {
          if (!r) return done->set_value(fail(r.error()));
          std::vector<TopicDescription> out;
          for (const auto& n : names) {
            TopicDescription d;
            d.name = n;
            d.topic_id = uuid_to_string(protocol::Uuid{});
            d.error = ErrorCode::unknown_topic_or_partition;
            for (const auto& t : r->topics)
              if (t.name == n) d = to_description(topic_from_response(t));
            out.push_back(std::move(d));
          }
          done->set_value(std::move(out));
        });
      });
}

Result<std::vector<BrokerDescription>> Admin::describe_cluster(int timeout_ms) {
  Impl* im = impl_.get();
  return im->run<std::vector<BrokerDescription>>(
      timeout_ms, [im](Promise<std::vector<BrokerDescription>> done, int64_t deadline) {
        im->metadata(std::vector<std::string>{}, deadline, [done](Result<protocol::MetadataResponse> r) {
          if (!r) return done->set_value(fail(r.error()));
          std::vector<BrokerDescription> out;
          for (const auto& b : r->brokers) out.push_back(BrokerDescription{b.node_id, b.host, b.port, b.rack});
          done->set_value(std::move(out));
        });
      });
}

// ---- topic configuration ------------------------------------------------------------------------

namespace {

// The node a config resource goes to: a broker resource to that broker, others to any broker.
Result<int32_t> config_node(const ConfigResource& r) {
  if (r.type != ConfigResourceType::broker || r.name.empty()) return NetworkClient::kAnyNode;
  int32_t id = 0;
  auto [p, ec] = std::from_chars(r.name.data(), r.name.data() + r.name.size(), id);
  if (ec != std::errc() || p != r.name.data() + r.name.size() || id < 0)
    return fail(ErrorCode::local_invalid_arg, fmt::format("broker resource \"{}\" is not a node id", r.name));
  return id;
}

// A broker resource naming a node the cluster does not have: broker_not_available at once
// (instead of waiting for a node that will not appear).
Error unknown_broker(const protocol::MetadataResponse& md, int32_t node) {
  if (node == NetworkClient::kAnyNode) return Error{ErrorCode::none, {}};
  for (const auto& b : md.brokers)
    if (b.node_id == node) return Error{ErrorCode::none, {}};
  return Error{ErrorCode::broker_not_available, fmt::format("no broker with node id {} in the cluster", node)};
}

Error resource_error(int16_t code, const std::optional<std::string>& message, const std::string& what) {
  auto c = static_cast<ErrorCode>(code);
  if (c == ErrorCode::none) return Error{ErrorCode::none, {}};
  std::string m = message.value_or("");
  return Error{c, m.empty() ? fmt::format("{}: {}", what, error_name(c)) : m};
}

}  // namespace

template <class Req, class Resp>
static Result<Answer<Resp>> call_retrying(Admin::Impl& im, int32_t node, const Req& req, int64_t deadline,
                                          int16_t min_version = Req::kMinVersion) {
  int attempt = 0;
  for (;;) {
    auto r = im.request<Req, Resp>(node, req, deadline, min_version);
    if (r) return r;
    ErrorCode code = r.error().code;
    if (code == ErrorCode::local_destroy || !transient(code)) return fail(r.error());
    if (code == ErrorCode::leader_not_available) im.metadata_sync(std::vector<std::string>{}, deadline);
    if (!im.backoff(attempt, deadline))
      return fail(ErrorCode::local_timed_out,
                  timed_out_message(std::string(protocol::api_name(Req::kApiKey)), r.error()));
  }
}

Result<std::vector<ConfigResourceResult>> Admin::describe_configs(const std::vector<ConfigResource>& resources,
                                                                  const std::vector<std::string>& keys,
                                                                  bool include_synonyms, bool include_documentation,
                                                                  int timeout_ms) {
  Impl& im = *impl_;
  int64_t deadline = deadline_for(timeout_ms);
  std::vector<ConfigResourceResult> out(resources.size());
  std::map<int32_t, std::vector<size_t>> by_node;
  for (size_t i = 0; i < resources.size(); ++i) {
    out[i].resource = resources[i];
    auto node = config_node(resources[i]);
    if (!node) return fail(node.error());
    by_node[*node].push_back(i);
  }
  if (resources.empty()) return out;
  auto md = im.metadata_sync(std::vector<std::string>{}, deadline);
  if (!md) return fail(md.error());
  for (const auto& [node, idx] : by_node) {
    if (auto e = unknown_broker(*md, node); e.code != ErrorCode::none) {
      for (size_t i : idx) out[i].error = e;
      continue;
    }
    protocol::DescribeConfigsRequest req;
    for (size_t i : idx) {
      auto& r = req.resources.emplace_back();
      r.resource_type = static_cast<int8_t>(resources[i].type);
      r.resource_name = resources[i].name;
      if (!keys.empty()) r.configuration_keys = keys;
    }
    req.include_synonyms = include_synonyms;
    req.include_documentation = include_documentation;
    auto r = call_retrying<protocol::DescribeConfigsRequest, protocol::DescribeConfigsResponse>(im, node, req, deadline);
    if (!r) return fail(r.error());
    for (size_t i : idx) {
      ConfigResourceResult& res = out[i];
      res.error = Error{ErrorCode::unknown_server_error, "resource missing from the DescribeConfigs response"};
      for (const auto& rr : r->resp.results) {
        if (rr.resource_type != static_cast<int8_t>(res.resource.type) || rr.resource_name != res.resource.name) continue;
        res.error = resource_error(rr.error_code, rr.error_message, "describe configs of " + res.resource.name);
        for (const auto& c : rr.configs) {
          ConfigEntry e;
          e.name = c.name;
          e.value = c.value;
          e.source = static_cast<ConfigSource>(c.config_source);
          e.read_only = c.read_only;
          e.is_sensitive = c.is_sensitive;
          e.type = c.config_type;
          e.documentation = c.documentation;
          for (const auto& syn : c.synonyms)
            e.synonyms.push_back(ConfigSynonym{syn.name, syn.value, static_cast<ConfigSource>(syn.source)});
          res.entries.push_back(std::move(e));
        }
        std::sort(res.entries.begin(), res.entries.end(), [](auto& a, auto& b) { return a.name < b.name; });
      }
    }
  }
  return out;
}

namespace {

// AlterConfigs and IncrementalAlterConfigs alike: resources grouped by the broker that owns
// them (config_node), one request per broker filled by add(request, index), each resource's
// error taken from the response. `out[i].resource` must be set.
template <class Request, class Response, class Add>
Result<void> alter_configs_by_node(Admin::Impl& im, std::vector<ResourceResult>& out, bool validate_only,
                                   int64_t deadline, Add&& add) {
  std::map<int32_t, std::vector<size_t>> by_node;
  for (size_t i = 0; i < out.size(); ++i) {
    auto node = config_node(out[i].resource);
    if (!node) return fail(node.error());
    by_node[*node].push_back(i);
  }
  if (out.empty()) return {};
  auto md = im.metadata_sync(std::vector<std::string>{}, deadline);
  if (!md) return fail(md.error());
  for (const auto& [node, idx] : by_node) {
    if (auto e = unknown_broker(*md, node); e.code != ErrorCode::none) {
      for (size_t i : idx) out[i].error = e;
      continue;
    }
    Request req;
    req.validate_only = validate_only;
    for (size_t i : idx) {
      auto& r = req.resources.emplace_back();
      r.resource_type = static_cast<int8_t>(out[i].resource.type);
      r.resource_name = out[i].resource.name;
      add(r, i);
    }
    auto r = call_retrying<Request, Response>(im, node, req, deadline);
    if (!r) return fail(r.error());
    for (size_t i : idx) {
      out[i].error = Error{ErrorCode::unknown_server_error, "resource missing from the response"};
      for (const auto& rr : r->resp.responses)
        if (rr.resource_type == static_cast<int8_t>(out[i].resource.type) && rr.resource_name == out[i].resource.name)
          out[i].error = resource_error(rr.error_code, rr.error_message, "alter configs of " + out[i].resource.name);
    }
  }
  return {};
}

}  // namespace

Result<std::vector<ResourceResult>> Admin::incremental_alter_configs(
    const std::vector<std::pair<ConfigResource, std::vector<AlterConfigOp>>>& changes, bool validate_only,
    int timeout_ms) {
  std::vector<ResourceResult> out(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    out[i].resource = changes[i].first;
    for (const auto& op : changes[i].second)
      if (op.op != AlterConfigOpType::remove && !op.value)
        return fail(ErrorCode::local_invalid_arg, fmt::format("incremental_alter_configs: {} needs a value", op.name));
  }
  auto sent = alter_configs_by_node<protocol::IncrementalAlterConfigsRequest, protocol::IncrementalAlterConfigsResponse>(
      *impl_, out, validate_only, deadline_for(timeout_ms), [&](auto& resource, size_t i) {
        for (const auto& op : changes[i].second) {
          auto& c = resource.configs.emplace_back();
          c.name = op.name;
          c.config_operation = static_cast<int8_t>(op.op);
          if (op.op != AlterConfigOpType::remove) c.value = op.value;
        }
      });
  if (!sent) return fail(sent.error());
  return out;
}

Result<std::vector<ResourceResult>> Admin::alter_configs(
    const std::vector<std::pair<ConfigResource, std::map<std::string, std::string>>>& configs, bool validate_only,
    int timeout_ms) {
  std::vector<ResourceResult> out(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) out[i].resource = configs[i].first;
  auto sent = alter_configs_by_node<protocol::AlterConfigsRequest, protocol::AlterConfigsResponse>(
      *impl_, out, validate_only, deadline_for(timeout_ms), [&](auto& resource, size_t i) {
        for (const auto& [k, v] : configs[i].second) {
          auto& c = resource.configs.emplace_back();
          c.name = k;
          c.value = v;
        }
      });
  if (!sent) return fail(sent.error());
  return out;
}

Result<std::vector<ResourceResult>> Admin::create_partitions(const std::vector<NewPartitions>& topics,
                                                             bool validate_only, int timeout_ms) {
  Impl& im = *impl_;
  int64_t deadline = deadline_for(timeout_ms);
  std::vector<ResourceResult> out(topics.size());
  for (size_t i = 0; i < topics.size(); ++i) {
    out[i].resource = ConfigResource{ConfigResourceType::topic, topics[i].topic};
    if (topics[i].topic.empty()) return fail(ErrorCode::local_invalid_arg, "create_partitions: empty topic name");
  }
  if (topics.empty()) return out;
  if (auto md = im.metadata_sync(std::vector<std::string>{}, deadline); !md) return fail(md.error());
  protocol::CreatePartitionsRequest req;
  req.validate_only = validate_only;
  req.timeout_ms = static_cast<int32_t>(std::clamp<int64_t>(deadline - io::steady_now_ms(), 1, INT32_MAX));
  for (const auto& t : topics) {
    auto& rt = req.topics.emplace_back();
    rt.name = t.topic;
    rt.count = t.total_count;
    if (t.assignments) {
      rt.assignments.emplace();
      for (const auto& ids : *t.assignments) rt.assignments->emplace_back().broker_ids = ids;
    }
  }
  auto r = call_retrying<protocol::CreatePartitionsRequest, protocol::CreatePartitionsResponse>(im, im.controller(), req,
                                                                                               deadline);
  if (!r) return fail(r.error());
  std::vector<size_t> created;
  for (size_t i = 0; i < topics.size(); ++i) {
    out[i].error = Error{ErrorCode::unknown_server_error, "topic missing from the CreatePartitions response"};
    for (const auto& rr : r->resp.results)
      if (rr.name == topics[i].topic)
        out[i].error = resource_error(rr.error_code, rr.error_message, "create partitions of " + topics[i].topic);
    if (out[i].error.code == ErrorCode::none && !validate_only) created.push_back(i);
  }
  // Wait (bounded) until Metadata shows the new partitions with leaders, as create_topic does.
  while (!created.empty()) {
    std::vector<std::string> names;
    for (size_t i : created) names.push_back(topics[i].topic);
    auto md = im.metadata_sync(names, deadline);
    std::vector<size_t> pending;
    for (size_t i : created) {
      bool ready = false;
      if (md)
        for (const auto& t : md->topics)
          if (t.name == topics[i].topic && t.error_code == 0 &&
              static_cast<int32_t>(t.partitions.size()) >= topics[i].total_count)
            ready = std::all_of(t.partitions.begin(), t.partitions.end(), [](auto& p) { return p.leader_id >= 0; });
      if (!ready) pending.push_back(i);
    }
    created = std::move(pending);
    if (created.empty()) break;
    if (io::steady_now_ms() + kPollMetadataMs >= deadline) {
      for (size_t i : created)
        out[i].error = Error{ErrorCode::local_timed_out,
                             fmt::format("partitions of {} were created but are not in metadata yet", topics[i].topic)};
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMetadataMs));
  }
  return out;
}

void Admin::close() {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mu);
    if (im.closed) return;
    im.closed = true;
  }
  std::promise<void> done;
  auto fut = done.get_future();
  im.loop->post([&im, &done] {
    im.stopping = true;
    im.net->close();
    done.set_value();
  });
  fut.wait_for(std::chrono::seconds(10));
  im.loop->stop();
  im.net.reset();
  im.loop.reset();
}

}  // namespace conveyor::client
