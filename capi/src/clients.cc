// conveyor.h: producer, consumer and admin over conveyor::client.
#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "conveyor/client/admin.h"
#include "conveyor/client/consumer.h"
#include "conveyor/client/producer.h"
#include "conveyor/client/retry_handler.h"
#include "internal.h"

using namespace conveyor;
using namespace conveyor::capi;

// ---- producer -----------------------------------------------------------------------------

struct conveyor_producer_s {
  std::unique_ptr<client::Producer> producer;
  conveyor_delivery_cb_t delivery_cb = nullptr;
  void* opaque = nullptr;
};

namespace {

// Hands one delivery report to the C callback; the message views the report (borrowed).
void deliver(const conveyor_producer_s* p, void* msg_opaque, const client::DeliveryReport& r) {
  if (!p->delivery_cb) return;  // being destroyed: reports are dropped
  conveyor_message_s msg;
  msg.topic = r.topic.c_str();
  msg.partition = r.partition;
  msg.offset = r.offset;
  msg.timestamp_ms = r.timestamp_ms;
  if (r.key) {
    msg.key = data_or_empty(*r.key);
    msg.key_len = r.key->size();
  }
  if (r.value) {
    msg.value = data_or_empty(*r.value);
    msg.value_len = r.value->size();
  }
  msg.opaque = msg_opaque;
  if (r.error.code == ErrorCode::none) {
    p->delivery_cb(&msg, nullptr, p->opaque);
    return;
  }
  conveyor_error_t* err = nullptr;
  set_error(&err, r.error);
  p->delivery_cb(&msg, err, p->opaque);
  conveyor_error_destroy(err);
}

}  // namespace

extern "C" conveyor_err_t conveyor_producer_new(const conveyor_config_t* conf,
                                                conveyor_delivery_cb_t delivery_cb, void* opaque,
                                                conveyor_producer_t** producerp,
                                                conveyor_error_t** errp) {
  if (!producerp) return null_arg(errp, "conveyor_producer_new", "producerp");
  *producerp = nullptr;
  if (!conf) return null_arg(errp, "conveyor_producer_new", "conf");
  return guard(errp, [&]() -> Result<void> {
    auto created = client::Producer::create(to_properties(conf));
    if (!created) return fail(created.error());
    auto handle = std::make_unique<conveyor_producer_s>();
    handle->producer = std::move(*created);
    handle->delivery_cb = delivery_cb;
    handle->opaque = opaque;
    *producerp = handle.release();
    return {};
  });
}

extern "C" conveyor_err_t conveyor_producer_produce(
    conveyor_producer_t* p, const char* topic, int32_t partition, const void* key,
    size_t key_len, const void* value, size_t value_len, const conveyor_header_t* headers,
    size_t header_count, int64_t timestamp_ms, void* msg_opaque, conveyor_error_t** errp) {
  if (!p) return null_arg(errp, "conveyor_producer_produce", "producer");
  if (!topic) return null_arg(errp, "conveyor_producer_produce", "topic");
  if (header_count > 0 && !headers) return null_arg(errp, "conveyor_producer_produce", "headers");
  return guard(errp, [&]() -> Result<void> {
    client::ProducerRecord rec;
    rec.topic = topic;
    rec.partition = partition;
    if (key) {
      auto* k = static_cast<const uint8_t*>(key);
      rec.key.emplace(k, k + key_len);
    }
    if (value) {
      auto* v = static_cast<const uint8_t*>(value);
      rec.value.emplace(v, v + value_len);
    }
    rec.headers.reserve(header_count);
    for (size_t i = 0; i < header_count; ++i) {
      if (!headers[i].key)
        return fail(ErrorCode::local_invalid_arg,
                    fmt::format("conveyor_producer_produce: headers[{}].key must not be NULL", i));
      protocol::RecordHeader h;
      h.key = headers[i].key;
      if (headers[i].value) {
        auto* hv = static_cast<const uint8_t*>(headers[i].value);
        h.value.emplace(hv, hv + headers[i].value_len);
      }
      rec.headers.push_back(std::move(h));
    }
    rec.timestamp_ms = timestamp_ms;
    client::DeliveryCallback cb;
    if (p->delivery_cb) {
      const conveyor_producer_s* self = p;
      cb = [self, msg_opaque](const client::DeliveryReport& r) { deliver(self, msg_opaque, r); };
    }
    return p->producer->produce(std::move(rec), std::move(cb));
  });
}

extern "C" conveyor_err_t conveyor_producer_poll(conveyor_producer_t* p, int32_t timeout_ms,
                                                 size_t* servedp, conveyor_error_t** errp) {
  if (servedp) *servedp = 0;
  if (!p) return null_arg(errp, "conveyor_producer_poll", "producer");
  return guard(errp, [&]() -> Result<void> {
    int served = p->producer->poll(timeout_ms);
    if (servedp) *servedp = served > 0 ? static_cast<size_t>(served) : 0;
    return {};
  });
}

extern "C" conveyor_err_t conveyor_producer_flush(conveyor_producer_t* p, int32_t timeout_ms,
                                                  conveyor_error_t** errp) {
  if (!p) return null_arg(errp, "conveyor_producer_flush", "producer");
  return guard(errp, [&]() -> Result<void> { return p->producer->flush(timeout_ms < 0 ? -1 : timeout_ms); });
}

extern "C" size_t conveyor_producer_outstanding(const conveyor_producer_t* p) {
  if (!p) return 0;
  try {
    return p->producer->outstanding();
  } catch (...) {
    return 0;
  }
}

extern "C" void conveyor_producer_destroy(conveyor_producer_t* p) {
  if (!p) return;
  try {
    // Pending reports are dropped: callbacks run only inside _poll/_flush (conveyor.h).
    p->delivery_cb = nullptr;
    p->producer.reset();
  } catch (...) {
  }
  delete p;
}

// ---- consumer -----------------------------------------------------------------------------

struct conveyor_consumer_s {
  std::unique_ptr<client::Consumer> consumer;
  conveyor_rebalance_cb_t rebalance_cb = nullptr;  // consumer groups (below)
  void* rebalance_opaque = nullptr;
  conveyor_commit_cb_t commit_cb = nullptr;
  void* commit_opaque = nullptr;
};

namespace {

conveyor_message_s* to_message(client::ConsumerRecord&& r) {
  auto* m = new conveyor_message_s;
  m->owned.emplace(std::move(r));
  bind_owned(*m);
  return m;
}

}  // namespace

