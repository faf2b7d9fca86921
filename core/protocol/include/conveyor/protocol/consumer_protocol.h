#pragma once
// The embedded "consumer" protocol of classic consumer groups (protocol_type "consumer"):
// what a member puts in JoinGroup's protocol metadata (its Subscription) and what the leader
// hands each member in SyncGroup (its Assignment). The broker treats both as opaque bytes;
// clients and admin tools (describe a group's per-partition owners) decode them.
//
// Layout (Kafka's ConsumerProtocol, non-flexible encoding: int16 string lengths, int32 array
// counts, int32 bytes lengths):
//   Subscription v0: version int16, topics [string], user_data nullable bytes
//                v1: + owned_partitions [topic string, partitions [int32]]   (KIP-429)
//                v2: + generation_id int32 (default -1)                       (KIP-792)
//                v3: + rack_id nullable string                                (KIP-881)
//   Assignment   v0–v3: version int16, assigned_partitions [topic string, partitions [int32]],
//                user_data nullable bytes
// Decoding accepts versions above the newest known (fields are prefix-compatible: the known
// fields are read and the rest ignored), as Kafka's clients do. Lengths are checked against
// the input before allocating (codec.h). Errors: corrupt_message on malformed input.
// Thread-safety: plain values; free functions are reentrant.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/base/result.h"
#include "conveyor/protocol/codec.h"

namespace conveyor::protocol {

inline constexpr const char* kConsumerProtocolType = "consumer";
inline constexpr int16_t kConsumerSubscriptionMaxVersion = 3;
inline constexpr int16_t kConsumerAssignmentMaxVersion = 3;

struct ConsumerTopicPartitions {
  std::string topic;
  std::vector<int32_t> partitions;
  bool operator==(const ConsumerTopicPartitions&) const = default;
};

struct ConsumerSubscription {
  int16_t version = kConsumerSubscriptionMaxVersion;
  std::vector<std::string> topics;
  std::optional<Bytes> user_data;
  std::vector<ConsumerTopicPartitions> owned_partitions;  // v1+
  int32_t generation_id = -1;                             // v2+
  std::optional<std::string> rack_id;                     // v3+
  bool operator==(const ConsumerSubscription&) const = default;
};

struct ConsumerAssignment {
  int16_t version = kConsumerAssignmentMaxVersion;
  std::vector<ConsumerTopicPartitions> assigned_partitions;
  std::optional<Bytes> user_data;
  bool operator==(const ConsumerAssignment&) const = default;
};

// Encodes at s.version (0..3; fields the version cannot carry are dropped).
Bytes encode_consumer_subscription(const ConsumerSubscription& s);
Result<ConsumerSubscription> decode_consumer_subscription(ByteView data);

// Encodes at a.version (0..3). An empty input decodes to an empty assignment (a member that
// was given nothing may receive zero bytes from some leaders).
Bytes encode_consumer_assignment(const ConsumerAssignment& a);
Result<ConsumerAssignment> decode_consumer_assignment(ByteView data);

}  // namespace conveyor::protocol
