#pragma once
// Helpers shared by the storage tests: temp dirs, batch building, crash images.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "conveyor/io/file.h"
#include "conveyor/protocol/record_batch.h"
#include "conveyor/storage/log.h"

namespace conveyor::storage::testing {

class TempDir {
 public:
  // On tmpfs when there is one: the tests fsync a lot and a shared disk makes that slow.
  TempDir() {
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string tmpl_s = base + "/conveyor-storage-test-XXXXXX";
    std::vector<char> tmpl(tmpl_s.begin(), tmpl_s.end());
    tmpl.push_back('\0');
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = p ? p : "/tmp";
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct BatchSpec {
  int records = 1;
  int64_t timestamp_ms = 1000;   // first record; each next record +1
  size_t value_bytes = 16;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  protocol::Compression compression = protocol::Compression::none;
  uint8_t fill = 'x';
};

inline Bytes make_batch(const BatchSpec& spec) {
  protocol::RecordBatchBuilder::Options options;
  options.compression = spec.compression;
  options.producer_id = spec.producer_id;
  options.producer_epoch = spec.producer_epoch;
  options.base_sequence = spec.base_sequence;
  protocol::RecordBatchBuilder builder(options);
  for (int i = 0; i < spec.records; ++i) {
    Bytes value(spec.value_bytes, spec.fill);
    if (!value.empty()) value[0] = static_cast<uint8_t>(i);
    std::string key = "k" + std::to_string(i);
    builder.add(spec.timestamp_ms + i, ByteView(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
                ByteView(value));
  }
  auto built = builder.build();
  EXPECT_TRUE(built) << built.error().to_string();
  return built ? *built : Bytes{};
}

// Owning forms for range-for (a range-for over `*temporary_result` dangles before C++23).
inline std::vector<io::DirEntry> list_dir(const std::string& dir) {
  auto entries = io::list_directory(dir);
  EXPECT_TRUE(entries) << entries.error().to_string();
  return entries ? std::move(*entries) : std::vector<io::DirEntry>{};
}
inline std::vector<protocol::BatchSpan> split(ByteView records) {
  auto spans = protocol::split_batches(records);
  EXPECT_TRUE(spans) << spans.error().to_string();
  return spans ? std::move(*spans) : std::vector<protocol::BatchSpan>{};
}
inline std::vector<protocol::Record> decode(ByteView batch) {
  auto records = protocol::decode_batch(batch);
  EXPECT_TRUE(records) << records.error().to_string();
  return records ? std::move(*records) : std::vector<protocol::Record>{};
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Whole batches of a read result.
inline std::vector<protocol::RecordBatchHeader> headers_of(const Bytes& records) {
  std::vector<protocol::RecordBatchHeader> out;
  auto spans = protocol::split_batches(records);
  EXPECT_TRUE(spans) << spans.error().to_string();
  if (spans)
    for (const auto& s : *spans) out.push_back(s.header);
  return out;
}

// Reads the whole log from `from` in reads of `max_bytes`.
inline Bytes read_all(const PartitionLog& log, int64_t from = 0, int32_t max_bytes = 1 << 20) {
  Bytes out;
  int64_t offset = from;
  while (offset < log.log_end_offset()) {
    auto r = log.read(offset, max_bytes, INT64_MAX);
    EXPECT_TRUE(r) << r.error().to_string();
    if (!r || r->records.empty()) break;
    auto hs = headers_of(r->records);
    out.insert(out.end(), r->records.begin(), r->records.end());
    offset = hs.back().last_offset() + 1;
  }
  return out;
}

// Copies every file of `from` into `to` as a process crash would leave them (no close).
inline void copy_dir(const std::string& from, const std::string& to) {
  std::filesystem::remove_all(to);
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

inline Bytes read_bytes(const std::string& path) {
  auto text = io::read_file(path, 1 << 30);
  EXPECT_TRUE(text) << text.error().to_string();
  return text ? Bytes(text->begin(), text->end()) : Bytes{};
}

inline void write_bytes(const std::string& path, const Bytes& data) {
  auto f = io::File::open(path, io::OpenMode::create_truncate);
  ASSERT_TRUE(f) << f.error().to_string();
  ASSERT_TRUE(f->pwrite(data, 0));
}

inline LogConfig small_config(int64_t segment_bytes = 4096, int64_t index_interval = 256) {
  LogConfig c;
  c.segment_bytes = segment_bytes;
  c.index_interval_bytes = index_interval;
  return c;
}

// One batch of a segment file as found on disk: where it is and its bytes.
struct SegmentBatch {
  int64_t segment = 0;   // base offset of its segment
  int64_t position = 0;  // in the segment file
  Bytes bytes;
  protocol::RecordBatchHeader header;
};

// Every batch of every .log file in `dir`, by a plain split (no validation), in file order.
inline std::vector<SegmentBatch> scan_segment_batches(const std::string& dir) {
  std::vector<SegmentBatch> out;
  for (const auto& e : list_dir(dir)) {
    if (!e.name.ends_with(".log")) continue;
    int64_t base = std::stoll(e.name);
    Bytes data = read_bytes(dir + "/" + e.name);
    auto spans = protocol::split_batches(data);
    EXPECT_TRUE(spans);
    if (!spans) continue;
    int64_t pos = 0;
    for (const auto& s : *spans) {
      out.push_back({base, pos, Bytes(s.bytes.begin(), s.bytes.end()), s.header});
      pos += static_cast<int64_t>(s.bytes.size());
    }
  }
  return out;
}

}  // namespace conveyor::storage::testing
