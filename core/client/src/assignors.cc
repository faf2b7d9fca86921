#include "assignors.h"

#include <algorithm>
#include <deque>
#include <list>
#include <set>

#include <fmt/format.h>

namespace conveyor::client {
namespace {

bool subscribed(const AssignorMember& m, const std::string& topic) {
  return std::find(m.topics.begin(), m.topics.end(), topic) != m.topics.end();
}

GroupAssignment empty_assignment(const std::vector<AssignorMember>& members) {
  GroupAssignment out;
  for (const auto& m : members) out[m.member_id];
  return out;
}

void sort_lists(GroupAssignment& a) {
  for (auto& [id, parts] : a) std::sort(parts.begin(), parts.end());
}

std::vector<const AssignorMember*> sorted_members(const std::vector<AssignorMember>& members) {
  std::vector<const AssignorMember*> out;
  for (const auto& m : members) out.push_back(&m);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return member_less(*a, *b); });
  return out;
}

// Kafka's RangeAssignor: per topic, the subscribed members in MemberInfo order; the first
// (partitions % members) members get one extra partition; ranges are contiguous.
class RangeAssignor final : public Assignor {
 public:
  std::string_view name() const override { return "range"; }
  bool cooperative() const override { return false; }
  GroupAssignment assign(const std::map<std::string, int32_t>& partitions_per_topic,
                         const std::vector<AssignorMember>& members) const override {
    GroupAssignment out = empty_assignment(members);
    auto sorted = sorted_members(members);
    for (const auto& [topic, count] : partitions_per_topic) {
      std::vector<const AssignorMember*> consumers;
      for (auto* m : sorted)
        if (subscribed(*m, topic)) consumers.push_back(m);
      if (consumers.empty() || count <= 0) continue;
      int32_t n = static_cast<int32_t>(consumers.size());
      int32_t per = count / n, extra = count % n;
      for (int32_t i = 0; i < n; ++i) {
        int32_t start = per * i + std::min(i, extra);
        int32_t len = per + (i < extra ? 1 : 0);
        for (int32_t p = start; p < start + len; ++p) out[consumers[static_cast<size_t>(i)]->member_id].push_back({topic, p});
      }
    }
    sort_lists(out);
    return out;
  }
};

// Kafka's RoundRobinAssignor: every partition of every subscribed topic, sorted by (topic,
// partition), dealt round robin over the members in MemberInfo order, skipping members not
// subscribed to the partition's topic.
class RoundRobinAssignor final : public Assignor {
 public:
  std::string_view name() const override { return "roundrobin"; }
  bool cooperative() const override { return false; }
  GroupAssignment assign(const std::map<std::string, int32_t>& partitions_per_topic,
                         const std::vector<AssignorMember>& members) const override {
    GroupAssignment out = empty_assignment(members);
    auto sorted = sorted_members(members);
    if (sorted.empty()) return out;
    std::set<std::string> topics;
    for (const auto& m : members) topics.insert(m.topics.begin(), m.topics.end());
    size_t next = 0;
    for (const auto& topic : topics) {
      auto it = partitions_per_topic.find(topic);
      if (it == partitions_per_topic.end()) continue;
      for (int32_t p = 0; p < it->second; ++p) {
        // At least one member is subscribed to `topic` (it came from a subscription).
        while (!subscribed(*sorted[next % sorted.size()], topic)) ++next;
        out[sorted[next % sorted.size()]->member_id].push_back({topic, p});
        ++next;
      }
    }
    sort_lists(out);
    return out;
  }
};

// Kafka's CooperativeStickyAssignor (AbstractStickyAssignor + KIP-429 adjustment).
class CooperativeStickyAssignor final : public Assignor {
 public:
  std::string_view name() const override { return "cooperative-sticky"; }
  bool cooperative() const override { return true; }
  std::optional<Bytes> user_data(int32_t generation) const override {
    uint32_t g = static_cast<uint32_t>(generation);
    return Bytes{static_cast<uint8_t>(g >> 24), static_cast<uint8_t>(g >> 16), static_cast<uint8_t>(g >> 8),
                 static_cast<uint8_t>(g)};
  }

