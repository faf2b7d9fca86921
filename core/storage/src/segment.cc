#include "segment.h"

#include <algorithm>

#include "conveyor/base/log.h"
#include "conveyor/storage/log.h"

namespace conveyor::storage {

bool config_compacted(const LogConfig& config) {
  return config.cleanup_policy.find("compact") != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// BatchReader

Result<ByteView> BatchReader::bytes_at(int64_t position, size_t size) {
  int64_t buffer_end = buffer_start_ + static_cast<int64_t>(buffer_.size());
  if (position >= buffer_start_ && position + static_cast<int64_t>(size) <= buffer_end)
    return ByteView(buffer_.data() + (position - buffer_start_), size);
  int64_t want = std::max<int64_t>(static_cast<int64_t>(size), static_cast<int64_t>(chunk_bytes_));
  want = std::min<int64_t>(want, end_ - position);
  if (want < static_cast<int64_t>(size))
    return fail(ErrorCode::corrupt_message,
                fmt::format("{}: {} bytes at {} run past the end {}", file_.path(), size, position, end_));
  buffer_.resize(static_cast<size_t>(want));
  buffer_start_ = position;
  auto n = file_.pread(buffer_, position);
  if (!n) {
    buffer_.clear();
    return fail(n.error());
  }
  buffer_.resize(*n);
  if (*n < size)
    return fail(ErrorCode::corrupt_message,
                fmt::format("{}: short read at {} ({} of {} bytes)", file_.path(), position, *n, size));
  return ByteView(buffer_.data(), size);
}

Result<BatchReader::Next> BatchReader::header_at(int64_t position) {
  Next out;
  if (position >= end_) {
    out.status = Status::end;
    return out;
  }
  int64_t left = end_ - position;
  if (left < static_cast<int64_t>(protocol::kBatchHeaderSize)) {
    out.status = Status::torn;
    out.why = fmt::format("{} trailing bytes at position {} are less than a batch header", left, position);
    return out;
  }
  auto head = bytes_at(position, protocol::kBatchHeaderSize);
  if (!head) return fail(head.error());
  auto parsed = protocol::parse_batch_header(*head);
  if (!parsed) {
    out.status = Status::corrupt;
    out.why = fmt::format("bad batch header at position {}: {}", position, parsed.error().message);
    return out;
  }
  if (parsed->magic != 2 ||
      parsed->batch_length < static_cast<int32_t>(protocol::kBatchHeaderSize - protocol::kBatchOffsetsSize) ||
      static_cast<uint64_t>(parsed->size_in_bytes()) > max_batch_bytes_) {
    out.status = Status::corrupt;
    out.why = fmt::format("bad batch header at position {} (magic {}, length {})", position,
                          parsed->magic, parsed->batch_length);
    return out;
  }
  if (parsed->size_in_bytes() > left) {
    out.status = Status::torn;
    out.why = fmt::format("batch at position {} of {} bytes runs past the end ({} bytes left)",
                          position, parsed->size_in_bytes(), left);
    return out;
  }
  out.status = Status::ok;
  out.header = *parsed;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Segment

namespace {

void set_limits(Segment& s, const LogConfig& config) {
  s.max_offset_entries = std::max<int64_t>(1, config.segment_index_bytes / kOffsetIndexEntrySize);
  s.max_time_entries = std::max<int64_t>(1, config.segment_index_bytes / kTimeIndexEntrySize);
}

}  // namespace

Result<std::shared_ptr<Segment>> Segment::create(const std::string& dir, int64_t base_offset,
                                                 const LogConfig& config) {
  std::shared_ptr<Segment> s(new Segment());
  s->base_offset = base_offset;
  s->next_offset = base_offset;
  s->log_path = io::join_path(dir, segment_file_name(base_offset, ".log"));
  s->index_path = io::join_path(dir, segment_file_name(base_offset, ".index"));
  s->time_index_path = io::join_path(dir, segment_file_name(base_offset, ".timeindex"));
  set_limits(*s, config);
  auto log = io::File::open(s->log_path, io::OpenMode::create_truncate);
  if (!log) return fail(log.error());
  s->log = std::move(*log);
  auto index = io::File::open(s->index_path, io::OpenMode::create_truncate);
  if (!index) return fail(index.error());
  s->index = std::move(*index);
  auto time_index = io::File::open(s->time_index_path, io::OpenMode::create_truncate);
  if (!time_index) return fail(time_index.error());
  s->time_index = std::move(*time_index);
  if (config.preallocate) {
    if (auto r = s->log.preallocate(config.segment_bytes); !r) return fail(r.error());
    s->preallocated = true;
  }
  s->dirty = true;
  return s;
}

Result<std::shared_ptr<Segment>> Segment::open_files(const std::string& dir, int64_t base_offset,
                                                     const LogConfig& config) {
  std::shared_ptr<Segment> s(new Segment());
  s->base_offset = base_offset;
  s->next_offset = base_offset;
  s->log_path = io::join_path(dir, segment_file_name(base_offset, ".log"));
  s->index_path = io::join_path(dir, segment_file_name(base_offset, ".index"));
  s->time_index_path = io::join_path(dir, segment_file_name(base_offset, ".timeindex"));
  set_limits(*s, config);
  auto log = io::File::open(s->log_path, io::OpenMode::read_write);
  if (!log) return fail(log.error());
  s->log = std::move(*log);
  auto index = io::File::open(s->index_path, io::OpenMode::create);
  if (!index) return fail(index.error());
  s->index = std::move(*index);
  auto time_index = io::File::open(s->time_index_path, io::OpenMode::create);
  if (!time_index) return fail(time_index.error());
  s->time_index = std::move(*time_index);
  auto size = s->log.size();
  if (!size) return fail(size.error());
  s->size = *size;
  return s;
}

Result<bool> Segment::read_indexes() {
  offset_entries.clear();
  time_entries.clear();
  auto index_size = index.size();
  if (!index_size) return fail(index_size.error());
  auto time_size = time_index.size();
  if (!time_size) return fail(time_size.error());
  if (*index_size % kOffsetIndexEntrySize != 0 || *time_size % kTimeIndexEntrySize != 0) return false;
  if (*index_size / kOffsetIndexEntrySize > max_offset_entries ||
      *time_size / kTimeIndexEntrySize > max_time_entries)
    return false;
  Bytes buf(static_cast<size_t>(*index_size));
  if (auto r = index.pread_exact(buf, 0); !r) return fail(r.error());
  offset_entries.reserve(buf.size() / kOffsetIndexEntrySize);
  for (size_t i = 0; i < buf.size(); i += kOffsetIndexEntrySize)
    offset_entries.push_back({static_cast<int32_t>(get_be32(&buf[i])), static_cast<int32_t>(get_be32(&buf[i + 4]))});
  buf.assign(static_cast<size_t>(*time_size), 0);
  if (auto r = time_index.pread_exact(buf, 0); !r) return fail(r.error());
  time_entries.reserve(buf.size() / kTimeIndexEntrySize);
  for (size_t i = 0; i < buf.size(); i += kTimeIndexEntrySize)
    time_entries.push_back({static_cast<int64_t>(get_be64(&buf[i])), static_cast<int32_t>(get_be32(&buf[i + 8]))});
  return true;
}

Result<bool> Segment::load_trusted(const LogConfig& config) {
  auto ok = read_indexes();
  if (!ok) return fail(ok.error());
  if (!*ok) return false;
  // Structure: strictly increasing offsets and positions, positions inside the file.
  for (size_t i = 0; i < offset_entries.size(); ++i) {
    const auto& e = offset_entries[i];
    if (e.relative_offset < 0 || e.position < 0 || e.position >= size) return false;
    if (i > 0 && (e.relative_offset <= offset_entries[i - 1].relative_offset ||
                  e.position <= offset_entries[i - 1].position))
      return false;
  }
  for (size_t i = 0; i < time_entries.size(); ++i) {
    const auto& e = time_entries[i];
    if (e.relative_offset < 0) return false;
    if (i > 0 && (e.timestamp <= time_entries[i - 1].timestamp ||
                  e.relative_offset < time_entries[i - 1].relative_offset))
      return false;
  }
  BatchReader reader(log, size, 64 * 1024, static_cast<size_t>(config.max_batch_read_bytes));
  // A sample of the offset index (every entry for small indexes) against the batch headers.
  constexpr size_t kSample = 64;
  size_t step = std::max<size_t>(1, offset_entries.size() / kSample);
  for (size_t i = 0; i < offset_entries.size(); i += step) {
    size_t k = (i + step >= offset_entries.size()) ? offset_entries.size() - 1 : i;
    const auto& e = offset_entries[k];
    auto next = reader.header_at(e.position);
    if (!next) return fail(next.error());
    if (next->status != BatchReader::Status::ok ||
        next->header.last_offset() != base_offset + e.relative_offset)
      return false;
    if (k == offset_entries.size() - 1) break;
  }
  // The time index holds the running max timestamp at every offset index entry (and at the
  // seal), so it cannot be behind the batch of the last offset index entry.
  if (!offset_entries.empty()) {
    auto last = reader.header_at(offset_entries.back().position);
    if (!last) return fail(last.error());
    if (last->status != BatchReader::Status::ok) return false;
    int64_t indexed_max = time_entries.empty() ? -1 : time_entries.back().timestamp;
    if (indexed_max < last->header.max_timestamp) return false;
  }
  if (auto m = time_entries_match(reader, time_entries.size()); !m || !*m) {
    if (!m) return fail(m.error());
    return false;
  }
  // The batches after the last index entry: find the end, the next offset, the max timestamp.
  int64_t position = offset_entries.empty() ? 0 : offset_entries.back().position;
  next_offset = base_offset;
  max_timestamp = -1;
  offset_of_max_timestamp = -1;
  if (!time_entries.empty()) {
    max_timestamp = time_entries.back().timestamp;
    offset_of_max_timestamp = base_offset + time_entries.back().relative_offset;
  }
  bytes_since_index_entry = 0;
  while (true) {
    auto next = reader.header_at(position);
    if (!next) return fail(next.error());
    if (next->status == BatchReader::Status::end) break;
    if (next->status != BatchReader::Status::ok) return false;  // garbage tail: full recovery
    const auto& h = next->header;
    if (h.base_offset < next_offset || h.last_offset() - base_offset > INT32_MAX) return false;
    if (h.max_timestamp > max_timestamp) {
      max_timestamp = h.max_timestamp;
      offset_of_max_timestamp = h.last_offset();
    }
    next_offset = h.last_offset() + 1;
    bytes_since_index_entry += h.size_in_bytes();
    position += h.size_in_bytes();
  }
  if (position != size) return false;
  if (!time_entries.empty() && base_offset + time_entries.back().relative_offset >= next_offset)
    return false;
  return true;
}

Result<bool> Segment::time_entries_match(BatchReader& reader, size_t count) {
  constexpr size_t kSample = 64;
  size_t step = std::max<size_t>(1, count / kSample);
  for (size_t i = 0; i < count; i += step) {
    size_t k = (i + step >= count) ? count - 1 : i;
    const auto& e = time_entries[k];
    int64_t offset = base_offset + e.relative_offset;
    int64_t position = position_for_offset(offset);
    bool matched = false;
    while (true) {
      auto next = reader.header_at(position);
      if (!next) return fail(next.error());
      if (next->status != BatchReader::Status::ok) return false;
      const auto& h = next->header;
      if (h.last_offset() >= offset) {
        matched = h.base_offset <= offset && h.max_timestamp == e.timestamp;
        break;
      }
      position += h.size_in_bytes();
    }
    if (!matched) return false;
    if (k == count - 1) break;
  }
  return true;
}

Result<std::optional<Segment::RecoveryResult>> Segment::recover_tail(const LogConfig& config,
                                                                    int64_t recovery_point,
                                                                    int64_t expected_first_offset,
                                                                    bool allow_gaps) {
  using Out = std::optional<RecoveryResult>;
  auto file_size = log.size();
  if (!file_size) return fail(file_size.error());
  size = *file_size;
  auto ok = read_indexes();
  if (!ok) return fail(ok.error());
  if (!*ok) return Out{};
  for (size_t i = 0; i < offset_entries.size(); ++i) {
    const auto& e = offset_entries[i];
    if (e.relative_offset < 0 || e.position < 0 || e.position >= size) return Out{};
    if (i > 0 && (e.relative_offset <= offset_entries[i - 1].relative_offset ||
                  e.position <= offset_entries[i - 1].position))
      return Out{};
  }
  for (size_t i = 0; i < time_entries.size(); ++i) {
    const auto& e = time_entries[i];
    if (e.relative_offset < 0) return Out{};
    if (i > 0 && (e.timestamp <= time_entries[i - 1].timestamp ||
                  e.relative_offset < time_entries[i - 1].relative_offset))
      return Out{};
  }
  // The last index entry of a batch wholly below the recovery point.
  size_t kept_offsets = 0;
  while (kept_offsets < offset_entries.size() &&
         base_offset + offset_entries[kept_offsets].relative_offset < recovery_point)
    ++kept_offsets;
  BatchReader reader(log, size, 1 << 20, static_cast<size_t>(config.max_batch_read_bytes));
  // A sample of the kept entries (every one for up to 64) against the batch headers, as
  // load_trusted() does; the last kept entry is checked below.
  {
    constexpr size_t kSample = 64;
    size_t step = std::max<size_t>(1, kept_offsets / kSample);
    for (size_t i = 0; i + 1 < kept_offsets; i += step) {
      const auto& e = offset_entries[i];
      auto h = reader.header_at(e.position);
      if (!h) return fail(h.error());
      if (h->status != BatchReader::Status::ok || h->header.last_offset() != base_offset + e.relative_offset)
        return Out{};
    }
  }
  bool compacted = config_compacted(config) || allow_gaps;
  int64_t position = 0;
  int64_t expected = std::max(expected_first_offset, base_offset);
  size_t kept_times = 0;
  max_timestamp = -1;
  offset_of_max_timestamp = -1;
  bytes_since_index_entry = 0;
  next_offset = base_offset;
  if (kept_offsets > 0) {
    const auto& e = offset_entries[kept_offsets - 1];
    auto h = reader.header_at(e.position);
    if (!h) return fail(h.error());
    if (h->status != BatchReader::Status::ok || h->header.last_offset() != base_offset + e.relative_offset)
      return Out{};
    while (kept_times < time_entries.size() && time_entries[kept_times].relative_offset <= e.relative_offset)
      ++kept_times;
    if (kept_times > 0) {
      max_timestamp = time_entries[kept_times - 1].timestamp;
      offset_of_max_timestamp = base_offset + time_entries[kept_times - 1].relative_offset;
    }
    // The time index holds the running max at every offset index entry.
    if (max_timestamp < h->header.max_timestamp) return Out{};
    position = e.position + h->header.size_in_bytes();
    next_offset = h->header.last_offset() + 1;
    expected = next_offset;
    bytes_since_index_entry = h->header.size_in_bytes();
  }
  offset_entries.resize(kept_offsets);
  time_entries.resize(kept_times);
  if (auto m = time_entries_match(reader, kept_times); !m || !*m) {
    if (!m) return fail(m.error());
    return Out{};
  }
  // The batches between that entry and the recovery point (at most about
  // index.interval.bytes): their headers feed the indexes, so they are CRC-checked too.
  while (true) {
    auto next = reader.header_at(position);
    if (!next) return fail(next.error());
    if (next->status == BatchReader::Status::end) break;
    if (next->status != BatchReader::Status::ok) return Out{};  // flushed bytes are damaged
    const auto& h = next->header;
    auto bytes = reader.bytes_at(position, static_cast<size_t>(h.size_in_bytes()));
    if (!bytes) return fail(bytes.error());
    if (!protocol::batch_crc_valid(*bytes)) return Out{};
    if (h.last_offset() >= recovery_point) break;
    if (compacted ? h.base_offset < expected : h.base_offset != expected) return Out{};
    if (h.last_offset() - base_offset > INT32_MAX || position > INT32_MAX) return Out{};
    index_batch(h, position, config, &offset_entries, &time_entries);
    expected = h.last_offset() + 1;
    next_offset = expected;
    position += h.size_in_bytes();
  }
  unverified_bytes = position;
  // The unflushed tail: full validation, as recover().
  RecoveryResult out;
  while (true) {
    auto next = recovery_step(reader, position, compacted, expected);
    if (!next) return fail(next.error());
    if (next->status == BatchReader::Status::end) break;
    if (next->status != BatchReader::Status::ok) {
      out.why = std::move(next->why);
      break;
    }
    const auto& h = next->header;
    index_batch(h, position, config, &offset_entries, &time_entries);
    expected = h.last_offset() + 1;
    next_offset = expected;
    position += h.size_in_bytes();
  }
  out.valid_bytes = position;
  out.truncated_bytes = *file_size - position;
  size = position;
  if (out.truncated_bytes > 0)
    if (auto r = log.truncate(position); !r) return fail(r.error());
  preallocated = false;
  // Keep the trusted index entries on disk; rewrite only what follows them.
  if (auto r = index.truncate(static_cast<int64_t>(kept_offsets) * kOffsetIndexEntrySize); !r) return fail(r.error());
  if (auto r = time_index.truncate(static_cast<int64_t>(kept_times) * kTimeIndexEntrySize); !r) return fail(r.error());
  if (auto r = append_index_entries(kept_offsets, kept_times); !r) return fail(r.error());
  dirty = true;
  return Out{out};
}

Result<BatchReader::Next> Segment::recovery_step(BatchReader& reader, int64_t position, bool compacted,
                                                 int64_t expected) const {
  auto next = reader.header_at(position);
  if (!next || next->status != BatchReader::Status::ok) return next;
  const auto& h = next->header;
  auto stop = [&](std::string why) {
    next->status = BatchReader::Status::corrupt;
    next->why = std::move(why);
    return std::move(*next);
  };
  auto bytes = reader.bytes_at(position, static_cast<size_t>(h.size_in_bytes()));
  if (!bytes) return fail(bytes.error());
  if (!protocol::batch_crc_valid(*bytes)) return stop(fmt::format("CRC mismatch in batch at position {}", position));
  if (h.last_offset_delta < 0 || h.record_count < 0 || h.record_count > static_cast<int64_t>(h.last_offset_delta) + 1)
    return stop(fmt::format("bad record count/last offset delta at position {}", position));
  if (compacted ? h.base_offset < expected : h.base_offset != expected)
    return stop(fmt::format("batch at position {} has base offset {}, expected {}", position, h.base_offset, expected));
  if (h.last_offset() - base_offset > INT32_MAX || position > INT32_MAX)
    return stop(fmt::format("batch at position {} does not fit the segment's index", position));
  return next;
}

void Segment::index_batch(const protocol::RecordBatchHeader& h, int64_t position,
                          const LogConfig& config, std::vector<OffsetIndexEntry>* new_offset_entries,
                          std::vector<TimeIndexEntry>* new_time_entries) {
  int64_t batch_max_ts = h.max_timestamp;
  if (batch_max_ts > max_timestamp) {
    max_timestamp = batch_max_ts;
    offset_of_max_timestamp = h.last_offset();
  }
  if (bytes_since_index_entry > config.index_interval_bytes) {
    if (static_cast<int64_t>(offset_entries.size()) < max_offset_entries) {
      new_offset_entries->push_back({static_cast<int32_t>(h.last_offset() - base_offset),
                                     static_cast<int32_t>(position)});
    }
    if (static_cast<int64_t>(time_entries.size()) < max_time_entries &&
        (time_entries.empty() || max_timestamp > time_entries.back().timestamp)) {
      new_time_entries->push_back({max_timestamp, static_cast<int32_t>(offset_of_max_timestamp - base_offset)});
    }
    bytes_since_index_entry = 0;
  }
  bytes_since_index_entry += h.size_in_bytes();
}

Result<void> Segment::append_index_entries(size_t first_offset_entry, size_t first_time_entry) {
  if (first_offset_entry < offset_entries.size()) {
    Bytes buf((offset_entries.size() - first_offset_entry) * kOffsetIndexEntrySize);
    uint8_t* p = buf.data();
    for (size_t i = first_offset_entry; i < offset_entries.size(); ++i, p += kOffsetIndexEntrySize) {
      put_be32(p, static_cast<uint32_t>(offset_entries[i].relative_offset));
      put_be32(p + 4, static_cast<uint32_t>(offset_entries[i].position));
    }
    if (auto r = index.pwrite(buf, static_cast<int64_t>(first_offset_entry) * kOffsetIndexEntrySize); !r) return r;
  }
  if (first_time_entry < time_entries.size()) {
    Bytes buf((time_entries.size() - first_time_entry) * kTimeIndexEntrySize);
    uint8_t* p = buf.data();
    for (size_t i = first_time_entry; i < time_entries.size(); ++i, p += kTimeIndexEntrySize) {
      put_be64(p, static_cast<uint64_t>(time_entries[i].timestamp));
      put_be32(p + 8, static_cast<uint32_t>(time_entries[i].relative_offset));
    }
    if (auto r = time_index.pwrite(buf, static_cast<int64_t>(first_time_entry) * kTimeIndexEntrySize); !r) return r;
  }
  return {};
}

Result<void> Segment::write_indexes() {
  if (auto r = index.truncate(0); !r) return r;
  if (auto r = time_index.truncate(0); !r) return r;
  return append_index_entries(0, 0);
}

Result<void> Segment::append(ByteView data, const std::vector<protocol::RecordBatchHeader>& headers,
                             const LogConfig& config) {
  if (auto r = log.pwrite(data, size); !r) {
    // Never leave a partial batch behind a live segment. If even that fails the file may hold
    // a torn tail: the caller takes the log dir offline (recovery truncates it on the next open).
    if (auto t = log.truncate(size); !t) {
      needs_recovery = true;
      return fail(ErrorCode::kafka_storage_error,
                  fmt::format("{}; truncating back to {} failed too: {}", r.error().message, size, t.error().message));
    }
    return r;
  }
  size_t first_offset_entry = offset_entries.size();
  size_t first_time_entry = time_entries.size();
  std::vector<OffsetIndexEntry> new_offsets;
  std::vector<TimeIndexEntry> new_times;
  int64_t position = size;
  for (const auto& h : headers) {
    new_offsets.clear();
    new_times.clear();
    index_batch(h, position, config, &new_offsets, &new_times);
    offset_entries.insert(offset_entries.end(), new_offsets.begin(), new_offsets.end());
    time_entries.insert(time_entries.end(), new_times.begin(), new_times.end());
    position += h.size_in_bytes();
    next_offset = h.last_offset() + 1;
  }
  size = position;
  dirty = true;
  // The batches are in the log: an index write failure only costs lookup speed until the index
  // is rebuilt (a short or torn index fails the sanity check on the next open).
  if (auto r = append_index_entries(first_offset_entry, first_time_entry); !r)
    conveyor::log::warn("storage", "{}: index append failed, reads scan further until rebuilt: {}", log_path,
              r.error().message);
  return {};
}

int64_t Segment::position_for_offset(int64_t offset) const {
  int64_t rel = offset - base_offset;
  auto it = std::upper_bound(offset_entries.begin(), offset_entries.end(), rel,
                             [](int64_t v, const OffsetIndexEntry& e) { return v < e.relative_offset; });
  if (it == offset_entries.begin()) return 0;
  return std::prev(it)->position;
}

int64_t Segment::offset_for_timestamp_hint(int64_t timestamp) const {
  auto it = std::lower_bound(time_entries.begin(), time_entries.end(), timestamp,
                             [](const TimeIndexEntry& e, int64_t v) { return e.timestamp < v; });
  if (it == time_entries.begin()) return base_offset;
  return base_offset + std::prev(it)->relative_offset;
}

bool Segment::index_full() const {
  return static_cast<int64_t>(offset_entries.size()) >= max_offset_entries ||
         static_cast<int64_t>(time_entries.size()) >= max_time_entries;
}

Result<void> Segment::seal_time_index() {
  if (max_timestamp < 0 && offset_of_max_timestamp < 0) return {};
  if (!time_entries.empty() && time_entries.back().timestamp >= max_timestamp) return {};
  if (offset_of_max_timestamp < base_offset) return {};
  size_t first = time_entries.size();
  time_entries.push_back({max_timestamp, static_cast<int32_t>(offset_of_max_timestamp - base_offset)});
  dirty = true;
  return append_index_entries(offset_entries.size(), first);
}

Result<void> Segment::trim() {
  if (!preallocated) return {};
  if (auto r = log.truncate(size); !r) return r;
  preallocated = false;
  return {};
}

Result<int64_t> Segment::truncate_to(int64_t offset, const LogConfig& config) {
  // Rescan from the start to find the batch containing `offset` and rebuild the indexes for
  // the part kept (truncation is rare: follower divergence, tests).
  int64_t cut = size;
  BatchReader reader(log, size, 1 << 20, static_cast<size_t>(config.max_batch_read_bytes));
  int64_t position = 0;
  offset_entries.clear();
  time_entries.clear();
  bytes_since_index_entry = 0;
  max_timestamp = -1;
  offset_of_max_timestamp = -1;
  next_offset = base_offset;
  std::vector<OffsetIndexEntry> new_offsets;
  std::vector<TimeIndexEntry> new_times;
  while (true) {
    auto next = reader.header_at(position);
    if (!next) return fail(next.error());
    if (next->status != BatchReader::Status::ok) break;
    const auto& h = next->header;
    if (h.last_offset() >= offset) break;
    new_offsets.clear();
    new_times.clear();
    index_batch(h, position, config, &new_offsets, &new_times);
    offset_entries.insert(offset_entries.end(), new_offsets.begin(), new_offsets.end());
    time_entries.insert(time_entries.end(), new_times.begin(), new_times.end());
    next_offset = h.last_offset() + 1;
    position += h.size_in_bytes();
  }
  cut = position;
  if (auto r = log.truncate(cut); !r) return fail(r.error());
  size = cut;
  preallocated = false;
  if (auto r = write_indexes(); !r) return fail(r.error());
  dirty = true;
  return next_offset;
}

Result<void> Segment::flush() {
  if (auto r = log.fdatasync(); !r) return r;
  if (auto r = index.fdatasync(); !r) return r;
  return time_index.fdatasync();
}

Result<void> Segment::delete_files() {
  if (auto r = io::remove_file(log_path); !r) return r;
  if (auto r = io::remove_file(index_path); !r) return r;
  return io::remove_file(time_index_path);
}

}  // namespace conveyor::storage
