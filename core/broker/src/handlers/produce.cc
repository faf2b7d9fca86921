// Produce (key 0): advertised 0–11, served 3–11 (protocol guide "Produce"; PROTOCOL.md).
// v0–2 carry the old message formats and are answered with UNSUPPORTED_VERSION per partition.
// acks 0/1/-1: a single node is its own ISR, so -1 is answered like 1 once the append is in
// the log (fsync follows the flush policy, as in Kafka). acks=0 gets no response at all.
// Per-partition validation errors come from storage's append (CORRUPT_MESSAGE, INVALID_RECORD,
// MESSAGE_TOO_LARGE, OUT_OF_ORDER_SEQUENCE_NUMBER, ...); zstd batches need v7+ (KIP-110).
// Internal topics (__consumer_offsets) refuse client appends with INVALID_TOPIC_EXCEPTION.
// Durable mode (conveyor.fsync.before.ack, conveyor's own): the answer to acks=1/-1 waits until
// every such partition's appended batches are fsync'd by its log dir's group-commit flusher; a
// failed fsync answers KAFKA_STORAGE_ERROR for that partition. A partition in an offline log
// dir answers KAFKA_STORAGE_ERROR (KIP-112); so does a full disk (retriable: clients retry).
#include <fmt/format.h>

#include <mutex>

#include "conveyor/base/log.h"
#include "conveyor/protocol/messages.h"
#include "conveyor/protocol/record_batch.h"
#include "conveyor/storage/log_manager.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

namespace {
using Response = protocol::ProduceResponse;
using PartitionResponse = Response::TopicProduceResponse::PartitionProduceResponse;

void set_error(PartitionResponse& p, ErrorCode code, std::string message = {}) {
  p.error_code = static_cast<int16_t>(code);
  p.base_offset = -1;
  if (!message.empty()) p.error_message = std::move(message);
}

// Checks what storage's append does not know about: the request version's codec rules.
// The response of a durable-mode produce, completed by the flusher threads.
struct PendingAcks {
  RequestContext ctx;
  Response response;
  std::mutex mutex;
  size_t pending = 0;
};

Result<void> check_batches_for_version(ByteView records, int16_t version) {
  auto batches = protocol::split_batches(records);
  if (!batches) return fail(batches.error());
  if (version < 7) {
    for (const auto& b : *batches)
      if (b.header.compression() == protocol::Compression::zstd)
        return fail(ErrorCode::unsupported_compression_type, "zstd needs Produce v7 or later");
  }
  return {};
}
}  // namespace

void handle_produce(RequestContext ctx, protocol::Reader& body) {
  protocol::ProduceRequest request;
  if (auto r = request.decode(body, ctx.version()); !r) return ctx.close();
  BrokerState& b = *ctx.broker;
  const int16_t v = ctx.version();
  const bool acks_valid = request.acks == 0 || request.acks == 1 || request.acks == -1;

  Response response;
  struct Durable {
    size_t topic_index, partition_index;
    std::shared_ptr<storage::PartitionLog> log;
    int64_t offset;
  };
  std::vector<Durable> durable;  // partitions whose answer waits for an fsync
  for (auto& topic : request.topic_data) {
    auto& tr = response.responses.emplace_back();
    tr.name = topic.name;

    ErrorCode topic_error = ErrorCode::none;
    std::string topic_message;
    std::optional<storage::TopicInfo> info;
    if (v < 3) {
      topic_error = ErrorCode::unsupported_version;
      topic_message = "Produce v0-2 (message format v0/v1) is not supported; use v3 or later";
    } else if (!acks_valid) {
      topic_error = ErrorCode::invalid_required_acks;
    } else if (auto valid = storage::validate_topic_name(topic.name); !valid) {
      topic_error = ErrorCode::invalid_topic_exception;
      topic_message = valid.error().message;
    } else if (is_internal_topic(topic.name)) {
      // Only the coordinators write their internal topics (as Kafka's ReplicaManager).
      topic_error = ErrorCode::invalid_topic_exception;
      topic_message = "Cannot append to internal topic " + topic.name;
    } else {
      info = b.topics->find(topic.name);
      if (!info && b.config.auto_create_topics_enable) {
        auto created = b.topics->get_or_create(topic.name);
        if (created) {
          info = std::move(*created);
        } else {
          topic_error = created.error().code;
          topic_message = created.error().message;
        }
      } else if (!info) {
        topic_error = ErrorCode::unknown_topic_or_partition;
      }
    }

    for (auto& pd : topic.partition_data) {
      auto& pr = tr.partition_responses.emplace_back();
      pr.index = pd.index;
      if (topic_error != ErrorCode::none) {
        set_error(pr, topic_error, topic_message);
        continue;
      }
      if (pd.index < 0 || static_cast<size_t>(pd.index) >= info->partitions.size()) {
        set_error(pr, ErrorCode::unknown_topic_or_partition,
                  fmt::format("{} has no partition {}", topic.name, pd.index));
        continue;
      }
      auto& log = info->partitions[static_cast<size_t>(pd.index)].log;
      ByteView records = pd.records ? ByteView(*pd.records) : ByteView();
      if (records.empty()) {
        set_error(pr, ErrorCode::corrupt_message, "no records");
        continue;
      }
      if (auto ok = check_batches_for_version(records, v); !ok) {
        set_error(pr, ok.error().code, ok.error().message);
        continue;
      }
      auto appended = log->append(records, /*leader_epoch=*/0, BrokerState::now_ms());
      if (!appended) {
        if (appended.error().code == ErrorCode::kafka_storage_error)
          log::error("broker", "append to {}-{} failed: {}", topic.name, pd.index, appended.error().message);
        ErrorCode code = appended.error().code;
        // INVALID_RECORD (87, e.g. a keyless record in a compacted topic) exists from Produce v8
        // (KIP-467); older versions get CORRUPT_MESSAGE, as from Kafka.
        if (code == ErrorCode::invalid_record && v < 8) code = ErrorCode::corrupt_message;
        set_error(pr, code, appended.error().message);
        pr.log_start_offset = log->log_start_offset();
        continue;
      }
      pr.error_code = 0;
      pr.base_offset = appended->base_offset;
      pr.log_append_time_ms = appended->log_append_time_ms;
      pr.log_start_offset = appended->log_start_offset;
      if (!appended->duplicate) b.purgatory->notify(topic.name, pd.index);
      if (request.acks != 0 && log->config().fsync_before_ack)
        durable.push_back({response.responses.size() - 1, tr.partition_responses.size() - 1, log,
                           appended->last_offset + 1});
    }
  }
  if (request.acks == 0) return ctx.finish();
  if (durable.empty()) return ctx.respond(response);
  auto state = std::make_shared<PendingAcks>();
  state->ctx = std::move(ctx);
  state->response = std::move(response);
  state->pending = durable.size();
  for (auto& d : durable) {
    b.logs->commit_async(d.log, d.offset, [state, t = d.topic_index, p = d.partition_index](Result<void> r) {
      std::lock_guard lock(state->mutex);
      if (!r) {
        auto& pr = state->response.responses[t].partition_responses[p];
        log::error("broker", "durable produce to {}-{} not acknowledged: {}", state->response.responses[t].name,
                   pr.index, r.error().message);
        set_error(pr, ErrorCode::kafka_storage_error, r.error().message);
      }
      if (--state->pending == 0) state->ctx.respond(state->response);
    });
  }
}

}  // namespace conveyor::broker
