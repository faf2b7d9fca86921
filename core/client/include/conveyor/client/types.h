#pragma once
// Value types shared by the conveyor C++ clients (Producer, Consumer, Admin).
//
// Byte payloads are conveyor::Bytes (std::vector<uint8_t>); a key or value that is
// std::nullopt is a Kafka null (wire length -1), distinct from an empty one.
// All types here are plain values: copyable, movable, no internal synchronisation.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/protocol/bytes.h"
#include "conveyor/protocol/record_batch.h"

namespace conveyor::client {

// Special offsets accepted by Consumer::assign() and Consumer::seek() (the values match
// Kafka's ListOffsets timestamps and librdkafka's RD_KAFKA_OFFSET_* constants).
inline constexpr int64_t kOffsetBeginning = -2;  // log start offset (ListOffsets timestamp -2)
inline constexpr int64_t kOffsetEnd = -1;        // log end offset / high watermark (timestamp -1)
inline constexpr int64_t kOffsetInvalid = -1001; // "no position": apply auto.offset.reset

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  bool operator==(const TopicPartition&) const = default;
  auto operator<=>(const TopicPartition&) const = default;
};

struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = 0;
  // >= 0: absolute offset; kOffsetBeginning, kOffsetEnd, or kOffsetInvalid (= use
  // auto.offset.reset). In commits: the offset of the NEXT record to consume (Kafka convention).
  int64_t offset = kOffsetInvalid;
  std::string metadata;        // committed metadata string (OffsetCommit), "" by default
  int32_t leader_epoch = -1;   // committed leader epoch, -1 = unknown
};

// One record to produce. Kafka source: ProducerRecord (Java), rd_kafka_producev (librdkafka).
struct ProducerRecord {
  std::string topic;
  int32_t partition = -1;  // -1: chosen by the partitioner (murmur2 of the key, sticky if null)
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<protocol::RecordHeader> headers;
  int64_t timestamp_ms = 0;  // CreateTime in ms since the epoch; 0 = now
};

// Outcome of one produced record, handed to its delivery callback inside Producer::poll()
// or Producer::flush(). error.code == ErrorCode::none means the broker acknowledged it.
struct DeliveryReport {
  Error error{ErrorCode::none, {}};
  std::string topic;
  int32_t partition = -1;   // -1 if no partition was ever chosen
  int64_t offset = -1;      // assigned offset; -1 for acks=0 or on error
  int64_t timestamp_ms = -1;  // CreateTime sent, or the broker's LogAppendTime if it returned one
  std::optional<Bytes> key;    // the record's own key and value, moved back to the caller
  std::optional<Bytes> value;
};

// One record read by the consumer. Kafka source: ConsumerRecord (Java).
struct ConsumerRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  protocol::TimestampType timestamp_type = protocol::TimestampType::create_time;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<protocol::RecordHeader> headers;
};

// Metadata of one partition as the Metadata API reports it. Node ids are broker node.id's.
struct PartitionDescription {
  int32_t partition = 0;
  int32_t leader = -1;  // -1: no leader right now
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
  ErrorCode error = ErrorCode::none;
};

struct TopicDescription {
  std::string name;
  std::string topic_id;  // UUID as 8-4-4-4-12 hex; all zeros if the broker gives none (Metadata < v10)
  bool is_internal = false;
  std::vector<PartitionDescription> partitions;  // sorted by partition index
  ErrorCode error = ErrorCode::none;
};

struct BrokerDescription {
  int32_t node_id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

}  // namespace conveyor::client
