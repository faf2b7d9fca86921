// conveyor_produce_consume_bench: throughput of conveyor's own C++ Producer and Consumer
// (issue 2 "Speed": ≥ 1,500,000 records/s produced, ≥ 2,000,000 records/s consumed from the
// start, 100-byte records, acks=1, no compression).
//
//   conveyor_produce_consume_bench [--records=N] [--size=B] [--runs=K]
//       [--bootstrap=HOST:PORT]            use a running broker (else one is embedded here)
//       [--linger-ms=MS] [--batch-size=B] [--acks=1] [--compression=none]
//       [--max-partition-fetch-bytes=B] [--max-poll-records=N]
//       [--callbacks=1|0]                  per-record delivery callback (counts errors)
//       [--mode=both|produce|consume]
//       [--create-topic=1|0]               0: have kcat ask for its metadata (librdkafka's
//                                          mock cluster auto-creates it, 4 partitions)
//
// The ceiling for the same client: run against librdkafka's mock cluster, e.g.
//   kcat -C -b 127.0.0.1:1 -X test.mock.num.brokers=1 -t x   (prints the mock's address)
//   conveyor_produce_consume_bench --bootstrap=127.0.0.1:PORT --create-topic=0
// (bench/run_all.sh does this).
//
// Each run produces N records with value = B bytes, key null, to partition 0 of a fresh
// one-partition topic, flushes (timing ends when every record is acknowledged), then consumes
// them from offset 0 with assign() (timing ends at the N-th record). Prints one line per phase
// and run, then the median over runs, with the process's CPU time per phase (getrusage: all
// threads, so with the embedded broker it covers client and broker).
#include <algorithm>
#include <fstream>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include "conveyor/broker/broker.h"
#include "conveyor/client/admin.h"
#include "conveyor/client/consumer.h"
#include "conveyor/client/producer.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int64_t records = 1'000'000;
  size_t size = 100;
  int runs = 3;
  std::string bootstrap;  // empty: embedded broker
  std::string linger_ms = "5";
  std::string batch_size = "262144";
  std::string acks = "1";
  std::string compression = "none";
  std::string max_partition_fetch_bytes = "4194304";
  std::string max_poll_records = "10000";
  bool callbacks = true;
  bool create_topic = true;
  std::string mode = "both";
  std::string topic;  // --topic: use this topic (created if missing) instead of a fresh one per run
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "produce_consume_bench: %s\n", what.c_str());
  std::exit(1);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: conveyor_produce_consume_bench [--records=1000000] [--size=100] [--runs=3]\n"
          "  [--bootstrap=HOST:PORT] [--linger-ms=5] [--batch-size=262144] [--acks=1]\n"
          "  [--compression=none] [--max-partition-fetch-bytes=4194304] [--max-poll-records=10000]\n"
          "  [--callbacks=1] [--mode=both|produce|consume] [--create-topic=1|0] [--topic=NAME]\n"
          "--topic: produce to / consume from NAME (default: a fresh topic per run; 'bench' with\n"
          "  --mode=consume), e.g. to profile a consume-only process against a standing broker.\n"
          "Without --bootstrap a broker is embedded in this process. See bench/README.md.\n");
      std::exit(0);
    }
    auto eq = a.find('=');
    if (a.substr(0, 2) != "--" || eq == std::string_view::npos) die(fmt::format("bad argument '{}'", a));
    std::string key(a.substr(2, eq - 2));
    std::string val(a.substr(eq + 1));
    if (key == "records") o.records = std::stoll(val);
    else if (key == "size") o.size = std::stoul(val);
    else if (key == "runs") o.runs = std::stoi(val);
    else if (key == "bootstrap") o.bootstrap = val;
    else if (key == "linger-ms") o.linger_ms = val;
    else if (key == "batch-size") o.batch_size = val;
    else if (key == "acks") o.acks = val;
    else if (key == "compression") o.compression = val;
    else if (key == "max-partition-fetch-bytes") o.max_partition_fetch_bytes = val;
    else if (key == "max-poll-records") o.max_poll_records = val;
    else if (key == "callbacks") o.callbacks = val != "0";
    else if (key == "mode") o.mode = val;
    else if (key == "create-topic") o.create_topic = val != "0";
    else if (key == "topic") o.topic = val;
    else die(fmt::format("unknown option --{}", key));
  }
  return o;
}

// librdkafka's mock cluster has no CreateTopics but creates a topic when a producer handle asks
// for its metadata; conveyor's producer does not ask it to, so kcat does.
void create_topic_via_kcat(const std::string& bootstrap, const std::string& topic) {
  std::string cmd = fmt::format("kcat -L -b {} -t {} >/dev/null 2>&1", bootstrap, topic);
  if (std::system(cmd.c_str()) != 0) die("failed: " + cmd);
}

