#include "conveyor/storage/log.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <mutex>

#include "conveyor/base/assert.h"
#include "conveyor/base/log.h"
#include "conveyor/io/file.h"
#include "conveyor/protocol/record_batch.h"
#include "segment.h"

namespace conveyor::storage {
namespace {

constexpr const char* kComponent = "storage";
constexpr size_t kMaxSnapshotBytes = 64 * 1024 * 1024;  // a producer state snapshot file
constexpr size_t kSnapshotsKept = 2;
constexpr size_t kLookupChunkBytes = 8 * 1024;           // buffer of the index → batch scan

std::optional<int64_t> parse_offset_name(const std::string& name, std::string_view suffix) {
  if (name.size() != 20 + suffix.size() || !name.ends_with(suffix)) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, v);
  if (ec != std::errc() || ptr != name.data() + 20 || v < 0) return std::nullopt;
  return v;
}

std::string snapshot_path(const std::string& dir, int64_t offset) {
  return io::join_path(dir, segment_file_name(offset, ".snapshot"));
}

}  // namespace

std::string segment_file_name(int64_t base_offset, const char* suffix) {
  return fmt::format("{:020d}{}", base_offset, suffix);
}

std::string partition_dir_name(const std::string& topic, int32_t partition) {
  return fmt::format("{}-{}", topic, partition);
}

std::optional<TopicPartitionName> parse_partition_dir_name(const std::string& name) {
  auto dash = name.find_last_of('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= name.size()) return std::nullopt;
  std::string_view digits(name.data() + dash + 1, name.size() - dash - 1);
  int32_t partition = -1;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), partition);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || partition < 0) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  std::string topic = name.substr(0, dash);
  for (char c : topic)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return std::nullopt;
  return TopicPartitionName{std::move(topic), partition};
}

struct PartitionLog::State {
  std::string dir;
  std::string topic;
  int32_t partition = 0;

  mutable std::mutex mutex;  // everything below
  std::mutex flush_mutex;    // one flush at a time (taken before `mutex`)
  LogConfig config;
  std::vector<std::shared_ptr<Segment>> segments;  // by base offset; never empty while open
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  int64_t high_watermark = 0;
  int64_t recovery_point = 0;
  bool hw_follows_leo = true;
  ProducerStateTable producers;
  // The latest wall-clock time given for producer expiry (LogOpenOptions::now_ms,
  // remove_expired_producers); -1 = none yet. A rebuild of the producer state expires with it.
  int64_t expiry_now_ms = -1;
  int64_t unflushed_messages = 0;
  int64_t first_unflushed_ms = -1;
  bool dir_dirty = false;
  bool closed = false;
  // Durability: an I/O failure that may have lost or torn data (a failed fsync, a failed write
  // that could not be undone) takes the log offline for good (until the next open): every call
  // then fails with kafka_storage_error, so nothing written before the failure is acknowledged
  // by a later, successful fsync (Linux may drop the dirty pages of a failed writeback).
  bool offline = false;
  std::string offline_reason;
  std::function<void(const std::string&)> io_failure_handler;  // the LogManager's: dir offline
  std::function<void()> roll_handler;                          // the LogManager's: flush in background

  Result<void> check_open() const {
    if (closed) return fail(ErrorCode::kafka_storage_error, fmt::format("log {} is closed", dir));
    if (offline)
      return fail(ErrorCode::kafka_storage_error, fmt::format("log {} is offline: {}", dir, offline_reason));
    return {};
  }
  // Marks the log offline under the mutex; returns the handler to call after unlocking.
  std::function<void(const std::string&)> go_offline_locked(const std::string& reason) {
    if (offline) return {};
    offline = true;
    offline_reason = reason;
    log::error(kComponent, "{}: log offline after an I/O failure: {}", dir, reason);
    return io_failure_handler;
  }
  size_t segment_index_for(int64_t offset) const {
    auto it = std::upper_bound(segments.begin(), segments.end(), offset,
                               [](int64_t v, const std::shared_ptr<Segment>& s) { return v < s->base_offset; });
    return it == segments.begin() ? 0 : static_cast<size_t>(it - segments.begin()) - 1;
  }

  Result<void> roll_locked(int64_t now_ms);
  // The segment's first batch max timestamp (read from disk once for a loaded segment).
  Result<int64_t> rolling_timestamp_locked(Segment& seg) const {
    if (!seg.rolling_timestamp_known) {
      BatchReader reader(seg.log, seg.size, protocol::kBatchHeaderSize * 2,
                         static_cast<size_t>(config.max_batch_read_bytes));
      auto next = reader.header_at(0);
      if (!next) return fail(next.error());
      seg.rolling_timestamp = next->status == BatchReader::Status::ok ? next->header.max_timestamp : -1;
      seg.rolling_timestamp_known = true;
    }
    return seg.rolling_timestamp;
  }
  Result<void> write_snapshot_locked(bool durable);
  Result<void> rebuild_producer_state_locked();
  Result<void> scan_producer_batches_locked(int64_t from_offset);
};

// ---------------------------------------------------------------------------------------------
// Producer state persistence

