#include "conveyor/client/consumer.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "assignors.h"
#include "client_config.h"
#include "group_client.h"
#include "conveyor/base/assert.h"
#include "conveyor/base/log.h"
#include "conveyor/io/client_loop.h"
#include "conveyor/protocol/record_batch.h"
#include "network_client.h"

namespace conveyor::client {
namespace {

constexpr std::string_view kLog = "consumer";
constexpr int64_t kFetcherTickMs = 100;  // re-check backoffs this often

struct PartitionFetchState {
  uint64_t epoch = 0;            // bumps on assign/seek; older fetch results are dropped
  int64_t fetch_offset = -1;     // next offset to fetch (when !reset_pending)
  int64_t position = -1;         // next offset poll() returns
  bool reset_pending = false;    // position comes from ListOffsets(reset_to)
  int64_t reset_to = kOffsetInvalid;
  bool fetch_in_flight = false;
  bool list_in_flight = false;
  int64_t backoff_until_ms = 0;
  int32_t max_bytes_override = 0;  // grown when only a partial batch came back
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  std::optional<Error> error;      // surfaced by poll()
  // pause(): not fetched until resume(). Offset resets (ListOffsets) still run. Survives
  // seek() and an assign() that keeps the partition; gone when the partition is unassigned.
  bool paused = false;
};

struct Chunk {
  TopicPartition tp;
  uint64_t epoch = 0;
  std::vector<ConsumerRecord> records;
  size_t next = 0;
  size_t bytes = 0;
};

bool refresh_worthy(ErrorCode c) {
  switch (c) {
    case ErrorCode::not_leader_or_follower:
    case ErrorCode::unknown_topic_or_partition:
    case ErrorCode::leader_not_available:
    case ErrorCode::fenced_leader_epoch:
    case ErrorCode::unknown_leader_epoch:
    case ErrorCode::kafka_storage_error:
    case ErrorCode::replica_not_available:
    case ErrorCode::offset_not_available:
    case ErrorCode::request_timed_out:
    case ErrorCode::local_transport:
    case ErrorCode::network_exception:
    case ErrorCode::unknown_topic_id:
    case ErrorCode::inconsistent_topic_id:
    case ErrorCode::not_enough_replicas:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct Consumer::Impl {
  NetworkConfig net_config;
  int64_t auto_reset = kOffsetEnd;  // kOffsetBeginning, kOffsetEnd, or kOffsetInvalid = none
  int32_t fetch_min_bytes = 1;
  int32_t fetch_max_wait_ms = 500;
  int32_t fetch_max_bytes = 52428800;
  int32_t partition_max_bytes = 1048576;
  size_t max_poll_records = 500;
  int8_t isolation_level = 0;
  bool check_crcs = true;
  size_t queue_limit_bytes = 64u << 20;
  int64_t retry_backoff_ms = 100;
  std::optional<std::string> group_id;

  std::mutex mu;
  std::condition_variable cv;
  std::map<TopicPartition, PartitionFetchState> assignment;
  std::deque<Chunk> queue;
  size_t queued_bytes = 0;
  bool woken = false;
  bool closed = false;
  std::atomic<bool> fetch_posted{false};

  std::unique_ptr<io::ClientLoop> loop;
  std::unique_ptr<NetworkClient> net;
  std::set<int32_t> busy_nodes;  // nodes with a Fetch in flight (loop thread)
  bool stopping = false;
  std::unique_ptr<GroupClient> group;  // when group.id is set (group_client.h)
  // Epochs of partitions the group took away (mu): a partition assigned again continues from
  // its old epoch, so a fetch still in flight from before cannot pass as current.
  std::map<TopicPartition, uint64_t> retired_epochs;

  void wake_fetcher() {
    if (!fetch_posted.exchange(true)) loop->post([this] { maybe_fetch(); });
  }
  void maybe_fetch();
  void tick();
  void send_fetch(int32_t node, std::vector<std::pair<TopicPartition, PartitionFetchState>> parts);
  void on_fetch(int32_t node, const std::vector<std::pair<TopicPartition, PartitionFetchState>>& parts,
                Result<protocol::FetchResponse> r);
  void send_resets(int32_t node, std::vector<std::pair<TopicPartition, PartitionFetchState>> parts);
  Result<Chunk> decode(const TopicPartition& tp, int64_t fetch_offset, const protocol::FetchResponse::FetchableTopicResponse::PartitionData& pd,
                       int64_t* next_offset, bool* partial_only);
  // Blocking ListOffsets for one partition from a user thread.
  Result<std::pair<int64_t, int64_t>> list_offset(const TopicPartition& tp, int64_t timestamp, int timeout_ms);
  void list_offset_on_loop(TopicPartition tp, int64_t timestamp, int64_t deadline_ms,
                           std::shared_ptr<std::promise<Result<std::pair<int64_t, int64_t>>>> done);
  Result<std::optional<ConsumerRecord>> take_one(std::unique_lock<std::mutex>& lock);
  std::optional<ConsumerRecord> take_record();  // mu held
  // Moves up to `limit` queued records to `out` (one assignment lookup per chunk). mu held.
  void take_records(std::vector<ConsumerRecord>& out, size_t limit);
  std::optional<Error> take_error();            // mu held
  // pause(): forgets what was fetched past the position of tp (queued chunks, a fetch in
  // flight), so fetching restarts at the position on resume(). mu held.
  void drop_prefetched(const TopicPartition& tp, PartitionFetchState& st);
  // Checks every partition is assigned (else local_state naming the first one that is not),
  // then sets or clears the paused flags. mu taken here.
  Result<void> set_paused(const std::vector<TopicPartition>& partitions, bool paused, std::string_view what);
};

void Consumer::Impl::tick() {
  if (stopping) return;
  maybe_fetch();
  loop->schedule(kFetcherTickMs, [this] { tick(); });
}

void Consumer::Impl::maybe_fetch() {
  fetch_posted.store(false);
  if (stopping) return;
  int64_t now = io::steady_now_ms();
  const ClusterMetadata& md = net->metadata();
  std::map<int32_t, std::vector<std::pair<TopicPartition, PartitionFetchState>>> fetches, resets;
  bool want_metadata = false;
  {
    std::lock_guard lock(mu);
    if (closed) return;
    bool room = queued_bytes < queue_limit_bytes;
    for (auto& [tp, st] : assignment) {
      if (st.fetch_in_flight || st.list_in_flight || st.error || st.backoff_until_ms > now) continue;
      auto t = md.topics.find(tp.topic);
      if (t == md.topics.end() || static_cast<size_t>(tp.partition) >= t->second.partitions.size() ||
          t->second.partitions[static_cast<size_t>(tp.partition)].leader < 0) {
        want_metadata = true;
        continue;
      }
      int32_t leader = t->second.partitions[static_cast<size_t>(tp.partition)].leader;
      if (!net->node_ready(leader)) {
        net->ensure_connecting(leader);
        continue;
      }
      if (st.reset_pending) {
        st.list_in_flight = true;
        resets[leader].emplace_back(tp, st);
      } else if (!st.paused && room && !busy_nodes.count(leader)) {
        st.fetch_in_flight = true;
        fetches[leader].emplace_back(tp, st);
      }
    }
  }
  if (want_metadata) net->request_metadata_update();
  for (auto& [node, parts] : resets) send_resets(node, std::move(parts));
  for (auto& [node, parts] : fetches) {
    busy_nodes.insert(node);
    send_fetch(node, std::move(parts));
  }
}

void Consumer::Impl::send_fetch(int32_t node, std::vector<std::pair<TopicPartition, PartitionFetchState>> parts) {
  protocol::FetchRequest req;
  req.replica_id = -1;
  req.max_wait_ms = fetch_max_wait_ms;
  req.min_bytes = fetch_min_bytes;
  req.max_bytes = fetch_max_bytes;
  req.isolation_level = isolation_level;
  req.session_id = 0;
  req.session_epoch = -1;  // sessionless full fetch (KIP-227)
  for (const auto& [tp, st] : parts) {
    auto it = std::find_if(req.topics.begin(), req.topics.end(), [&](auto& t) { return t.topic == tp.topic; });
    if (it == req.topics.end()) {
      req.topics.emplace_back();
      req.topics.back().topic = tp.topic;
      it = req.topics.end() - 1;
    }
    protocol::FetchRequest::FetchTopic::FetchPartition fp;
    fp.partition = tp.partition;
    fp.fetch_offset = st.fetch_offset;
    fp.partition_max_bytes = st.max_bytes_override > 0 ? st.max_bytes_override : partition_max_bytes;
    it->partitions.push_back(fp);
  }
  auto shared = std::make_shared<std::vector<std::pair<TopicPartition, PartitionFetchState>>>(std::move(parts));
  net->send<protocol::FetchRequest, protocol::FetchResponse>(
      node, std::move(req),
      [this, node, shared](Result<protocol::FetchResponse> r, int16_t) {
        if (stopping) return;
        busy_nodes.erase(node);
        on_fetch(node, *shared, std::move(r));
        maybe_fetch();
      },
      12, 4);
}

Result<Chunk> Consumer::Impl::decode(const TopicPartition& tp, int64_t fetch_offset,
                                     const protocol::FetchResponse::FetchableTopicResponse::PartitionData& pd,
                                     int64_t* next_offset, bool* partial_only) {
  Chunk chunk;
  chunk.tp = tp;
  *next_offset = fetch_offset;
  *partial_only = false;
  if (!pd.records || pd.records->empty()) return chunk;
  const Bytes& blob = *pd.records;
  chunk.bytes = blob.size();
  size_t partial = 0;
  auto spans = protocol::split_batches(blob, &partial);
  if (!spans) return fail(spans.error());
  if (spans->empty() && partial > 0) {
    *partial_only = true;
    return chunk;
  }
  // read_committed: producers whose aborted transaction is open at this point (KIP-98).
  std::vector<std::pair<int64_t, int64_t>> aborted;  // (first_offset, producer_id)
  if (isolation_level == 1 && pd.aborted_transactions)
    for (const auto& a : *pd.aborted_transactions) aborted.emplace_back(a.first_offset, a.producer_id);
  std::sort(aborted.begin(), aborted.end());
  size_t next_aborted = 0;
  std::set<int64_t> aborting;
  protocol::DecodeLimits limits;
  limits.verify_crc = check_crcs;  // check.crcs
  size_t expected_records = 0;     // bounded by the bytes: a record takes at least 7
  for (const auto& span : *spans)
    if (span.header.record_count > 0) expected_records += size_t(span.header.record_count);
  chunk.records.reserve(std::min(expected_records, blob.size() / 7));
  for (const auto& span : *spans) {
    const auto& h = span.header;
    if (h.last_offset() < fetch_offset) continue;
    while (next_aborted < aborted.size() && aborted[next_aborted].first <= h.last_offset())
      aborting.insert(aborted[next_aborted++].second);
    if (h.is_control()) {
      if (check_crcs && !protocol::batch_crc_valid(span.bytes))
        return fail(ErrorCode::corrupt_message,
                    fmt::format("{}-{}: CRC mismatch in batch at offset {}", tp.topic, tp.partition, h.base_offset));
      if (aborting.count(h.producer_id)) {
        auto recs = protocol::decode_batch(span.bytes);
        if (recs && !recs->empty() && recs->front().key && recs->front().key->size() >= 4 &&
            (*recs->front().key)[3] == 0)  // type 0 = ABORT
          aborting.erase(h.producer_id);
      }
      *next_offset = h.last_offset() + 1;
      continue;
    }
    if (h.is_transactional() && aborting.count(h.producer_id)) {
      *next_offset = h.last_offset() + 1;
      continue;
    }
    // Straight into ConsumerRecords, one pass: on an error the whole chunk is dropped, so the
    // records already visited from this batch do not matter.
    auto visited = protocol::stream_records(span.bytes, limits, [&](const protocol::RecordView& v) {
      if (v.offset < fetch_offset) return;
      ConsumerRecord& cr = chunk.records.emplace_back();
      cr.topic = tp.topic;
      cr.partition = tp.partition;
      cr.offset = v.offset;
      cr.timestamp_ms = v.timestamp;
      cr.timestamp_type = h.timestamp_type();
      if (v.key) cr.key.emplace(v.key->begin(), v.key->end());
      if (v.value) cr.value.emplace(v.value->begin(), v.value->end());
      if (v.header_count > 0) {
        cr.headers.reserve(static_cast<size_t>(v.header_count));
        v.for_each_header([&](std::string_view key, std::optional<ByteView> value) {
          protocol::RecordHeader& hdr = cr.headers.emplace_back();
          hdr.key.assign(key);
          if (value) hdr.value.emplace(value->begin(), value->end());
        });
      }
    });
    if (!visited) {
      Error e = visited.error();
      if (e.code == ErrorCode::corrupt_message)
        e.message = fmt::format("{}-{}: batch at offset {}: {}", tp.topic, tp.partition, h.base_offset, e.message);
      return fail(std::move(e));
    }
    *next_offset = h.last_offset() + 1;
  }
  return chunk;
}

void Consumer::Impl::on_fetch(int32_t node, const std::vector<std::pair<TopicPartition, PartitionFetchState>>& parts,
                              Result<protocol::FetchResponse> r) {
  int64_t now = io::steady_now_ms();
  bool want_metadata = false;
  std::vector<Chunk> chunks;
  std::lock_guard lock(mu);
  for (const auto& [tp, sent] : parts) {
    auto it = assignment.find(tp);
    if (it == assignment.end() || it->second.epoch != sent.epoch) {
      if (it != assignment.end()) it->second.fetch_in_flight = false;
      continue;  // reassigned or sought meanwhile: drop the data
    }
    PartitionFetchState& st = it->second;
    st.fetch_in_flight = false;
    ErrorCode code = ErrorCode::none;
    std::string message;
    const protocol::FetchResponse::FetchableTopicResponse::PartitionData* pd = nullptr;
    if (!r) {
      code = r.error().code;
      message = r.error().message;
    } else if (r->error_code != 0) {
      code = static_cast<ErrorCode>(r->error_code);
    } else {
      for (const auto& t : r->responses)
        if (t.topic == tp.topic)
          for (const auto& p : t.partitions)
            if (p.partition_index == tp.partition) pd = &p;
      if (!pd) continue;  // not answered this time (e.g. fetch.max.bytes reached)
      code = static_cast<ErrorCode>(pd->error_code);
    }
    if (code == ErrorCode::none) {
      st.high_watermark = pd->high_watermark;
      if (pd->log_start_offset >= 0) st.log_start_offset = pd->log_start_offset;
      int64_t next = st.fetch_offset;
      bool partial_only = false;
      auto chunk = decode(tp, st.fetch_offset, *pd, &next, &partial_only);
      if (!chunk) {
        st.error = chunk.error();
        continue;
      }
      if (partial_only) {
        int32_t cur = st.max_bytes_override > 0 ? st.max_bytes_override : partition_max_bytes;
        st.max_bytes_override = static_cast<int32_t>(std::min<int64_t>(int64_t(cur) * 2, fetch_max_bytes));
        continue;
      }
      st.max_bytes_override = 0;
      st.fetch_offset = next;
      if (!chunk->records.empty()) {
        chunk->epoch = st.epoch;
        queued_bytes += chunk->bytes;
        queue.push_back(std::move(*chunk));
      } else if (next != sent.fetch_offset && st.position < next && queue.empty()) {
        // Only control batches/aborted data: move the visible position past them.
        st.position = next;
      }
      continue;
    }
    if (code == ErrorCode::offset_out_of_range) {
      if (auto_reset == kOffsetInvalid) {
        st.error = Error{code, fmt::format("{}-{}: offset {} is out of range and auto.offset.reset=none", tp.topic,
                                           tp.partition, st.fetch_offset)};
      } else {
        log::info(kLog, "{}-{}: offset {} out of range, resetting to {}", tp.topic, tp.partition, st.fetch_offset,
                  auto_reset == kOffsetBeginning ? "earliest" : "latest");
        st.reset_pending = true;
        st.reset_to = auto_reset;
      }
      continue;
    }
    if (refresh_worthy(code) || code == ErrorCode::local_destroy) {
      st.backoff_until_ms = now + retry_backoff_ms;
      want_metadata = true;
      continue;
    }
    st.error = Error{code, message.empty() ? fmt::format("fetch {}-{}: {}", tp.topic, tp.partition, error_name(code))
                                           : message};
  }
  cv.notify_all();
  if (want_metadata) net->request_metadata_update();
  (void)node;
}

void Consumer::Impl::send_resets(int32_t node, std::vector<std::pair<TopicPartition, PartitionFetchState>> parts) {
  protocol::ListOffsetsRequest req;
  req.replica_id = -1;
  req.isolation_level = isolation_level;
  for (const auto& [tp, st] : parts) {
    auto it = std::find_if(req.topics.begin(), req.topics.end(), [&](auto& t) { return t.name == tp.topic; });
    if (it == req.topics.end()) {
      req.topics.emplace_back();
      req.topics.back().name = tp.topic;
      it = req.topics.end() - 1;
    }
    protocol::ListOffsetsRequest::ListOffsetsTopic::ListOffsetsPartition p;
    p.partition_index = tp.partition;
    p.timestamp = st.reset_to == kOffsetBeginning ? -2 : -1;
    it->partitions.push_back(p);
  }
  auto shared = std::make_shared<std::vector<std::pair<TopicPartition, PartitionFetchState>>>(std::move(parts));
  net->send<protocol::ListOffsetsRequest, protocol::ListOffsetsResponse>(
      node, std::move(req),
      [this, shared](Result<protocol::ListOffsetsResponse> r, int16_t) {
        if (stopping) return;
        int64_t now = io::steady_now_ms();
        bool want_metadata = false;
        {
          std::lock_guard lock(mu);
          for (const auto& [tp, sent] : *shared) {
            auto it = assignment.find(tp);
            if (it == assignment.end()) continue;
            PartitionFetchState& st = it->second;
            st.list_in_flight = false;
            if (st.epoch != sent.epoch) continue;
            ErrorCode code = r ? ErrorCode::unknown_server_error : r.error().code;
            int64_t offset = -1;
            if (r)
              for (const auto& t : r->topics)
                if (t.name == tp.topic)
                  for (const auto& p : t.partitions)
                    if (p.partition_index == tp.partition) {
                      code = static_cast<ErrorCode>(p.error_code);
                      offset = p.offset;
                    }
            if (code == ErrorCode::none && offset >= 0) {
              st.reset_pending = false;
              st.fetch_offset = offset;
              st.position = offset;
            } else if (refresh_worthy(code) || code == ErrorCode::unknown_server_error) {
              st.backoff_until_ms = now + retry_backoff_ms;
              want_metadata = true;
            } else {
              st.error = Error{code, fmt::format("ListOffsets {}-{}: {}", tp.topic, tp.partition, error_name(code))};
            }
          }
        }
        cv.notify_all();
        if (want_metadata) net->request_metadata_update();
        maybe_fetch();
      },
      protocol::ListOffsetsRequest::kMaxVersion, 1);
}

void Consumer::Impl::list_offset_on_loop(TopicPartition tp, int64_t timestamp, int64_t deadline_ms,
                                         std::shared_ptr<std::promise<Result<std::pair<int64_t, int64_t>>>> done) {
  if (stopping) return done->set_value(fail(ErrorCode::local_destroy, "consumer closed"));
  int64_t now = io::steady_now_ms();
  auto retry = [this, tp, timestamp, deadline_ms, done](Error last) {
    if (io::steady_now_ms() + retry_backoff_ms >= deadline_ms) {
      ErrorCode code = last.code == ErrorCode::none ? ErrorCode::local_timed_out : last.code;
      if (code == ErrorCode::leader_not_available || code == ErrorCode::request_timed_out)
        code = ErrorCode::local_timed_out;
      return done->set_value(fail(code, fmt::format("ListOffsets {}-{}: {}", tp.topic, tp.partition,
                                                    last.message.empty() ? "timed out" : last.message)));
    }
    net->request_metadata_update();
    loop->schedule(retry_backoff_ms, [this, tp, timestamp, deadline_ms, done] {
      list_offset_on_loop(tp, timestamp, deadline_ms, done);
    });
  };
  const auto& md = net->metadata();
  auto t = md.topics.find(tp.topic);
  if (t == md.topics.end()) {
    net->add_topics({tp.topic});
    return retry(Error{ErrorCode::local_timed_out, "no metadata for the topic"});
  }
  if (t->second.error == ErrorCode::unknown_topic_or_partition && now + retry_backoff_ms >= deadline_ms)
    return done->set_value(fail(ErrorCode::unknown_topic_or_partition, tp.topic));
  if (static_cast<size_t>(tp.partition) >= t->second.partitions.size() ||
      t->second.partitions[static_cast<size_t>(tp.partition)].leader < 0)
    return retry(Error{t->second.error != ErrorCode::none ? t->second.error : ErrorCode::leader_not_available,
                       "no leader"});
  int32_t leader = t->second.partitions[static_cast<size_t>(tp.partition)].leader;
  protocol::ListOffsetsRequest req;
  req.replica_id = -1;
  req.isolation_level = isolation_level;
  req.topics.emplace_back();
  req.topics.back().name = tp.topic;
  protocol::ListOffsetsRequest::ListOffsetsTopic::ListOffsetsPartition p;
  p.partition_index = tp.partition;
  p.timestamp = timestamp;
  req.topics.back().partitions.push_back(p);
  net->send<protocol::ListOffsetsRequest, protocol::ListOffsetsResponse>(
      leader, std::move(req),
      [tp, done, retry](Result<protocol::ListOffsetsResponse> r, int16_t) {
        if (!r) {
          if (r.error().code == ErrorCode::local_destroy) return done->set_value(fail(r.error()));
          if (r.error().retriable() || refresh_worthy(r.error().code)) return retry(r.error());
          return done->set_value(fail(r.error()));
        }
        for (const auto& t : r->topics)
          for (const auto& p : t.partitions)
            if (t.name == tp.topic && p.partition_index == tp.partition) {
              auto code = static_cast<ErrorCode>(p.error_code);
              if (code == ErrorCode::none) return done->set_value(std::pair{p.offset, p.timestamp});
              if (refresh_worthy(code)) return retry(Error{code, std::string(error_name(code))});
              return done->set_value(fail(code, fmt::format("ListOffsets {}-{}", tp.topic, tp.partition)));
            }
        done->set_value(fail(ErrorCode::unknown_server_error, "partition missing from ListOffsets response"));
      },
      protocol::ListOffsetsRequest::kMaxVersion, 1);
}

Result<std::pair<int64_t, int64_t>> Consumer::Impl::list_offset(const TopicPartition& tp, int64_t timestamp,
                                                                 int timeout_ms) {
  {
    std::lock_guard lock(mu);
    if (closed) return fail(ErrorCode::local_state, "consumer is closed");
  }
  auto done = std::make_shared<std::promise<Result<std::pair<int64_t, int64_t>>>>();
  auto fut = done->get_future();
  int64_t deadline = io::steady_now_ms() + (timeout_ms < 0 ? INT32_MAX : timeout_ms);
  loop->post([this, tp, timestamp, deadline, done] { list_offset_on_loop(tp, timestamp, deadline, done); });
  int64_t wait_ms = int64_t{timeout_ms < 0 ? INT32_MAX : timeout_ms} + 2000;  // int64: INT32_MAX + 2000 overflows int
  if (fut.wait_for(std::chrono::milliseconds(wait_ms)) != std::future_status::ready)
    return fail(ErrorCode::local_timed_out, "ListOffsets: no answer");
  try {
    return fut.get();
  } catch (const std::future_error&) {
    return fail(ErrorCode::local_destroy, "consumer closed");
  }
}

std::optional<ConsumerRecord> Consumer::Impl::take_record() {
  while (!queue.empty()) {
    Chunk& c = queue.front();
    auto it = assignment.find(c.tp);
    bool stale = it == assignment.end() || it->second.epoch != c.epoch;
    if (stale || c.next >= c.records.size()) {
      queued_bytes -= c.bytes;
      queue.pop_front();
      wake_fetcher();
      continue;
    }
    ConsumerRecord rec = std::move(c.records[c.next++]);
    it->second.position = rec.offset + 1;
    if (c.next >= c.records.size()) {
      queued_bytes -= c.bytes;
      queue.pop_front();
      wake_fetcher();
    }
    return rec;
  }
  return std::nullopt;
}

void Consumer::Impl::take_records(std::vector<ConsumerRecord>& out, size_t limit) {
  size_t available = 0;
  for (const Chunk& c : queue) available += c.records.size() - c.next;
  out.reserve(out.size() + std::min(available, limit > out.size() ? limit - out.size() : 0));
  while (out.size() < limit && !queue.empty()) {
    Chunk& c = queue.front();
    auto it = assignment.find(c.tp);
    if (it != assignment.end() && it->second.epoch == c.epoch && c.next < c.records.size()) {
      size_t n = std::min(c.records.size() - c.next, limit - out.size());
      auto first = c.records.begin() + static_cast<std::ptrdiff_t>(c.next);
      out.insert(out.end(), std::make_move_iterator(first), std::make_move_iterator(first + static_cast<std::ptrdiff_t>(n)));
      c.next += n;
      it->second.position = out.back().offset + 1;
      if (c.next < c.records.size()) break;  // limit reached
    }
    queued_bytes -= c.bytes;
    queue.pop_front();
    wake_fetcher();
  }
}

void Consumer::Impl::drop_prefetched(const TopicPartition& tp, PartitionFetchState& st) {
  // A new epoch makes a Fetch in flight for tp come back stale (on_fetch drops it); a
  // ListOffsets reset in flight is dropped too and sent again (reset_pending stays set).
  st.epoch++;
  for (auto it = queue.begin(); it != queue.end();) {
    if (it->tp == tp) {
      queued_bytes -= it->bytes;
      it = queue.erase(it);
    } else {
      ++it;
    }
  }
  if (!st.reset_pending && st.position >= 0) st.fetch_offset = st.position;
  st.max_bytes_override = 0;
}

Result<void> Consumer::Impl::set_paused(const std::vector<TopicPartition>& partitions, bool pause,
                                        std::string_view what) {
  {
    std::lock_guard lock(mu);
    if (closed) return fail(ErrorCode::local_state, "consumer is closed");
    for (const auto& tp : partitions)
      if (!assignment.count(tp))
        return fail(ErrorCode::local_state,
                    fmt::format("{}: no current assignment for partition {}-{}", what, tp.topic, tp.partition));
    for (const auto& tp : partitions) {
      PartitionFetchState& st = assignment.find(tp)->second;
      if (st.paused == pause) continue;
      st.paused = pause;
      if (pause) drop_prefetched(tp, st);
    }
  }
  // Queue space freed by a pause may let other partitions fetch; a resume fetches now.
  wake_fetcher();
  return {};
}

std::optional<Error> Consumer::Impl::take_error() {
  for (auto& [tp, st] : assignment) {
    if (st.error) {
      Error e = *st.error;
      if (e.code != ErrorCode::offset_out_of_range) st.error.reset();  // that one stays until seek()
      return e;
    }
  }
  return std::nullopt;
}

Result<std::optional<ConsumerRecord>> Consumer::Impl::take_one(std::unique_lock<std::mutex>&) {
  if (auto rec = take_record()) return rec;
  if (auto e = take_error()) return fail(*e);
  return std::optional<ConsumerRecord>{};
}

// ---------------------------------------------------------------------------------------

const ConfigSchema& Consumer::config_schema() {
  static const ConfigSchema schema = [] {
    ConfigSchema s;
    add_common_keys(s);
    s.add({.name = "group.id", .default_value = "", .doc = "consumer group (subscribe, commits)"});
    s.add({.name = "group.instance.id", .has_default = false, .doc = "static membership (KIP-345)"});
    s.add({.name = "group.protocol", .default_value = "classic", .doc = "group protocol: classic only",
           .choices = {"classic"}});
    s.add({.name = "session.timeout.ms", .type = ConfigType::integer, .default_value = "45000",
           .doc = "the group drops a member silent for this long", .min = 1, .max = INT32_MAX});
    s.add({.name = "heartbeat.interval.ms", .type = ConfigType::integer, .default_value = "3000",
           .doc = "heartbeat period (< session.timeout.ms)", .min = 1, .max = INT32_MAX});
    s.add({.name = "max.poll.interval.ms", .type = ConfigType::integer, .default_value = "300000",
           .doc = "longest time between polls before leaving the group; rebalance timeout", .min = 1,
           .max = INT32_MAX});
    s.add({.name = "partition.assignment.strategy", .default_value = "range,cooperative-sticky",
           .doc = "assignors in preference order: range, roundrobin, cooperative-sticky"});
    s.add({.name = "enable.auto.commit", .type = ConfigType::boolean, .default_value = "true",
           .doc = "commit positions inside poll every auto.commit.interval.ms"});
    s.add({.name = "auto.commit.interval.ms", .type = ConfigType::integer, .default_value = "5000",
           .doc = "auto-commit period", .min = 0, .max = INT32_MAX});
    s.add({.name = "exclude.internal.topics", .type = ConfigType::boolean, .default_value = "true",
           .doc = "patterns never match internal topics"});
    s.add({.name = "auto.offset.reset", .default_value = "latest", .doc = "earliest, latest or none",
           .choices = {"earliest", "latest", "none", "smallest", "largest", "beginning", "end", "error"}});
    s.add({.name = "fetch.min.bytes", .type = ConfigType::integer, .default_value = "1",
           .doc = "bytes the broker waits for before answering a fetch", .min = 0, .max = INT32_MAX});
    s.add({.name = "fetch.max.wait.ms", .type = ConfigType::integer, .default_value = "500",
           .doc = "longest time the broker holds a fetch", .min = 0, .max = INT32_MAX});
    s.add({.name = "fetch.max.bytes", .type = ConfigType::integer, .default_value = "52428800",
           .doc = "bytes per fetch response", .min = 1, .max = INT32_MAX});
    s.add({.name = "max.partition.fetch.bytes", .type = ConfigType::integer, .default_value = "1048576",
           .doc = "bytes per partition per fetch", .min = 1, .max = INT32_MAX});
    s.add({.name = "max.poll.records", .type = ConfigType::integer, .default_value = "500",
           .doc = "most records consume() returns", .min = 1, .max = INT32_MAX});
    s.add({.name = "isolation.level", .default_value = "read_uncommitted", .doc = "read_uncommitted or read_committed",
           .choices = {"read_uncommitted", "read_committed"}});
    s.add({.name = "check.crcs", .type = ConfigType::boolean, .default_value = "true",
           .doc = "verify each batch's CRC-32C"});
    s.add({.name = "queued.max.messages.kbytes", .type = ConfigType::integer, .default_value = "65536",
           .doc = "prefetch queue limit in KiB", .min = 1, .max = 2097151});
    s.add({.name = "allow.auto.create.topics", .type = ConfigType::boolean, .default_value = "true",
           .doc = "let metadata requests create topics"});
    for (const char* k : {"enable.partition.eof", "fetch.wait.max.ms", "queued.min.messages",
                          "fetch.error.backoff.ms", "interceptor.classes", "enable.auto.offset.store",
                          "offset.store.method"})
      s.ignore(k);
    return s;
  }();
  return schema;
}

namespace {
GroupHooks make_group_hooks(Consumer::Impl* im);
}  // namespace

Result<std::unique_ptr<Consumer>> Consumer::create(const Properties& config) {
  const ConfigSchema& s = config_schema();
  auto net = read_network_config(config, s);
  if (!net) return fail(net.error());
  auto impl = std::make_unique<Impl>();
  impl->net_config = std::move(*net);
  impl->net_config.allow_auto_topic_creation = get_bool(config, s, "allow.auto.create.topics");
  std::string reset = get_string(config, s, "auto.offset.reset");
  impl->auto_reset = (reset == "earliest" || reset == "smallest" || reset == "beginning") ? kOffsetBeginning
                     : (reset == "latest" || reset == "largest" || reset == "end")      ? kOffsetEnd
                                                                                         : kOffsetInvalid;
  impl->fetch_min_bytes = static_cast<int32_t>(get_int(config, s, "fetch.min.bytes"));
  impl->fetch_max_wait_ms = static_cast<int32_t>(get_int(config, s, "fetch.max.wait.ms"));
  impl->fetch_max_bytes = static_cast<int32_t>(get_int(config, s, "fetch.max.bytes"));
  impl->partition_max_bytes = static_cast<int32_t>(get_int(config, s, "max.partition.fetch.bytes"));
  impl->max_poll_records = static_cast<size_t>(get_int(config, s, "max.poll.records"));
  impl->isolation_level = get_string(config, s, "isolation.level") == "read_committed" ? 1 : 0;
  impl->check_crcs = get_bool(config, s, "check.crcs");
  impl->queue_limit_bytes = static_cast<size_t>(get_int(config, s, "queued.max.messages.kbytes")) * 1024;
  impl->retry_backoff_ms = impl->net_config.retry_backoff_ms;
  if (auto g = config.get_raw("group.id"); g && !g->empty()) impl->group_id = *g;
  std::optional<GroupClientConfig> group_config;
  if (impl->group_id) {
    GroupClientConfig gc;
    gc.membership.group_id = *impl->group_id;
    if (auto i = config.get_raw("group.instance.id"); i && !i->empty()) gc.membership.group_instance_id = *i;
    gc.membership.session_timeout_ms = static_cast<int32_t>(get_int(config, s, "session.timeout.ms"));
    gc.membership.heartbeat_interval_ms = static_cast<int32_t>(get_int(config, s, "heartbeat.interval.ms"));
    gc.membership.rebalance_timeout_ms = static_cast<int32_t>(get_int(config, s, "max.poll.interval.ms"));
    gc.membership.retry_backoff_ms = impl->net_config.retry_backoff_ms;
    if (gc.membership.heartbeat_interval_ms >= gc.membership.session_timeout_ms)
      return fail(ErrorCode::invalid_config,
                  fmt::format("heartbeat.interval.ms: {} must be lower than session.timeout.ms ({})",
                              gc.membership.heartbeat_interval_ms, gc.membership.session_timeout_ms));
    auto assignors = parse_assignment_strategy(get_string(config, s, "partition.assignment.strategy"));
    if (!assignors) return fail(assignors.error());
    gc.membership.assignors = std::move(*assignors);
    gc.enable_auto_commit = get_bool(config, s, "enable.auto.commit");
    gc.auto_commit_interval_ms = get_int(config, s, "auto.commit.interval.ms");
    gc.exclude_internal_topics = get_bool(config, s, "exclude.internal.topics");
    gc.request_timeout_ms = impl->net_config.request_timeout_ms;
    gc.metadata_max_age_ms = impl->net_config.metadata_max_age_ms;
    gc.retry_backoff_ms = impl->net_config.retry_backoff_ms;
    group_config = std::move(gc);
  } else if (auto a = parse_assignment_strategy(get_string(config, s, "partition.assignment.strategy")); !a) {
    return fail(a.error());  // a bad value is refused even without group.id
  }
  // A Fetch may wait fetch.max.wait.ms on the broker: the request timeout must cover it.
  impl->net_config.request_timeout_ms = std::max<int64_t>(impl->net_config.request_timeout_ms,
                                                          impl->fetch_max_wait_ms + 5000);
  impl->loop = std::make_unique<io::ClientLoop>("cv-consumer");
  impl->net = std::make_unique<NetworkClient>(*impl->loop, impl->net_config);
  Impl* raw = impl.get();
  if (group_config) impl->group = std::make_unique<GroupClient>(std::move(*group_config), *impl->loop, *impl->net,
                                                                make_group_hooks(raw));
  impl->loop->post([raw] {
    raw->net->on_metadata_update([raw] { raw->maybe_fetch(); });
    raw->net->on_node_ready([raw](int32_t) { raw->maybe_fetch(); });
    raw->tick();
    if (raw->group) raw->group->start();
  });
  return std::unique_ptr<Consumer>(new Consumer(std::move(impl)));
}

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Consumer::~Consumer() { close(); }

namespace {
Result<void> check_offset(int64_t offset) {
  if (offset >= 0 || offset == kOffsetBeginning || offset == kOffsetEnd || offset == kOffsetInvalid) return {};
  return fail(ErrorCode::local_invalid_arg, fmt::format("offset {} is not >= 0, -2, -1 or -1001", offset));
}
void set_start(PartitionFetchState& st, int64_t offset, int64_t auto_reset) {
  st.epoch++;
  st.error.reset();
  st.backoff_until_ms = 0;
  st.max_bytes_override = 0;
  if (offset >= 0) {
    st.reset_pending = false;
    st.fetch_offset = offset;
    st.position = offset;
  } else {
    int64_t target = offset == kOffsetInvalid ? auto_reset : offset;
    if (target == kOffsetInvalid) {
      st.reset_pending = false;
      st.error = Error{ErrorCode::offset_out_of_range, "no offset given and auto.offset.reset=none"};
    } else {
      st.reset_pending = true;
      st.reset_to = target;
    }
    st.position = -1;
  }
}

GroupHooks make_group_hooks(Consumer::Impl* im) {
  GroupHooks h;
  h.positions = [im](const std::vector<TopicPartition>& tps) {
    std::vector<TopicPartitionOffset> out;
    std::lock_guard lock(im->mu);
    auto add = [&](const TopicPartition& tp, const PartitionFetchState& st) {
      if (st.reset_pending || st.position < 0) return;
      TopicPartitionOffset o;
      o.topic = tp.topic;
      o.partition = tp.partition;
      o.offset = st.position;
      out.push_back(std::move(o));
    };
    if (tps.empty()) {
      for (const auto& [tp, st] : im->assignment) add(tp, st);
    } else {
      for (const auto& tp : tps)
        if (auto it = im->assignment.find(tp); it != im->assignment.end()) add(tp, it->second);
    }
    return out;
  };
  h.unassign = [im](const std::vector<TopicPartition>& tps) {
    std::lock_guard lock(im->mu);
    for (const auto& tp : tps) {
      auto it = im->assignment.find(tp);
      if (it == im->assignment.end()) continue;
      im->retired_epochs[tp] = it->second.epoch;
      im->assignment.erase(it);  // queued chunks become stale
    }
  };
  h.assign_more = [im](const std::vector<TopicPartitionOffset>& parts) {
    std::vector<std::string> topics;
    {
      std::lock_guard lock(im->mu);
      for (const auto& p : parts) {
        TopicPartition tp{p.topic, p.partition};
        PartitionFetchState st;
        if (auto old = im->assignment.find(tp); old != im->assignment.end()) {
          st.epoch = old->second.epoch;
          st.paused = old->second.paused;
        } else if (auto r = im->retired_epochs.find(tp); r != im->retired_epochs.end())
          st.epoch = r->second;
        set_start(st, p.offset, im->auto_reset);
        im->assignment[tp] = std::move(st);
        topics.push_back(p.topic);
      }
    }
    im->loop->post([im, topics] {
      if (im->stopping) return;
      im->net->add_topics(topics);
      im->maybe_fetch();
    });
  };
  h.clear_assignment = [im] {
    std::lock_guard lock(im->mu);
    for (const auto& [tp, st] : im->assignment) im->retired_epochs[tp] = st.epoch;
    im->assignment.clear();
  };
  h.has_manual_assignment = [im] {
    std::lock_guard lock(im->mu);
    return !im->assignment.empty();
  };
  h.notify = [im] {
    { std::lock_guard lock(im->mu); }
    im->cv.notify_all();
  };
  return h;
}
}  // namespace

Result<void> Consumer::assign(const std::vector<TopicPartitionOffset>& partitions) {
  Impl& im = *impl_;
  for (const auto& p : partitions) {
    if (p.topic.empty()) return fail(ErrorCode::local_invalid_arg, "assign: empty topic name");
    if (p.partition < 0) return fail(ErrorCode::local_invalid_arg, "assign: negative partition");
    if (auto r = check_offset(p.offset); !r) return r;
  }
  if (im.group && im.group->subscribed())
    return fail(ErrorCode::local_state, "assign: the consumer is subscribed to a group; unsubscribe() first");
  std::vector<std::string> topics;
  {
    std::lock_guard lock(im.mu);
    if (im.closed) return fail(ErrorCode::local_state, "consumer is closed");
    std::map<TopicPartition, PartitionFetchState> next;
    for (const auto& p : partitions) {
      TopicPartition tp{p.topic, p.partition};
      PartitionFetchState st;
      if (auto old = im.assignment.find(tp); old != im.assignment.end()) {
        st.epoch = old->second.epoch;
        st.paused = old->second.paused;  // Java keeps the pause of a partition assign() keeps
      }
      set_start(st, p.offset, im.auto_reset);
      next[tp] = std::move(st);
      topics.push_back(p.topic);
    }
    im.assignment = std::move(next);
  }
  im.loop->post([&im, topics] {
    im.net->add_topics(topics);
    im.maybe_fetch();
  });
  return {};
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::lock_guard lock(impl_->mu);
  std::vector<TopicPartition> out;
  for (const auto& [tp, st] : impl_->assignment) out.push_back(tp);
  return out;
}

Result<void> Consumer::seek(const TopicPartition& tp, int64_t offset) {
  if (auto r = check_offset(offset); !r) return r;
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mu);
    auto it = im.assignment.find(tp);
    if (it == im.assignment.end())
      return fail(ErrorCode::local_unknown_partition, fmt::format("seek: {}-{} is not assigned", tp.topic, tp.partition));
    set_start(it->second, offset, im.auto_reset);
  }
  im.wake_fetcher();
  return {};
}

Result<void> Consumer::pause(const std::vector<TopicPartition>& partitions) {
  return impl_->set_paused(partitions, true, "pause");
}

Result<void> Consumer::resume(const std::vector<TopicPartition>& partitions) {
  return impl_->set_paused(partitions, false, "resume");
}

std::vector<TopicPartition> Consumer::paused() const {
  std::lock_guard lock(impl_->mu);
  std::vector<TopicPartition> out;
  for (const auto& [tp, st] : impl_->assignment)
    if (st.paused) out.push_back(tp);
  return out;
}

Result<std::optional<ConsumerRecord>> Consumer::poll(int timeout_ms) {
  Impl& im = *impl_;
  bool closed_now;
  {
    std::lock_guard lock(im.mu);
    closed_now = im.closed;
  }
  if (im.group && !closed_now) {
    // Group work on the caller's thread: rebalance callbacks, commit callbacks, auto-commit.
    if (auto g = im.group->before_poll(); !g) return fail(g.error());
  }
  std::unique_lock lock(im.mu);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  for (;;) {
    if (im.closed) return fail(ErrorCode::local_state, "consumer is closed");
    if (im.group && im.group->has_pending()) {
      lock.unlock();
      auto g = im.group->before_poll();
      lock.lock();
      if (!g) return fail(g.error());
      continue;
    }
    auto r = im.take_one(lock);
    if (!r || r->has_value()) return r;
    if (im.woken) {
      im.woken = false;
      return std::optional<ConsumerRecord>{};
    }
    if (timeout_ms < 0) {
      im.cv.wait(lock);
    } else if (im.cv.wait_until(lock, deadline) == std::cv_status::timeout) {
      auto last = im.take_one(lock);
      return last;
    }
  }
}

Result<std::vector<ConsumerRecord>> Consumer::consume(size_t max_records, int timeout_ms) {
  Impl& im = *impl_;
  std::vector<ConsumerRecord> out;
  size_t limit = std::min(max_records, im.max_poll_records);
  if (limit == 0) return out;
  auto first = poll(timeout_ms);
  if (!first) return fail(first.error());
  if (!*first) return out;
  out.push_back(std::move(**first));
  std::unique_lock lock(im.mu);
  im.take_records(out, limit);
  return out;
}

Result<int64_t> Consumer::position(const TopicPartition& tp, int timeout_ms) {
  Impl& im = *impl_;
  std::unique_lock lock(im.mu);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, timeout_ms));
  for (;;) {
    auto it = im.assignment.find(tp);
    if (it == im.assignment.end())
      return fail(ErrorCode::local_unknown_partition, fmt::format("{}-{} is not assigned", tp.topic, tp.partition));
    if (!it->second.reset_pending && it->second.position >= 0) return it->second.position;
    if (it->second.error) return fail(*it->second.error);
    if (im.cv.wait_until(lock, deadline) == std::cv_status::timeout) {
      it = im.assignment.find(tp);
      if (it != im.assignment.end() && !it->second.reset_pending && it->second.position >= 0)
        return it->second.position;
      return fail(ErrorCode::local_state, fmt::format("{}-{}: position not known yet", tp.topic, tp.partition));
    }
  }
}

