// conveyor_compaction_bench: throughput of the log cleaner (issue 5 "Speed": MB/s of log
// cleaned), on a real partition log on disk, no broker.
//
//   conveyor_compaction_bench [--dir=PATH] [--mb=256] [--keys=10000] [--value-bytes=1000]
//       [--records-per-batch=10] [--segment-mb=64] [--compression=none|gzip|snappy|lz4|zstd]
//       [--runs=3] [--dedupe-mb=128] [--io-max-mb-per-s=0 (unthrottled)]
//
// Each run: a fresh log in --dir (default: a new directory under $TMPDIR) with
// cleanup.policy=compact, filled with --mb MiB of batches of --records-per-batch records whose
// keys cycle over --keys keys (so all but the last value of each key is garbage), rolled at
// --segment-mb (values: random text over 16 letters, about 2:1 compressible); the page cache is then dropped for the log files (posix_fadvise DONTNEED after
// an fsync), and one forced cleaning pass (storage::clean_log, the same code the background
// cleaner runs, dedupe map bounded by --dedupe-mb) is timed. Prints per run: MiB of closed
// segments cleaned (before → after), seconds, MiB/s of log cleaned and the records removed;
// then the median MiB/s over runs. "Log cleaned" = the .log bytes of the segments the pass
// rewrote (its input), as Kafka's cleaner reports it.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "conveyor/protocol/record_batch.h"
#include "conveyor/storage/cleaner.h"
#include "conveyor/storage/log.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace conveyor;

struct Options {
  std::string dir;
  int64_t mb = 256;
  int64_t keys = 10000;
  size_t value_bytes = 1000;
  int records_per_batch = 10;
  int64_t segment_mb = 64;
  protocol::Compression compression = protocol::Compression::none;
  int runs = 3;
  int64_t dedupe_mb = 128;
  double io_max_mb_per_s = 0;
};

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      if (a.starts_with(name) && a.size() > name.size() && a[name.size()] == '=') return argv[i] + name.size() + 1;
      return nullptr;
    };
    if (a == "--help" || a == "-h") return false;
    if (auto v = value("--dir")) o.dir = v;
    else if (auto v = value("--mb")) o.mb = std::atoll(v);
    else if (auto v = value("--keys")) o.keys = std::atoll(v);
    else if (auto v = value("--value-bytes")) o.value_bytes = static_cast<size_t>(std::atoll(v));
    else if (auto v = value("--records-per-batch")) o.records_per_batch = std::atoi(v);
    else if (auto v = value("--segment-mb")) o.segment_mb = std::atoll(v);
    else if (auto v = value("--runs")) o.runs = std::atoi(v);
    else if (auto v = value("--dedupe-mb")) o.dedupe_mb = std::atoll(v);
    else if (auto v = value("--io-max-mb-per-s")) o.io_max_mb_per_s = std::atof(v);
    else if (auto v = value("--compression")) {
      std::string_view c = v;
      if (c == "none") o.compression = protocol::Compression::none;
      else if (c == "gzip") o.compression = protocol::Compression::gzip;
      else if (c == "snappy") o.compression = protocol::Compression::snappy;
      else if (c == "lz4") o.compression = protocol::Compression::lz4;
      else if (c == "zstd") o.compression = protocol::Compression::zstd;
      else return false;
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return false;
    }
  }
  return o.mb > 0 && o.keys > 0 && o.records_per_batch > 0 && o.segment_mb > 0 && o.runs > 0;
}

