#include "conveyor/storage/log_manager.h"

#include "conveyor/storage/cleaner.h"

#include <algorithm>
#include <chrono>
#include <charconv>
#include <random>
#include <set>

#include "conveyor/base/log.h"
#include "conveyor/io/file.h"

namespace conveyor::storage {
namespace {

constexpr const char* kComponent = "storage";
constexpr const char* kRecoveryCheckpoint = "recovery-point-offset-checkpoint";
constexpr const char* kLogStartCheckpoint = "log-start-offset-checkpoint";
constexpr const char* kCleanShutdown = ".kafka_cleanshutdown";
constexpr const char* kPartitionMetadata = "partition.metadata";
constexpr const char* kTopicConfig = "topic-config.properties";
constexpr size_t kMaxCheckpointBytes = 64 * 1024 * 1024;
constexpr size_t kMaxSmallFileBytes = 1024 * 1024;  // partition.metadata, topic config
constexpr size_t kMaxTopicNameLength = 249;

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Wall-clock ms since the epoch: producer state expiry at open compares it with batch
// timestamps (LogOpenOptions::now_ms).
int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

std::string random_hex32() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

std::string format_properties(const Properties& p) {
  std::string out;
  for (const auto& [k, v] : p.values()) out += k + "=" + v + "\n";
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Text formats

Result<void> validate_topic_name(const std::string& name) {
  if (name.empty()) return fail(ErrorCode::invalid_topic_exception, "topic name is empty");
  if (name == "." || name == "..")
    return fail(ErrorCode::invalid_topic_exception, fmt::format("topic name \"{}\" is not allowed", name));
  if (name.size() > kMaxTopicNameLength)
    return fail(ErrorCode::invalid_topic_exception,
                fmt::format("topic name is {} characters, the limit is {}", name.size(), kMaxTopicNameLength));
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return fail(ErrorCode::invalid_topic_exception,
                  fmt::format("topic name \"{}\" has a character outside [a-zA-Z0-9._-]", name));
  return {};
}

std::string topic_id_to_string(const TopicId& id) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : id) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64Url[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kBase64Url[(acc << (6 - bits)) & 0x3f];
  return out;  // 22 characters, no padding
}

std::optional<TopicId> topic_id_from_string(std::string_view text) {
  if (text.size() != 22) return std::nullopt;
  TopicId id{};
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : text) {
    const char* p = std::find(kBase64Url, kBase64Url + 64, c);
    if (p == kBase64Url + 64) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(p - kBase64Url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < id.size()) id[n++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  if (n != id.size() || (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return id;
}

std::string format_partition_metadata(const TopicId& topic_id) {
  return fmt::format("version: 0\ntopic_id: {}\n", topic_id_to_string(topic_id));
}

Result<TopicId> parse_partition_metadata(std::string_view text) {
  auto lines = split_lines(text);
  std::optional<TopicId> id;
  bool version_ok = false;
  for (auto line : lines) {
    line = trim(line);
    if (line.empty()) continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return fail(ErrorCode::corrupt_message, fmt::format("partition.metadata: malformed line \"{}\"", line));
    auto key = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (key == "version") {
      if (value != "0") return fail(ErrorCode::corrupt_message, fmt::format("partition.metadata: version {}", value));
      version_ok = true;
    } else if (key == "topic_id") {
      id = topic_id_from_string(value);
      if (!id) return fail(ErrorCode::corrupt_message, fmt::format("partition.metadata: bad topic id \"{}\"", value));
    }
  }
  if (!version_ok || !id) return fail(ErrorCode::corrupt_message, "partition.metadata: missing version or topic_id");
  return *id;
}

std::string format_offset_checkpoint(const std::vector<CheckpointEntry>& entries) {
  std::string out = fmt::format("0\n{}\n", entries.size());
  for (const auto& e : entries) out += fmt::format("{} {} {}\n", e.topic, e.partition, e.offset);
  return out;
}

Result<std::vector<CheckpointEntry>> parse_offset_checkpoint(std::string_view text) {
  auto corrupt = [](std::string why) { return fail(ErrorCode::corrupt_message, "offset checkpoint: " + why); };
  auto lines = split_lines(text);
  // A complete file ends with a newline.
  if (text.empty() || text.back() != '\n') return corrupt("missing final newline (torn write?)");
  if (lines.size() < 2) return corrupt("missing version or count line");
  int version = -1;
  if (!parse_number(trim(lines[0]), version) || version != 0) return corrupt(fmt::format("bad version \"{}\"", lines[0]));
  size_t count = 0;
  if (!parse_number(trim(lines[1]), count)) return corrupt(fmt::format("bad count \"{}\"", lines[1]));
  if (lines.size() - 2 != count)
    return corrupt(fmt::format("count says {} entries, found {}", count, lines.size() - 2));
  std::vector<CheckpointEntry> out;
  out.reserve(count);
  for (size_t i = 2; i < lines.size(); ++i) {
    auto line = trim(lines[i]);
    auto s1 = line.find(' ');
    auto s2 = line.rfind(' ');
    if (s1 == std::string_view::npos || s1 == s2) return corrupt(fmt::format("malformed line \"{}\"", line));
    CheckpointEntry e;
    e.topic = std::string(line.substr(0, s1));
    if (!parse_number(line.substr(s1 + 1, s2 - s1 - 1), e.partition) || !parse_number(line.substr(s2 + 1), e.offset) ||
        e.partition < 0 || e.offset < 0 || e.topic.empty())
      return corrupt(fmt::format("malformed line \"{}\"", line));
    out.push_back(std::move(e));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// LogManager

LogManager::LogManager(std::vector<std::string> log_dirs, Properties broker_properties)
    : log_dirs_(std::move(log_dirs)), broker_properties_(std::move(broker_properties)) {
  relay_->owner = this;
  for (const auto& d : log_dirs_) flushers_[d] = std::make_unique<GroupCommitFlusher>(d);
}

LogManager::~LogManager() {
  if (auto r = close(); !r) log::error(kComponent, "log manager close failed: {}", r.error().message);
  std::lock_guard lock(relay_->mutex);
  relay_->owner = nullptr;
}

void LogManager::attach(const std::string& log_dir, const std::shared_ptr<PartitionLog>& log) {
  std::weak_ptr<PartitionLog> weak = log;
  log->set_io_failure_handler([relay = relay_, log_dir](const std::string& reason) {
    std::lock_guard lock(relay->mutex);
    if (relay->owner) relay->owner->mark_log_dir_offline(log_dir, reason);
  });
  // Kafka flushes the segments before a new one in the background at each roll, so the
  // recovery point follows the rolls and a crash rescans at most the active segment.
  log->set_roll_handler([relay = relay_, log_dir, weak] {
    auto l = weak.lock();
    if (!l) return;
    std::lock_guard lock(relay->mutex);
    if (!relay->owner) return;
    if (auto it = relay->owner->flushers_.find(log_dir); it != relay->owner->flushers_.end())
      it->second->request(std::move(l), 0, nullptr);
  });
}

void LogManager::commit_async(const std::shared_ptr<PartitionLog>& log, int64_t offset,
                              GroupCommitFlusher::Done done) {
  std::string dir = log_dir_of(log->topic(), log->partition());
  auto it = flushers_.find(dir);
  if (dir.empty() || it == flushers_.end()) {
    if (done)
      done(fail(ErrorCode::kafka_storage_error,
                fmt::format("{}-{} is not hosted here", log->topic(), log->partition())));
    return;
  }
  it->second->request(log, offset, std::move(done));
}

int64_t LogManager::group_commit_rounds(const std::string& log_dir) const {
  auto it = flushers_.find(log_dir);
  return it == flushers_.end() ? -1 : it->second->rounds();
}

void LogManager::mark_log_dir_offline(const std::string& log_dir, const std::string& reason) {
  std::vector<std::shared_ptr<PartitionLog>> logs;
  {
    std::lock_guard lock(mutex_);
    if (!offline_dirs_.insert(log_dir).second) return;
    for (const auto& [k, e] : partitions_)
      if (e.log_dir == log_dir) logs.push_back(e.log);
  }
  log::error(kComponent,
             "log dir {} is offline after an I/O failure ({}); its {} partition(s) answer KAFKA_STORAGE_ERROR "
             "until the broker restarts",
             log_dir, reason, logs.size());
  for (auto& l : logs) l->mark_offline(fmt::format("log dir {} is offline: {}", log_dir, reason));
}

bool LogManager::log_dir_online(const std::string& log_dir) const {
  std::lock_guard lock(mutex_);
  return !offline_dirs_.count(log_dir);
}

std::vector<std::string> LogManager::offline_log_dirs() const {
  std::lock_guard lock(mutex_);
  return {offline_dirs_.begin(), offline_dirs_.end()};
}

std::string LogManager::log_dir_of(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mutex_);
  auto it = partitions_.find({topic, partition});
  return it == partitions_.end() ? std::string() : it->second.log_dir;
}

Result<std::unique_ptr<LogManager>> LogManager::open(std::vector<std::string> log_dirs, Properties broker_properties) {
  if (log_dirs.empty()) return fail(ErrorCode::invalid_config, "log.dirs: no log directory given");
  if (auto c = make_log_config(broker_properties); !c) return fail(c.error());
  std::unique_ptr<LogManager> m(new LogManager(log_dirs, std::move(broker_properties)));
  for (const auto& dir : m->log_dirs_) {
    if (auto r = io::create_directories(dir); !r) return fail(r.error());
    std::string marker = io::join_path(dir, kCleanShutdown);
    bool clean = io::path_exists(marker);
    std::map<std::pair<std::string, int32_t>, int64_t> recovery_points;
    std::string checkpoint_path = io::join_path(dir, kRecoveryCheckpoint);
    if (io::path_exists(checkpoint_path)) {
      auto text = io::read_file(checkpoint_path, kMaxCheckpointBytes);
      auto parsed = text ? parse_offset_checkpoint(*text) : Result<std::vector<CheckpointEntry>>(fail(text.error()));
      if (parsed) {
        for (auto& e : *parsed) recovery_points[{e.topic, e.partition}] = e.offset;
      } else {
        log::warn(kComponent, "{}: ignoring {} ({}); every log is rescanned", dir, kRecoveryCheckpoint,
                  parsed.error().message);
        clean = false;
      }
    }
    std::map<std::pair<std::string, int32_t>, int64_t> log_starts;
    std::string start_path = io::join_path(dir, kLogStartCheckpoint);
    if (io::path_exists(start_path)) {
      auto text = io::read_file(start_path, kMaxCheckpointBytes);
      auto parsed = text ? parse_offset_checkpoint(*text) : Result<std::vector<CheckpointEntry>>(fail(text.error()));
      if (parsed) {
        for (auto& e : *parsed) log_starts[{e.topic, e.partition}] = e.offset;
      } else {
        // Written atomically, so this is not a torn write; records below the lost starts may
        // be served again until the next DeleteRecords or retention.
        log::warn(kComponent, "{}: ignoring {} ({})", dir, kLogStartCheckpoint, parsed.error().message);
      }
    }
    // Logs the cleaner has compacted keep offset gaps whatever their policy is now.
    std::set<std::pair<std::string, int32_t>> compacted_once;
    std::string cleaner_path = io::join_path(dir, kCleanerOffsetCheckpoint);
    if (io::path_exists(cleaner_path)) {
      auto text = io::read_file(cleaner_path, kMaxCheckpointBytes);
      auto parsed = text ? parse_offset_checkpoint(*text) : Result<std::vector<CheckpointEntry>>(fail(text.error()));
      if (parsed)
        for (auto& e : *parsed) compacted_once.insert({e.topic, e.partition});
      else
        log::warn(kComponent, "{}: ignoring {} ({})", dir, kCleanerOffsetCheckpoint, parsed.error().message);
    }
    auto entries = io::list_directory(dir);
    if (!entries) return fail(entries.error());
    for (const auto& e : *entries) {
      std::string path = io::join_path(dir, e.name);
      if (!e.is_directory) {
        if (e.name.ends_with(".tmp")) (void)io::remove_file(path);
        continue;
      }
      if (e.name.ends_with("-delete")) {
        log::info(kComponent, "removing {} left by an unfinished delete", path);
        if (auto r = io::remove_all(path); !r) return fail(r.error());
        continue;
      }
      auto tp = parse_partition_dir_name(e.name);
      if (!tp) continue;
      std::pair<std::string, int32_t> key{tp->topic, tp->partition};
      if (m->partitions_.count(key))
        return fail(ErrorCode::kafka_storage_error,
                    fmt::format("{} exists in both {} and {}", e.name, m->partitions_[key].log_dir, dir));
      Entry entry;
      entry.log_dir = dir;
      std::string meta_path = io::join_path(path, kPartitionMetadata);
      auto meta = io::read_file(meta_path, kMaxSmallFileBytes);
      auto id = meta ? parse_partition_metadata(*meta) : Result<TopicId>(fail(meta.error()));
      if (id)
        entry.topic_id = *id;
      else
        log::warn(kComponent, "{}: no usable {} ({}); topic id is zero", path, kPartitionMetadata, id.error().message);
      std::string config_path = io::join_path(path, kTopicConfig);
      if (io::path_exists(config_path)) {
        auto text = io::read_file(config_path, kMaxSmallFileBytes);
        if (!text) return fail(text.error());
        auto props = Properties::parse(*text);
        if (!props) return fail(props.error());
        entry.overrides = std::move(*props);
      }
      auto config = make_log_config(m->broker_properties_, entry.overrides);
      if (!config) return fail(config.error());
      LogOpenOptions options;
      options.clean_shutdown = clean;
      auto rp = recovery_points.find(key);
      options.recovery_point = rp == recovery_points.end() ? 0 : rp->second;
      if (auto ls = log_starts.find(key); ls != log_starts.end()) options.log_start_offset = ls->second;
      options.may_have_offset_gaps = compacted_once.count(key) > 0;
      options.now_ms = wall_clock_ms();  // expired producer state does not come back
      auto log = PartitionLog::open(path, tp->topic, tp->partition, *config, options);
      if (!log) return fail(log.error());
      entry.log = std::shared_ptr<PartitionLog>(std::move(*log));
      m->attach(dir, entry.log);
      m->partitions_[key] = std::move(entry);
    }
    if (clean || io::path_exists(marker)) {
      if (auto r = io::remove_file(marker); !r) return fail(r.error());
      if (auto r = io::fsync_directory(dir); !r) return fail(r.error());
    }
  }
  if (auto r = m->checkpoint_recovery_points(); !r) return fail(r.error());
  log::info(kComponent, "loaded {} partition logs from {} log dir(s)", m->partitions_.size(), m->log_dirs_.size());
  return m;
}

Result<std::shared_ptr<PartitionLog>> LogManager::create_partition(const std::string& topic, int32_t partition,
                                                                   const TopicId& topic_id,
                                                                   const Properties& config_overrides) {
  if (auto r = validate_topic_name(topic); !r) return fail(r.error());
  if (partition < 0) return fail(ErrorCode::invalid_partitions, fmt::format("partition {} is negative", partition));
  auto config = make_log_config(broker_properties_, config_overrides);
  if (!config) return fail(config.error());
  std::lock_guard lock(mutex_);
  if (closed_) return fail(ErrorCode::kafka_storage_error, "log manager is closed");
  auto key = std::make_pair(topic, partition);
  if (auto it = partitions_.find(key); it != partitions_.end()) {
    if (it->second.topic_id != topic_id)
      return fail(ErrorCode::topic_already_exists,
                  fmt::format("{}-{} exists with topic id {}", topic, partition, topic_id_to_string(it->second.topic_id)));
    return it->second.log;
  }
  // The log dir with the fewest partitions.
  std::map<std::string, size_t> counts;
  for (const auto& d : log_dirs_)
    if (!offline_dirs_.count(d)) counts[d] = 0;  // only online dirs take new partitions
  if (counts.empty())
    return fail(ErrorCode::kafka_storage_error, fmt::format("cannot create {}-{}: every log dir is offline", topic, partition));
  for (const auto& [k, e] : partitions_)
    if (counts.count(e.log_dir)) counts[e.log_dir]++;
  std::string log_dir = counts.begin()->first;
  for (const auto& d : log_dirs_)
    if (counts.count(d) && counts[d] < counts[log_dir]) log_dir = d;
  std::string path = io::join_path(log_dir, partition_dir_name(topic, partition));
  if (auto r = io::create_directories(path); !r) return fail(r.error());
  if (auto r = io::write_file_atomic(io::join_path(path, kPartitionMetadata), format_partition_metadata(topic_id)); !r)
    return fail(r.error());
  if (!config_overrides.values().empty()) {
    if (auto r = io::write_file_atomic(io::join_path(path, kTopicConfig), format_properties(config_overrides)); !r)
      return fail(r.error());
  }
  auto log = PartitionLog::open(path, topic, partition, *config, LogOpenOptions{});
  if (!log) return fail(log.error());
  if (auto r = io::fsync_directory(log_dir); !r) return fail(r.error());
  Entry entry;
  entry.log_dir = log_dir;
  entry.topic_id = topic_id;
  entry.overrides = config_overrides;
  entry.log = std::shared_ptr<PartitionLog>(std::move(*log));
  attach(log_dir, entry.log);
  auto out = entry.log;
  partitions_[key] = std::move(entry);
  log::info(kComponent, "created partition {}-{} in {}", topic, partition, log_dir);
  return out;
}

std::shared_ptr<PartitionLog> LogManager::get(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mutex_);
  auto it = partitions_.find({topic, partition});
  return it == partitions_.end() ? nullptr : it->second.log;
}

Result<void> LogManager::delete_partition(const std::string& topic, int32_t partition) {
  Entry entry;
  {
    std::lock_guard lock(mutex_);
    auto it = partitions_.find({topic, partition});
    if (it == partitions_.end())
      return fail(ErrorCode::unknown_topic_or_partition, fmt::format("no partition {}-{}", topic, partition));
    entry = std::move(it->second);
    partitions_.erase(it);
  }
  bool had_start = entry.log->log_start_offset() > 0;
  (void)entry.log->close();
  {
    std::lock_guard cleaner_lock(cleaner_mutex_);
    if (cleaner_) cleaner_->forget(topic, partition);
  }
  // A re-created partition of the same name must not inherit this start after a restart.
  if (had_start)
    if (auto r = checkpoint_log_start_offsets(); !r) return r;
  std::string from = entry.log->dir();
  std::string to = io::join_path(entry.log_dir, fmt::format("{}.{}-delete", partition_dir_name(topic, partition), random_hex32()));
  if (auto r = io::rename_path(from, to); !r) return r;
  if (auto r = io::fsync_directory(entry.log_dir); !r) return r;
  if (auto r = io::remove_all(to); !r) return r;
  log::info(kComponent, "deleted partition {}-{}", topic, partition);
  return {};
}

Result<void> LogManager::delete_topic(const std::string& topic) {
  std::vector<int32_t> partitions;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [k, e] : partitions_)
      if (k.first == topic) partitions.push_back(k.second);
  }
  if (partitions.empty()) return fail(ErrorCode::unknown_topic_or_partition, fmt::format("no topic {}", topic));
  for (int32_t p : partitions)
    if (auto r = delete_partition(topic, p); !r && r.error().code != ErrorCode::unknown_topic_or_partition) return r;
  return {};
}

std::vector<TopicInfo> LogManager::topics() const {
  std::lock_guard lock(mutex_);
  std::vector<TopicInfo> out;
  for (const auto& [k, e] : partitions_) {  // ordered by (topic, partition)
    if (out.empty() || out.back().name != k.first) {
      TopicInfo t;
      t.name = k.first;
      t.topic_id = e.topic_id;
      t.config_overrides = e.overrides;
      out.push_back(std::move(t));
    }
    out.back().partitions.push_back(PartitionInfo{k.second, e.log});
  }
  return out;
}

std::optional<TopicInfo> LogManager::topic(const std::string& name) const {
  std::lock_guard lock(mutex_);
  std::optional<TopicInfo> out;
  for (auto it = partitions_.lower_bound({name, INT32_MIN}); it != partitions_.end() && it->first.first == name; ++it) {
    if (!out) {
      out.emplace();
      out->name = name;
      out->topic_id = it->second.topic_id;
      out->config_overrides = it->second.overrides;
    }
    out->partitions.push_back(PartitionInfo{it->first.second, it->second.log});
  }
  return out;
}

Result<void> LogManager::alter_topic_config(const std::string& topic, const Properties& config_overrides) {
  auto config = make_log_config(broker_properties_, config_overrides);
  if (!config) return fail(config.error());
  // The files are written (and fsync'd) outside the map's mutex, so Produce and Fetch (get())
  // never wait for a topic's config change; the caller serialises changes of one topic.
  std::vector<std::shared_ptr<PartitionLog>> logs;
  {
    std::lock_guard lock(mutex_);
    for (auto it = partitions_.lower_bound({topic, INT32_MIN}); it != partitions_.end() && it->first.first == topic; ++it)
      logs.push_back(it->second.log);
  }
  if (logs.empty()) return fail(ErrorCode::unknown_topic_or_partition, fmt::format("no topic {}", topic));
  for (const auto& log : logs) {
    std::string path = io::join_path(log->dir(), kTopicConfig);
    if (config_overrides.values().empty()) {
      if (auto r = io::remove_file(path); !r) return r;
      if (auto r = io::fsync_directory(log->dir()); !r) return r;  // the removal survives a crash
    } else if (auto r = io::write_file_atomic(path, format_properties(config_overrides)); !r) {
      return r;
    }
  }
  {
    std::lock_guard lock(mutex_);
    for (auto it = partitions_.lower_bound({topic, INT32_MIN}); it != partitions_.end() && it->first.first == topic; ++it)
      it->second.overrides = config_overrides;
  }
  for (const auto& log : logs) log->update_config(*config);
  return {};
}

Result<void> LogManager::flush_all() {
  std::vector<std::shared_ptr<PartitionLog>> logs;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [k, e] : partitions_) logs.push_back(e.log);
  }
  Result<void> result;
  for (auto& l : logs)
    if (auto r = l->flush(); !r && result) result = r;
  if (auto r = checkpoint_recovery_points(); !r && result) result = r;
  return result;
}

Result<void> LogManager::maybe_flush_all(int64_t now_ms) {
  std::vector<std::pair<std::shared_ptr<PartitionLog>, int64_t>> logs;  // log, checkpointed
  {
    std::lock_guard lock(mutex_);
    for (const auto& [k, e] : partitions_) {
      auto it = checkpointed_.find(k);
      logs.emplace_back(e.log, it == checkpointed_.end() ? -1 : it->second);
    }
  }
  Result<void> result;
  bool any = false;
  for (auto& [l, checkpointed] : logs) {
    if (auto r = l->maybe_flush(now_ms); !r && result) result = r;
    any = any || l->recovery_point() != checkpointed;
  }
  if (any)
    if (auto r = checkpoint_recovery_points(); !r && result) result = r;
  return result;
}

Result<void> LogManager::checkpoint_recovery_points() {
  std::map<std::string, std::vector<CheckpointEntry>> per_dir;
  {
    std::lock_guard lock(mutex_);
    for (const auto& d : log_dirs_)
      if (!offline_dirs_.count(d)) per_dir[d];
    for (const auto& [k, e] : partitions_)
      if (per_dir.count(e.log_dir))
        per_dir[e.log_dir].push_back(CheckpointEntry{k.first, k.second, e.log->recovery_point()});
  }
  for (const auto& [dir, entries] : per_dir)
    if (auto r = io::write_file_atomic(io::join_path(dir, kRecoveryCheckpoint), format_offset_checkpoint(entries)); !r) {
      if (!io::is_no_space_error(r.error())) mark_log_dir_offline(dir, r.error().message);
      return r;
    }
  std::lock_guard lock(mutex_);
  for (const auto& [dir, entries] : per_dir)
    for (const auto& e : entries) checkpointed_[{e.topic, e.partition}] = e.offset;
  return {};
}

Result<void> LogManager::checkpoint_log_start_offsets() {
  std::map<std::string, std::vector<CheckpointEntry>> per_dir;
  {
    std::lock_guard lock(mutex_);
    for (const auto& d : log_dirs_)
      if (!offline_dirs_.count(d)) per_dir[d];
    for (const auto& [k, e] : partitions_) {
      int64_t start = e.log->log_start_offset();
      if (start > 0 && per_dir.count(e.log_dir)) per_dir[e.log_dir].push_back(CheckpointEntry{k.first, k.second, start});
    }
  }
  std::lock_guard write_lock(log_start_checkpoint_mutex_);  // one writer per file at a time
  for (const auto& [dir, entries] : per_dir)
    if (auto r = io::write_file_atomic(io::join_path(dir, kLogStartCheckpoint), format_offset_checkpoint(entries)); !r)
      return r;
  return {};
}

Result<LogManager::RetentionTotals> LogManager::apply_retention_all(int64_t now_ms) {
  std::vector<std::shared_ptr<PartitionLog>> logs;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return RetentionTotals{};
    for (const auto& [k, e] : partitions_)
      if (!offline_dirs_.count(e.log_dir)) logs.push_back(e.log);
  }
  RetentionTotals totals;
  Result<void> result;
  bool moved = false;
  for (auto& l : logs) {
    auto r = l->apply_retention(now_ms);
    if (!r) {
      // A log deleted meanwhile is closed: not an error of the task.
      if (r.error().code != ErrorCode::kafka_storage_error || l->segment_count() != 0) {
        log::warn(kComponent, "retention of {}-{} failed: {}", l->topic(), l->partition(), r.error().message);
        if (result) result = fail(r.error());
      }
      continue;
    }
    if (!r->deleted_base_offsets.empty()) {
      ++totals.partitions_changed;
      totals.segments_deleted += static_cast<int32_t>(r->deleted_base_offsets.size());
      totals.bytes_deleted += r->bytes_deleted;
    }
    moved = moved || r->log_start_moved;
  }
  if (moved)
    if (auto r = checkpoint_log_start_offsets(); !r && result) result = r;
  if (!result) return fail(result.error());
  return totals;
}