Result<std::pair<int64_t, int64_t>> Consumer::watermark_offsets(const TopicPartition& tp, int timeout_ms) {
  int64_t start = io::steady_now_ms();
  auto low = impl_->list_offset(tp, -2, timeout_ms);
  if (!low) return fail(low.error());
  int remaining = timeout_ms < 0 ? -1 : std::max<int>(1, timeout_ms - static_cast<int>(io::steady_now_ms() - start));
  auto high = impl_->list_offset(tp, -1, remaining);
  if (!high) return fail(high.error());
  return std::pair{low->first, high->first};
}

Result<int64_t> Consumer::offset_for_time(const TopicPartition& tp, int64_t timestamp_ms, int timeout_ms) {
  if (timestamp_ms < 0) return fail(ErrorCode::local_invalid_arg, "offset_for_time: timestamp must be >= 0");
  auto r = impl_->list_offset(tp, timestamp_ms, timeout_ms);
  if (!r) return fail(r.error());
  return r->first;
}

void Consumer::wakeup() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->woken = true;
  }
  impl_->cv.notify_all();
}

void Consumer::close() {
  Impl& im = *impl_;
  if (!im.loop) return;
  bool was_closed;
  {
    std::lock_guard lock(im.mu);
    was_closed = im.closed;
  }
  if (im.group && !was_closed) im.group->close(static_cast<int>(im.net_config.request_timeout_ms));
  {
    std::lock_guard lock(im.mu);
    im.closed = true;
    im.queue.clear();
    im.queued_bytes = 0;
  }
  im.cv.notify_all();
  std::promise<void> done;
  auto fut = done.get_future();
  im.loop->post([&im, &done] {
    im.stopping = true;
    if (im.group) im.group->stop();
    im.net->close();
    done.set_value();
  });
  fut.wait_for(std::chrono::seconds(10));
  im.loop->stop();
  im.group.reset();
  im.net.reset();
  im.loop.reset();
}

