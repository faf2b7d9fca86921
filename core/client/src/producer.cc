#include "conveyor/client/producer.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "client_config.h"
#include "conveyor/base/assert.h"
#include "conveyor/base/log.h"
#include "conveyor/io/client_loop.h"
#include "network_client.h"
#include "record_writer.h"

namespace conveyor::client {

// ---- partitioner (PROTOCOL.md "Partitioning") ----

int32_t murmur2(ByteView key) {
  const uint32_t seed = 0x9747b28c;
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const size_t length = key.size();
  uint32_t h = seed ^ static_cast<uint32_t>(length);
  size_t blocks = length / 4;
  for (size_t i = 0; i < blocks; ++i) {
    const uint8_t* b = key.data() + 4 * i;
    uint32_t k = uint32_t(b[0]) | (uint32_t(b[1]) << 8) | (uint32_t(b[2]) << 16) | (uint32_t(b[3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint8_t* tail = key.data() + 4 * blocks;
  switch (length % 4) {
    case 3:
      h ^= uint32_t(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= uint32_t(tail[0]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(ByteView key, int32_t num_partitions) {
  CONVEYOR_ASSERT(num_partitions > 0);
  return static_cast<int32_t>((static_cast<uint32_t>(murmur2(key)) & 0x7fffffffu) %
                              static_cast<uint32_t>(num_partitions));
}

namespace {

constexpr std::string_view kLog = "producer";
constexpr int kMaxIdempotentInFlight = 5;  // per partition (KIP-98)

struct PendingCallback {
  int32_t index;
  DeliveryCallback callback;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  int64_t timestamp_ms;
};

struct TopicState;

struct Batch {
  TopicState* topic = nullptr;
  int32_t partition = 0;
  Bytes buf;  // header space + records; after seal(): the whole wire batch
  int32_t count = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t created_ms = 0;
  size_t memory = 0;  // bytes charged against buffer.memory
  bool closed = false;
  bool sealed = false;
  int32_t base_sequence = -1;
  int32_t attempts = 0;
  int64_t retry_at_ms = 0;
  std::vector<PendingCallback> callbacks;
};

struct PartitionState {
  std::deque<std::unique_ptr<Batch>> queue;  // oldest first; the back one may be open
  int32_t next_sequence = 0;
  int in_flight = 0;
  std::set<int32_t> in_flight_sequences;
};

struct TopicState {
  std::string name;
  int32_t num_partitions = -1;  // unknown until metadata arrives
  ErrorCode error = ErrorCode::none;
  std::vector<std::unique_ptr<PartitionState>> partitions;
  std::vector<int32_t> available;  // partitions with a leader (sticky choice)
  int32_t sticky = -1;
};

struct ProduceCall {
  int32_t node = -1;
  std::vector<std::unique_ptr<Batch>> batches;
  size_t bytes = 0;
};


}  // namespace

struct Producer::Impl {
  // ---- configuration ----
  NetworkConfig net_config;
  int16_t acks = -1;
  int64_t linger_ms = 5;
  size_t batch_size = 16384;
  size_t buffer_memory = 32u << 20;
  protocol::Compression compression = protocol::Compression::none;
  int compression_level = -1;
  int64_t retries = INT32_MAX;
  int64_t retry_backoff_ms = 100;
  int64_t delivery_timeout_ms = 120000;
  int64_t request_timeout_ms = 30000;
  int64_t max_block_ms = 60000;
  bool idempotent = true;
  int max_in_flight = 5;
  size_t max_request_size = 1048576;
  bool ignore_keys = false;

  // ---- shared state (mu) ----
  std::mutex mu;
  std::condition_variable metadata_cv;
  std::map<std::string, std::unique_ptr<TopicState>, std::less<>> topics;
  size_t buffered = 0;
  bool closed = false;
  std::atomic<int> flushing{0};
  std::atomic<bool> wakeup_posted{false};

  // ---- delivery reports (report_mu) ----
  std::mutex report_mu;
  std::condition_variable report_cv;
  std::deque<std::pair<DeliveryCallback, DeliveryReport>> reports;
  std::atomic<int64_t> outstanding{0};

  // ---- loop thread only ----
  std::unique_ptr<io::ClientLoop> loop;
  std::unique_ptr<NetworkClient> net;
  std::map<int32_t, int> node_requests;  // produce requests in flight per node
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  enum class PidState { none, requesting, ready, failed } pid_state = PidState::none;
  bool pid_reset_needed = false;
  uint64_t linger_timer = 0;
  int64_t linger_timer_at = INT64_MAX;
  bool stopping = false;

  void wakeup() {
    if (!wakeup_posted.exchange(true, std::memory_order_acq_rel)) loop->post([this] { drain(); });
  }

  // ---- user threads ----
  Result<void> produce(ProducerRecord& record, DeliveryCallback& cb);
  int poll(int timeout_ms);

  // ---- loop thread ----
  void on_metadata();
  void drain();
  void ensure_producer_id();
  void send_call(ProduceCall call);
  void on_response(ProduceCall& call, const Result<protocol::ProduceResponse>& r);
  void retry_or_fail(std::unique_ptr<Batch> b, const Error& error);
  void complete(std::unique_ptr<Batch> b, const Error& error, int64_t base_offset, int64_t log_append_time);
  void seal(Batch& b);
  void fail_everything(const Error& error);
};

// ---------------------------------------------------------------------------------------
// user side

Result<void> Producer::Impl::produce(ProducerRecord& record, DeliveryCallback& cb) {
  if (record.topic.empty()) return fail(ErrorCode::local_invalid_arg, "produce: empty topic name");
  if (record.partition < -1) return fail(ErrorCode::local_invalid_arg, "produce: partition must be >= -1");
  int64_t timestamp = record.timestamp_ms > 0 ? record.timestamp_ms : io::wall_clock_ms();
  bool wake = false;
  {
    std::unique_lock lock(mu);
    if (closed) return fail(ErrorCode::local_state, "produce: producer is closed");
    auto it = topics.find(std::string_view(record.topic));
    if (it == topics.end()) {
      auto ts = std::make_unique<TopicState>();
      ts->name = record.topic;
      it = topics.emplace(record.topic, std::move(ts)).first;
      std::string name = record.topic;
      loop->post([this, name] { net->add_topics({name}); });
    }
    TopicState& ts = *it->second;
    if (ts.num_partitions < 0) {
      // Wait for the topic's metadata like Java's send() (max.block.ms).
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_block_ms);
      while (ts.num_partitions < 0 && !closed) {
        if (ts.error != ErrorCode::none && ts.error != ErrorCode::unknown_topic_or_partition &&
            ts.error != ErrorCode::leader_not_available && !error_retriable(ts.error))
          return fail(ts.error, fmt::format("produce: topic {}: {}", record.topic, error_name(ts.error)));
        if (metadata_cv.wait_until(lock, deadline) == std::cv_status::timeout) break;
      }
      if (closed) return fail(ErrorCode::local_state, "produce: producer is closed");
      if (ts.num_partitions < 0) {
        ErrorCode code = ts.error != ErrorCode::none ? ts.error : ErrorCode::local_timed_out;
        return fail(code, fmt::format("produce: topic {} not present in metadata after {} ms", record.topic,
                                      max_block_ms));
      }
    }
    int32_t partition = record.partition;
    if (partition >= ts.num_partitions)
      return fail(ErrorCode::local_unknown_partition,
                  fmt::format("produce: {} has {} partitions, not {}", record.topic, ts.num_partitions, partition));
    if (partition < 0 && record.key && !ignore_keys) {
      partition = partition_for_key(*record.key, ts.num_partitions);
    }
    // Body size depends on the deltas, which depend on the batch: compute with the batch chosen.
    auto pick_sticky = [&](int32_t avoid) {
      const auto& avail = ts.available;
      int32_t n = avail.empty() ? ts.num_partitions : static_cast<int32_t>(avail.size());
      int32_t choice = static_cast<int32_t>(io::random_u64() % static_cast<uint64_t>(n));
      int32_t p = avail.empty() ? choice : avail[static_cast<size_t>(choice)];
      if (p == avoid && n > 1) {
        choice = (choice + 1) % n;
        p = avail.empty() ? choice : avail[static_cast<size_t>(choice)];
      }
      ts.sticky = p;
    };
    bool sticky = partition < 0;
    if (sticky) {
      if (ts.sticky < 0 || ts.sticky >= ts.num_partitions) pick_sticky(-1);
      partition = ts.sticky;
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      PartitionState& ps = *ts.partitions[static_cast<size_t>(partition)];
      Batch* open = (!ps.queue.empty() && !ps.queue.back()->closed) ? ps.queue.back().get() : nullptr;
      int64_t base_ts = open ? open->base_timestamp : timestamp;
      int32_t offset_delta = open ? open->count : 0;
      size_t body = record_body_size(timestamp - base_ts, offset_delta, record.key, record.value, record.headers);
      size_t total = record_total_size(body);
      if (total + protocol::kBatchHeaderSize > max_request_size)
        return fail(ErrorCode::message_too_large,
                    fmt::format("produce: record of {} bytes exceeds max.request.size {}", total, max_request_size));
      if (open && open->buf.size() + total > batch_size) {
        open->closed = true;
        wake = true;
        open = nullptr;
        if (sticky && attempt == 0 && ts.num_partitions > 1) {
          // KIP-480: a full batch moves null-key records to another partition.
          pick_sticky(partition);
          partition = ts.sticky;
          continue;
        }
        base_ts = timestamp;
        offset_delta = 0;
        body = record_body_size(0, 0, record.key, record.value, record.headers);
        total = record_total_size(body);
      }
      if (buffered + total > buffer_memory)
        return fail(ErrorCode::local_queue_full,
                    fmt::format("produce: buffer.memory ({} bytes) is full", buffer_memory));
      if (!open) {
        auto b = std::make_unique<Batch>();
        b->topic = &ts;
        b->partition = partition;
        b->buf.reserve(std::max(batch_size, protocol::kBatchHeaderSize + total));
        b->buf.resize(protocol::kBatchHeaderSize);
        b->base_timestamp = timestamp;
        b->max_timestamp = timestamp;
        b->created_ms = io::steady_now_ms();
        open = b.get();
        ps.queue.push_back(std::move(b));
        wake = true;  // the sender arms the linger timer for it
      }
      append_record(open->buf, body, timestamp - open->base_timestamp, open->count, record.key, record.value,
                     record.headers);
      if (cb)
        open->callbacks.push_back(
            PendingCallback{open->count, std::move(cb), std::move(record.key), std::move(record.value), timestamp});
      open->count++;
      open->max_timestamp = std::max(open->max_timestamp, timestamp);
      open->memory += total;
      buffered += total;
      if (open->buf.size() >= batch_size) {
        open->closed = true;
        wake = true;
      }
      break;
    }
  }
  outstanding.fetch_add(1, std::memory_order_relaxed);
  if (wake) wakeup();
  return {};
}

int Producer::Impl::poll(int timeout_ms) {
  std::deque<std::pair<DeliveryCallback, DeliveryReport>> ready;
  {
    std::unique_lock lock(report_mu);
    auto have = [this] { return !reports.empty(); };
    if (timeout_ms < 0) {
      report_cv.wait(lock, have);
    } else if (timeout_ms > 0) {
      report_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), have);
    }
    ready.swap(reports);
  }
  for (auto& [cb, report] : ready) {
    cb(report);
    outstanding.fetch_sub(1, std::memory_order_acq_rel);
  }
  if (!ready.empty()) {
    std::lock_guard lock(report_mu);
    report_cv.notify_all();
  }
  return static_cast<int>(ready.size());
}

// ---------------------------------------------------------------------------------------
// sender (loop thread)

void Producer::Impl::on_metadata() {
  const auto& md = net->metadata();
  {
    std::lock_guard lock(mu);
    for (auto& [name, ts] : topics) {
      auto it = md.topics.find(name);
      if (it == md.topics.end()) continue;
      const TopicMetadata& tm = it->second;
      ts->error = tm.error;
      if (tm.error == ErrorCode::none && !tm.partitions.empty()) {
        int32_t n = static_cast<int32_t>(tm.partitions.size());
        while (static_cast<int32_t>(ts->partitions.size()) < n)
          ts->partitions.push_back(std::make_unique<PartitionState>());
        ts->num_partitions = std::max(ts->num_partitions, n);
        ts->available.clear();
        for (const auto& p : tm.partitions)
          if (p.leader >= 0) ts->available.push_back(p.partition);
      }
    }
  }
  metadata_cv.notify_all();
  drain();
}

void Producer::Impl::ensure_producer_id() {
  if (pid_state == PidState::requesting) return;
  pid_state = PidState::requesting;
  protocol::InitProducerIdRequest req;
  req.transactional_id = std::nullopt;
  req.transaction_timeout_ms = static_cast<int32_t>(std::min<int64_t>(delivery_timeout_ms, INT32_MAX));
  net->send<protocol::InitProducerIdRequest, protocol::InitProducerIdResponse>(
      NetworkClient::kAnyNode, req, [this](Result<protocol::InitProducerIdResponse> r, int16_t) {
        if (stopping) return;
        if (!r || r->error_code != 0) {
          ErrorCode code = r ? static_cast<ErrorCode>(r->error_code) : r.error().code;
          if (code == ErrorCode::unsupported_version) {
            log::warn(kLog, "broker does not support InitProducerId; idempotence disabled");
            idempotent = false;
            pid_state = PidState::ready;
            return drain();
          }
          log::debug(kLog, "InitProducerId failed: {}", error_name(code));
          pid_state = PidState::none;
          loop->schedule(retry_backoff_ms, [this] { drain(); });
          return;
        }
        producer_id = r->producer_id;
        producer_epoch = r->producer_epoch;
        pid_state = PidState::ready;
        log::debug(kLog, "producer id {} epoch {}", producer_id, producer_epoch);
        drain();
      });
}

void Producer::Impl::seal(Batch& b) {
  if (b.sealed) return;
  if (compression != protocol::Compression::none) {
    ByteView raw(b.buf.data() + protocol::kBatchHeaderSize, b.buf.size() - protocol::kBatchHeaderSize);
    auto compressed = protocol::compress(compression, raw, compression_level);
    if (compressed) {
      Bytes out;
      out.reserve(protocol::kBatchHeaderSize + compressed->size());
      out.resize(protocol::kBatchHeaderSize);
      out.insert(out.end(), compressed->begin(), compressed->end());
      b.buf = std::move(out);
      write_batch_header(b.buf, compression, b.count, b.base_timestamp, b.max_timestamp);
      b.sealed = true;
      return;
    }
    log::warn(kLog, "compression failed ({}); sending uncompressed", compressed.error().to_string());
  }
  write_batch_header(b.buf, protocol::Compression::none, b.count, b.base_timestamp, b.max_timestamp);
  b.sealed = true;
}

void Producer::Impl::drain() {
  wakeup_posted.store(false, std::memory_order_release);
  if (stopping) return;
  if (idempotent && pid_state != PidState::ready) {
    ensure_producer_id();
    return;
  }
  int64_t now = io::steady_now_ms();
  const ClusterMetadata& md = net->metadata();
  std::vector<std::unique_ptr<Batch>> expired;
  std::map<int32_t, std::vector<ProduceCall>> calls;  // per node
  int64_t next_wakeup = INT64_MAX;
  bool want_metadata = false;
  bool all_idle = true;
  {
    std::lock_guard lock(mu);
    bool flush_now = flushing.load(std::memory_order_acquire) > 0 || closed;
    for (auto& [name, tsp] : topics) {
      TopicState& ts = *tsp;
      auto mit = md.topics.find(name);
      const TopicMetadata* tm = mit == md.topics.end() ? nullptr : &mit->second;
      for (size_t pi = 0; pi < ts.partitions.size(); ++pi) {
        PartitionState& ps = *ts.partitions[pi];
        if (ps.in_flight > 0) all_idle = false;
        // Expire what waited too long (KIP-91 delivery.timeout.ms).
        while (!ps.queue.empty() && ps.queue.front()->created_ms + delivery_timeout_ms <= now) {
          expired.push_back(std::move(ps.queue.front()));
          ps.queue.pop_front();
        }
        size_t taken = 0;
        while (!ps.queue.empty()) {
          all_idle = false;
          Batch& b = *ps.queue.front();
          if (!b.closed && !flush_now && b.created_ms + linger_ms > now) {
            next_wakeup = std::min(next_wakeup, b.created_ms + linger_ms);
            break;
          }
          if (b.retry_at_ms > now) {
            next_wakeup = std::min(next_wakeup, b.retry_at_ms);
            break;
          }
          if (pid_reset_needed) break;
          const PartitionMetadata* pm =
              (tm && pi < tm->partitions.size()) ? &tm->partitions[pi] : nullptr;
          if (!pm || pm->leader < 0) {
            want_metadata = true;
            next_wakeup = std::min(next_wakeup, now + retry_backoff_ms);
            break;
          }
          int32_t leader = pm->leader;
          if (!net->node_ready(leader)) {
            // on_node_ready() drains again; the timer covers a reconnect backoff.
            net->ensure_connecting(leader);
            next_wakeup = std::min(next_wakeup, now + std::max<int64_t>(net_config.reconnect_backoff_ms, 10));
            break;
          }
          auto& node_calls = calls[leader];
          int busy = node_requests[leader];
          if (idempotent && ps.in_flight >= kMaxIdempotentInFlight) break;
          // The taken-th batch of this partition goes into the taken-th request to this node.
          if (taken >= node_calls.size()) {
            if (busy + static_cast<int>(node_calls.size()) >= max_in_flight) break;
            node_calls.emplace_back();
            node_calls.back().node = leader;
          }
          ProduceCall& call = node_calls[taken];
          if (call.bytes > 0 && call.bytes + b.buf.size() > max_request_size) break;
          auto owned = std::move(ps.queue.front());
          ps.queue.pop_front();
          owned->closed = true;
          seal(*owned);
          if (idempotent && owned->base_sequence < 0) {
            owned->base_sequence = ps.next_sequence;
            int64_t next = static_cast<int64_t>(ps.next_sequence) + owned->count;
            ps.next_sequence = static_cast<int32_t>(next > INT32_MAX ? next - INT32_MAX - 1 : next);
          }
          finish_batch_header(owned->buf, idempotent ? producer_id : -1, idempotent ? producer_epoch : -1,
                              idempotent ? owned->base_sequence : -1);
          ps.in_flight++;
          if (idempotent) ps.in_flight_sequences.insert(owned->base_sequence);
          call.bytes += owned->buf.size();
          call.batches.push_back(std::move(owned));
          ++taken;
          if (acks == 0) break;  // keep it simple: one batch per partition per pass
        }
      }
    }
  }
  if (pid_reset_needed && all_idle) {
    // A sequenced batch failed for good: start a new producer id so sequences restart at 0
    // (Java's epoch bump for idempotent producers).
    pid_reset_needed = false;
    {
      std::lock_guard lock(mu);
      for (auto& [name, ts] : topics)
        for (auto& ps : ts->partitions) {
          ps->next_sequence = 0;
          for (auto& b : ps->queue) b->base_sequence = -1;
        }
    }
    pid_state = PidState::none;
    ensure_producer_id();
  }
  for (auto& b : expired) {
    if (idempotent && b->base_sequence >= 0) pid_reset_needed = true;
    complete(std::move(b), Error{ErrorCode::local_msg_timed_out,
                                 fmt::format("not delivered within delivery.timeout.ms={}", delivery_timeout_ms)},
             -1, -1);
  }
  if (want_metadata) net->request_metadata_update();
  for (auto& [node, list] : calls)
    for (auto& call : list)
      if (!call.batches.empty()) send_call(std::move(call));
  if (next_wakeup != INT64_MAX && next_wakeup < linger_timer_at) {
    if (linger_timer) loop->cancel(linger_timer);
    linger_timer_at = next_wakeup;
    linger_timer = loop->schedule(std::max<int64_t>(0, next_wakeup - now), [this] {
      linger_timer = 0;
      linger_timer_at = INT64_MAX;
      drain();
    });
  }
}

namespace {
// Produce request v3–v11 written straight from the batch buffers (protocol guide "Produce").
void encode_produce(protocol::Writer& w, int16_t version, int16_t acks, int32_t timeout_ms,
                    const std::vector<std::unique_ptr<Batch>>& batches) {
  bool flexible = version >= 9;
  if (flexible) w.uvarint(0); else w.int16(-1);  // transactional_id = null
  w.int16(acks);
  w.int32(timeout_ms);
  // Group by topic, keeping the batches' order.
  std::vector<std::pair<const std::string*, std::vector<const Batch*>>> groups;
  for (const auto& b : batches) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](auto& g) { return *g.first == b->topic->name; });
    if (it == groups.end()) {
      groups.emplace_back(&b->topic->name, std::vector<const Batch*>{});
      it = groups.end() - 1;
    }
    it->second.push_back(b.get());
  }
  if (flexible) w.compact_array_length(static_cast<int32_t>(groups.size()));
  else w.array_length(static_cast<int32_t>(groups.size()));
  for (const auto& [name, list] : groups) {
    if (flexible) w.compact_string(*name); else w.string(*name);
    if (flexible) w.compact_array_length(static_cast<int32_t>(list.size()));
    else w.array_length(static_cast<int32_t>(list.size()));
    for (const Batch* b : list) {
      w.int32(b->partition);
      if (flexible) w.compact_bytes(b->buf); else w.bytes(b->buf);
      if (flexible) w.empty_tagged_fields();
    }
    if (flexible) w.empty_tagged_fields();
  }
  if (flexible) w.empty_tagged_fields();
}
}  // namespace

void Producer::Impl::send_call(ProduceCall call) {
  int32_t node = call.node;
  node_requests[node]++;
  auto shared = std::make_shared<ProduceCall>(std::move(call));
  int16_t acks_v = acks;
  int32_t timeout = static_cast<int32_t>(std::min<int64_t>(request_timeout_ms, INT32_MAX));
  bool expect = acks != 0;
  net->send_raw(
      node, protocol::ApiKey::produce, 3, protocol::ProduceResponse::kMaxVersion,
      [shared, acks_v, timeout](protocol::Writer& w, int16_t v) { encode_produce(w, v, acks_v, timeout, shared->batches); },
      [this, shared, expect](Result<protocol::Reader*> r, int16_t version) {
        node_requests[shared->node]--;
        if (!r) {
          on_response(*shared, fail(r.error()));
        } else if (!expect) {
          on_response(*shared, protocol::ProduceResponse{});
        } else {
          protocol::ProduceResponse resp;
          auto d = resp.decode(**r, version);
          if (!d) on_response(*shared, fail(d.error()));
          else on_response(*shared, resp);
        }
        wakeup();  // posted, never recursive (acks=0 and failed dispatches answer synchronously)
      },
      expect);
}

void Producer::Impl::on_response(ProduceCall& call, const Result<protocol::ProduceResponse>& r) {
  for (auto& b : call.batches) {
    {
      std::lock_guard lock(mu);
      PartitionState& ps = *b->topic->partitions[static_cast<size_t>(b->partition)];
      ps.in_flight--;
      ps.in_flight_sequences.erase(b->base_sequence);
    }
    if (!r) {
      retry_or_fail(std::move(b), r.error());
      continue;
    }
    if (acks == 0) {
      complete(std::move(b), Error{ErrorCode::none, {}}, -1, -1);
      continue;
    }
    const protocol::ProduceResponse::TopicProduceResponse::PartitionProduceResponse* found = nullptr;
    for (const auto& t : r->responses) {
      if (t.name != b->topic->name) continue;
      for (const auto& p : t.partition_responses)
        if (p.index == b->partition) found = &p;
    }
    if (!found) {
      retry_or_fail(std::move(b), Error{ErrorCode::unknown_server_error, "partition missing from Produce response"});
      continue;
    }
    auto code = static_cast<ErrorCode>(found->error_code);
    if (code == ErrorCode::none) {
      complete(std::move(b), Error{ErrorCode::none, {}}, found->base_offset, found->log_append_time_ms);
    } else if (code == ErrorCode::duplicate_sequence_number) {
      complete(std::move(b), Error{ErrorCode::none, {}}, -1, -1);  // already written before
    } else {
      std::string msg = found->error_message ? *found->error_message : std::string(error_name(code));
      retry_or_fail(std::move(b), Error{code, msg});
    }
  }
}

void Producer::Impl::retry_or_fail(std::unique_ptr<Batch> b, const Error& error) {
  int64_t now = io::steady_now_ms();
  bool retriable = error.retriable() || error.code == ErrorCode::local_transport ||
                   error.code == ErrorCode::request_timed_out;
  std::unique_lock lock(mu);
  PartitionState& ps = *b->topic->partitions[static_cast<size_t>(b->partition)];
  if (idempotent && (error.code == ErrorCode::out_of_order_sequence_number ||
                     error.code == ErrorCode::unknown_producer_id)) {
    // Retriable only when an earlier batch of this partition is itself being retried (it
    // failed first, so this one arrived with a gap).
    bool earlier = !ps.in_flight_sequences.empty() && *ps.in_flight_sequences.begin() < b->base_sequence;
    for (const auto& q : ps.queue)
      if (q->base_sequence >= 0 && q->base_sequence < b->base_sequence) earlier = true;
    retriable = earlier;
  }
  if (retriable && b->attempts < retries && b->created_ms + delivery_timeout_ms > now) {
    b->attempts++;
    b->retry_at_ms = now + retry_backoff_ms;
    // Sequenced batches go back in sequence order, ahead of unsequenced ones.
    auto pos = ps.queue.begin();
    while (pos != ps.queue.end() && (*pos)->base_sequence >= 0 &&
           (b->base_sequence < 0 || (*pos)->base_sequence < b->base_sequence))
      ++pos;
    log::debug(kLog, "retrying batch for {}-{} (attempt {}): {}", b->topic->name, b->partition, b->attempts,
               error.to_string());
    ps.queue.insert(pos, std::move(b));
    lock.unlock();
    if (error.code != ErrorCode::none) net->request_metadata_update();
    return;
  }
  if (idempotent && b->base_sequence >= 0) pid_reset_needed = true;
  lock.unlock();
  complete(std::move(b), error, -1, -1);
}

void Producer::Impl::complete(std::unique_ptr<Batch> b, const Error& error, int64_t base_offset,
                              int64_t log_append_time) {
  size_t plain = static_cast<size_t>(b->count) - b->callbacks.size();
  {
    std::lock_guard lock(mu);
    buffered -= b->memory;
  }
  if (error.code != ErrorCode::none && b->callbacks.empty())
    log::debug(kLog, "{} records to {}-{} failed: {}", b->count, b->topic->name, b->partition, error.to_string());
  {
    std::lock_guard lock(report_mu);
    for (auto& c : b->callbacks) {
      DeliveryReport rep;
      rep.error = error;
      rep.topic = b->topic->name;
      rep.partition = b->partition;
      rep.offset = (error.code == ErrorCode::none && base_offset >= 0) ? base_offset + c.index : -1;
      rep.timestamp_ms = log_append_time >= 0 ? log_append_time : c.timestamp_ms;
      rep.key = std::move(c.key);
      rep.value = std::move(c.value);
      reports.emplace_back(std::move(c.callback), std::move(rep));
    }
    if (plain) outstanding.fetch_sub(static_cast<int64_t>(plain), std::memory_order_acq_rel);
  }
  report_cv.notify_all();
}

void Producer::Impl::fail_everything(const Error& error) {
  std::vector<std::unique_ptr<Batch>> all;
  {
    std::lock_guard lock(mu);
    for (auto& [name, ts] : topics)
      for (auto& ps : ts->partitions) {
        for (auto& b : ps->queue) all.push_back(std::move(b));
        ps->queue.clear();
      }
  }
  for (auto& b : all) complete(std::move(b), error, -1, -1);
}

// ---------------------------------------------------------------------------------------
// config and lifecycle

const ConfigSchema& Producer::config_schema() {
  static const ConfigSchema schema = [] {
    ConfigSchema s;
    add_common_keys(s);
    s.add({.name = "acks", .default_value = "all", .doc = "0, 1, -1 or all", .choices = {"0", "1", "-1", "all"}});
    s.add({.name = "linger.ms", .type = ConfigType::integer, .default_value = "5",
           .doc = "wait this long for more records before sending a batch", .min = 0, .max = 900000});
    s.add({.name = "batch.size", .type = ConfigType::integer, .default_value = "16384",
           .doc = "bytes per partition batch", .min = 1, .max = INT32_MAX});
    s.add({.name = "buffer.memory", .type = ConfigType::integer, .default_value = "33554432",
           .doc = "bytes of records waiting to be sent", .min = 1, .max = INT64_MAX});
    s.add({.name = "compression.type", .default_value = "none", .doc = "codec for batches",
           .choices = {"none", "gzip", "snappy", "lz4", "zstd"}});
    s.add({.name = "compression.level", .type = ConfigType::integer, .default_value = "-1",
           .doc = "codec level, -1 = codec default", .min = -1, .max = 22});
    s.add({.name = "retries", .type = ConfigType::integer, .default_value = "2147483647",
           .doc = "retries of a failed batch", .min = 0, .max = INT32_MAX});
    s.add({.name = "delivery.timeout.ms", .type = ConfigType::integer, .default_value = "120000",
           .doc = "upper bound on the time to report a record's outcome", .min = 1, .max = INT32_MAX});
    s.add({.name = "max.block.ms", .type = ConfigType::integer, .default_value = "60000",
           .doc = "how long produce() waits for a topic's metadata", .min = 0, .max = INT32_MAX});
    s.add({.name = "enable.idempotence", .type = ConfigType::boolean, .default_value = "true",
           .doc = "exactly-once per partition with producer ids and sequences"});
    s.add({.name = "max.in.flight.requests.per.connection", .type = ConfigType::integer, .default_value = "5",
           .doc = "unanswered produce requests per broker", .min = 1, .max = 1000000});
    s.add({.name = "max.request.size", .type = ConfigType::integer, .default_value = "1048576",
           .doc = "largest produce request", .min = 100, .max = INT32_MAX});
    s.add({.name = "message.max.bytes", .type = ConfigType::integer, .default_value = "1048576",
           .doc = "librdkafka spelling of max.request.size", .min = 100, .max = INT32_MAX});
    s.add({.name = "partitioner.ignore.keys", .type = ConfigType::boolean, .default_value = "false",
           .doc = "sticky-partition keyed records too (KIP-794)"});
    for (const char* k : {"partitioner.class", "partitioner.adaptive.partitioning.enable",
                          "partitioner.availability.timeout.ms", "queue.buffering.max.messages",
                          "queue.buffering.max.kbytes", "queue.buffering.max.ms", "batch.num.messages",
                          "transaction.timeout.ms", "interceptor.classes", "dr_msg_cb", "dr_cb",
                          "sticky.partitioning.linger.ms", "enable.gapless.guarantee"})
      s.ignore(k);
    return s;
  }();
  return schema;
}

Result<std::unique_ptr<Producer>> Producer::create(const Properties& config) {
  const ConfigSchema& s = config_schema();
  auto net = read_network_config(config, s);
  if (!net) return fail(net.error());
  auto impl = std::make_unique<Impl>();
  impl->net_config = std::move(*net);
  std::string acks = get_string(config, s, "acks");
  impl->acks = acks == "all" ? -1 : static_cast<int16_t>(std::stoi(acks));
  impl->linger_ms = get_int(config, s, "linger.ms");
  impl->batch_size = static_cast<size_t>(get_int(config, s, "batch.size"));
  impl->buffer_memory = static_cast<size_t>(get_int(config, s, "buffer.memory"));
  std::string codec = get_string(config, s, "compression.type");
  impl->compression = codec == "gzip"     ? protocol::Compression::gzip
                      : codec == "snappy" ? protocol::Compression::snappy
                      : codec == "lz4"    ? protocol::Compression::lz4
                      : codec == "zstd"   ? protocol::Compression::zstd
                                          : protocol::Compression::none;
  impl->compression_level = static_cast<int>(get_int(config, s, "compression.level"));
  impl->retries = get_int(config, s, "retries");
  impl->retry_backoff_ms = get_int(config, s, "retry.backoff.ms");
  impl->delivery_timeout_ms = get_int(config, s, "delivery.timeout.ms");
  impl->request_timeout_ms = get_int(config, s, "request.timeout.ms");
  impl->max_block_ms = get_int(config, s, "max.block.ms");
  impl->max_in_flight = static_cast<int>(get_int(config, s, "max.in.flight.requests.per.connection"));
  impl->max_request_size = static_cast<size_t>(
      config.contains("max.request.size") || !config.contains("message.max.bytes")
          ? get_int(config, s, "max.request.size")
          : get_int(config, s, "message.max.bytes"));
  impl->ignore_keys = get_bool(config, s, "partitioner.ignore.keys");
  bool idempotent = get_bool(config, s, "enable.idempotence");
  bool conflicts = impl->acks != -1 || impl->max_in_flight > kMaxIdempotentInFlight || impl->retries == 0;
  if (idempotent && conflicts) {
    if (config.contains("enable.idempotence")) {
      return fail(ErrorCode::invalid_config,
                  "enable.idempotence: needs acks=all, retries > 0 and "
                  "max.in.flight.requests.per.connection <= 5");
    }
    idempotent = false;  // Java's rule: implicit idempotence yields to conflicting settings
  }
  impl->idempotent = idempotent;
  if (impl->delivery_timeout_ms < impl->linger_ms + impl->request_timeout_ms && config.contains("delivery.timeout.ms"))
    return fail(ErrorCode::invalid_config, "delivery.timeout.ms: must be >= linger.ms + request.timeout.ms");
  impl->net_config.allow_auto_topic_creation = true;
  impl->loop = std::make_unique<io::ClientLoop>("cv-producer");
  impl->net = std::make_unique<NetworkClient>(*impl->loop, impl->net_config);
  Impl* raw = impl.get();
  impl->loop->post([raw] {
    raw->net->on_metadata_update([raw] { raw->on_metadata(); });
    raw->net->on_node_ready([raw](int32_t) { raw->drain(); });
    raw->net->request_metadata_update();
  });
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Producer::~Producer() { close(0); }

Result<void> Producer::produce(ProducerRecord record, DeliveryCallback on_delivery) {
  return impl_->produce(record, on_delivery);
}

int Producer::poll(int timeout_ms) { return impl_->poll(timeout_ms); }

size_t Producer::outstanding() const { return static_cast<size_t>(std::max<int64_t>(0, impl_->outstanding.load())); }

Result<void> Producer::flush(int timeout_ms) {
  Impl& im = *impl_;
  im.flushing.fetch_add(1);
  im.loop->post([&im] { im.drain(); });
  auto start = std::chrono::steady_clock::now();
  Result<void> result;
  for (;;) {
    im.poll(0);
    if (im.outstanding.load(std::memory_order_acquire) <= 0) break;
    int64_t elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    if (timeout_ms >= 0 && elapsed >= timeout_ms) {
      result = fail(ErrorCode::local_timed_out,
                    fmt::format("flush: {} records still outstanding after {} ms", im.outstanding.load(), timeout_ms));
      break;
    }
    std::unique_lock lock(im.report_mu);
    im.report_cv.wait_for(lock, std::chrono::milliseconds(10), [&im] { return !im.reports.empty(); });
  }
  im.flushing.fetch_sub(1);
  return result;
}

void Producer::close(int timeout_ms) {
  Impl& im = *impl_;
  if (!im.loop) return;
  {
    std::lock_guard lock(im.mu);
    if (im.closed && !im.loop) return;
  }
  if (timeout_ms != 0) (void)flush(timeout_ms);
  {
    std::lock_guard lock(im.mu);
    im.closed = true;
  }
  im.metadata_cv.notify_all();
  // Fail what is left on the loop thread, then stop it.
  std::promise<void> done;
  auto fut = done.get_future();
  im.loop->post([&im, &done] {
    im.stopping = true;
    im.fail_everything(Error{ErrorCode::local_destroy, "producer closed before delivery"});
    im.net->close();
    done.set_value();
  });
  fut.wait_for(std::chrono::seconds(10));
  im.loop->stop();
  im.net.reset();
  im.loop.reset();
  while (im.poll(0) > 0) {
  }
  // In-flight batches were dropped with the network client: account for them.
  im.outstanding.store(0);
}

}  // namespace conveyor::client