extern "C" conveyor_err_t conveyor_consumer_new(const conveyor_config_t* conf,
                                                conveyor_consumer_t** consumerp,
                                                conveyor_error_t** errp) {
  if (!consumerp) return null_arg(errp, "conveyor_consumer_new", "consumerp");
  *consumerp = nullptr;
  if (!conf) return null_arg(errp, "conveyor_consumer_new", "conf");
  return guard(errp, [&]() -> Result<void> {
    auto created = client::Consumer::create(to_properties(conf));
    if (!created) return fail(created.error());
    auto handle = std::make_unique<conveyor_consumer_s>();
    handle->consumer = std::move(*created);
    *consumerp = handle.release();
    return {};
  });
}

extern "C" conveyor_err_t conveyor_consumer_assign(conveyor_consumer_t* c,
                                                   const conveyor_topic_partition_t* partitions,
                                                   size_t count, conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_assign", "consumer");
  if (count > 0 && !partitions) return null_arg(errp, "conveyor_consumer_assign", "partitions");
  return guard(errp, [&]() -> Result<void> {
    std::vector<client::TopicPartitionOffset> tps;
    tps.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      if (!partitions[i].topic)
        return fail(ErrorCode::local_invalid_arg,
                    fmt::format("conveyor_consumer_assign: partitions[{}].topic must not be NULL", i));
      tps.push_back({partitions[i].topic, partitions[i].partition, partitions[i].offset, "", -1});
    }
    return c->consumer->assign(tps);
  });
}

extern "C" conveyor_err_t conveyor_consumer_seek(conveyor_consumer_t* c, const char* topic,
                                                 int32_t partition, int64_t offset,
                                                 conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_seek", "consumer");
  if (!topic) return null_arg(errp, "conveyor_consumer_seek", "topic");
  return guard(errp, [&]() -> Result<void> {
    return c->consumer->seek(client::TopicPartition{topic, partition}, offset);
  });
}

extern "C" conveyor_err_t conveyor_consumer_poll(conveyor_consumer_t* c, int32_t timeout_ms,
                                                 conveyor_message_t** msgp,
                                                 conveyor_error_t** errp) {
  if (msgp) *msgp = nullptr;
  if (!c) return null_arg(errp, "conveyor_consumer_poll", "consumer");
  if (!msgp) return null_arg(errp, "conveyor_consumer_poll", "msgp");
  return guard(errp, [&]() -> Result<void> {
    auto r = c->consumer->poll(timeout_ms);
    if (!r) return fail(r.error());
    if (*r) *msgp = to_message(std::move(**r));
    return {};
  });
}

extern "C" conveyor_err_t conveyor_consumer_consume(conveyor_consumer_t* c, size_t max_messages,
                                                    int32_t timeout_ms, conveyor_message_t** msgs,
                                                    size_t* countp, conveyor_error_t** errp) {
  if (countp) *countp = 0;
  if (!c) return null_arg(errp, "conveyor_consumer_consume", "consumer");
  if (!countp) return null_arg(errp, "conveyor_consumer_consume", "countp");
  if (max_messages > 0 && !msgs) return null_arg(errp, "conveyor_consumer_consume", "msgs");
  if (max_messages == 0) {
    if (errp) *errp = nullptr;
    return CONVEYOR_OK;
  }
  return guard(errp, [&]() -> Result<void> {
    auto r = c->consumer->consume(max_messages, timeout_ms);
    if (!r) return fail(r.error());
    size_t n = std::min(max_messages, r->size());
    size_t done = 0;
    try {
      for (; done < n; ++done) msgs[done] = to_message(std::move((*r)[done]));
    } catch (...) {
      for (size_t i = 0; i < done; ++i) conveyor_message_destroy(msgs[i]);
      throw;
    }
    *countp = n;
    return {};
  });
}

extern "C" conveyor_err_t conveyor_consumer_position(conveyor_consumer_t* c, const char* topic,
                                                     int32_t partition, int64_t* offsetp,
                                                     conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_position", "consumer");
  if (!topic) return null_arg(errp, "conveyor_consumer_position", "topic");
  if (!offsetp) return null_arg(errp, "conveyor_consumer_position", "offsetp");
  return guard(errp, [&]() -> Result<void> {
    auto r = c->consumer->position(client::TopicPartition{topic, partition}, 0);
    if (!r) return fail(r.error());
    *offsetp = *r;
    return {};
  });
}

extern "C" conveyor_err_t conveyor_consumer_watermark_offsets(conveyor_consumer_t* c,
                                                              const char* topic, int32_t partition,
                                                              int32_t timeout_ms, int64_t* lowp,
                                                              int64_t* highp,
                                                              conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_watermark_offsets", "consumer");
  if (!topic) return null_arg(errp, "conveyor_consumer_watermark_offsets", "topic");
  return guard(errp, [&]() -> Result<void> {
    auto r = c->consumer->watermark_offsets(client::TopicPartition{topic, partition}, timeout_ms);
    if (!r) return fail(r.error());
    if (lowp) *lowp = r->first;
    if (highp) *highp = r->second;
    return {};
  });
}

extern "C" conveyor_err_t conveyor_consumer_offsets_for_times(conveyor_consumer_t* c,
                                                              conveyor_topic_partition_t* partitions,
                                                              size_t count, int32_t timeout_ms,
                                                              conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_offsets_for_times", "consumer");
  if (count > 0 && !partitions)
    return null_arg(errp, "conveyor_consumer_offsets_for_times", "partitions");
  return guard(errp, [&]() -> Result<void> {
    std::vector<int64_t> out(count);
    for (size_t i = 0; i < count; ++i) {
      if (!partitions[i].topic)
        return fail(ErrorCode::local_invalid_arg,
                    fmt::format("conveyor_consumer_offsets_for_times: partitions[{}].topic must not be NULL", i));
      auto r = c->consumer->offset_for_time(
          client::TopicPartition{partitions[i].topic, partitions[i].partition},
          partitions[i].offset, timeout_ms);
      if (!r) return fail(r.error());
      out[i] = *r;
    }
    for (size_t i = 0; i < count; ++i) partitions[i].offset = out[i];  // all or nothing
    return {};
  });
}

extern "C" void conveyor_consumer_wakeup(conveyor_consumer_t* c) {
  if (!c) return;
  try {
    c->consumer->wakeup();
  } catch (...) {
  }
}

extern "C" conveyor_err_t conveyor_consumer_close(conveyor_consumer_t* c, conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_close", "consumer");
  return guard(errp, [&]() -> Result<void> {
    c->consumer->close();
    return {};
  });
}

extern "C" void conveyor_consumer_destroy(conveyor_consumer_t* c) {
  if (!c) return;
  try {
    c->consumer.reset();
  } catch (...) {
  }
  delete c;
}

// ---- consumer groups ------------------------------------------------------------------------

