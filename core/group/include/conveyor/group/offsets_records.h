#pragma once
// Records of the internal topic `__consumer_offsets` (Kafka's layouts, so a log written by
// conveyor reads with Kafka's tools). Every key and value starts with an int16 schema version;
// strings are int16-length, bytes int32-length (non-flexible encoding). A record with a null
// value is a tombstone for its key.
//
//   offset commit key   v0/v1: group string, topic string, partition int32        (written: v1)
//   offset commit value v0: offset int64, metadata string, commit_timestamp int64
//                       v1: + expire_timestamp int64 (after commit_timestamp)
//                       v2: offset, metadata, commit_timestamp
//                       v3: offset, leader_epoch int32, metadata, commit_timestamp   (written)
//   group metadata key  v2: group string
//   group metadata value v0: protocol_type string, generation int32, protocol nullable string,
//                            leader nullable string, members [member_id, client_id, client_host,
//                            session_timeout int32, subscription bytes, assignment bytes]
//                        v1: member + rebalance_timeout int32 (after client_host)
//                        v2: + current_state_timestamp int64 (after leader)
//                        v3: member + group_instance_id nullable string (after member_id) (written)
// Flexible versions (offset value v4, group value v4) are refused on read (corrupt_message):
// conveyor never writes them.
//
// Decoding checks every length against the input (codec.h Reader). Errors: corrupt_message.
// Thread-safety: free functions, reentrant.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/base/result.h"
#include "conveyor/protocol/bytes.h"

namespace conveyor::group {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

// Java's String.hashCode of `utf8` taken as UTF-16 code units (invalid UTF-8 bytes count as
// U+FFFD, as Java's decoder replaces them).
int32_t java_string_hash(std::string_view utf8);
// The __consumer_offsets partition of a group: abs(hash) % num_partitions, with Kafka's
// Utils.abs (INT32_MIN maps to 0). num_partitions > 0.
int32_t partition_for_group(std::string_view group_id, int32_t num_partitions);

struct OffsetKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  bool operator==(const OffsetKey&) const = default;
};

struct OffsetValue {
  int64_t offset = -1;
  int32_t leader_epoch = -1;      // -1: none
  std::string metadata;
  int64_t commit_timestamp_ms = -1;
  int64_t expire_timestamp_ms = -1;  // v1 records only; -1 otherwise
  bool operator==(const OffsetValue&) const = default;
};

struct GroupMemberValue {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = -1;
  int32_t session_timeout_ms = -1;
  Bytes subscription;
  Bytes assignment;
  bool operator==(const GroupMemberValue&) const = default;
};

struct GroupMetadataValue {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t current_state_timestamp_ms = -1;
  std::vector<GroupMemberValue> members;
  bool operator==(const GroupMetadataValue&) const = default;
};

Bytes encode_offset_key(const OffsetKey& key);             // v1
Bytes encode_offset_value(const OffsetValue& value);       // v3
Bytes encode_group_key(std::string_view group);            // v2
Bytes encode_group_value(const GroupMetadataValue& value);  // v3

struct RecordKey {
  enum class Kind { offset, group } kind = Kind::offset;
  OffsetKey offset;   // kind == offset
  std::string group;  // kind == group (also offset.group for offsets)
};
Result<RecordKey> decode_record_key(ByteView key);
Result<OffsetValue> decode_offset_value(ByteView value);
Result<GroupMetadataValue> decode_group_value(ByteView value);

}  // namespace conveyor::group
