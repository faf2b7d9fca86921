// conveyor_latency_bench: produce→acknowledgement latency at a fixed rate (issue 2 "Speed":
// at 10,000 records/s, p50 ≤ 150 µs and p99 ≤ 500 µs).
//
//   conveyor_latency_bench [--rate=10000] [--seconds=10] [--warmup-seconds=1] [--size=100]
//       [--bootstrap=HOST:PORT]   use a running broker (else one is embedded in this process)
//       [--acks=1] [--linger-ms=0]
//       [--create-topic=1|0]      0: have kcat ask for its metadata (librdkafka's
//                                          mock cluster auto-creates it, 4 partitions)
//
// One thread calls Producer::produce() on a fixed schedule (absolute clock_nanosleep, one
// record every 1/rate s); another thread sits in Producer::poll(), where the delivery
// callbacks run. Latency = time the callback starts − time produce() was called, i.e. what an
// application sees: produce → batch → wire → broker append → response → callback handed to the
// polling thread. A second figure measures from the scheduled send time instead, so a stalled
// producer thread (coordinated omission) cannot hide a delay. Records produced during the
// warm-up are not counted. Latencies go into a histogram (1 µs buckets up to 100 ms, 1 ms
// buckets up to 100 s; max tracked exactly).
#include <time.h>