// ---- consumer groups (group_client.cc does the work) ----

namespace {
Error no_group() { return Error{ErrorCode::invalid_group_id, "group.id is not set: groups and commits need one"}; }
bool is_closed(Consumer::Impl& im) {
  std::lock_guard lock(im.mu);
  return im.closed;
}
}  // namespace

Result<void> Consumer::subscribe(const std::vector<std::string>& topics, RebalanceCallbacks callbacks) {
  if (is_closed(*impl_)) return fail(ErrorCode::local_state, "consumer is closed");
  if (!impl_->group) return fail(no_group());
  return impl_->group->subscribe(topics, std::nullopt, std::move(callbacks));
}

Result<void> Consumer::subscribe_pattern(const std::string& regex, RebalanceCallbacks callbacks) {
  if (is_closed(*impl_)) return fail(ErrorCode::local_state, "consumer is closed");
  if (!impl_->group) return fail(no_group());
  return impl_->group->subscribe({}, regex, std::move(callbacks));
}

Result<void> Consumer::unsubscribe() {
  if (!impl_->group) return {};
  return impl_->group->unsubscribe(static_cast<int>(impl_->net_config.request_timeout_ms));
}

std::vector<std::string> Consumer::subscription() const {
  return impl_->group ? impl_->group->subscription() : std::vector<std::string>{};
}