struct conveyor_partition_list_s {
  std::vector<std::string> topics;
  std::vector<conveyor_topic_partition_t> entries;  // topic points into `topics`
};

namespace {

// Borrowed C view of (topic, partition, offset) triples; topics stay owned by `src`.
template <class T>
std::vector<conveyor_topic_partition_t> c_view(const std::vector<T>& src) {
  std::vector<conveyor_topic_partition_t> out;
  out.reserve(src.size());
  for (const auto& e : src) {
    conveyor_topic_partition_t tp;
    tp.topic = e.topic.c_str();
    tp.partition = e.partition;
    if constexpr (std::is_same_v<T, client::TopicPartitionOffset>)
      tp.offset = e.offset;
    else
      tp.offset = client::kOffsetInvalid;
    out.push_back(tp);
  }
  return out;
}

conveyor_partition_list_s* make_list(std::vector<std::pair<client::TopicPartition, int64_t>> items) {
  auto* l = new conveyor_partition_list_s;
  l->topics.reserve(items.size());
  for (const auto& [tp, off] : items) l->topics.push_back(tp.topic);
  for (size_t i = 0; i < items.size(); ++i)
    l->entries.push_back(conveyor_topic_partition_t{l->topics[i].c_str(), items[i].first.partition, items[i].second});
  return l;
}

client::RebalanceCallbacks c_rebalance_callbacks(conveyor_consumer_t* c) {
  auto call = [c](int event, const std::vector<client::TopicPartition>& parts) {
    if (!c->rebalance_cb) return;
    auto view = c_view(parts);
    c->rebalance_cb(c, event, view.data(), view.size(), c->rebalance_opaque);
  };
  client::RebalanceCallbacks cb;
  cb.on_assigned = [call](const auto& p) { call(CONVEYOR_REBALANCE_ASSIGNED, p); };
  cb.on_revoked = [call](const auto& p) { call(CONVEYOR_REBALANCE_REVOKED, p); };
  cb.on_lost = [call](const auto& p) { call(CONVEYOR_REBALANCE_LOST, p); };
  return cb;
}

}  // namespace

extern "C" conveyor_err_t conveyor_consumer_set_rebalance_cb(conveyor_consumer_t* c, conveyor_rebalance_cb_t cb,
                                                             void* opaque, conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_set_rebalance_cb", "consumer");
  if (errp) *errp = nullptr;
  c->rebalance_cb = cb;
  c->rebalance_opaque = opaque;
  return CONVEYOR_OK;
}

extern "C" conveyor_err_t conveyor_consumer_subscribe(conveyor_consumer_t* c, const char* const* topics, size_t count,
                                                      conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_subscribe", "consumer");
  if (count > 0 && !topics) return null_arg(errp, "conveyor_consumer_subscribe", "topics");
  return guard(errp, [&]() -> Result<void> {
    std::vector<std::string> names;
    for (size_t i = 0; i < count; ++i) {
      if (!topics[i])
        return fail(ErrorCode::local_invalid_arg,
                    fmt::format("conveyor_consumer_subscribe: topics[{}] must not be NULL", i));
      names.emplace_back(topics[i]);
    }
    return c->consumer->subscribe(names, c_rebalance_callbacks(c));
  });
}

extern "C" conveyor_err_t conveyor_consumer_subscribe_pattern(conveyor_consumer_t* c, const char* regex,
                                                              conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_subscribe_pattern", "consumer");
  if (!regex) return null_arg(errp, "conveyor_consumer_subscribe_pattern", "regex");
  return guard(errp, [&]() -> Result<void> { return c->consumer->subscribe_pattern(regex, c_rebalance_callbacks(c)); });
}

extern "C" conveyor_err_t conveyor_consumer_unsubscribe(conveyor_consumer_t* c, conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_unsubscribe", "consumer");
  return guard(errp, [&]() -> Result<void> { return c->consumer->unsubscribe(); });
}

extern "C" size_t conveyor_partition_list_count(const conveyor_partition_list_t* l) {
  return l ? l->entries.size() : 0;
}

extern "C" const conveyor_topic_partition_t* conveyor_partition_list_get(const conveyor_partition_list_t* l,
                                                                         size_t i) {
  return l && i < l->entries.size() ? &l->entries[i] : nullptr;
}

extern "C" void conveyor_partition_list_destroy(conveyor_partition_list_t* l) { delete l; }

extern "C" conveyor_err_t conveyor_consumer_assignment(conveyor_consumer_t* c, conveyor_partition_list_t** listp,
                                                       conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_assignment", "consumer");
  if (!listp) return null_arg(errp, "conveyor_consumer_assignment", "listp");
  *listp = nullptr;
  return guard(errp, [&]() -> Result<void> {
    std::vector<std::pair<client::TopicPartition, int64_t>> items;
    for (const auto& tp : c->consumer->assignment()) {
      auto pos = c->consumer->position(tp, 0);
      items.emplace_back(tp, pos ? *pos : client::kOffsetInvalid);
    }
    *listp = make_list(std::move(items));
    return {};
  });
}

extern "C" conveyor_err_t conveyor_consumer_subscription(conveyor_consumer_t* c, conveyor_partition_list_t** listp,
                                                         conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_subscription", "consumer");
  if (!listp) return null_arg(errp, "conveyor_consumer_subscription", "listp");
  *listp = nullptr;
  return guard(errp, [&]() -> Result<void> {
    std::vector<std::pair<client::TopicPartition, int64_t>> items;
    for (const auto& t : c->consumer->subscription()) items.emplace_back(client::TopicPartition{t, -1}, client::kOffsetInvalid);
    *listp = make_list(std::move(items));
    return {};
  });
}

namespace {
// pause/resume: the C array as TopicPartitions (offsets ignored); NULL topics refused.
conveyor_err_t pause_resume(conveyor_consumer_t* c, const conveyor_topic_partition_t* partitions, size_t count,
                            bool pause, conveyor_error_t** errp) {
  const char* fn = pause ? "conveyor_consumer_pause" : "conveyor_consumer_resume";
  if (!c) return null_arg(errp, fn, "consumer");
  if (count > 0 && !partitions) return null_arg(errp, fn, "partitions");
  return guard(errp, [&]() -> Result<void> {
    std::vector<client::TopicPartition> tps;
    tps.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      if (!partitions[i].topic)
        return fail(ErrorCode::local_invalid_arg, fmt::format("{}: partitions[{}].topic must not be NULL", fn, i));
      tps.push_back({partitions[i].topic, partitions[i].partition});
    }
    return pause ? c->consumer->pause(tps) : c->consumer->resume(tps);
  });
}
}  // namespace

