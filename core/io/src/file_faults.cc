// Fault injection registry of the file layer (file_faults.h). Test-only behaviour: nothing
// here runs unless a rule was added or $CONVEYOR_FAULT_INJECTION_FILE is set.
#include "conveyor/io/file_faults.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace conveyor::io::faults {
namespace {

constexpr int64_t kFileCheckIntervalMs = 20;   // how often the rules file is stat'ed
constexpr size_t kMaxRulesFileBytes = 64 * 1024;

struct Entry {
  int64_t id = 0;
  Rule rule;
  bool from_file = false;
  int64_t matched = 0;
  int64_t failed = 0;
};

struct Registry {
  std::mutex mutex;
  std::vector<Entry> entries;
  int64_t next_id = 1;
  // $CONVEYOR_FAULT_INJECTION_FILE
  std::string file;
  int64_t file_checked_ms = -1;
  int64_t file_mtime_ns = -1;
  int64_t file_size = -1;
};

std::atomic<int> g_armed{-1};  // -1: not initialised; 0: no rules; 1: rules or a rules file

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: file calls may run during exit
  return *r;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void update_armed_locked(Registry& r) {
  g_armed.store(!r.entries.empty() || !r.file.empty() ? 1 : 0, std::memory_order_release);
}

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    if (const char* f = std::getenv("CONVEYOR_FAULT_INJECTION_FILE"); f && *f) r.file = f;
    update_armed_locked(r);
  });
}

std::optional<Op> parse_op(const std::string& s) {
  if (s == "open") return Op::open;
  if (s == "read") return Op::read;
  if (s == "write") return Op::write;
  if (s == "fsync") return Op::fsync;
  if (s == "truncate") return Op::truncate;
  if (s == "allocate") return Op::allocate;
  if (s == "rename") return Op::rename;
  if (s == "remove") return Op::remove;
  if (s == "mkdir") return Op::mkdir;
  return std::nullopt;
}

// Reads the rules file with raw syscalls (not through file.cc, which would recurse here).
void reload_file_locked(Registry& r) {
  int64_t t = now_ms();
  if (r.file_checked_ms >= 0 && t - r.file_checked_ms < kFileCheckIntervalMs) return;
  r.file_checked_ms = t;
  struct stat st;
  int64_t mtime = -1, size = -1;
  if (::stat(r.file.c_str(), &st) == 0) {
    mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    size = static_cast<int64_t>(st.st_size);
  }
  if (mtime == r.file_mtime_ns && size == r.file_size) return;
  r.file_mtime_ns = mtime;
  r.file_size = size;
  std::string text;
  if (size > 0 && static_cast<size_t>(size) <= kMaxRulesFileBytes) {
    int fd = ::open(r.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      text.resize(static_cast<size_t>(size));
      ssize_t n = ::pread(fd, text.data(), text.size(), 0);
      text.resize(n > 0 ? static_cast<size_t>(n) : 0);
      ::close(fd);
    }
  }
  std::erase_if(r.entries, [](const Entry& e) { return e.from_file; });
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string op_s, err_s, prefix;
    if (!(words >> op_s >> err_s >> prefix)) continue;
    auto op = parse_op(op_s);
    auto err = parse_errno(err_s);
    if (!op || !err) continue;
    Rule rule{*op, prefix, *err};
    std::string opt;
    while (words >> opt) {
      auto eq = opt.find('=');
      if (eq == std::string::npos) continue;
      int64_t v = std::strtoll(opt.c_str() + eq + 1, nullptr, 10);
      std::string key = opt.substr(0, eq);
      if (key == "skip") rule.skip = v;
      if (key == "times") rule.times = v;
      if (key == "partial") rule.partial_bytes = v;
      if (key == "delay_ms") rule.delay_ms = v;
    }
    r.entries.push_back(Entry{r.next_id++, std::move(rule), true});
  }
}

}  // namespace

std::optional<int> parse_errno(const std::string& text) {
  static const std::pair<const char*, int> kNames[] = {
      {"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS}, {"ENOMEM", ENOMEM},
      {"EACCES", EACCES}, {"EPERM", EPERM}, {"EBADF", EBADF}, {"EINVAL", EINVAL}, {"OK", 0}};
  for (const auto& [name, value] : kNames)
    if (text == name) return value;
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (!text.empty() && end && *end == '\0' && v >= 0 && v < 4096) return static_cast<int>(v);
  return std::nullopt;
}

int64_t add(Rule rule) {
  init_once();
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  int64_t id = r.next_id++;
  r.entries.push_back(Entry{id, std::move(rule), false});
  update_armed_locked(r);
  return id;
}

void remove(int64_t id) {
  init_once();
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  std::erase_if(r.entries, [id](const Entry& e) { return e.id == id; });
  update_armed_locked(r);
}

void clear() {
  init_once();
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  std::erase_if(r.entries, [](const Entry& e) { return !e.from_file; });
  update_armed_locked(r);
}

int64_t matched(int64_t id) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& e : r.entries)
    if (e.id == id) return e.matched;
  return 0;
}

int64_t failed(int64_t id) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& e : r.entries)
    if (e.id == id) return e.failed;
  return 0;
}

namespace detail {

int check(Op op, const std::string& path, int64_t* partial_bytes) {
  int armed = g_armed.load(std::memory_order_relaxed);
  if (armed == 0) return 0;
  if (armed < 0) {
    init_once();
    if (g_armed.load(std::memory_order_acquire) == 0) return 0;
  }
  auto& r = registry();
  int error = 0;
  int64_t delay_ms = 0;
  {
  std::lock_guard lock(r.mutex);
  if (!r.file.empty()) reload_file_locked(r);
  for (auto& e : r.entries) {
    if (e.rule.op != op || path.compare(0, e.rule.path_prefix.size(), e.rule.path_prefix) != 0) continue;
    delay_ms = std::max(delay_ms, e.rule.delay_ms);
    int64_t n = e.matched++;
    if (error != 0 || e.rule.error == 0 || n < e.rule.skip) continue;
    if (e.rule.times >= 0 && n - e.rule.skip >= e.rule.times) continue;
    ++e.failed;
    error = e.rule.error;
    if (partial_bytes) *partial_bytes = e.rule.partial_bytes;
  }
  }
  if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  return error;
}

}  // namespace detail
}  // namespace conveyor::io::faults