  GroupAssignment assign(const std::map<std::string, int32_t>& partitions_per_topic,
                         const std::vector<AssignorMember>& members) const override {
    GroupAssignment out = empty_assignment(members);
    if (members.empty()) return out;
    auto exists = [&](const TopicPartition& tp) {
      auto it = partitions_per_topic.find(tp.topic);
      return it != partitions_per_topic.end() && tp.partition >= 0 && tp.partition < it->second;
    };
    // Ownership claims: a higher generation wins; two claims in one generation invalidate
    // the partition for both (it is then "transferring ownership").
    std::map<std::string, const AssignorMember*> by_id;
    for (const auto& m : members) by_id[m.member_id] = &m;
    std::map<std::string, std::vector<TopicPartition>> owned;  // member -> valid owned
    std::map<TopicPartition, std::string> owner;
    std::set<TopicPartition> contested;
    bool all_equal = true;
    std::set<std::string> first_topics(members.front().topics.begin(), members.front().topics.end());
    for (const auto& [id, m] : by_id) {
      owned[id];
      if (std::set<std::string>(m->topics.begin(), m->topics.end()) != first_topics) all_equal = false;
    }
    for (const auto& [id, m] : by_id) {
      for (const auto& tp : m->owned) {
        if (!exists(tp)) continue;
        auto o = owner.find(tp);
        if (o == owner.end()) {
          owned[id].push_back(tp);
          owner[tp] = id;
          continue;
        }
        const std::string other = o->second;
        int32_t other_gen = by_id[other]->generation;
        if (m->generation == other_gen) {
          contested.insert(tp);
          auto& ol = owned[other];
          ol.erase(std::remove(ol.begin(), ol.end(), tp), ol.end());
          owner[tp] = id;
        } else if (m->generation > other_gen) {
          owned[id].push_back(tp);
          auto& ol = owned[other];
          ol.erase(std::remove(ol.begin(), ol.end(), tp), ol.end());
          owner[tp] = id;
        }
      }
    }
    for (const auto& tp : contested) owner.erase(tp);
    for (auto& [id, list] : owned)
      list.erase(std::remove_if(list.begin(), list.end(), [&](auto& tp) { return contested.count(tp) > 0; }),
                 list.end());

    if (all_equal) {
      std::map<std::string, int32_t> ppt;  // only the (common) subscribed topics count
      for (const auto& t : first_topics)
        if (auto it = partitions_per_topic.find(t); it != partitions_per_topic.end()) ppt[t] = it->second;
      constrained(ppt, owned, out);
    } else {
      general(partitions_per_topic, by_id, owned, out);
    }

    // KIP-429: a partition that moves to a new member is first revoked by its old owner;
    // it is handed out only in the next rebalance.
    for (auto& [id, list] : out)
      list.erase(std::remove_if(list.begin(), list.end(),
                                [&](const TopicPartition& tp) {
                                  if (contested.count(tp)) return true;
                                  auto o = owner.find(tp);
                                  return o != owner.end() && o->second != id;
                                }),
                 list.end());
    sort_lists(out);
    return out;
  }

 private:
  // All members subscribe to the same topics (Java's ConstrainedAssignmentBuilder without
  // racks). Members are visited in member-id order where Java walks a HashMap.
  static void constrained(const std::map<std::string, int32_t>& ppt,
                          std::map<std::string, std::vector<TopicPartition>>& owned, GroupAssignment& out);
  static void general(const std::map<std::string, int32_t>& ppt,
                      const std::map<std::string, const AssignorMember*>& by_id,
                      std::map<std::string, std::vector<TopicPartition>>& owned, GroupAssignment& out);
};