extern "C" conveyor_err_t conveyor_consumer_pause(conveyor_consumer_t* c, const conveyor_topic_partition_t* partitions,
                                                  size_t count, conveyor_error_t** errp) {
  return pause_resume(c, partitions, count, true, errp);
}

extern "C" conveyor_err_t conveyor_consumer_resume(conveyor_consumer_t* c, const conveyor_topic_partition_t* partitions,
                                                   size_t count, conveyor_error_t** errp) {
  return pause_resume(c, partitions, count, false, errp);
}

extern "C" conveyor_err_t conveyor_consumer_paused(conveyor_consumer_t* c, conveyor_partition_list_t** listp,
                                                   conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_paused", "consumer");
  if (!listp) return null_arg(errp, "conveyor_consumer_paused", "listp");
  *listp = nullptr;
  return guard(errp, [&]() -> Result<void> {
    std::vector<std::pair<client::TopicPartition, int64_t>> items;
    for (const auto& tp : c->consumer->paused()) {
      auto pos = c->consumer->position(tp, 0);
      items.emplace_back(tp, pos ? *pos : client::kOffsetInvalid);
    }
    *listp = make_list(std::move(items));
    return {};
  });
}

extern "C" conveyor_err_t conveyor_consumer_set_commit_cb(conveyor_consumer_t* c, conveyor_commit_cb_t cb,
                                                          void* opaque, conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_set_commit_cb", "consumer");
  return guard(errp, [&]() -> Result<void> {
    c->commit_cb = cb;
    c->commit_opaque = opaque;
    if (!cb) {
      c->consumer->set_commit_callback(nullptr);
      return {};
    }
    c->consumer->set_commit_callback([c](const Error& e, const std::vector<client::TopicPartitionOffset>& offsets) {
      if (!c->commit_cb) return;
      auto view = c_view(offsets);
      if (e.code == ErrorCode::none) return c->commit_cb(c, nullptr, view.data(), view.size(), c->commit_opaque);
      conveyor_error_t* err = nullptr;
      set_error(&err, e);
      c->commit_cb(c, err, view.data(), view.size(), c->commit_opaque);
      conveyor_error_destroy(err);
    });
    return {};
  });
}

extern "C" conveyor_err_t conveyor_consumer_commit(conveyor_consumer_t* c, const conveyor_topic_partition_t* offsets,
                                                   size_t count, const char* const* metadata, int mode,
                                                   int32_t timeout_ms, conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_commit", "consumer");
  if (count > 0 && !offsets) return null_arg(errp, "conveyor_consumer_commit", "offsets");
  return guard(errp, [&]() -> Result<void> {
    if (mode != CONVEYOR_COMMIT_SYNC && mode != CONVEYOR_COMMIT_ASYNC)
      return fail(ErrorCode::local_invalid_arg, fmt::format("conveyor_consumer_commit: bad mode {}", mode));
    std::vector<client::TopicPartitionOffset> list;
    for (size_t i = 0; i < count; ++i) {
      if (!offsets[i].topic)
        return fail(ErrorCode::local_invalid_arg,
                    fmt::format("conveyor_consumer_commit: offsets[{}].topic must not be NULL", i));
      client::TopicPartitionOffset o;
      o.topic = offsets[i].topic;
      o.partition = offsets[i].partition;
      o.offset = offsets[i].offset;
      if (metadata && metadata[i]) o.metadata = metadata[i];
      list.push_back(std::move(o));
    }
    return c->consumer->commit(list, mode == CONVEYOR_COMMIT_ASYNC ? client::CommitMode::async : client::CommitMode::sync,
                               timeout_ms);
  });
}

extern "C" conveyor_err_t conveyor_consumer_committed(conveyor_consumer_t* c, conveyor_topic_partition_t* partitions,
                                                      size_t count, int32_t timeout_ms, conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_committed", "consumer");
  if (count > 0 && !partitions) return null_arg(errp, "conveyor_consumer_committed", "partitions");
  return guard(errp, [&]() -> Result<void> {
    std::vector<client::TopicPartition> tps;
    for (size_t i = 0; i < count; ++i) {
      if (!partitions[i].topic)
        return fail(ErrorCode::local_invalid_arg,
                    fmt::format("conveyor_consumer_committed: partitions[{}].topic must not be NULL", i));
      tps.push_back({partitions[i].topic, partitions[i].partition});
    }
    auto r = c->consumer->committed(tps, timeout_ms);
    if (!r) return fail(r.error());
    for (size_t i = 0; i < count && i < r->size(); ++i) partitions[i].offset = (*r)[i].offset;
    return {};
  });
}

extern "C" conveyor_err_t conveyor_consumer_lag(conveyor_consumer_t* c, const char* topic, int32_t partition,
                                                int32_t timeout_ms, int64_t* lagp, conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_lag", "consumer");
  if (!topic) return null_arg(errp, "conveyor_consumer_lag", "topic");
  if (!lagp) return null_arg(errp, "conveyor_consumer_lag", "lagp");
  return guard(errp, [&]() -> Result<void> {
    auto r = c->consumer->lag(client::TopicPartition{topic, partition}, timeout_ms);
    if (!r) return fail(r.error());
    *lagp = *r;
    return {};
  });
}

extern "C" conveyor_err_t conveyor_consumer_group_member(conveyor_consumer_t* c, char* buf, size_t len,
                                                         int32_t* generationp, conveyor_error_t** errp) {
  if (!c) return null_arg(errp, "conveyor_consumer_group_member", "consumer");
  return guard(errp, [&]() -> Result<void> {
    if (buf && len > 0) {
      std::string id = c->consumer->member_id();
      size_t n = std::min(id.size(), len - 1);
      std::copy_n(id.data(), n, buf);
      buf[n] = '\0';
    }
    if (generationp) *generationp = c->consumer->generation();
    return {};
  });
}

// ---- admin --------------------------------------------------------------------------------

struct conveyor_topic_list_s {
  std::vector<client::TopicDescription> topics;
};

extern "C" conveyor_err_t conveyor_admin_new(const conveyor_config_t* conf, conveyor_admin_t** adminp,
                                             conveyor_error_t** errp) {
  if (!adminp) return null_arg(errp, "conveyor_admin_new", "adminp");
  *adminp = nullptr;
  if (!conf) return null_arg(errp, "conveyor_admin_new", "conf");
  return guard(errp, [&]() -> Result<void> {
    auto created = client::Admin::create(to_properties(conf));
    if (!created) return fail(created.error());
    auto handle = std::make_unique<conveyor_admin_s>();
    handle->admin = std::move(*created);
    *adminp = handle.release();
    return {};
  });
}

