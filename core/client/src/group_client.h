#pragma once
// Internal: drives GroupMembership (group_membership.h) for a Consumer. Loop-thread side:
// FindCoordinator, the join/sync/heartbeat/leave requests, pattern matching, leader metadata,
// OffsetCommit/OffsetFetch with coordinator retries. User-thread side (inside poll/close):
// rebalance events and their callbacks, commit callbacks, auto-commit.
//
// Locking: GroupClient::mu_ guards what both threads touch; it is never held while calling
// the consumer's hooks or user callbacks, and never taken while the consumer's own mutex is
// held except through has_pending() (an atomic).
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "conveyor/client/consumer.h"
#include "group_membership.h"
#include "network_client.h"

namespace conveyor::client {

struct GroupClientConfig {
  MembershipConfig membership;
  bool enable_auto_commit = true;
  int64_t auto_commit_interval_ms = 5000;
  bool exclude_internal_topics = true;
  int64_t request_timeout_ms = 30000;
  int64_t metadata_max_age_ms = 300000;
  int64_t retry_backoff_ms = 100;
};

// What the group needs from the consumer's fetch state (user thread, no group lock held).
struct GroupHooks {
  // Current positions (>= 0) of these partitions, or of all assigned ones if empty.
  std::function<std::vector<TopicPartitionOffset>(const std::vector<TopicPartition>&)> positions;
  std::function<void(const std::vector<TopicPartition>&)> unassign;
  std::function<void(const std::vector<TopicPartitionOffset>&)> assign_more;
  std::function<void()> clear_assignment;
  std::function<bool()> has_manual_assignment;
  std::function<void()> notify;  // wakes a poll() waiting for records
};

class GroupClient {
 public:
  GroupClient(GroupClientConfig config, io::ClientLoop& loop, NetworkClient& net, GroupHooks hooks);
  ~GroupClient();
  void start();  // loop thread: timers and metadata listener

  // ---- user thread ----
  Result<void> subscribe(std::vector<std::string> topics, std::optional<std::string> pattern,
                         RebalanceCallbacks callbacks);
  Result<void> unsubscribe(int timeout_ms);
  bool subscribed() const;
  std::vector<std::string> subscription() const;
  std::string member_id() const;
  int32_t generation() const;
  void set_commit_callback(CommitCallback cb);
  Result<void> commit(std::vector<TopicPartitionOffset> offsets, CommitMode mode, int timeout_ms);
  Result<std::vector<TopicPartitionOffset>> committed(const std::vector<TopicPartition>& partitions, int timeout_ms);
  // Start of every poll()/consume(): poll activity, rebalance events, commit callbacks,
  // auto-commit; returns a fatal group error once.
  Result<void> before_poll();
  bool has_pending() const { return pending_.load() && !processing_.load(); }
  // Close: auto-commit, revoke, leave. Then stop() on the loop thread before it stops.
  void close(int timeout_ms);
  void stop();  // loop thread

 private:
  // loop thread
  void drive();
  void tick();
  void find_coordinator();
  void with_coordinator(int64_t deadline_ms, std::function<void(Result<int32_t>)> fn);
  void send_commit(std::vector<TopicPartitionOffset> offsets, int64_t deadline_ms,
                   std::function<void(Result<void>)> done);
  void send_offset_fetch(std::vector<TopicPartition> parts, int64_t deadline_ms,
                         std::function<void(Result<std::vector<TopicPartitionOffset>>)> done);
  void refresh_pattern();
  void on_metadata();
  void leader_metadata(std::vector<std::string> topics, int attempt);
  // user thread
  void process_event(const RebalanceEvent& ev);
  void auto_commit_sync(const std::vector<TopicPartition>& parts);
  void post_event_done();

  GroupClientConfig config_;
  io::ClientLoop& loop_;
  NetworkClient& net_;
  GroupHooks hooks_;
  GroupMembership membership_;  // loop thread only

  // loop-thread state
  bool find_in_flight_ = false;
  struct Waiter {
    int64_t deadline_ms;
    std::function<void(Result<int32_t>)> fn;
  };
  std::vector<Waiter> coordinator_waiters_;
  std::optional<std::regex> pattern_regex_;
  int64_t next_pattern_refresh_ms_ = 0;
  bool pattern_in_flight_ = false;
  uint64_t tick_timer_ = 0;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  // shared state
  mutable std::mutex mu_;
  std::deque<RebalanceEvent> events_;
  std::deque<std::pair<Error, std::vector<TopicPartitionOffset>>> commit_results_;
  std::deque<Error> errors_;
  RebalanceCallbacks callbacks_;
  CommitCallback commit_callback_;
  bool subscribed_ = false;
  std::optional<std::string> pattern_;
  std::vector<std::string> subscription_;  // snapshot for subscription()
  std::string member_id_snapshot_;
  int32_t generation_snapshot_ = -1;
  std::atomic<bool> pending_{false};
  int64_t next_auto_commit_ms_ = 0;
  std::atomic<int64_t> last_poll_report_ms_{0};
  std::atomic<bool> stable_{false};  // a member of a generation, not rebalancing (drive())
  std::atomic<bool> processing_{false};  // inside before_poll (no re-entry from callbacks)
  int leaves_in_flight_ = 0;              // loop thread
  std::vector<std::function<void()>> leave_done_;  // loop thread: run when no LeaveGroup is in flight
};

}  // namespace conveyor::client