// Per-thread scheduler accounting from /proc/self/task/*/schedstat: nanoseconds on a CPU and
// nanoseconds runnable but waiting for one. The wait shows how much a busy machine held the
// benchmark back. Snapshots are taken before the clients close (their threads still exist).
struct SchedTotals {
  double run_s = 0, wait_s = 0;
};
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
std::map<int, std::pair<uint64_t, uint64_t>> g_sched_start;
SchedTotals g_sched_phase;
void sched_phase_begin() { g_sched_start = sched_snapshot(); }
void sched_phase_end() {
  SchedTotals t;
  for (const auto& [tid, v] : sched_snapshot()) {
    auto it = g_sched_start.find(tid);
    uint64_t run0 = it == g_sched_start.end() ? 0 : it->second.first;
    uint64_t wait0 = it == g_sched_start.end() ? 0 : it->second.second;
    t.run_s += (v.first - run0) / 1e9;
    t.wait_s += (v.second - wait0) / 1e9;
  }
  g_sched_phase = t;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds (user, system) this process has used so far, all threads (the embedded broker's
// too). On a shared machine, records per CPU-second is the figure that does not depend on how
// much of the machine the benchmark got.
std::pair<double, double> cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return {s(ru.ru_utime), s(ru.ru_stime)};
}

struct Phase {
  double wall = 0, user = 0, sys = 0;
};

template <class F>
Phase measure(F&& f) {
  auto [u0, s0] = cpu_seconds();
  Phase p;
  p.wall = f();
  auto [u1, s1] = cpu_seconds();
  p.user = u1 - u0;
  p.sys = s1 - s0;
  return p;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Produces o.records records to topic/0 and waits for every acknowledgement; returns seconds.
double run_produce(const Options& o, const std::string& bootstrap, const std::string& topic) {
  conveyor::Properties cfg{{"bootstrap.servers", bootstrap},
                           {"acks", o.acks},
                           {"linger.ms", o.linger_ms},
                           {"batch.size", o.batch_size},
                           {"compression.type", o.compression},
                           {"enable.idempotence", "false"}};
  auto producer = conveyor::client::Producer::create(cfg);
  if (!producer) die("Producer::create: " + producer.error().to_string());
  auto& p = **producer;

  int64_t failed = 0;
  int64_t acked = 0;
  conveyor::Error first_error{conveyor::ErrorCode::none, {}};
  conveyor::client::DeliveryCallback cb;
  if (o.callbacks) {
    cb = [&](const conveyor::client::DeliveryReport& r) {
      if (r.error.code != conveyor::ErrorCode::none) {
        if (failed++ == 0) first_error = r.error;
      } else {
        ++acked;
      }
    };
  }

  const conveyor::Bytes payload(o.size, 'x');
  sched_phase_begin();
  auto t0 = Clock::now();
  for (int64_t i = 0; i < o.records; ++i) {
    conveyor::client::ProducerRecord rec;
    rec.topic = topic;
    rec.partition = 0;
    rec.value = payload;
    for (;;) {
      auto r = p.produce(std::move(rec), cb);
      if (r) break;
      if (r.error().code != conveyor::ErrorCode::local_queue_full) die("produce: " + r.error().to_string());
      p.poll(1);  // buffer.memory full: serve callbacks, let the sender drain
      rec = conveyor::client::ProducerRecord{topic, 0, std::nullopt, payload, {}, 0};
    }
    if ((i & 0x3ff) == 0) p.poll(0);
  }
  double queued_s = seconds_since(t0);
  auto fr = p.flush(120'000);
  double total_s = seconds_since(t0);
  sched_phase_end();
  if (!fr) die("flush: " + fr.error().to_string());
  if (failed) die(fmt::format("{} records failed, first: {}", failed, first_error.to_string()));
  if (o.callbacks && acked != o.records) die(fmt::format("acked {} of {}", acked, o.records));
  std::printf("  (produce() loop returned after %.3f s, flush done at %.3f s)\n", queued_s, total_s);
  p.close(1000);
  return total_s;
}

// Consumes o.records records of topic/0 from offset 0; returns seconds.
double run_consume(const Options& o, const std::string& bootstrap, const std::string& topic) {
  conveyor::Properties cfg{{"bootstrap.servers", bootstrap},
                           {"max.partition.fetch.bytes", o.max_partition_fetch_bytes},
                           {"max.poll.records", o.max_poll_records},
                           {"auto.offset.reset", "earliest"}};
  auto consumer = conveyor::client::Consumer::create(cfg);
  if (!consumer) die("Consumer::create: " + consumer.error().to_string());
  auto& c = **consumer;
  sched_phase_begin();
  auto t0 = Clock::now();
  if (auto r = c.assign({{topic, 0, 0}}); !r) die("assign: " + r.error().to_string());
  int64_t next = 0;
  uint64_t bytes = 0;
  size_t max_batch = std::stoul(o.max_poll_records);
  while (next < o.records) {
    auto batch = c.consume(max_batch, 10'000);
    if (!batch) die("consume: " + batch.error().to_string());
    if (batch->empty()) die(fmt::format("no records for 10 s at offset {}", next));
    for (const auto& rec : *batch) {
      if (rec.offset != next) die(fmt::format("expected offset {}, got {}", next, rec.offset));
      bytes += rec.value ? rec.value->size() : 0;
      ++next;
    }
  }
  double s = seconds_since(t0);
  sched_phase_end();
  if (bytes != static_cast<uint64_t>(o.records) * o.size) die("value bytes mismatch");
  c.close();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);

  std::unique_ptr<conveyor::broker::Broker> broker;
  std::filesystem::path data_dir;
  std::string bootstrap = o.bootstrap;
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

  auto admin = conveyor::client::Admin::create({{"bootstrap.servers", bootstrap}});
  if (!admin) die("Admin::create: " + admin.error().to_string());

  std::printf("broker %s (%s); %lld records x %zu B, acks=%s, compression=%s, linger.ms=%s, "
              "batch.size=%s, callbacks=%d; consumer max.partition.fetch.bytes=%s, "
              "max.poll.records=%s\n",
              bootstrap.c_str(), broker ? "embedded in this process" : "separate process",
              static_cast<long long>(o.records), o.size, o.acks.c_str(), o.compression.c_str(),
              o.linger_ms.c_str(), o.batch_size.c_str(), o.callbacks ? 1 : 0,
              o.max_partition_fetch_bytes.c_str(), o.max_poll_records.c_str());

  std::vector<double> produce_rates, consume_rates, produce_per_cpu, consume_per_cpu;
  const double mb = static_cast<double>(o.records) * o.size / 1e6;
  std::string run_tag = fmt::format("{}-{}", getpid(), Clock::now().time_since_epoch().count() % 100000);
  for (int run = 0; run < o.runs; ++run) {
    std::string topic = fmt::format("bench-{}-{}", run_tag, run);
    if (!o.topic.empty()) {
      topic = o.topic;
      if (o.mode != "consume" && o.create_topic) (void)(*admin)->create_topic(topic, 1, 1, {}, 10'000);
    } else if (o.mode == "consume") {
      topic = "bench";  // consume an existing topic
    } else if (!o.create_topic) {
      create_topic_via_kcat(bootstrap, topic);
    } else if (auto r = (*admin)->create_topic(topic, 1, 1, {}, 10'000); !r) {
      die("create_topic: " + r.error().to_string());
    }
    if (o.mode != "consume") {
      Phase ph = measure([&] { return run_produce(o, bootstrap, topic); });
      produce_rates.push_back(o.records / ph.wall);
      produce_per_cpu.push_back(o.records / (ph.user + ph.sys));
      std::printf("run %d produce: %.3f s  %.0f records/s  %.1f MB/s  cpu %.2f s (user %.2f, sys %.2f) "
                  "= %.0f records per cpu-second\n",
                  run, ph.wall, o.records / ph.wall, mb / ph.wall, ph.user + ph.sys, ph.user, ph.sys,
                  o.records / (ph.user + ph.sys));
      std::printf("  threads of this process: %.2f s on a CPU, %.2f s runnable but waiting for one\n",
                  g_sched_phase.run_s, g_sched_phase.wait_s);
    }
    if (o.mode != "produce") {
      Phase ph = measure([&] { return run_consume(o, bootstrap, topic); });
      consume_rates.push_back(o.records / ph.wall);
      consume_per_cpu.push_back(o.records / (ph.user + ph.sys));
      std::printf("run %d consume: %.3f s  %.0f records/s  %.1f MB/s  cpu %.2f s (user %.2f, sys %.2f) "
                  "= %.0f records per cpu-second\n",
                  run, ph.wall, o.records / ph.wall, mb / ph.wall, ph.user + ph.sys, ph.user, ph.sys,
                  o.records / (ph.user + ph.sys));
      std::printf("  threads of this process: %.2f s on a CPU, %.2f s runnable but waiting for one\n",
                  g_sched_phase.run_s, g_sched_phase.wait_s);
    }
    std::fflush(stdout);
  }
  if (!produce_rates.empty())
    std::printf("median produce: %.0f records/s  %.1f MB/s  %.0f records per cpu-second\n",
                median(produce_rates), median(produce_rates) * o.size / 1e6, median(produce_per_cpu));
  if (!consume_rates.empty())
    std::printf("median consume: %.0f records/s  %.1f MB/s  %.0f records per cpu-second\n",
                median(consume_rates), median(consume_rates) * o.size / 1e6, median(consume_per_cpu));

  admin->reset();
  if (broker) {
    broker->stop();
    std::error_code ec;
    std::filesystem::remove_all(data_dir, ec);
  }
  return 0;
}