std::string Consumer::member_id() const { return impl_->group ? impl_->group->member_id() : std::string{}; }
int32_t Consumer::generation() const { return impl_->group ? impl_->group->generation() : -1; }

void Consumer::set_commit_callback(CommitCallback callback) {
  if (impl_->group) impl_->group->set_commit_callback(std::move(callback));
}

Result<void> Consumer::commit(const std::vector<TopicPartitionOffset>& offsets, CommitMode mode, int timeout_ms) {
  if (is_closed(*impl_)) return fail(ErrorCode::local_state, "consumer is closed");
  if (!impl_->group) return fail(no_group());
  return impl_->group->commit(offsets, mode, timeout_ms);
}

Result<std::vector<TopicPartitionOffset>> Consumer::committed(const std::vector<TopicPartition>& partitions,
                                                             int timeout_ms) {
  if (is_closed(*impl_)) return fail(ErrorCode::local_state, "consumer is closed");
  if (!impl_->group) return fail(no_group());
  return impl_->group->committed(partitions, timeout_ms);
}

Result<int64_t> Consumer::lag(const TopicPartition& tp, int timeout_ms) {
  int64_t start = io::steady_now_ms();
  auto pos = position(tp, timeout_ms);
  if (!pos) return fail(pos.error());
  int remaining = timeout_ms < 0 ? -1 : std::max<int>(1, timeout_ms - static_cast<int>(io::steady_now_ms() - start));
  auto high = impl_->list_offset(tp, -1, remaining);
  if (!high) return fail(high.error());
  return std::max<int64_t>(0, high->first - *pos);
}

}  // namespace conveyor::client