extern "C" conveyor_err_t conveyor_admin_create_topic(conveyor_admin_t* a, const char* name,
                                                      int32_t partitions,
                                                      int16_t replication_factor,
                                                      const conveyor_config_t* config,
                                                      int32_t timeout_ms, conveyor_error_t** errp) {
  if (!a) return null_arg(errp, "conveyor_admin_create_topic", "admin");
  if (!name) return null_arg(errp, "conveyor_admin_create_topic", "name");
  return guard(errp, [&]() -> Result<void> {
    std::map<std::string, std::string> configs;
    if (config) configs = config->values;
    return a->admin->create_topic(name, partitions, replication_factor, configs, timeout_ms);
  });
}

extern "C" conveyor_err_t conveyor_admin_delete_topic(conveyor_admin_t* a, const char* name,
                                                      int32_t timeout_ms, conveyor_error_t** errp) {
  if (!a) return null_arg(errp, "conveyor_admin_delete_topic", "admin");
  if (!name) return null_arg(errp, "conveyor_admin_delete_topic", "name");
  return guard(errp, [&]() -> Result<void> { return a->admin->delete_topic(name, timeout_ms); });
}

extern "C" conveyor_err_t conveyor_admin_list_topics(conveyor_admin_t* a, int32_t timeout_ms,
                                                     conveyor_topic_list_t** listp,
                                                     conveyor_error_t** errp) {
  return conveyor_admin_describe_topics(a, nullptr, 0, timeout_ms, listp, errp);
}

extern "C" conveyor_err_t conveyor_admin_describe_topics(conveyor_admin_t* a,
                                                         const char* const* names, size_t count,
                                                         int32_t timeout_ms,
                                                         conveyor_topic_list_t** listp,
                                                         conveyor_error_t** errp) {
  if (listp) *listp = nullptr;
  if (!a) return null_arg(errp, "conveyor_admin_describe_topics", "admin");
  if (!listp) return null_arg(errp, "conveyor_admin_describe_topics", "listp");
  if (count > 0 && !names) return null_arg(errp, "conveyor_admin_describe_topics", "names");
  return guard(errp, [&]() -> Result<void> {
    Result<std::vector<client::TopicDescription>> r;
    if (count == 0) {
      r = a->admin->list_topics(timeout_ms);
    } else {
      std::vector<std::string> v;
      for (size_t i = 0; i < count; ++i) {
        if (!names[i])
          return fail(ErrorCode::local_invalid_arg,
                      fmt::format("conveyor_admin_describe_topics: names[{}] must not be NULL", i));
        v.emplace_back(names[i]);
      }
      r = a->admin->describe_topics(v, timeout_ms);
    }
    if (!r) return fail(r.error());
    auto list = std::make_unique<conveyor_topic_list_s>();
    list->topics = std::move(*r);
    *listp = list.release();
    return {};
  });
}

extern "C" void conveyor_admin_destroy(conveyor_admin_t* a) {
  if (!a) return;
  try {
    a->admin->close();
    a->admin.reset();
  } catch (...) {
  }
  delete a;
}

namespace {

const client::TopicDescription* topic_at(const conveyor_topic_list_t* l, size_t t) {
  return l && t < l->topics.size() ? &l->topics[t] : nullptr;
}
const client::PartitionDescription* partition_at(const conveyor_topic_list_t* l, size_t t,
                                                 size_t p) {
  auto* td = topic_at(l, t);
  return td && p < td->partitions.size() ? &td->partitions[p] : nullptr;
}

}  // namespace

extern "C" size_t conveyor_topic_list_count(const conveyor_topic_list_t* l) {
  return l ? l->topics.size() : 0;
}
extern "C" const char* conveyor_topic_list_name(const conveyor_topic_list_t* l, size_t t) {
  auto* td = topic_at(l, t);
  return td ? td->name.c_str() : nullptr;
}
extern "C" const char* conveyor_topic_list_topic_id(const conveyor_topic_list_t* l, size_t t) {
  auto* td = topic_at(l, t);
  return td ? td->topic_id.c_str() : nullptr;
}
extern "C" conveyor_err_t conveyor_topic_list_error(const conveyor_topic_list_t* l, size_t t) {
  auto* td = topic_at(l, t);
  return td ? static_cast<conveyor_err_t>(td->error) : CONVEYOR_ERR__INVALID_ARG;
}
extern "C" int conveyor_topic_list_is_internal(const conveyor_topic_list_t* l, size_t t) {
  auto* td = topic_at(l, t);
  return td && td->is_internal ? 1 : 0;
}
extern "C" int32_t conveyor_topic_list_partition_count(const conveyor_topic_list_t* l, size_t t) {
  auto* td = topic_at(l, t);
  return td ? static_cast<int32_t>(td->partitions.size()) : -1;
}
extern "C" int32_t conveyor_topic_list_partition_id(const conveyor_topic_list_t* l, size_t t,
                                                    size_t p) {
  auto* pd = partition_at(l, t, p);
  return pd ? pd->partition : -1;
}
extern "C" int32_t conveyor_topic_list_partition_leader(const conveyor_topic_list_t* l, size_t t,
                                                        size_t p) {
  auto* pd = partition_at(l, t, p);
  return pd ? pd->leader : -1;
}
extern "C" const int32_t* conveyor_topic_list_partition_replicas(const conveyor_topic_list_t* l,
                                                                 size_t t, size_t p,
                                                                 size_t* countp) {
  auto* pd = partition_at(l, t, p);
  if (countp) *countp = pd ? pd->replicas.size() : 0;
  return pd ? pd->replicas.data() : nullptr;
}
extern "C" const int32_t* conveyor_topic_list_partition_isr(const conveyor_topic_list_t* l,
                                                            size_t t, size_t p, size_t* countp) {
  auto* pd = partition_at(l, t, p);
  if (countp) *countp = pd ? pd->isr.size() : 0;
  return pd ? pd->isr.data() : nullptr;
}
extern "C" void conveyor_topic_list_destroy(conveyor_topic_list_t* l) { delete l; }

// ---- admin: consumer groups and offsets ---------------------------------------------------

struct conveyor_group_list_s {
  std::vector<client::GroupListing> groups;
};

struct conveyor_group_description_s {
  client::GroupDescription desc;
};

struct conveyor_group_offsets_s {
  std::vector<client::GroupOffset> offsets;
};

struct conveyor_group_lag_s {
  conveyor_group_description_s group;
  std::vector<client::PartitionLag> rows;
};

