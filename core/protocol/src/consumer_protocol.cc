// The classic consumer group's embedded protocol (consumer_protocol.h): Subscription and
// Assignment, written from the protocol guide's ConsumerProtocol description and KIP-429,
// KIP-792 and KIP-881.
#include "conveyor/protocol/consumer_protocol.h"

#include <fmt/format.h>

#include <algorithm>

namespace conveyor::protocol {

namespace {

// Smallest encoding of one element, for Reader::array_length's pre-allocation check.
constexpr size_t kMinTopicPartitionsSize = 2 + 4;  // empty topic, empty partition array

void write_topic_partitions(Writer& w, const std::vector<ConsumerTopicPartitions>& tps) {
  w.int32(static_cast<int32_t>(tps.size()));
  for (const auto& tp : tps) {
    w.string(tp.topic);
    w.int32(static_cast<int32_t>(tp.partitions.size()));
    for (int32_t p : tp.partitions) w.int32(p);
  }
}

std::vector<ConsumerTopicPartitions> read_topic_partitions(Reader& r) {
  std::vector<ConsumerTopicPartitions> out;
  int32_t n = r.array_length(kMinTopicPartitionsSize);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    auto& tp = out.emplace_back();
    tp.topic = r.string();
    int32_t np = r.array_length(4);
    for (int32_t j = 0; j < np && r.ok(); ++j) tp.partitions.push_back(r.int32());
  }
  return out;
}

}  // namespace

Bytes encode_consumer_subscription(const ConsumerSubscription& s) {
  Bytes out;
  Writer w(out);
  w.int16(s.version);
  w.int32(static_cast<int32_t>(s.topics.size()));
  for (const auto& t : s.topics) w.string(t);
  w.nullable_bytes(s.user_data);
  if (s.version >= 1) write_topic_partitions(w, s.owned_partitions);
  if (s.version >= 2) w.int32(s.generation_id);
  if (s.version >= 3) w.nullable_string(s.rack_id);
  return out;
}

Result<ConsumerSubscription> decode_consumer_subscription(ByteView data) {
  Reader r(data);
  ConsumerSubscription s;
  s.version = r.int16();
  if (r.ok() && s.version < 0) {
    return fail(ErrorCode::corrupt_message, fmt::format("consumer subscription version {} is negative", s.version));
  }
  int32_t n = r.array_length(2);
  for (int32_t i = 0; i < n && r.ok(); ++i) s.topics.push_back(r.string());
  s.user_data = r.nullable_bytes();
  // Newer versions than we know are read as the newest we know (prefix-compatible). Fields
  // of v1+ may be absent in practice only if the writer used an older version.
  if (s.version >= 1) s.owned_partitions = read_topic_partitions(r);
  if (s.version >= 2) s.generation_id = r.int32();
  if (s.version >= 3) s.rack_id = r.nullable_string();
  if (!r.ok()) return fail(ErrorCode::corrupt_message, "consumer subscription truncated or malformed");
  return s;
}

Bytes encode_consumer_assignment(const ConsumerAssignment& a) {
  Bytes out;
  Writer w(out);
  w.int16(a.version);
  write_topic_partitions(w, a.assigned_partitions);
  w.nullable_bytes(a.user_data);
  return out;
}

Result<ConsumerAssignment> decode_consumer_assignment(ByteView data) {
  ConsumerAssignment a;
  if (data.empty()) return a;
  Reader r(data);
  a.version = r.int16();
  if (r.ok() && a.version < 0) {
    return fail(ErrorCode::corrupt_message, fmt::format("consumer assignment version {} is negative", a.version));
  }
  a.assigned_partitions = read_topic_partitions(r);
  a.user_data = r.nullable_bytes();
  if (!r.ok()) return fail(ErrorCode::corrupt_message, "consumer assignment truncated or malformed");
  return a;
}

}  // namespace conveyor::protocol