Result<void> PartitionLog::State::write_snapshot_locked(bool durable) {
  auto bytes = producers.serialize();
  std::string path = snapshot_path(dir, log_end_offset);
  std::string_view content(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (durable) {
    if (auto r = io::write_file_atomic(path, content); !r) return r;
  } else {
    // At a roll: no fsync (a lost or torn snapshot only means a longer rescan; its CRC tells).
    std::string tmp = path + ".tmp";
    auto f = io::File::open(tmp, io::OpenMode::create_truncate);
    if (!f) return fail(f.error());
    if (auto r = f->pwrite(bytes, 0); !r) return r;
    if (auto r = f->close(); !r) return r;
    if (auto r = io::rename_path(tmp, path); !r) return r;
    dir_dirty = true;
  }
  // Keep the newest few.
  auto entries = io::list_directory(dir);
  if (!entries) return fail(entries.error());
  std::vector<int64_t> offsets;
  for (const auto& e : *entries)
    if (auto o = parse_offset_name(e.name, ".snapshot")) offsets.push_back(*o);
  std::sort(offsets.rbegin(), offsets.rend());
  for (size_t i = kSnapshotsKept; i < offsets.size(); ++i) (void)io::remove_file(snapshot_path(dir, offsets[i]));
  return {};
}

Result<void> PartitionLog::State::scan_producer_batches_locked(int64_t from_offset) {
  for (size_t i = segment_index_for(from_offset); i < segments.size(); ++i) {
    auto& seg = segments[i];
    if (seg->next_offset <= from_offset) continue;
    BatchReader reader(seg->log, seg->size, 64 * 1024, static_cast<size_t>(config.max_batch_read_bytes));
    int64_t position = seg->base_offset <= from_offset ? seg->position_for_offset(from_offset) : 0;
    while (true) {
      auto next = reader.header_at(position);
      if (!next) return fail(next.error());
      if (next->status != BatchReader::Status::ok) break;
      const auto& h = next->header;
      if (h.base_offset >= from_offset && h.producer_id >= 0 && !h.is_control())
        // The sequence range spans last_offset_delta + 1 (a batch the cleaner emptied or thinned
        // keeps its base offset, last offset delta and base sequence, not its record count).
        producers.update(h.producer_id, h.producer_epoch, h.base_sequence, h.last_offset_delta + 1, h.base_offset,
                         h.last_offset(), h.max_timestamp);
      position += h.size_in_bytes();
    }
  }
  return {};
}

Result<void> PartitionLog::State::rebuild_producer_state_locked() {
  producers.clear();
  auto entries = io::list_directory(dir);
  if (!entries) return fail(entries.error());
  std::vector<int64_t> offsets;
  for (const auto& e : *entries)
    if (auto o = parse_offset_name(e.name, ".snapshot")) offsets.push_back(*o);
  std::sort(offsets.rbegin(), offsets.rend());
  int64_t from = log_start_offset;
  for (int64_t o : offsets) {
    std::string path = snapshot_path(dir, o);
    if (o > log_end_offset || o < log_start_offset) {
      (void)io::remove_file(path);
      continue;
    }
    auto text = io::read_file(path, kMaxSnapshotBytes);
    if (!text) return fail(text.error());
    auto parsed = ProducerStateTable::parse(
        ByteView(reinterpret_cast<const uint8_t*>(text->data()), text->size()));
    if (!parsed) {
      log::warn(kComponent, "{}: ignoring {}: {}", dir, path, parsed.error().message);
      (void)io::remove_file(path);
      continue;
    }
    producers = std::move(*parsed);
    from = o;
    break;
  }
  if (from < log_end_offset)
    if (auto r = scan_producer_batches_locked(from); !r) return r;
  // Expired producers do not come back from an older snapshot or the log (the snapshot and the
  // replayed batches carry the last timestamps; Kafka filters expired entries on load too).
  if (expiry_now_ms >= 0) {
    size_t removed = producers.remove_expired(expiry_now_ms, config.producer_id_expiration_ms);
    if (removed > 0)
      log::debug(kComponent, "{}: {} expired producer id(s) dropped from the rebuilt state", dir, removed);
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Open and recovery

PartitionLog::PartitionLog(std::unique_ptr<State> state) : state_(std::move(state)) {}

PartitionLog::~PartitionLog() {
  if (state_ && !state_->closed) {
    if (auto r = close(); !r) log::error(kComponent, "{}: close failed: {}", state_->dir, r.error().message);
  }
}

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(std::string dir, std::string topic, int32_t partition,
                                                         LogConfig config, LogOpenOptions options) {
  auto st = std::make_unique<State>();
  st->dir = std::move(dir);
  st->topic = std::move(topic);
  st->partition = partition;
  st->config = config;
  if (auto r = io::create_directories(st->dir); !r) return fail(r.error());
  if (auto r = complete_segment_swaps(st->dir); !r) return fail(r.error());  // compaction (cleaner.cc)
  auto entries = io::list_directory(st->dir);
  if (!entries) return fail(entries.error());

  std::vector<int64_t> bases;
  std::vector<std::string> orphans;
  for (const auto& e : *entries) {
    if (e.is_directory) continue;
    const auto& n = e.name;
    if (n.ends_with(".tmp") || n.ends_with(".deleted") || n.ends_with(".cleaned") || n.ends_with(".swap")) {
      (void)io::remove_file(io::join_path(st->dir, n));
      continue;
    }
    if (auto o = parse_offset_name(n, ".log")) bases.push_back(*o);
  }
  std::sort(bases.begin(), bases.end());
  for (const auto& e : *entries) {
    for (const char* suffix : {".index", ".timeindex"}) {
      if (auto o = parse_offset_name(e.name, suffix); o && !std::binary_search(bases.begin(), bases.end(), *o))
        (void)io::remove_file(io::join_path(st->dir, e.name));
    }
  }

  bool recovered_any = false;
  int64_t expected_next = -1;
  for (size_t i = 0; i < bases.size(); ++i) {
    auto seg = Segment::open_files(st->dir, bases[i], config);
    if (!seg) return fail(seg.error());
    bool trusted = options.clean_shutdown || (i + 1 < bases.size() && bases[i + 1] <= options.recovery_point);
    bool loaded = false;
    bool truncated = false;
    if (trusted) {
      auto ok = (*seg)->load_trusted(config);
      if (!ok) return fail(ok.error());
      loaded = *ok;
      if (loaded) (*seg)->unverified_bytes = (*seg)->size;  // read() checks CRCs there
      if (!loaded)
        log::warn(kComponent, "{}: segment {} failed its sanity check; rebuilding by a scan", st->dir, bases[i]);
    } else if (options.recovery_point > bases[i]) {
      // The recovery point is inside this segment: rescan only the unflushed tail.
      auto rec = (*seg)->recover_tail(config, options.recovery_point, expected_next < 0 ? bases[i] : expected_next,
                                      options.may_have_offset_gaps);
      if (!rec) return fail(rec.error());
      if (*rec) {
        loaded = true;
        recovered_any = true;
        if (!(*rec)->why.empty()) {
          truncated = true;
          log::warn(kComponent, "{}: truncated segment {} at byte {} ({} bytes dropped): {}", st->dir, bases[i],
                    (*rec)->valid_bytes, (*rec)->truncated_bytes, (*rec)->why);
        }
      } else {
        log::warn(kComponent, "{}: segment {} below the recovery point {} does not check out; rescanning it all",
                  st->dir, bases[i], options.recovery_point);
      }
    }
    if (!loaded) {
      auto rec = (*seg)->recover(config, expected_next < 0 ? bases[i] : expected_next,
                                 [](const protocol::RecordBatchHeader&, int64_t) {}, options.may_have_offset_gaps);
      if (!rec) return fail(rec.error());
      recovered_any = true;
      if (!rec->why.empty()) {
        truncated = true;
        log::warn(kComponent, "{}: truncated segment {} at byte {} ({} bytes dropped): {}", st->dir, bases[i],
                  rec->valid_bytes, rec->truncated_bytes, rec->why);
      }
    }
    expected_next = (*seg)->next_offset;
    st->segments.push_back(std::move(*seg));
    if (truncated) {
      // Nothing after a torn or corrupt batch is served: drop the later segments.
      for (size_t j = i + 1; j < bases.size(); ++j) {
        auto later = Segment::open_files(st->dir, bases[j], config);
        if (later) (void)(*later)->delete_files();
        (void)io::remove_file(io::join_path(st->dir, segment_file_name(bases[j], ".log")));
        log::warn(kComponent, "{}: deleted segment {} after the truncation point", st->dir, bases[j]);
      }
      // An empty non-first segment left by the truncation stays as the active one.
      break;
    }
  }
  if (st->segments.empty()) {
    auto seg = Segment::create(st->dir, 0, config);
    if (!seg) return fail(seg.error());
    st->segments.push_back(std::move(*seg));
    st->dir_dirty = true;
  }
  st->log_end_offset = st->segments.back()->next_offset;
  st->log_start_offset = std::clamp(std::max(options.log_start_offset, st->segments.front()->base_offset),
                                    st->segments.front()->base_offset, st->log_end_offset);
  st->high_watermark = st->log_end_offset;
  if (recovered_any) {
    for (auto& s : st->segments)
      if (s->dirty)
        if (auto r = s->flush(); !r) return fail(r.error());
    if (auto r = io::fsync_directory(st->dir); !r) return fail(r.error());
    for (auto& s : st->segments) s->dirty = false;
  } else {
    for (auto& s : st->segments) s->dirty = false;
  }
  st->recovery_point = st->log_end_offset;
  st->expiry_now_ms = options.now_ms;
  if (auto r = st->rebuild_producer_state_locked(); !r) return fail(r.error());
  log::debug(kComponent, "{}: opened, {} segments, log start {}, log end {}{}", st->dir, st->segments.size(),
             st->log_start_offset, st->log_end_offset, recovered_any ? " (recovered)" : "");
  return std::unique_ptr<PartitionLog>(new PartitionLog(std::move(st)));
}

// ---------------------------------------------------------------------------------------------
// Append

Result<void> PartitionLog::State::roll_locked(int64_t now_ms) {
  auto& active = segments.back();
  if (auto r = active->seal_time_index(); !r) return r;
  if (auto r = active->trim(); !r) return r;
  if (auto r = write_snapshot_locked(false); !r)
    log::warn(kComponent, "{}: producer state snapshot at {} failed: {}", dir, log_end_offset, r.error().message);
  auto seg = Segment::create(dir, log_end_offset, config);
  if (!seg) return fail(seg.error());
  (*seg)->created_ms = now_ms;
  (*seg)->rolling_timestamp_known = true;  // empty: set by its first append
  log::debug(kComponent, "{}: rolled to segment {}", dir, log_end_offset);
  segments.push_back(std::move(*seg));
  dir_dirty = true;
  return {};
}

Result<AppendInfo> PartitionLog::append(ByteView records, int32_t leader_epoch, int64_t now_ms) {
  if (records.empty()) return fail(ErrorCode::corrupt_message, "no record batch in the records");
  LogConfig config = this->config();
  // Validate every batch before touching the log.
  std::vector<protocol::RecordBatchHeader> headers;
  std::vector<size_t> starts;
  size_t pos = 0;
  int64_t record_total = 0;
  while (pos < records.size()) {
    ByteView rest = records.subspan(pos);
    if (rest.size() < protocol::kBatchHeaderSize)
      return fail(ErrorCode::corrupt_message,
                  fmt::format("{} trailing bytes are not a whole record batch", rest.size()));
    auto header = protocol::parse_batch_header(rest);
    if (!header) return fail(ErrorCode::corrupt_message, header.error().message);
    int64_t size = header->size_in_bytes();
    if (size > static_cast<int64_t>(rest.size()))
      return fail(ErrorCode::corrupt_message,
                  fmt::format("record batch of {} bytes but only {} bytes remain", size, rest.size()));
    if (size > config.max_message_bytes)
      return fail(ErrorCode::message_too_large,
                  fmt::format("record batch of {} bytes is larger than max.message.bytes {}", size,
                              config.max_message_bytes));
    auto valid = protocol::validate_batch(rest.first(static_cast<size_t>(size)));
    if (!valid) return fail(valid.error());
    if (valid->is_control())
      return fail(ErrorCode::invalid_record, "clients may not produce control batches");
    if (valid->record_count <= 0) return fail(ErrorCode::invalid_record, "record batch without records");
    if (config_compacted(config)) {
      // A compacted topic keeps the latest record per key: a record without a key is refused
      // (Kafka's LogValidator, INVALID_RECORD).
      bool keyless = false;
      auto walked = protocol::for_each_record(rest.first(static_cast<size_t>(size)), protocol::DecodeLimits{},
                                              [&](const protocol::RecordView& r) { keyless = keyless || !r.key; });
      if (!walked) return fail(walked.error());
      if (keyless)
        return fail(ErrorCode::invalid_record,
                    fmt::format("compacted topic {} cannot accept a record without a key", state_->topic));
    }
    headers.push_back(*valid);
    starts.push_back(pos);
    record_total += valid->record_count;
    pos += static_cast<size_t>(size);
  }

  // Copy and stamp what does not depend on the offsets outside the lock.
  Bytes data(records.begin(), records.end());
  bool log_append_time = config.message_timestamp_type == protocol::TimestampType::log_append_time;
  for (size_t i = 0; i < headers.size(); ++i) {
    std::span<uint8_t> batch(data.data() + starts[i], static_cast<size_t>(headers[i].size_in_bytes()));
    protocol::set_partition_leader_epoch(batch, leader_epoch);
    headers[i].partition_leader_epoch = leader_epoch;
    if (log_append_time) {
      protocol::set_log_append_time(batch, now_ms);
      headers[i].max_timestamp = now_ms;
      headers[i].attributes |= 0x8;
    }
  }

  AppendInfo info;
  bool flush_now = false;
  bool rolled = false;
  std::function<void(const std::string&)> failed_handler;
  std::function<void()> roll_handler;
  Error failure{ErrorCode::none, {}};
  {
    std::lock_guard lock(state_->mutex);
    auto& st = *state_;
    if (auto r = st.check_open(); !r) return fail(r.error());
    // Idempotent producer checks against staged copies of the touched entries.
    std::vector<std::pair<int64_t, ProducerEntry>> staged;
    int64_t next_offset = st.log_end_offset;
    for (size_t i = 0; i < headers.size(); ++i) {
      auto& h = headers[i];
      h.base_offset = next_offset;
      next_offset = h.last_offset() + 1;
      if (h.producer_id < 0) continue;
      auto it = std::find_if(staged.begin(), staged.end(), [&](const auto& p) { return p.first == h.producer_id; });
      if (it == staged.end()) {
        const ProducerEntry* known = st.producers.find(h.producer_id);
        staged.emplace_back(h.producer_id, known ? *known : ProducerEntry{});
        it = std::prev(staged.end());
        if (!known) it->second.epoch = -1;
      }
      bool unknown = it->second.batch_count == 0 && !st.producers.find(h.producer_id);
      auto check = ProducerStateTable::check_entry(unknown ? nullptr : &it->second, h.producer_epoch,
                                                   h.base_sequence, h.record_count);
      if (!check) return fail(check.error());
      if (check->duplicate) {
        if (i != 0)
          return fail(ErrorCode::out_of_order_sequence_number,
                      "a duplicate batch follows new batches in the same produce");
        info.duplicate = true;
        info.base_offset = check->original.first_offset;
        info.last_offset = check->original.last_offset;
        info.log_start_offset = st.log_start_offset;
        return info;
      }
      ProducerStateTable::update_entry(it->second, h.producer_epoch, h.base_sequence, h.record_count,
                                       h.base_offset, h.last_offset(), h.max_timestamp);
    }
    for (size_t i = 0; i < headers.size(); ++i) {
      std::span<uint8_t> batch(data.data() + starts[i], static_cast<size_t>(headers[i].size_in_bytes()));
      protocol::set_base_offset(batch, headers[i].base_offset);
    }
    auto* active = st.segments.back().get();
    int64_t last_offset = next_offset - 1;
    int64_t incoming_max_ts = -1;
    for (const auto& h : headers) incoming_max_ts = std::max(incoming_max_ts, h.max_timestamp);
    bool segment_ms_due = false;
    // A compacted log also rolls at max.compaction.lag.ms (KIP-354: Kafka's maxSegmentMs), so
    // its active segment becomes cleanable in time.
    const int64_t roll_ms = config_compacted(config) ? std::min(config.segment_ms, config.max_compaction_lag_ms)
                                                     : config.segment_ms;
    if (active->size > 0 && roll_ms < INT64_MAX) {
      auto rolling = st.rolling_timestamp_locked(*active);
      if (!rolling) return fail(rolling.error());
      // Kafka's LogSegment.shouldRoll: the incoming max timestamp against the first batch's, or
      // now against the creation time when the segment has no timestamp.
      if (*rolling >= 0)
        segment_ms_due = incoming_max_ts - *rolling > roll_ms;
      else if (active->created_ms >= 0)
        segment_ms_due = now_ms - active->created_ms > roll_ms;
    }
    // Roll if due, then write. A failure other than a clean "disk full" (the file truncated
    // back) may have left a torn file: the log goes offline.
    auto write = [&]() -> Result<void> {
      if (active->size > 0 &&
          (segment_ms_due || active->size + static_cast<int64_t>(data.size()) > config.segment_bytes ||
           active->index_full() || last_offset - active->base_offset > INT32_MAX ||
           active->size + static_cast<int64_t>(data.size()) > INT32_MAX)) {
        if (auto r = st.roll_locked(now_ms); !r) return r;
        active = st.segments.back().get();
        rolled = true;
        roll_handler = st.roll_handler;
      }
      if (active->size == 0) {
        active->rolling_timestamp = headers.front().max_timestamp;
        active->rolling_timestamp_known = true;
      }
      return active->append(data, headers, config);
    };
    if (auto r = write(); !r) {
      if (io::is_no_space_error(r.error()) && !active->needs_recovery) {
        // The dir stays online: the next append tries again (space may have come back).
        log::error(kComponent, "{}: no space left on the log dir, append of {} bytes refused: {}", st.dir,
                   data.size(), r.error().message);
        return fail(ErrorCode::kafka_storage_error,
                    fmt::format("no space left on the log dir of {}: {}", st.dir, r.error().message));
      }
      failed_handler = st.go_offline_locked(r.error().message);
      failure = r.error();
    } else {
      for (auto& [pid, entry] : staged) st.producers.put(pid, entry);
      st.log_end_offset = next_offset;
      if (st.hw_follows_leo) st.high_watermark = st.log_end_offset;
      st.unflushed_messages += record_total;
      if (st.first_unflushed_ms < 0) st.first_unflushed_ms = now_ms;
      flush_now = st.unflushed_messages >= config.flush_messages;
      info.base_offset = headers.front().base_offset;
      info.last_offset = last_offset;
      info.log_append_time_ms = log_append_time ? now_ms : -1;
      info.log_start_offset = st.log_start_offset;
      info.record_count = static_cast<int32_t>(record_total);
      info.batch_count = static_cast<int32_t>(headers.size());
    }
  }
  if (failed_handler) failed_handler(failure.message);
  if (failure.code != ErrorCode::none) return fail(failure);
  if (rolled && roll_handler) roll_handler();
  if (flush_now)
    if (auto r = flush(); !r) return fail(r.error());
  return info;
}

// ---------------------------------------------------------------------------------------------
// Read

namespace {

struct Located {
  bool found = false;
  int64_t position = 0;
};

// Finds the first batch at or after `position` whose last offset is ≥ offset.
Result<Located> locate(const Segment& seg, int64_t size, int64_t position, int64_t offset,
                       const LogConfig& config) {
  BatchReader reader(seg.log, size, kLookupChunkBytes, static_cast<size_t>(config.max_batch_read_bytes));
  while (true) {
    auto next = reader.header_at(position);
    if (!next) return fail(next.error());
    if (next->status == BatchReader::Status::end) return Located{};
    if (next->status != BatchReader::Status::ok)
      return fail(ErrorCode::corrupt_message, fmt::format("{}: {}", seg.log_path, next->why));
    if (next->header.last_offset() >= offset) return Located{true, position};
    position += next->header.size_in_bytes();
  }
}

}  // namespace

Result<ReadResult> PartitionLog::read(int64_t offset, int32_t max_bytes, int64_t max_offset,
                                      bool min_one_batch) const {
  ReadResult out;
  std::shared_ptr<Segment> segs[2];
  int64_t sizes[2] = {0, 0};
  int64_t unverified[2] = {0, 0};  // Segment::unverified_bytes
  int64_t start_position = 0;
  LogConfig config;
  {
    std::lock_guard lock(state_->mutex);
    const auto& st = *state_;
    if (auto r = st.check_open(); !r) return fail(r.error());
    out.high_watermark = st.high_watermark;
    out.log_start_offset = st.log_start_offset;
    out.log_end_offset = st.log_end_offset;
    if (offset < st.log_start_offset || offset > st.log_end_offset)
      return fail(ErrorCode::offset_out_of_range,
                  fmt::format("offset {} is outside [{}, {}] of {}-{}", offset, st.log_start_offset,
                              st.log_end_offset, st.topic, st.partition));
    if (offset == st.log_end_offset) return out;
    size_t i = st.segment_index_for(offset);
    // A compacted log may have segments with nothing at or after `offset` (gaps, or a segment
    // the cleaner emptied): start at the first segment that holds a later batch.
    while (i + 1 < st.segments.size() && (st.segments[i]->size == 0 || st.segments[i]->next_offset <= offset)) ++i;
    segs[0] = st.segments[i];
    sizes[0] = segs[0]->size;
    unverified[0] = segs[0]->unverified_bytes;
    start_position = segs[0]->position_for_offset(offset);
    if (i + 1 < st.segments.size()) {
      segs[1] = st.segments[i + 1];
      sizes[1] = segs[1]->size;
      unverified[1] = segs[1]->unverified_bytes;
    }
    config = st.config;
  }
  int64_t limit = std::clamp<int64_t>(max_bytes, 0, config.max_read_bytes);
  for (int k = 0; k < 2 && segs[k]; ++k) {
    const Segment& seg = *segs[k];
    auto located = locate(seg, sizes[k], k == 0 ? start_position : 0, offset, config);
    if (!located) return fail(located.error());
    if (!located->found) continue;
    int64_t start = located->position;
    int64_t want = std::min<int64_t>(limit, sizes[k] - start);
    Bytes buf(static_cast<size_t>(std::max<int64_t>(want, protocol::kBatchHeaderSize)));
    auto n = seg.log.pread(std::span<uint8_t>(buf.data(), static_cast<size_t>(std::min<int64_t>(
                                                               static_cast<int64_t>(buf.size()), sizes[k] - start))),
                           start);
    if (!n) return fail(n.error());
    buf.resize(*n);
    // Keep whole batches below max_offset.
    size_t end = 0;
    while (buf.size() - end >= protocol::kBatchHeaderSize) {
      auto h = protocol::parse_batch_header(ByteView(buf).subspan(end));
      if (!h && end > 0) break;  // serve the whole batches before a damaged header
      if (!h) return fail(ErrorCode::corrupt_message, fmt::format("{}: {}", seg.log_path, h.error().message));
      if (h->last_offset() >= max_offset) break;
      size_t batch_size = static_cast<size_t>(h->size_in_bytes());
      if (end + batch_size > static_cast<size_t>(limit) || end + batch_size > buf.size()) {
        if (end == 0 && min_one_batch && start + static_cast<int64_t>(batch_size) <= sizes[k] &&
            batch_size <= static_cast<size_t>(config.max_batch_read_bytes)) {
          // KIP-74: the first batch is returned whole even if larger than max_bytes.
          buf.resize(batch_size);
          if (auto r = seg.log.pread_exact(buf, start); !r) return fail(r.error());
          end = batch_size;
        }
        break;
      }
      end += batch_size;
    }
    if (start < unverified[k]) {
      // Batches trusted at open (below the recovery point, or after a clean shutdown) were not
      // CRC-checked by recovery: check them now, so a batch damaged on disk is never served.
      size_t pos = 0;
      size_t cut = end;
      while (pos < end && start + static_cast<int64_t>(pos) < unverified[k]) {
        auto h = protocol::parse_batch_header(ByteView(buf).subspan(pos));
        size_t batch_size = h ? static_cast<size_t>(h->size_in_bytes()) : 0;
        if (!h || pos + batch_size > end || !protocol::batch_crc_valid(ByteView(buf).subspan(pos, batch_size))) {
          log::error(kComponent, "{}: batch at position {} fails its CRC check; not served",
                     seg.log_path, start + static_cast<int64_t>(pos));
          if (pos == 0)
            return fail(ErrorCode::corrupt_message,
                        fmt::format("{}: batch at position {} fails its CRC check (damaged on disk)", seg.log_path,
                                    start));
          cut = pos;
          break;
        }
        pos += batch_size;
      }
      end = cut;
    }
    buf.resize(end);
    out.records = std::move(buf);
    return out;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Timestamps

Result<std::optional<TimestampOffset>> PartitionLog::offset_for_timestamp(int64_t timestamp_ms) const {
  size_t index = 0;
  while (true) {
    std::shared_ptr<Segment> seg;
    int64_t size = 0;
    int64_t position = 0;
    int64_t start = 0;
    LogConfig config;
    {
      std::lock_guard lock(state_->mutex);
      const auto& st = *state_;
      if (auto r = st.check_open(); !r) return fail(r.error());
      start = st.log_start_offset;  // records below it (DeleteRecords) are not answers
      while (index < st.segments.size() && st.segments[index]->max_timestamp < timestamp_ms) ++index;
      if (index >= st.segments.size()) return std::optional<TimestampOffset>{};
      seg = st.segments[index];
      size = seg->size;
      position = seg->position_for_offset(seg->offset_for_timestamp_hint(timestamp_ms));
      config = st.config;
    }
    BatchReader reader(seg->log, size, 64 * 1024, static_cast<size_t>(config.max_batch_read_bytes));
    while (true) {
      auto next = reader.header_at(position);
      if (!next) return fail(next.error());
      if (next->status != BatchReader::Status::ok) break;
      const auto& h = next->header;
      if (h.max_timestamp >= timestamp_ms && h.last_offset() >= start) {
        auto bytes = reader.bytes_at(position, static_cast<size_t>(h.size_in_bytes()));
        if (!bytes) return fail(bytes.error());
        std::optional<TimestampOffset> hit;
        auto walked = protocol::for_each_record(*bytes, protocol::DecodeLimits{}, [&](const protocol::RecordView& r) {
          if (!hit && r.timestamp >= timestamp_ms && r.offset >= start) hit = TimestampOffset{r.timestamp, r.offset};
        });
        if (!walked)
          log::warn(kComponent, "{}: cannot decode batch at {} for a timestamp lookup: {}", seg->log_path, position,
                    walked.error().message);
        if (hit) return hit;
        return std::optional<TimestampOffset>(TimestampOffset{h.max_timestamp, std::max(h.base_offset, start)});
      }
      position += h.size_in_bytes();
    }
    ++index;
  }
}

Result<std::optional<TimestampOffset>> PartitionLog::max_timestamp_offset() const {
  std::shared_ptr<Segment> seg;
  int64_t size = 0;
  int64_t position = 0;
  int64_t max_ts = -1;
  int64_t batch_last_offset = -1;
  LogConfig config;
  {
    std::lock_guard lock(state_->mutex);
    const auto& st = *state_;
    if (auto r = st.check_open(); !r) return fail(r.error());
    for (const auto& s : st.segments) {
      if (s->offset_of_max_timestamp >= 0 && (!seg || s->max_timestamp > max_ts)) {
        seg = s;
        max_ts = s->max_timestamp;
        batch_last_offset = s->offset_of_max_timestamp;
      }
    }
    if (!seg) return std::optional<TimestampOffset>{};
    size = seg->size;
    position = seg->position_for_offset(batch_last_offset);
    config = st.config;
  }
  auto located = locate(*seg, size, position, batch_last_offset, config);
  if (!located) return fail(located.error());
  if (!located->found)
    return fail(ErrorCode::corrupt_message, fmt::format("{}: no batch holds offset {}", seg->log_path, batch_last_offset));
  BatchReader reader(seg->log, size, 64 * 1024, static_cast<size_t>(config.max_batch_read_bytes));
  auto next = reader.header_at(located->position);
  if (!next) return fail(next.error());
  if (next->status != BatchReader::Status::ok)
    return fail(ErrorCode::corrupt_message, fmt::format("{}: {}", seg->log_path, next->why));
  const auto& h = next->header;
  TimestampOffset out{h.max_timestamp, h.base_offset};
  auto bytes = reader.bytes_at(located->position, static_cast<size_t>(h.size_in_bytes()));
  if (!bytes) return fail(bytes.error());
  bool found = false;
  auto walked = protocol::for_each_record(*bytes, protocol::DecodeLimits{}, [&](const protocol::RecordView& r) {
    if (!found && r.timestamp == h.max_timestamp) {
      out.offset = r.offset;
      found = true;
    }
  });
  if (!walked)
    log::warn(kComponent, "{}: cannot decode batch at {}: {}", seg->log_path, located->position, walked.error().message);
  return std::optional<TimestampOffset>(out);
}

// ---------------------------------------------------------------------------------------------
// Offsets, flush, config

int64_t PartitionLog::log_start_offset() const {
  std::lock_guard lock(state_->mutex);
  return state_->log_start_offset;
}
int64_t PartitionLog::log_end_offset() const {
  std::lock_guard lock(state_->mutex);
  return state_->log_end_offset;
}
int64_t PartitionLog::high_watermark() const {
  std::lock_guard lock(state_->mutex);
  return state_->high_watermark;
}
void PartitionLog::set_high_watermark(int64_t offset) {
  std::lock_guard lock(state_->mutex);
  state_->high_watermark = std::clamp(offset, state_->log_start_offset, state_->log_end_offset);
}
void PartitionLog::set_high_watermark_follows_log_end(bool follows) {
  std::lock_guard lock(state_->mutex);
  state_->hw_follows_leo = follows;
}
int64_t PartitionLog::recovery_point() const {
  std::lock_guard lock(state_->mutex);
  return state_->recovery_point;
}

Result<void> PartitionLog::flush() {
  std::lock_guard flush_lock(state_->flush_mutex);
  std::vector<std::shared_ptr<Segment>> dirty;
  int64_t target = 0;
  bool dir_dirty = false;
  int64_t messages = 0;
  int64_t first_ms = -1;
  {
    std::lock_guard lock(state_->mutex);
    auto& st = *state_;
    if (auto r = st.check_open(); !r) return r;
    for (auto& s : st.segments)
      if (s->dirty) {
        dirty.push_back(s);
        s->dirty = false;
      }
    target = st.log_end_offset;
    dir_dirty = st.dir_dirty;
    st.dir_dirty = false;
    messages = st.unflushed_messages;
    first_ms = st.first_unflushed_ms;
    st.unflushed_messages = 0;
    st.first_unflushed_ms = -1;
  }
  Result<void> result;
  for (auto& s : dirty) {
    result = s->flush();
    if (!result) break;
  }
  if (result && dir_dirty) result = io::fsync_directory(state_->dir);
  std::function<void(const std::string&)> failed_handler;
  {
    std::lock_guard lock(state_->mutex);
    auto& st = *state_;
    if (!result) {
      // A failed fsync is never retried: the kernel may already have dropped the dirty pages
      // it could not write, so a later fsync could succeed without the data. The log goes
      // offline and nothing it holds above the recovery point is acknowledged from now on.
      for (auto& s : dirty) s->dirty = true;
      st.dir_dirty = st.dir_dirty || dir_dirty;
      st.unflushed_messages += messages;
      if (first_ms >= 0 && (st.first_unflushed_ms < 0 || first_ms < st.first_unflushed_ms))
        st.first_unflushed_ms = first_ms;
      failed_handler = st.go_offline_locked(result.error().message);
    } else {
      st.recovery_point = std::max(st.recovery_point, std::min(target, st.log_end_offset));
    }
  }
  if (failed_handler) failed_handler(result.error().message);
  return result;
}

bool PartitionLog::offline() const {
  std::lock_guard lock(state_->mutex);
  return state_->offline;
}

void PartitionLog::mark_offline(const std::string& reason) {
  std::lock_guard lock(state_->mutex);
  auto& st = *state_;
  if (st.offline) return;
  st.offline = true;
  st.offline_reason = reason;
}

void PartitionLog::set_io_failure_handler(std::function<void(const std::string&)> handler) {
  std::lock_guard lock(state_->mutex);
  state_->io_failure_handler = std::move(handler);
}

void PartitionLog::set_roll_handler(std::function<void()> handler) {
  std::lock_guard lock(state_->mutex);
  state_->roll_handler = std::move(handler);
}

Result<void> PartitionLog::maybe_flush(int64_t now_ms) {
  {
    std::lock_guard lock(state_->mutex);
    auto& st = *state_;
    if (st.closed || st.offline || st.unflushed_messages == 0) return {};
    bool due = st.unflushed_messages >= st.config.flush_messages ||
               (st.first_unflushed_ms >= 0 && now_ms - st.first_unflushed_ms >= st.config.flush_ms);
    if (!due) return {};
  }
  return flush();
}

void PartitionLog::update_config(const LogConfig& config) {
  std::lock_guard lock(state_->mutex);
  state_->config = config;
  for (auto& s : state_->segments) {
    s->max_offset_entries = std::max<int64_t>(
        static_cast<int64_t>(s->offset_entries.size()), std::max<int64_t>(1, config.segment_index_bytes / kOffsetIndexEntrySize));
    s->max_time_entries = std::max<int64_t>(
        static_cast<int64_t>(s->time_entries.size()), std::max<int64_t>(1, config.segment_index_bytes / kTimeIndexEntrySize));
  }
}

LogConfig PartitionLog::config() const {
  std::lock_guard lock(state_->mutex);
  return state_->config;
}

std::optional<ProducerEntry> PartitionLog::producer_entry(int64_t producer_id) const {
  std::lock_guard lock(state_->mutex);
  const ProducerEntry* e = state_->producers.find(producer_id);
  if (!e) return std::nullopt;
  return *e;
}

size_t PartitionLog::remove_expired_producers(int64_t now_ms) {
  std::lock_guard lock(state_->mutex);
  auto& st = *state_;
  if (st.closed || st.offline) return 0;
  st.expiry_now_ms = std::max(st.expiry_now_ms, now_ms);
  return st.producers.remove_expired(now_ms, st.config.producer_id_expiration_ms);
}

// ---------------------------------------------------------------------------------------------
// Retention and the log start offset
//
// Producer state is not touched when the log start moves (retention, DeleteRecords): as in
// Kafka since KAFKA-7190 (KIP-360), a producer's state outlives its deleted batches until
// producer.id.expiration.ms, so a quiet producer whose records were all deleted keeps its
// sequence and duplicate detection.

Result<RetentionResult> PartitionLog::apply_retention(int64_t now_ms) {
  RetentionResult out;
  std::vector<std::pair<std::string, std::string>> renamed;  // .deleted path, original path
  {
    std::lock_guard lock(state_->mutex);
    auto& st = *state_;
    if (auto r = st.check_open(); !r) return fail(r.error());
    const LogConfig& config = st.config;
    int64_t total = 0;
    for (const auto& s : st.segments) total += s->size;
    int64_t size_excess = config.retention_bytes >= 0 ? total - config.retention_bytes : -1;
    size_t count = 0;
    for (size_t i = 0; i < st.segments.size(); ++i) {
      auto& seg = *st.segments[i];
      bool last = i + 1 == st.segments.size();
      if (last && seg.size == 0) break;
      int64_t upper = last ? st.log_end_offset : st.segments[i + 1]->base_offset;
      if (st.high_watermark < upper) break;  // the log start never passes the high watermark
      if (seg.created_ms < 0) seg.created_ms = now_ms;
      int64_t newest = seg.max_timestamp >= 0 ? seg.max_timestamp : seg.created_ms;
      // cleanup.policy=compact alone: only the log start offset deletes segments (as Kafka).
      bool deletes = config.cleanup_policy.find("delete") != std::string::npos;
      bool by_time = deletes && config.retention_ms >= 0 && now_ms - newest > config.retention_ms;
      bool by_size = deletes && size_excess >= 0 && size_excess - seg.size >= 0;
      bool by_start = !last && upper <= st.log_start_offset;
      if (!by_time && !by_size && !by_start) break;
      if (size_excess >= 0) size_excess -= seg.size;
      ++count;
    }
    if (count == 0) {
      out.log_start_offset = st.log_start_offset;
      return out;
    }
    if (count == st.segments.size())
      if (auto r = st.roll_locked(now_ms); !r) return fail(r.error());  // keep one segment
    for (size_t i = 0; i < count; ++i) {
      auto& seg = *st.segments[i];
      for (const std::string* path : {&seg.log_path, &seg.index_path, &seg.time_index_path}) {
        std::string deleted = *path + ".deleted";
        if (auto r = io::rename_path(*path, deleted); !r) {
          log::error(kComponent, "{}: cannot rename {} for deletion: {}", st.dir, *path, r.error().message);
          continue;
        }
        renamed.emplace_back(std::move(deleted), *path);
      }
      out.deleted_base_offsets.push_back(seg.base_offset);
      out.bytes_deleted += seg.size;
    }
    // Readers holding these segments keep their open files until they let go.
    st.segments.erase(st.segments.begin(), st.segments.begin() + static_cast<std::ptrdiff_t>(count));
    st.dir_dirty = true;
    int64_t start = std::max(st.log_start_offset, st.segments.front()->base_offset);
    out.log_start_moved = start != st.log_start_offset;
    st.log_start_offset = start;
    st.high_watermark = std::max(st.high_watermark, start);
    st.recovery_point = std::max(st.recovery_point, start);
    out.log_start_offset = start;
  }
  for (const auto& [deleted, original] : renamed)
    if (auto r = io::remove_file(deleted); !r)
      log::warn(kComponent, "{}: cannot remove {}: {} (removed on the next open)", state_->dir, deleted,
                r.error().message);
  log::info(kComponent, "{}: retention deleted {} segment(s), {} bytes; log start offset {}", state_->dir,
            out.deleted_base_offsets.size(), out.bytes_deleted, out.log_start_offset);
  return out;
}

Result<int64_t> PartitionLog::advance_log_start_offset(int64_t offset) {
  std::lock_guard lock(state_->mutex);
  auto& st = *state_;
  if (auto r = st.check_open(); !r) return fail(r.error());
  if (offset < 0 || offset > st.high_watermark)
    return fail(ErrorCode::offset_out_of_range,
                fmt::format("cannot delete records before offset {} of {}-{}: outside [0, {}] (the high watermark)",
                            offset, st.topic, st.partition, st.high_watermark));
  if (offset > st.log_start_offset) {
    st.log_start_offset = offset;
    st.recovery_point = std::max(st.recovery_point, offset);
  }
  return st.log_start_offset;
}

Result<void> PartitionLog::truncate_to(int64_t offset) {
  std::lock_guard flush_lock(state_->flush_mutex);
  std::lock_guard lock(state_->mutex);
  auto& st = *state_;
  if (auto r = st.check_open(); !r) return r;
  if (offset < st.log_start_offset)
    return fail(ErrorCode::offset_out_of_range,
                fmt::format("cannot truncate to {} below the log start {}", offset, st.log_start_offset));
  if (offset >= st.log_end_offset) return {};
  size_t i = st.segment_index_for(offset);
  while (st.segments.size() > i + 1) {
    if (auto r = st.segments.back()->delete_files(); !r) return r;
    st.segments.pop_back();
  }
  auto next = st.segments.back()->truncate_to(offset, st.config);
  if (!next) return fail(next.error());
  st.log_end_offset = *next;
  st.high_watermark = std::min(st.high_watermark, st.log_end_offset);
  st.recovery_point = std::min(st.recovery_point, st.log_end_offset);
  st.dir_dirty = true;
  return st.rebuild_producer_state_locked();
}

Result<void> PartitionLog::close() {
  if (state_->closed) return {};
  {
    // An offline log writes nothing more: its files are released as they are.
    std::lock_guard lock(state_->mutex);
    auto& st = *state_;
    if (st.offline) {
      st.closed = true;
      st.segments.clear();
      return fail(ErrorCode::kafka_storage_error, fmt::format("log {} is offline: {}", st.dir, st.offline_reason));
    }
  }
  Result<void> flushed = flush();
  std::lock_guard flush_lock(state_->flush_mutex);
  std::lock_guard lock(state_->mutex);
  auto& st = *state_;
  if (st.closed) return {};
  Result<void> result = flushed;
  auto& active = st.segments.back();
  if (auto r = active->seal_time_index(); !r && result) result = r;
  if (auto r = active->trim(); !r && result) result = r;
  if (auto r = active->flush(); !r && result) result = r;
  if (auto r = st.write_snapshot_locked(true); !r && result) result = r;
  if (auto r = io::fsync_directory(st.dir); !r && result) result = r;
  st.closed = true;
  st.segments.clear();  // files close when the last reader lets go
  return result;
}

// ---------------------------------------------------------------------------------------------
// Compaction support (the cleaner itself is cleaner.cc)

Result<PartitionLog::SegmentsView> PartitionLog::segments_view() const {
  std::lock_guard lock(state_->mutex);
  const auto& st = *state_;
  if (auto r = st.check_open(); !r) return fail(r.error());
  SegmentsView v;
  v.segments = st.segments;
  for (const auto& seg : st.segments) v.sizes.push_back(seg->size);
  v.log_start_offset = st.log_start_offset;
  v.log_end_offset = st.log_end_offset;
  v.high_watermark = st.high_watermark;
  v.config = st.config;
  return v;
}

Result<bool> PartitionLog::replace_segments(const std::vector<std::shared_ptr<Segment>>& old_segments,
                                            const std::shared_ptr<Segment>& cleaned) {
  CONVEYOR_ASSERT(!old_segments.empty() && cleaned->base_offset == old_segments.front()->base_offset);
  std::vector<std::string> deleted;
  {
    std::lock_guard lock(state_->mutex);
    auto& st = *state_;
    if (auto r = st.check_open(); !r) return fail(r.error());
    auto it = std::find(st.segments.begin(), st.segments.end(), old_segments.front());
    auto n = static_cast<std::ptrdiff_t>(old_segments.size());
    if (it == st.segments.end() || st.segments.end() - it <= n) return false;  // gone, or the active one
    if (!std::equal(old_segments.begin(), old_segments.end(), it)) return false;
    if (auto r = cleaned->rename_files(st.dir, ".swap"); !r) return fail(r.error());
    if (auto r = io::fsync_directory(st.dir); !r) return fail(r.error());  // committed from here
    for (size_t j = 1; j < old_segments.size(); ++j)
      for (const std::string* path : {&old_segments[j]->log_path, &old_segments[j]->index_path,
                                      &old_segments[j]->time_index_path}) {
        if (auto r = io::rename_path(*path, *path + ".deleted"); !r) return fail(r.error());
        deleted.push_back(*path + ".deleted");
      }
    if (auto r = cleaned->rename_files(st.dir, ""); !r) return fail(r.error());
    cleaned->created_ms = old_segments.front()->created_ms;
    cleaned->dirty = false;
    *it = cleaned;  // readers holding the old segments keep their (now unlinked) files
    st.segments.erase(it + 1, it + n);
    st.dir_dirty = true;
  }
  if (auto r = io::fsync_directory(state_->dir); !r) return fail(r.error());
  for (const auto& path : deleted) (void)io::remove_file(path);
  return true;
}

const std::string& PartitionLog::dir() const { return state_->dir; }
const std::string& PartitionLog::topic() const { return state_->topic; }
int32_t PartitionLog::partition() const { return state_->partition; }

size_t PartitionLog::segment_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->segments.size();
}

int64_t PartitionLog::size_bytes() const {
  std::lock_guard lock(state_->mutex);
  int64_t total = 0;
  for (const auto& s : state_->segments) total += s->size;
  return total;
}

}  // namespace conveyor::storage
