// Fetch (key 1), v4–12 (protocol guide "Fetch"). No incremental fetch sessions: every
// response has session_id 0 (KIP-227 allows it) and a request naming a session gets
// FETCH_SESSION_ID_NOT_FOUND. Long poll: when fewer than min_bytes are available the request
// waits in the purgatory until an append brings enough or max_wait_ms passes. Whole batches
// are returned, starting with the one containing fetch_offset, up to the partition's max
// bytes and the response's max_bytes (KIP-74: the first batch of the first non-empty
// partition is returned even when larger). zstd batches need v10+ (KIP-110).
#include <algorithm>

#include "conveyor/protocol/messages.h"
#include "conveyor/protocol/record_batch.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

namespace {
using Request = protocol::FetchRequest;
using Response = protocol::FetchResponse;
using PartitionData = Response::FetchableTopicResponse::PartitionData;

bool has_zstd(ByteView records) {
  size_t tail = 0;
  auto batches = protocol::split_batches(records, &tail);
  if (!batches) return false;
  for (const auto& b : *batches)
    if (b.header.compression() == protocol::Compression::zstd) return true;
  return false;
}

class FetchOperation final : public DelayedOperation, public std::enable_shared_from_this<FetchOperation> {
 public:
  FetchOperation(RequestContext ctx, Request request) : ctx_(std::move(ctx)), request_(std::move(request)) {}

  // Reads every partition; responds when min_bytes are there, an error occurred, or `force`.
  bool try_complete(bool force) override {
    Response response;
    int64_t bytes = 0;
    bool any_error = false;
    read_all(response, bytes, any_error);
    if (!force && !any_error && bytes < std::max<int32_t>(request_.min_bytes, 1)) return false;
    ctx_.respond(response);
    return true;
  }

  const Request& request() const { return request_; }
  const RequestContext& context() const { return ctx_; }

 private:
  void read_all(Response& response, int64_t& total, bool& any_error) {
    BrokerState& b = *ctx_.broker;
    const int16_t v = ctx_.version();
    int64_t response_limit = std::min<int64_t>(request_.max_bytes, b.config.fetch_max_bytes);
    if (response_limit <= 0) response_limit = 1;
    bool first_data = true;
    for (const auto& topic : request_.topics) {
      auto& tr = response.responses.emplace_back();
      tr.topic = topic.topic;
      for (const auto& fp : topic.partitions) {
        auto& pd = tr.partitions.emplace_back();
        pd.partition_index = fp.partition;
        pd.records = Bytes{};
        if (ctx_.header.api_version >= 4 && request_.isolation_level == 1)
          pd.aborted_transactions = std::vector<PartitionData::AbortedTransaction>{};
        auto log = b.topics->partition(topic.topic, fp.partition);
        if (!log) {
          pd.error_code = static_cast<int16_t>(ErrorCode::unknown_topic_or_partition);
          pd.high_watermark = -1;
          pd.last_stable_offset = -1;
          pd.log_start_offset = -1;
          any_error = true;
          continue;
        }
        if (log->offline()) {  // its log dir failed (KIP-112)
          pd.error_code = static_cast<int16_t>(ErrorCode::kafka_storage_error);
          pd.high_watermark = -1;
          pd.last_stable_offset = -1;
          pd.log_start_offset = -1;
          any_error = true;
          continue;
        }
        int64_t hw = log->high_watermark();
        pd.high_watermark = hw;
        pd.last_stable_offset = hw;  // no transactions yet: LSO = HW
        pd.log_start_offset = log->log_start_offset();
        if (fp.fetch_offset < pd.log_start_offset || fp.fetch_offset > log->log_end_offset()) {
          pd.error_code = static_cast<int16_t>(ErrorCode::offset_out_of_range);
          any_error = true;
          continue;
        }
        int64_t remaining = response_limit - total;
        if (fp.fetch_offset >= hw || fp.partition_max_bytes <= 0 || (remaining <= 0 && !first_data)) continue;
        int32_t max = static_cast<int32_t>(std::min<int64_t>(fp.partition_max_bytes, std::max<int64_t>(remaining, 0)));
        // A follower (replica_id >= 0) may read up to the log end; consumers up to the HW.
        int64_t max_offset = request_.replica_id >= 0 ? log->log_end_offset() : hw;
        auto read = log->read(fp.fetch_offset, std::max(max, 1), max_offset, /*min_one_batch=*/first_data);
        if (!read) {
          pd.error_code = static_cast<int16_t>(read.error().code);
          any_error = true;
          continue;
        }
        pd.high_watermark = read->high_watermark;
        pd.last_stable_offset = read->high_watermark;
        pd.log_start_offset = read->log_start_offset;
        if (read->records.empty()) continue;
        if (v < 10 && has_zstd(read->records)) {
          pd.error_code = static_cast<int16_t>(ErrorCode::unsupported_compression_type);
          any_error = true;
          continue;
        }
        total += static_cast<int64_t>(read->records.size());
        first_data = false;
        pd.records = std::move(read->records);
      }
    }
  }

  RequestContext ctx_;
  Request request_;
};
}  // namespace

void handle_fetch(RequestContext ctx, protocol::Reader& body) {
  Request request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;

  if (ctx.version() < 4) {
    Response response;
    for (const auto& topic : request.topics) {
      auto& tr = response.responses.emplace_back();
      tr.topic = topic.topic;
      for (const auto& fp : topic.partitions) {
        auto& pd = tr.partitions.emplace_back();
        pd.partition_index = fp.partition;
        pd.error_code = static_cast<int16_t>(ErrorCode::unsupported_version);
        pd.high_watermark = -1;
        pd.records = Bytes{};
      }
    }
    return ctx.respond(response);
  }
  if (ctx.version() >= 7 && request.session_id != 0) {
    Response response;
    response.error_code = static_cast<int16_t>(ErrorCode::fetch_session_id_not_found);
    return ctx.respond(response);
  }

  int32_t max_wait_ms = std::clamp(request.max_wait_ms, 0, kMaxFetchWaitMs);
  std::vector<FetchPurgatory::Key> keys;
  for (const auto& topic : request.topics)
    for (const auto& fp : topic.partitions) keys.push_back({topic.topic, fp.partition});

  auto op = std::make_shared<FetchOperation>(std::move(ctx), std::move(request));
  if (op->try_complete(/*force=*/max_wait_ms == 0 || keys.empty())) return;
  b.purgatory->watch(op, keys, std::chrono::milliseconds(max_wait_ms));
}

}  // namespace conveyor::broker