void CooperativeStickyAssignor::constrained(const std::map<std::string, int32_t>& ppt,
                                            std::map<std::string, std::vector<TopicPartition>>& owned,
                                            GroupAssignment& out) {
  int64_t total = 0;
  for (const auto& [t, n] : ppt) total += std::max<int32_t>(n, 0);
  int64_t members = static_cast<int64_t>(out.size());
  int64_t min_quota = total / members;
  int64_t max_quota = (total + members - 1) / members;
  int64_t expected_over_min = total % members;
  int64_t current_over_min = 0;
  std::list<std::string> under_min;   // sorted before round robin
  std::list<std::string> exactly_min; // may take one more partition
  std::set<TopicPartition> assigned;

  // 1. Keep owned partitions up to the quota, in (partition, topic) order as Java sorts them.
  for (auto& [id, list] : owned) {
    std::sort(list.begin(), list.end(), [](const TopicPartition& a, const TopicPartition& b) {
      return a.partition != b.partition ? a.partition < b.partition : a.topic < b.topic;
    });
    auto& mine = out[id];
    int64_t n = static_cast<int64_t>(list.size());
    if (n < min_quota) {
      for (auto& tp : list) mine.push_back(tp), assigned.insert(tp);
      under_min.push_back(id);
    } else if (n >= max_quota && current_over_min < expected_over_min) {
      if (++current_over_min == expected_over_min) exactly_min.clear();
      for (int64_t i = 0; i < max_quota; ++i) mine.push_back(list[size_t(i)]), assigned.insert(list[size_t(i)]);
    } else {
      for (int64_t i = 0; i < min_quota; ++i) mine.push_back(list[size_t(i)]), assigned.insert(list[size_t(i)]);
      if (current_over_min < expected_over_min) exactly_min.push_back(id);
    }
  }
  // 2. Unassigned partitions in (topic, partition) order, dealt round robin to members under
  //    minQuota, then one more each to members at minQuota until enough reach maxQuota.
  std::vector<TopicPartition> unassigned;
  for (const auto& [t, n] : ppt)
    for (int32_t p = 0; p < n; ++p)
      if (!assigned.count({t, p})) unassigned.push_back({t, p});
  under_min.sort();
  exactly_min.sort();
  auto it = under_min.begin();
  for (const auto& tp : unassigned) {
    std::string consumer;
    bool from_under = true;
    if (it != under_min.end()) {
      consumer = *it;
    } else if (under_min.empty()) {
      if (exactly_min.empty()) break;  // cannot happen: quotas cover every partition
      consumer = exactly_min.front();
      exactly_min.pop_front();
      from_under = false;
    } else {
      it = under_min.begin();
      consumer = *it;
    }
    auto& mine = out[consumer];
    mine.push_back(tp);
    int64_t count = static_cast<int64_t>(mine.size());
    if (count == min_quota && from_under) {
      it = under_min.erase(it);
      exactly_min.push_back(consumer);
    } else if (count == max_quota) {
      ++current_over_min;
      if (from_under) it = under_min.erase(it);
    } else if (from_under) {
      ++it;
    }
  }
}