namespace {

template <class T>
const T* at(const std::vector<T>* v, size_t i) {
  return v && i < v->size() ? &(*v)[i] : nullptr;
}

// Copies a C array of topic partitions, rejecting NULL topics.
Result<std::vector<client::TopicPartitionOffset>> copy_partitions(const char* function,
                                                                  const conveyor_topic_partition_t* partitions,
                                                                  size_t count) {
  std::vector<client::TopicPartitionOffset> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (!partitions[i].topic)
      return fail(ErrorCode::local_invalid_arg, fmt::format("{}: partitions[{}].topic must not be NULL", function, i));
    out.push_back({partitions[i].topic, partitions[i].partition, partitions[i].offset});
  }
  return out;
}

std::vector<client::TopicPartition> without_offsets(const std::vector<client::TopicPartitionOffset>& v) {
  std::vector<client::TopicPartition> out;
  out.reserve(v.size());
  for (const auto& t : v) out.push_back({t.topic, t.partition});
  return out;
}

}  // namespace

extern "C" conveyor_err_t conveyor_admin_list_offsets(conveyor_admin_t* a, conveyor_topic_partition_t* partitions,
                                                      size_t count, int64_t spec, int32_t timeout_ms,
                                                      conveyor_error_t** errp) {
  if (!a) return null_arg(errp, "conveyor_admin_list_offsets", "admin");
  if (count > 0 && !partitions) return null_arg(errp, "conveyor_admin_list_offsets", "partitions");
  return guard(errp, [&]() -> Result<void> {
    auto tps = copy_partitions("conveyor_admin_list_offsets", partitions, count);
    if (!tps) return fail(tps.error());
    auto r = a->admin->list_offsets(without_offsets(*tps), spec, timeout_ms);
    if (!r) return fail(r.error());
    for (const auto& po : *r)
      if (po.error != ErrorCode::none)
        return fail(po.error, fmt::format("ListOffsets {}-{}: {}", po.topic, po.partition, error_name(po.error)));
    for (size_t i = 0; i < count && i < r->size(); ++i) partitions[i].offset = (*r)[i].offset;  // all or nothing
    return {};
  });
}

extern "C" conveyor_err_t conveyor_admin_delete_records(conveyor_admin_t* a, conveyor_topic_partition_t* partitions,
                                                        size_t count, int32_t timeout_ms, conveyor_error_t** errp) {
  if (!a) return null_arg(errp, "conveyor_admin_delete_records", "admin");
  if (count > 0 && !partitions) return null_arg(errp, "conveyor_admin_delete_records", "partitions");
  return guard(errp, [&]() -> Result<void> {
    auto tps = copy_partitions("conveyor_admin_delete_records", partitions, count);
    if (!tps) return fail(tps.error());
    auto r = a->admin->delete_records(*tps, timeout_ms);
    if (!r) return fail(r.error());
    for (const auto& po : *r)
      if (po.error != ErrorCode::none)
        return fail(po.error, fmt::format("DeleteRecords {}-{}: {}", po.topic, po.partition, error_name(po.error)));
    for (size_t i = 0; i < count && i < r->size(); ++i) partitions[i].offset = (*r)[i].offset;  // all or nothing
    return {};
  });
}

extern "C" conveyor_err_t conveyor_admin_list_groups(conveyor_admin_t* a, const char* const* states,
                                                     size_t state_count, int32_t timeout_ms,
                                                     conveyor_group_list_t** listp, conveyor_error_t** errp) {
  if (listp) *listp = nullptr;
  if (!a) return null_arg(errp, "conveyor_admin_list_groups", "admin");
  if (!listp) return null_arg(errp, "conveyor_admin_list_groups", "listp");
  if (state_count > 0 && !states) return null_arg(errp, "conveyor_admin_list_groups", "states");
  return guard(errp, [&]() -> Result<void> {
    std::vector<std::string> filter;
    for (size_t i = 0; i < state_count; ++i) {
      if (!states[i])
        return fail(ErrorCode::local_invalid_arg,
                    fmt::format("conveyor_admin_list_groups: states[{}] must not be NULL", i));
      filter.emplace_back(states[i]);
    }
    auto r = a->admin->list_groups(filter, timeout_ms);
    if (!r) return fail(r.error());
    auto list = std::make_unique<conveyor_group_list_s>();
    list->groups = std::move(*r);
    *listp = list.release();
    return {};
  });
}

extern "C" size_t conveyor_group_list_count(const conveyor_group_list_t* l) { return l ? l->groups.size() : 0; }
extern "C" const char* conveyor_group_list_group_id(const conveyor_group_list_t* l, size_t i) {
  auto* g = at(l ? &l->groups : nullptr, i);
  return g ? g->group_id.c_str() : nullptr;
}
extern "C" const char* conveyor_group_list_protocol_type(const conveyor_group_list_t* l, size_t i) {
  auto* g = at(l ? &l->groups : nullptr, i);
  return g ? g->protocol_type.c_str() : nullptr;
}
extern "C" const char* conveyor_group_list_state(const conveyor_group_list_t* l, size_t i) {
  auto* g = at(l ? &l->groups : nullptr, i);
  return g ? g->state.c_str() : nullptr;
}
extern "C" void conveyor_group_list_destroy(conveyor_group_list_t* l) { delete l; }

extern "C" conveyor_err_t conveyor_admin_describe_group(conveyor_admin_t* a, const char* group, int32_t timeout_ms,
                                                        conveyor_group_description_t** descp,
                                                        conveyor_error_t** errp) {
  if (descp) *descp = nullptr;
  if (!a) return null_arg(errp, "conveyor_admin_describe_group", "admin");
  if (!group) return null_arg(errp, "conveyor_admin_describe_group", "group");
  if (!descp) return null_arg(errp, "conveyor_admin_describe_group", "descp");
  return guard(errp, [&]() -> Result<void> {
    auto r = a->admin->describe_groups({group}, timeout_ms);
    if (!r) return fail(r.error());
    auto& d = r->front();
    if (d.error != ErrorCode::none)
      return fail(d.error, fmt::format("describe group {}: {}", group, error_name(d.error)));
    auto out = std::make_unique<conveyor_group_description_s>();
    out->desc = std::move(d);
    *descp = out.release();
    return {};
  });
}

namespace {
const client::MemberDescription* member_at(const conveyor_group_description_t* d, size_t m) {
  return at(d ? &d->desc.members : nullptr, m);
}
}  // namespace

