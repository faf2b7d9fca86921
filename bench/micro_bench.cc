// conveyor_micro_bench: the per-byte and per-record costs behind the throughput figures
// (Google Benchmark). Run: conveyor_micro_bench [--benchmark_filter=...]
//
//   crc32c          hardware (SSE4.2) and table implementations, 1 KiB .. 1 MiB
//   validate_batch  what the broker does to each produced batch (header, CRC, every record)
//   decode_batch    what the consumer does to each fetched batch (record objects with copies)
//   builder         RecordBatchBuilder::add per 100-byte record, and build() of a 16 KiB batch
//   split_batches   splitting a 1 MiB fetch response into batches
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <optional>
#include <vector>

#include "conveyor/protocol/crc32c.h"
#include "conveyor/protocol/record_batch.h"

namespace {

using conveyor::Bytes;
using conveyor::ByteView;
namespace proto = conveyor::protocol;

Bytes random_bytes(size_t n) {
  Bytes b(n);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (auto& c : b) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<uint8_t>(x);
  }
  return b;
}

// One uncompressed batch of 100-byte values (null keys) filling about `target` bytes.
Bytes make_batch(size_t target, int32_t* records_out = nullptr) {
  proto::RecordBatchBuilder builder({});
  Bytes value = random_bytes(100);
  int32_t n = 0;
  while (builder.estimated_size() + 100 + 16 <= target) {
    builder.add(1'700'000'000'000 + n, std::nullopt, ByteView(value));
    ++n;
  }
  auto built = builder.build();
  if (!built) {
    std::fprintf(stderr, "build failed: %s\n", built.error().to_string().c_str());
    std::abort();
  }
  if (records_out) *records_out = n;
  return std::move(*built);
}

void BM_Crc32c(benchmark::State& state) {
  Bytes data = random_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(proto::crc32c(data.data(), data.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c)->Arg(1 << 10)->Arg(16 << 10)->Arg(1 << 20);

void BM_Crc32cTable(benchmark::State& state) {
  Bytes data = random_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(proto::detail::crc32c_table(data.data(), data.size(), 0));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cTable)->Arg(16 << 10);

void BM_Crc32cHardware(benchmark::State& state) {
  if (!proto::detail::crc32c_hardware_available()) {
    state.SkipWithError("no SSE4.2 crc32 on this CPU");
    return;
  }
  Bytes data = random_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state)
    benchmark::DoNotOptimize(proto::detail::crc32c_hardware(data.data(), data.size(), 0));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cHardware)->Arg(16 << 10);

void BM_ValidateBatch16K(benchmark::State& state) {
  int32_t records = 0;
  Bytes batch = make_batch(16 << 10, &records);
  for (auto _ : state) {
    auto r = proto::validate_batch(ByteView(batch));
    if (!r) {
      state.SkipWithError(r.error().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(batch.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * records);
  state.counters["records_per_batch"] = records;
}
BENCHMARK(BM_ValidateBatch16K);

void BM_DecodeBatch16K(benchmark::State& state) {
  int32_t records = 0;
  Bytes batch = make_batch(16 << 10, &records);
  for (auto _ : state) {
    auto r = proto::decode_batch(ByteView(batch));
    if (!r) {
      state.SkipWithError(r.error().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(batch.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * records);
}
BENCHMARK(BM_DecodeBatch16K);

// Per record: add() of a 100-byte value; a fresh builder (and build()) every 150 records, about
// one 16 KiB batch, so the figure includes the amortised build.
void BM_BuilderAddPerRecord(benchmark::State& state) {
  Bytes value = random_bytes(100);
  std::optional<proto::RecordBatchBuilder> builder;
  builder.emplace(proto::RecordBatchBuilder::Options{});
  int64_t ts = 1'700'000'000'000;
  for (auto _ : state) {
    builder->add(ts++, std::nullopt, ByteView(value));
    if (builder->record_count() == 150) {
      auto built = builder->build();
      benchmark::DoNotOptimize(built);
      builder.emplace(proto::RecordBatchBuilder::Options{});
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 100);
}
BENCHMARK(BM_BuilderAddPerRecord);

void BM_BuilderBuild16K(benchmark::State& state) {
  Bytes value = random_bytes(100);
  int64_t batches = 0;
  for (auto _ : state) {
    state.PauseTiming();
    proto::RecordBatchBuilder builder({});
    for (int i = 0; i < 150; ++i) builder.add(1'700'000'000'000 + i, std::nullopt, ByteView(value));
    state.ResumeTiming();
    auto built = builder.build();
    benchmark::DoNotOptimize(built);
    ++batches;
  }
  state.SetItemsProcessed(batches * 150);
}
BENCHMARK(BM_BuilderBuild16K);

void BM_SplitBatches1M(benchmark::State& state) {
  Bytes one = make_batch(16 << 10);
  Bytes blob;
  while (blob.size() + one.size() <= (1 << 20)) blob.insert(blob.end(), one.begin(), one.end());
  for (auto _ : state) {
    auto r = proto::split_batches(ByteView(blob));
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(blob.size()));
}
BENCHMARK(BM_SplitBatches1M);

}  // namespace

BENCHMARK_MAIN();