void CooperativeStickyAssignor::general(const std::map<std::string, int32_t>& ppt,
                                        const std::map<std::string, const AssignorMember*>& by_id,
                                        std::map<std::string, std::vector<TopicPartition>>& owned,
                                        GroupAssignment& out) {
  // Keep every owned partition the member still subscribes to; give each unassigned partition
  // (topics with fewer potential consumers first, as Java orders them) to the eligible member
  // with the fewest partitions; then move partitions from the fullest to the emptiest eligible
  // member while that narrows the gap by more than one.
  std::map<std::string, std::vector<std::string>> consumers_of;  // topic -> members
  for (const auto& [id, m] : by_id)
    for (const auto& t : m->topics)
      if (ppt.count(t)) consumers_of[t].push_back(id);
  std::set<TopicPartition> assigned;
  for (auto& [id, list] : owned)
    for (const auto& tp : list)
      if (std::find(by_id.at(id)->topics.begin(), by_id.at(id)->topics.end(), tp.topic) != by_id.at(id)->topics.end()) {
        out[id].push_back(tp);
        assigned.insert(tp);
      }
  std::vector<std::string> topics;
  for (const auto& [t, c] : consumers_of) topics.push_back(t);
  std::sort(topics.begin(), topics.end(), [&](const std::string& a, const std::string& b) {
    size_t ca = consumers_of[a].size(), cb = consumers_of[b].size();
    return ca != cb ? ca < cb : a < b;
  });
  auto least_loaded = [&](const std::vector<std::string>& candidates) {
    const std::string* best = nullptr;
    for (const auto& c : candidates)
      if (!best || out[c].size() < out[*best].size()) best = &c;  // candidates sorted by id
    return *best;
  };
  for (const auto& t : topics)
    for (int32_t p = 0; p < ppt.at(t); ++p)
      if (!assigned.count({t, p})) out[least_loaded(consumers_of[t])].push_back({t, p});
  // Balancing: bounded by the number of partitions (each move strictly reduces imbalance).
  size_t limit = 0;
  for (const auto& [t, n] : ppt) limit += static_cast<size_t>(std::max(n, 0));
  for (size_t round = 0; round < limit; ++round) {
    bool moved = false;
    for (auto& [from, list] : out) {
      for (size_t i = 0; i < list.size() && !moved; ++i) {
        const auto& cands = consumers_of[list[i].topic];
        const std::string& to = least_loaded(cands);
        if (out[to].size() + 1 < list.size()) {
          out[to].push_back(list[i]);
          list.erase(list.begin() + static_cast<long>(i));
          moved = true;
        }
      }
      if (moved) break;
    }
    if (!moved) break;
  }
}

}  // namespace

bool member_less(const AssignorMember& a, const AssignorMember& b) {
  if (a.group_instance_id && b.group_instance_id) return *a.group_instance_id < *b.group_instance_id;
  if (a.group_instance_id) return true;
  if (b.group_instance_id) return false;
  return a.member_id < b.member_id;
}

std::unique_ptr<Assignor> make_assignor(std::string_view name) {
  if (name == "range" || name == "org.apache.kafka.clients.consumer.RangeAssignor")
    return std::make_unique<RangeAssignor>();
  if (name == "roundrobin" || name == "org.apache.kafka.clients.consumer.RoundRobinAssignor")
    return std::make_unique<RoundRobinAssignor>();
  if (name == "cooperative-sticky" || name == "org.apache.kafka.clients.consumer.CooperativeStickyAssignor")
    return std::make_unique<CooperativeStickyAssignor>();
  return nullptr;
}

Result<std::vector<std::shared_ptr<const Assignor>>> parse_assignment_strategy(std::string_view value) {
  std::vector<std::shared_ptr<const Assignor>> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    std::string item(value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    start = comma == std::string_view::npos ? value.size() + 1 : comma + 1;
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.erase(item.begin());
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.pop_back();
    if (item.empty()) continue;
    auto a = make_assignor(item);
    if (!a)
      return fail(ErrorCode::invalid_config,
                  fmt::format("partition.assignment.strategy: unknown assignor \"{}\" (range, roundrobin, "
                              "cooperative-sticky or their Java class names)",
                              item));
    for (const auto& e : out)
      if (e->name() == a->name())
        return fail(ErrorCode::invalid_config,
                    fmt::format("partition.assignment.strategy: \"{}\" given twice", a->name()));
    out.push_back(std::move(a));
  }
  if (out.empty()) return fail(ErrorCode::invalid_config, "partition.assignment.strategy: no assignor given");
  return out;
}

}  // namespace conveyor::client