extern "C" const char* conveyor_group_description_group_id(const conveyor_group_description_t* d) {
  return d ? d->desc.group_id.c_str() : nullptr;
}
extern "C" const char* conveyor_group_description_state(const conveyor_group_description_t* d) {
  return d ? d->desc.state.c_str() : nullptr;
}
extern "C" const char* conveyor_group_description_protocol_type(const conveyor_group_description_t* d) {
  return d ? d->desc.protocol_type.c_str() : nullptr;
}
extern "C" const char* conveyor_group_description_protocol(const conveyor_group_description_t* d) {
  return d ? d->desc.protocol.c_str() : nullptr;
}
extern "C" int32_t conveyor_group_description_coordinator(const conveyor_group_description_t* d) {
  return d ? d->desc.coordinator.node_id : -1;
}
extern "C" size_t conveyor_group_description_member_count(const conveyor_group_description_t* d) {
  return d ? d->desc.members.size() : 0;
}
extern "C" const char* conveyor_group_description_member_id(const conveyor_group_description_t* d, size_t m) {
  auto* md = member_at(d, m);
  return md ? md->member_id.c_str() : nullptr;
}
extern "C" const char* conveyor_group_description_member_instance_id(const conveyor_group_description_t* d,
                                                                     size_t m) {
  auto* md = member_at(d, m);
  return md && md->group_instance_id ? md->group_instance_id->c_str() : nullptr;
}
extern "C" const char* conveyor_group_description_member_client_id(const conveyor_group_description_t* d,
                                                                   size_t m) {
  auto* md = member_at(d, m);
  return md ? md->client_id.c_str() : nullptr;
}
extern "C" const char* conveyor_group_description_member_host(const conveyor_group_description_t* d, size_t m) {
  auto* md = member_at(d, m);
  return md ? md->host.c_str() : nullptr;
}
extern "C" size_t conveyor_group_description_member_partition_count(const conveyor_group_description_t* d,
                                                                    size_t m) {
  auto* md = member_at(d, m);
  return md ? md->assignment.size() : 0;
}
extern "C" conveyor_err_t conveyor_group_description_member_partition(const conveyor_group_description_t* d,
                                                                      size_t m, size_t i, const char** topicp,
                                                                      int32_t* partitionp) {
  auto* md = member_at(d, m);
  auto* tp = at(md ? &md->assignment : nullptr, i);
  if (!tp) return CONVEYOR_ERR__INVALID_ARG;
  if (topicp) *topicp = tp->topic.c_str();
  if (partitionp) *partitionp = tp->partition;
  return CONVEYOR_OK;
}
extern "C" void conveyor_group_description_destroy(conveyor_group_description_t* d) { delete d; }

extern "C" conveyor_err_t conveyor_admin_list_group_offsets(conveyor_admin_t* a, const char* group,
                                                            const conveyor_topic_partition_t* partitions,
                                                            size_t count, int32_t timeout_ms,
                                                            conveyor_group_offsets_t** offsetsp,
                                                            conveyor_error_t** errp) {
  if (offsetsp) *offsetsp = nullptr;
  if (!a) return null_arg(errp, "conveyor_admin_list_group_offsets", "admin");
  if (!group) return null_arg(errp, "conveyor_admin_list_group_offsets", "group");
  if (!offsetsp) return null_arg(errp, "conveyor_admin_list_group_offsets", "offsetsp");
  if (count > 0 && !partitions) return null_arg(errp, "conveyor_admin_list_group_offsets", "partitions");
  return guard(errp, [&]() -> Result<void> {
    std::optional<std::vector<client::TopicPartition>> which;
    if (count > 0) {
      auto tps = copy_partitions("conveyor_admin_list_group_offsets", partitions, count);
      if (!tps) return fail(tps.error());
      which = without_offsets(*tps);
    }
    auto r = a->admin->list_group_offsets(group, which, timeout_ms);
    if (!r) return fail(r.error());
    auto out = std::make_unique<conveyor_group_offsets_s>();
    out->offsets = std::move(*r);
    *offsetsp = out.release();
    return {};
  });
}

namespace {
const client::GroupOffset* offset_at(const conveyor_group_offsets_t* o, size_t i) {
  return at(o ? &o->offsets : nullptr, i);
}
const client::PartitionLag* lag_at(const conveyor_group_lag_t* l, size_t i) { return at(l ? &l->rows : nullptr, i); }
}  // namespace

extern "C" size_t conveyor_group_offsets_count(const conveyor_group_offsets_t* o) {
  return o ? o->offsets.size() : 0;
}
extern "C" const char* conveyor_group_offsets_topic(const conveyor_group_offsets_t* o, size_t i) {
  auto* e = offset_at(o, i);
  return e ? e->topic.c_str() : nullptr;
}
extern "C" int32_t conveyor_group_offsets_partition(const conveyor_group_offsets_t* o, size_t i) {
  auto* e = offset_at(o, i);
  return e ? e->partition : -1;
}
extern "C" int64_t conveyor_group_offsets_offset(const conveyor_group_offsets_t* o, size_t i) {
  auto* e = offset_at(o, i);
  return e ? e->offset : -1;
}
extern "C" int32_t conveyor_group_offsets_leader_epoch(const conveyor_group_offsets_t* o, size_t i) {
  auto* e = offset_at(o, i);
  return e ? e->leader_epoch : -1;
}
extern "C" const char* conveyor_group_offsets_metadata(const conveyor_group_offsets_t* o, size_t i) {
  auto* e = offset_at(o, i);
  return e ? e->metadata.c_str() : nullptr;
}
extern "C" conveyor_err_t conveyor_group_offsets_error(const conveyor_group_offsets_t* o, size_t i) {
  auto* e = offset_at(o, i);
  return e ? static_cast<conveyor_err_t>(e->error) : CONVEYOR_ERR__INVALID_ARG;
}
extern "C" void conveyor_group_offsets_destroy(conveyor_group_offsets_t* o) { delete o; }

extern "C" conveyor_err_t conveyor_admin_group_lag(conveyor_admin_t* a, const char* group, int32_t timeout_ms,
                                                   conveyor_group_lag_t** lagp, conveyor_error_t** errp) {
  if (lagp) *lagp = nullptr;
  if (!a) return null_arg(errp, "conveyor_admin_group_lag", "admin");
  if (!group) return null_arg(errp, "conveyor_admin_group_lag", "group");
  if (!lagp) return null_arg(errp, "conveyor_admin_group_lag", "lagp");
  return guard(errp, [&]() -> Result<void> {
    auto r = a->admin->group_lag(group, timeout_ms);
    if (!r) return fail(r.error());
    auto out = std::make_unique<conveyor_group_lag_s>();
    out->group.desc = std::move(r->group);
    out->rows = std::move(r->partitions);
    *lagp = out.release();
    return {};
  });
}

