#include "fetch_purgatory.h"

#include <algorithm>
#include <atomic>

#include "conveyor/base/assert.h"

namespace conveyor::broker {

struct FetchPurgatory::Entry {
  std::shared_ptr<DelayedOperation> op;
  std::vector<std::string> keys;
  std::mutex mutex;  // serialises try_complete
  bool done = false;
  std::atomic<bool> scheduled{false};  // a retry is already posted
  std::shared_ptr<io::Timer> timer;
};

FetchPurgatory::~FetchPurgatory() { clear(); }

std::string FetchPurgatory::key_string(const std::string& topic, int32_t partition) {
  std::string k = topic;
  k += '\0';
  k += std::to_string(partition);
  return k;
}

void FetchPurgatory::watch(std::shared_ptr<DelayedOperation> op, const std::vector<Key>& keys,
                           std::chrono::milliseconds max_wait) {
  auto entry = std::make_shared<Entry>();
  entry->op = std::move(op);
  for (const auto& k : keys) entry->keys.push_back(key_string(k.topic, k.partition));
  std::sort(entry->keys.begin(), entry->keys.end());
  entry->keys.erase(std::unique(entry->keys.begin(), entry->keys.end()), entry->keys.end());
  {
    std::lock_guard lock(mutex_);
    for (const auto& k : entry->keys) watchers_[k].push_back(entry);
    ++parked_;
  }
  {
    std::lock_guard lock(entry->mutex);
    entry->timer = server_.run_after(max_wait, [this, entry] { run(entry, true); });
  }
  // An append between the caller's check and the registration above would be missed.
  entry->scheduled = true;
  server_.post([this, entry] {
    entry->scheduled = false;
    run(entry, false);
  });
}

void FetchPurgatory::notify(const std::string& topic, int32_t partition) {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(mutex_);
    auto it = watchers_.find(key_string(topic, partition));
    if (it == watchers_.end()) return;
    entries = it->second;
  }
  for (auto& e : entries) {
    if (e->scheduled.exchange(true)) continue;
    server_.post([this, e] {
      e->scheduled = false;
      run(e, false);
    });
  }
}

void FetchPurgatory::run(const std::shared_ptr<Entry>& entry, bool expired) {
  std::shared_ptr<io::Timer> timer;
  {
    std::lock_guard lock(entry->mutex);
    if (entry->done) return;
    bool finished = entry->op->try_complete(expired);
    CONVEYOR_ASSERT_MSG(finished || !expired, "an expired delayed operation must complete");
    if (!finished) return;
    entry->done = true;
    timer = std::move(entry->timer);
    entry->op.reset();
  }
  if (timer && !expired) timer->cancel();
  unregister(entry);
}

void FetchPurgatory::unregister(const std::shared_ptr<Entry>& entry) {
  std::lock_guard lock(mutex_);
  bool found = false;
  for (const auto& k : entry->keys) {
    auto it = watchers_.find(k);
    if (it == watchers_.end()) continue;
    auto& v = it->second;
    auto end = std::remove(v.begin(), v.end(), entry);
    found = found || end != v.end();
    v.erase(end, v.end());
    if (v.empty()) watchers_.erase(it);
  }
  if (found) --parked_;  // not found: clear() already dropped it
}

void FetchPurgatory::clear() {
  std::unordered_map<std::string, std::vector<std::shared_ptr<Entry>>> all;
  {
    std::lock_guard lock(mutex_);
    all.swap(watchers_);
    parked_ = 0;
  }
  for (auto& [k, v] : all) {
    for (auto& e : v) {
      std::lock_guard lock(e->mutex);
      e->done = true;
      if (e->timer) e->timer->cancel();
      e->timer.reset();
      e->op.reset();
    }
  }
}

size_t FetchPurgatory::size() const {
  std::lock_guard lock(mutex_);
  return parked_;
}

}  // namespace conveyor::broker