void drop_page_cache(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    int fd = ::open(e.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

struct RunResult {
  double seconds = 0;
  double mib_cleaned = 0;
  double mib_after = 0;
  int64_t records_removed = 0;
};

int run_once(const Options& o, const std::string& base, int run, RunResult& out) {
  std::string dir = fmt::format("{}/bench-{}", base, run);
  std::filesystem::remove_all(dir);
  storage::LogConfig config;
  config.cleanup_policy = "compact";
  config.segment_bytes = o.segment_mb << 20;
  config.retention_ms = -1;
  auto log = storage::PartitionLog::open(dir + "/bench-0", "bench", 0, config);
  if (!log) {
    std::fprintf(stderr, "open: %s\n", log.error().to_string().c_str());
    return 1;
  }
  protocol::RecordBatchBuilder::Options bo;
  bo.compression = o.compression;
  protocol::RecordBatchBuilder builder(bo);
  // Values: windows of a random text over 16 letters (compresses about 2:1, like typical JSON;
  // a constant value would make a compressed log mostly decompression work).
  std::string pool(1 << 20, ' ');
  uint64_t x = 88172645463325252ULL;
  for (auto& ch : pool) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ch = static_cast<char>('a' + (x & 15));
  }
  int64_t written = 0, n = 0;
  const int64_t target = o.mb << 20;
  int64_t now = 1'700'000'000'000;
  while (written < target) {
    for (int i = 0; i < o.records_per_batch; ++i, ++n) {
      std::string key = fmt::format("key-{:08d}", n % o.keys);
      size_t at = static_cast<size_t>(n * 7919) % (pool.size() - o.value_bytes);
      builder.add(now, ByteView(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
                  ByteView(reinterpret_cast<const uint8_t*>(pool.data() + at), o.value_bytes));
    }
    auto batch = builder.build();
    if (!batch) return 1;
    auto a = (*log)->append(*batch, 0, now);
    if (!a) {
      std::fprintf(stderr, "append: %s\n", a.error().to_string().c_str());
      return 1;
    }
    written += static_cast<int64_t>(batch->size());
  }
  if (auto r = (*log)->flush(); !r) return 1;
  drop_page_cache(dir + "/bench-0");

  storage::Throttler throttler(o.io_max_mb_per_s > 0 ? o.io_max_mb_per_s * 1024 * 1024
                                                      : std::numeric_limits<double>::max());
  storage::CleanOptions co;
  co.now_ms = now + 1;
  co.force = true;
  co.dedupe_buffer_bytes = o.dedupe_mb << 20;
  co.throttler = &throttler;
  auto t0 = Clock::now();
  auto r = storage::clean_log(**log, 0, co);
  auto t1 = Clock::now();
  if (!r) {
    std::fprintf(stderr, "clean: %s\n", r.error().to_string().c_str());
    return 1;
  }
  out.seconds = std::chrono::duration<double>(t1 - t0).count();
  out.mib_cleaned = static_cast<double>(r->bytes_before) / (1 << 20);
  out.mib_after = static_cast<double>(r->bytes_after) / (1 << 20);
  out.records_removed = r->records_removed;
  (void)(*log)->close();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: conveyor_compaction_bench [--dir=PATH] [--mb=256] [--keys=10000] [--value-bytes=1000]\n"
                 "  [--records-per-batch=10] [--segment-mb=64] [--compression=none|gzip|snappy|lz4|zstd]\n"
                 "  [--runs=3] [--dedupe-mb=128] [--io-max-mb-per-s=0]\n");
    return 2;
  }
  std::string base = o.dir;
  if (base.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "conveyor-compaction-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return 1;
    base = tmpl;
  }
  std::filesystem::create_directories(base);
  std::vector<double> rates;
  for (int run = 0; run < o.runs; ++run) {
    RunResult r;
    if (int rc = run_once(o, base, run, r); rc != 0) return rc;
    double rate = r.mib_cleaned / r.seconds;
    rates.push_back(rate);
    std::printf("run %d: cleaned %.1f MiB -> %.1f MiB in %.3f s = %.1f MiB/s, %lld records removed\n", run + 1,
                r.mib_cleaned, r.mib_after, r.seconds, rate, static_cast<long long>(r.records_removed));
    std::fflush(stdout);
  }
  std::sort(rates.begin(), rates.end());
  std::printf("median: %.1f MiB/s of log cleaned (%d runs, %lld MiB, %lld keys, %zu-byte values, %d records/batch)\n",
              rates[rates.size() / 2], o.runs, static_cast<long long>(o.mb), static_cast<long long>(o.keys),
              o.value_bytes, o.records_per_batch);
  if (o.dir.empty()) std::filesystem::remove_all(base);
  return 0;
}