extern "C" const conveyor_group_description_t* conveyor_group_lag_group(const conveyor_group_lag_t* l) {
  return l ? &l->group : nullptr;
}
extern "C" size_t conveyor_group_lag_count(const conveyor_group_lag_t* l) { return l ? l->rows.size() : 0; }
extern "C" const char* conveyor_group_lag_topic(const conveyor_group_lag_t* l, size_t i) {
  auto* r = lag_at(l, i);
  return r ? r->topic.c_str() : nullptr;
}
extern "C" int32_t conveyor_group_lag_partition(const conveyor_group_lag_t* l, size_t i) {
  auto* r = lag_at(l, i);
  return r ? r->partition : -1;
}
extern "C" int64_t conveyor_group_lag_current_offset(const conveyor_group_lag_t* l, size_t i) {
  auto* r = lag_at(l, i);
  return r ? r->current_offset : -1;
}
extern "C" int64_t conveyor_group_lag_log_end_offset(const conveyor_group_lag_t* l, size_t i) {
  auto* r = lag_at(l, i);
  return r ? r->log_end_offset : -1;
}
extern "C" int64_t conveyor_group_lag_lag(const conveyor_group_lag_t* l, size_t i) {
  auto* r = lag_at(l, i);
  return r ? r->lag : -1;
}
extern "C" const char* conveyor_group_lag_consumer_id(const conveyor_group_lag_t* l, size_t i) {
  auto* r = lag_at(l, i);
  return r ? r->consumer_id.c_str() : nullptr;
}
extern "C" const char* conveyor_group_lag_host(const conveyor_group_lag_t* l, size_t i) {
  auto* r = lag_at(l, i);
  return r ? r->host.c_str() : nullptr;
}
extern "C" const char* conveyor_group_lag_client_id(const conveyor_group_lag_t* l, size_t i) {
  auto* r = lag_at(l, i);
  return r ? r->client_id.c_str() : nullptr;
}
extern "C" conveyor_err_t conveyor_group_lag_error(const conveyor_group_lag_t* l, size_t i) {
  auto* r = lag_at(l, i);
  return r ? static_cast<conveyor_err_t>(r->error) : CONVEYOR_ERR__INVALID_ARG;
}
extern "C" void conveyor_group_lag_destroy(conveyor_group_lag_t* l) { delete l; }

extern "C" conveyor_err_t conveyor_admin_alter_group_offsets(conveyor_admin_t* a, const char* group,
                                                             const conveyor_topic_partition_t* offsets, size_t count,
                                                             int32_t timeout_ms, conveyor_error_t** errp) {
  if (!a) return null_arg(errp, "conveyor_admin_alter_group_offsets", "admin");
  if (!group) return null_arg(errp, "conveyor_admin_alter_group_offsets", "group");
  if (count > 0 && !offsets) return null_arg(errp, "conveyor_admin_alter_group_offsets", "offsets");
  return guard(errp, [&]() -> Result<void> {
    auto tps = copy_partitions("conveyor_admin_alter_group_offsets", offsets, count);
    if (!tps) return fail(tps.error());
    return a->admin->alter_group_offsets(group, *tps, timeout_ms);
  });
}

extern "C" conveyor_err_t conveyor_admin_delete_group(conveyor_admin_t* a, const char* group, int32_t timeout_ms,
                                                      conveyor_error_t** errp) {
  if (!a) return null_arg(errp, "conveyor_admin_delete_group", "admin");
  if (!group) return null_arg(errp, "conveyor_admin_delete_group", "group");
  return guard(errp, [&]() -> Result<void> {
    auto r = a->admin->delete_groups({group}, timeout_ms);
    if (!r) return fail(r.error());
    if (r->front().error.code != ErrorCode::none) return fail(r->front().error);
    return {};
  });
}

// ---- retry and dead-letter handler -------------------------------------------------------

struct conveyor_retry_handler_s {
  std::unique_ptr<client::RetryHandler> handler;
};

namespace {

conveyor_retry_stats_t to_c(const client::RetryStats& s) {
  return conveyor_retry_stats_t{s.records, s.succeeded, s.retries, s.dead_lettered, s.commits, s.commit_failures};
}

constexpr size_t kHandlerErrorBytes = 1024;  // room the C handler gets for its failure reason

}  // namespace

extern "C" conveyor_err_t conveyor_retry_handler_new(conveyor_consumer_t* consumer, conveyor_producer_t* producer,
                                                     const conveyor_config_t* conf,
                                                     conveyor_retry_handler_t** handlerp, conveyor_error_t** errp) {
  if (!handlerp) return null_arg(errp, "conveyor_retry_handler_new", "handlerp");
  *handlerp = nullptr;
  if (!consumer) return null_arg(errp, "conveyor_retry_handler_new", "consumer");
  if (!producer) return null_arg(errp, "conveyor_retry_handler_new", "producer");
  return guard(errp, [&]() -> Result<void> {
    auto config = client::RetryHandlerConfig::from_properties(to_properties(conf));
    if (!config) return fail(config.error());
    auto created = client::RetryHandler::create(*consumer->consumer, *producer->producer, std::move(*config));
    if (!created) return fail(created.error());
    auto handle = std::make_unique<conveyor_retry_handler_s>();
    handle->handler = std::move(*created);
    *handlerp = handle.release();
    return {};
  });
}

extern "C" conveyor_err_t conveyor_retry_handler_run(conveyor_retry_handler_t* h, conveyor_record_handler_cb_t cb,
                                                     void* opaque, int32_t timeout_ms, conveyor_retry_stats_t* statsp,
                                                     conveyor_error_t** errp) {
  if (statsp) *statsp = conveyor_retry_stats_t{};
  if (!h) return null_arg(errp, "conveyor_retry_handler_run", "handler");
  if (!cb) return null_arg(errp, "conveyor_retry_handler_run", "cb");
  return guard(errp, [&]() -> Result<void> {
    auto handler = [&](const client::ConsumerRecord& rec) -> Result<void> {
      conveyor_message_s msg;
      bind_view(msg, rec);
      char reason[kHandlerErrorBytes] = {0};
      if (cb(&msg, reason, sizeof reason, opaque) == 0) return {};
      reason[sizeof reason - 1] = 0;
      return fail(ErrorCode::unknown_server_error, reason[0] ? std::string(reason) : "handler failed");
    };
    auto r = h->handler->run(handler, timeout_ms);
    if (!r) return fail(r.error());
    if (statsp) *statsp = to_c(*r);
    return {};
  });
}

extern "C" void conveyor_retry_handler_stop(conveyor_retry_handler_t* h) {
  if (h) h->handler->stop();
}

extern "C" conveyor_err_t conveyor_retry_handler_stats(const conveyor_retry_handler_t* h,
                                                       conveyor_retry_stats_t* statsp) {
  if (!h || !statsp) return CONVEYOR_ERR__INVALID_ARG;
  *statsp = to_c(h->handler->stats());
  return CONVEYOR_OK;
}

extern "C" void conveyor_retry_handler_destroy(conveyor_retry_handler_t* h) { delete h; }
