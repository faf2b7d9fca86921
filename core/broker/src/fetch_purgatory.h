#pragma once
// Delayed operations waiting for appends (Kafka's "purgatory" for delayed fetches): a Fetch
// that cannot satisfy min_bytes yet is parked here, keyed by the partitions it reads, and is
// retried when one of them gets an append, or completed as is when max_wait_ms passes.
//
// Bound: at most one parked operation per connection (a connection has one request in flight),
// so the purgatory holds at most max.connections operations.
//
// Thread-safety: all methods are thread-safe. try_complete() of one operation never runs
// concurrently with itself.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "conveyor/io/server.h"

namespace conveyor::broker {

class DelayedOperation {
 public:
  virtual ~DelayedOperation() = default;
  // Tries to finish (send the response). `expired`: the wait is over and the operation must
  // finish now. Returns true when finished.
  virtual bool try_complete(bool expired) = 0;
};

class FetchPurgatory {
 public:
  explicit FetchPurgatory(io::Server& server) : server_(server) {}
  ~FetchPurgatory();

  struct Key {
    std::string topic;
    int32_t partition = 0;
  };
  // Parks `op` (the caller already found it cannot complete) until an append to one of
  // `keys` lets it complete, or `max_wait` passes. Checks once more right away so an append
  // racing with the park is not missed.
  void watch(std::shared_ptr<DelayedOperation> op, const std::vector<Key>& keys, std::chrono::milliseconds max_wait);

  // An append to topic-partition happened: retry the operations watching it (on io threads).
  void notify(const std::string& topic, int32_t partition);

  // Drops every parked operation without completing it (broker stop).
  void clear();

  size_t size() const;

 private:
  struct Entry;
  void run(const std::shared_ptr<Entry>& entry, bool expired);
  void unregister(const std::shared_ptr<Entry>& entry);
  static std::string key_string(const std::string& topic, int32_t partition);

  io::Server& server_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Entry>>> watchers_;
  size_t parked_ = 0;
};

}  // namespace conveyor::broker