#include <atomic>
#include <fstream>
#include <map>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "conveyor/broker/broker.h"
#include "conveyor/client/admin.h"
#include "conveyor/client/producer.h"

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "latency_bench: %s\n", what.c_str());
  std::exit(1);
}

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void sleep_until_ns(int64_t t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

// Latency histogram in two tiers: 1 µs buckets below 100 ms, 1 ms buckets from 100 ms to
// 100 s, one overflow bucket above. Percentiles report a bucket's upper edge (conservative by
// less than one bucket width); max is exact.
class Histogram {
 public:
  static constexpr int64_t kFine = 100'000;    // 1 µs buckets: [0, 100 ms)
  static constexpr int64_t kCoarse = 100'000;  // 1 ms buckets: [100 ms, 100 s)
  Histogram() : fine_(kFine, 0), coarse_(kCoarse, 0) {}
  void record(int64_t ns) {
    if (ns < 0) ns = 0;
    ++total_;
    sum_ns_ += static_cast<double>(ns);
    if (ns > max_ns_) max_ns_ = ns;
    const int64_t us = ns / 1000;
    if (us < kFine) ++fine_[us];
    else if (us / 1000 < kCoarse) ++coarse_[us / 1000];
    else ++overflow_;
  }
  int64_t total() const { return total_; }
  // Value in µs at quantile q (0..1).
  double percentile_us(double q) const {
    if (total_ == 0) return 0;
    int64_t rank = static_cast<int64_t>(q * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    int64_t seen = 0;
    for (int64_t i = 0; i < kFine; ++i) {
      seen += fine_[i];
      if (seen > rank) return static_cast<double>(i + 1);
    }
    for (int64_t i = kFine / 1000; i < kCoarse; ++i) {
      seen += coarse_[i];
      if (seen > rank) return static_cast<double>((i + 1) * 1000);
    }
    return max_ns_ / 1000.0;
  }
  double mean_us() const { return total_ ? sum_ns_ / 1000.0 / static_cast<double>(total_) : 0; }
  double max_us() const { return max_ns_ / 1000.0; }
  int64_t over_100ms() const {
    int64_t n = overflow_;
    for (int64_t c : coarse_) n += c;
    return n;
  }

 private:
  std::vector<int64_t> fine_, coarse_;
  int64_t overflow_ = 0;
  int64_t total_ = 0;
  double sum_ns_ = 0;
  int64_t max_ns_ = 0;
};

// Sum over this process's threads of /proc/self/task/*/schedstat: (seconds on a CPU, seconds
// runnable but waiting for one). Shows how much a busy machine delayed the measurement.
std::map<int, std::pair<uint64_t, uint64_t>> sched_snapshot() {
  std::map<int, std::pair<uint64_t, uint64_t>> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream f(entry.path() / "schedstat");
    uint64_t run = 0, wait = 0;
    if (f >> run >> wait) out[std::stoi(entry.path().filename().string())] = {run, wait};
  }
  return out;
}
std::pair<double, double> sched_delta(const std::map<int, std::pair<uint64_t, uint64_t>>& start) {
  double run = 0, wait = 0;
  for (const auto& [tid, v] : sched_snapshot()) {
    auto it = start.find(tid);
    run += (v.first - (it == start.end() ? 0 : it->second.first)) / 1e9;
    wait += (v.second - (it == start.end() ? 0 : it->second.second)) / 1e9;
  }
  return {run, wait};
}

void print_hist(const char* name, const Histogram& h) {
  std::printf("%-28s n=%lld  p50=%.0f us  p90=%.0f us  p99=%.0f us  p99.9=%.0f us  max=%.0f us  "
              "mean=%.1f us%s\n",
              name, static_cast<long long>(h.total()), h.percentile_us(0.50),
              h.percentile_us(0.90), h.percentile_us(0.99), h.percentile_us(0.999), h.max_us(),
              h.mean_us(),
              h.over_100ms() ? fmt::format("  ({} over 100 ms)", h.over_100ms()).c_str() : "");
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rate = 10'000;
  double seconds = 10, warmup = 1;
  size_t size = 100;
  std::string bootstrap, acks = "1", linger_ms = "0";
  bool create_topic = true;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: conveyor_latency_bench [--rate=10000] [--seconds=10] [--warmup-seconds=1]\n"
          "  [--size=100] [--bootstrap=HOST:PORT] [--acks=1] [--linger-ms=0] [--create-topic=1|0]\n"
          "Without --bootstrap a broker is embedded in this process. See bench/README.md.\n");
      return 0;
    }
    auto eq = a.find('=');
    if (a.substr(0, 2) != "--" || eq == std::string_view::npos) die(fmt::format("bad argument '{}'", a));
    std::string key(a.substr(2, eq - 2)), val(a.substr(eq + 1));
    if (key == "rate") rate = std::stoll(val);
    else if (key == "seconds") seconds = std::stod(val);
    else if (key == "warmup-seconds") warmup = std::stod(val);
    else if (key == "size") size = std::stoul(val);
    else if (key == "bootstrap") bootstrap = val;
    else if (key == "acks") acks = val;
    else if (key == "linger-ms") linger_ms = val;
    else if (key == "create-topic") create_topic = val != "0";
    else die(fmt::format("unknown option --{}", key));
  }

  std::unique_ptr<conveyor::broker::Broker> broker;
  std::filesystem::path data_dir;
  if (bootstrap.empty()) {
    char tmpl[] = "/tmp/conveyor-bench-XXXXXX";
    if (!mkdtemp(tmpl)) die("mkdtemp failed");
    data_dir = tmpl;
    auto b = conveyor::broker::Broker::start(
        {{"listeners", "PLAINTEXT://127.0.0.1:0"}, {"log.dirs", data_dir.string()}});
    if (!b) die("Broker::start: " + b.error().to_string());
    broker = std::move(*b);
    bootstrap = broker->bootstrap_servers();
  }
  const std::string topic = fmt::format("latency-{}", getpid());
  if (!create_topic) {
    // librdkafka's mock cluster has no CreateTopics but creates a topic when a producer handle
    // asks for its metadata; conveyor's producer does not ask it to, so kcat does.
    std::string cmd = fmt::format("kcat -L -b {} -t {} >/dev/null 2>&1", bootstrap, topic);
    if (std::system(cmd.c_str()) != 0) die("failed: " + cmd);
  } else {
    auto admin = conveyor::client::Admin::create({{"bootstrap.servers", bootstrap}});
    if (!admin) die("Admin::create: " + admin.error().to_string());
    if (auto r = (*admin)->create_topic(topic, 1, 1, {}, 10'000); !r)
      die("create_topic: " + r.error().to_string());
  }

  auto producer = conveyor::client::Producer::create({{"bootstrap.servers", bootstrap},
                                                      {"acks", acks},
                                                      {"linger.ms", linger_ms},
                                                      {"compression.type", "none"},
                                                      {"enable.idempotence", "false"}});
  if (!producer) die("Producer::create: " + producer.error().to_string());
  auto& p = **producer;

  // Warm the connection and metadata up before the clock starts.
  const conveyor::Bytes payload(size, 'x');
  if (auto r = p.produce({topic, 0, std::nullopt, payload, {}, 0}); !r) die("produce: " + r.error().to_string());
  if (auto r = p.flush(10'000); !r) die("first flush: " + r.error().to_string());

  const int64_t period_ns = 1'000'000'000 / rate;
  const int64_t warmup_n = static_cast<int64_t>(warmup * rate);
  const int64_t n = warmup_n + static_cast<int64_t>(seconds * rate);
  std::vector<int64_t> sent_ns(n, 0);
  Histogram from_call, from_schedule;
  int64_t failed = 0;
  std::atomic<bool> producing{true};
  const int64_t t0 = now_ns() + 1'000'000;

  const auto sched_start = sched_snapshot();
  std::thread poller([&] {
    while (producing.load(std::memory_order_acquire) || p.outstanding() > 0) p.poll(100);
  });

  for (int64_t i = 0; i < n; ++i) {
    const int64_t scheduled = t0 + i * period_ns;
    sleep_until_ns(scheduled);
    sent_ns[i] = now_ns();
    auto r = p.produce({topic, 0, std::nullopt, payload, {}, 0},
                       [&, i](const conveyor::client::DeliveryReport& rep) {
                         const int64_t done = now_ns();
                         if (rep.error.code != conveyor::ErrorCode::none) {
                           ++failed;
                           return;
                         }
                         if (i < warmup_n) return;
                         from_call.record(done - sent_ns[i]);
                         from_schedule.record(done - (t0 + i * period_ns));
                       });
    if (!r) die("produce: " + r.error().to_string());
  }
  const double achieved = static_cast<double>(n) / ((now_ns() - t0) / 1e9);
  const auto [sched_run, sched_wait] = sched_delta(sched_start);
  producing.store(false, std::memory_order_release);
  poller.join();
  if (auto r = p.flush(10'000); !r) die("flush: " + r.error().to_string());
  p.close(1000);

  std::printf("broker %s (%s); rate %lld records/s (achieved %.0f), %zu B values, acks=%s, "
              "linger.ms=%s, %.0f s measured after %.0f s warm-up\n",
              bootstrap.c_str(), broker ? "embedded in this process" : "separate process",
              static_cast<long long>(rate), achieved, size, acks.c_str(), linger_ms.c_str(),
              seconds, warmup);
  std::printf("threads of this process during the run: %.2f s on a CPU, %.2f s runnable but "
              "waiting for one (%.1f us waiting per record)\n",
              sched_run, sched_wait, sched_wait * 1e6 / static_cast<double>(n));
  print_hist("produce() -> callback:", from_call);
  print_hist("scheduled -> callback:", from_schedule);
  if (failed) std::printf("FAILED deliveries: %lld\n", static_cast<long long>(failed));

  if (broker) {
    broker->stop();
    std::error_code ec;
    std::filesystem::remove_all(data_dir, ec);
  }
  return failed ? 1 : 0;
}
