#pragma once
// Internal: the client-side partition assignors of Kafka's classic consumer group protocol,
// run by the group leader after JoinGroup (KIP-429 for the cooperative one). Each computes
// what Apache Kafka's Java client computes for the same input where the algorithm is
// deterministic; see core/client/README.md "Assignors" for the exact rules and the one
// place where Java's result depends on hash-map order.
//
// Names (partition.assignment.strategy): "range", "roundrobin", "cooperative-sticky", or the
// Java class names org.apache.kafka.clients.consumer.{RangeAssignor,RoundRobinAssignor,
// CooperativeStickyAssignor}. Pure functions; thread-safe.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/base/result.h"
#include "conveyor/client/types.h"

namespace conveyor::client {

// One member's subscription as the leader sees it in the JoinGroup response.
struct AssignorMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;  // static members sort first (Java MemberInfo)
  std::vector<std::string> topics;               // subscribed topic names
  std::vector<TopicPartition> owned;             // Subscription v1+ owned partitions (KIP-429)
  int32_t generation = -1;                       // Subscription v2+ generation (or user data)
};

// member id -> assigned partitions (every member present, possibly with an empty list),
// each list sorted by (topic, partition).
using GroupAssignment = std::map<std::string, std::vector<TopicPartition>>;

class Assignor {
 public:
  virtual ~Assignor() = default;
  // Kafka's protocol name, sent in JoinGroup ("range", "roundrobin", "cooperative-sticky").
  virtual std::string_view name() const = 0;
  // KIP-429: true if the assignor supports the cooperative (incremental) rebalance protocol.
  virtual bool cooperative() const = 0;
  // partitions_per_topic: topic -> partition count (topics missing here are not assigned).
  virtual GroupAssignment assign(const std::map<std::string, int32_t>& partitions_per_topic,
                                 const std::vector<AssignorMember>& members) const = 0;
  // Subscription user data this assignor wants sent (cooperative-sticky: int32 generation,
  // as Java's CooperativeStickyAssignor writes it).
  virtual std::optional<Bytes> user_data(int32_t generation) const {
    (void)generation;
    return std::nullopt;
  }
};

// nullptr when the name is unknown.
std::unique_ptr<Assignor> make_assignor(std::string_view name);

// Parses a comma-separated partition.assignment.strategy value (spaces ignored, no
// duplicates). Errors: invalid_config naming the key and the bad entry.
Result<std::vector<std::shared_ptr<const Assignor>>> parse_assignment_strategy(std::string_view value);

// Java's AbstractPartitionAssignor.MemberInfo order: members with a group.instance.id first,
// by instance id; then the others by member id.
bool member_less(const AssignorMember& a, const AssignorMember& b);

}  // namespace conveyor::client