int64_t LogManager::remove_expired_producers_all(int64_t now_ms) {
  std::vector<std::shared_ptr<PartitionLog>> logs;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return 0;
    for (const auto& [k, e] : partitions_)
      if (!offline_dirs_.count(e.log_dir)) logs.push_back(e.log);
  }
  int64_t removed = 0;
  for (auto& l : logs) removed += static_cast<int64_t>(l->remove_expired_producers(now_ms));
  return removed;
}

Result<int64_t> LogManager::delete_records(const std::string& topic, int32_t partition, int64_t offset) {
  auto log = get(topic, partition);
  if (!log)
    return fail(ErrorCode::unknown_topic_or_partition, fmt::format("{}-{} is not hosted here", topic, partition));
  int64_t before = log->log_start_offset();
  auto low = log->advance_log_start_offset(offset);
  if (!low) return low;
  if (*low != before)
    if (auto r = checkpoint_log_start_offsets(); !r) return fail(r.error());
  return low;
}

Result<void> LogManager::close() {
  {
    std::lock_guard cleaner_lock(cleaner_mutex_);
    if (cleaner_) cleaner_->stop();  // a running pass is abandoned safely
  }
  std::map<std::pair<std::string, int32_t>, Entry> partitions;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return {};
    closed_ = true;
    partitions = partitions_;
  }
  // Durable acks still queued are answered with kafka_storage_error (their connections are
  // gone by now on a broker stop); the logs' close below flushes everything anyway.
  for (auto& [d, f] : flushers_) f->stop();
  Result<void> result;
  std::set<std::string> failed;  // dirs that get no clean-shutdown marker
  for (auto& [k, e] : partitions)
    if (auto r = e.log->close(); !r) {
      failed.insert(e.log_dir);
      if (result) result = r;
    }
  bool starts_ok = true;
  if (auto r = checkpoint_log_start_offsets(); !r) {
    starts_ok = false;
    if (result) result = r;
  }
  for (const auto& d : offline_log_dirs()) failed.insert(d);
  // Recovery points after the final flush (a closed log keeps its last values); nothing is
  // written to an offline dir.
  std::map<std::string, std::vector<CheckpointEntry>> per_dir;
  for (const auto& d : log_dirs_)
    if (!failed.count(d)) per_dir[d];
  for (const auto& [k, e] : partitions)
    if (per_dir.count(e.log_dir)) per_dir[e.log_dir].push_back(CheckpointEntry{k.first, k.second, e.log->recovery_point()});
  for (const auto& [dir, entries] : per_dir)
    if (auto r = io::write_file_atomic(io::join_path(dir, kRecoveryCheckpoint), format_offset_checkpoint(entries)); !r) {
      failed.insert(dir);
      if (result) result = r;
    }
  if (starts_ok) {
    // Only a dir whose every log closed cleanly earns the marker.
    for (const auto& dir : log_dirs_) {
      if (failed.count(dir)) continue;
      if (auto r = io::write_file_atomic(io::join_path(dir, kCleanShutdown), ""); !r && result) result = r;
    }
  }
  return result;
}

}  // namespace conveyor::storage

// ---------------------------------------------------------------------------------------------
// The log cleaner (cleaner.h)

namespace conveyor::storage {

Result<LogCleaner*> LogManager::cleaner_locked() {
  if (!cleaner_) {
    auto config = make_cleaner_config(broker_properties_);
    if (!config) return fail(config.error());
    cleaner_ = std::make_unique<LogCleaner>(*config, log_dirs_, [this] {
      std::vector<LogCleaner::LogRef> refs;
      std::lock_guard lock(mutex_);
      for (const auto& [k, e] : partitions_) refs.push_back({e.log_dir, e.log});
      return refs;
    });
  }
  return cleaner_.get();
}

Result<void> LogManager::start_cleaner() {
  std::lock_guard cleaner_lock(cleaner_mutex_);
  auto c = cleaner_locked();
  if (!c) return fail(c.error());
  (*c)->start();
  return {};
}

Result<int32_t> LogManager::clean_now(int64_t now_ms, bool force) {
  LogCleaner* c = nullptr;
  {
    std::lock_guard cleaner_lock(cleaner_mutex_);
    auto made = cleaner_locked();
    if (!made) return fail(made.error());
    c = *made;
  }
  return c->clean_all_now(now_ms, force);
}

}  // namespace conveyor::storage
