/* conveyor_rdkafka_latency_bench: the produce→delivery-report latency of librdkafka's own
 * producer, measured the way conveyor_latency_bench measures conveyor's client, so that both
 * clients can be run against both brokers (conveyor and librdkafka's in-memory mock) in the same
 * session (issue 2 "Speed": p50 ≤ 150 µs, p99 ≤ 500 µs at 10,000 records/s, judged against the
 * mock's ceiling on the same machine).
 *
 *   conveyor_rdkafka_latency_bench [--rate=10000] [--seconds=10] [--warmup-seconds=1]
 *       [--size=100] [--acks=1] [--bootstrap=HOST:PORT]
 *
 * Without --bootstrap the producer starts librdkafka's mock cluster inside this process
 * (test.mock.num.brokers=1). One thread calls rd_kafka_produce() on a fixed schedule (absolute
 * clock_nanosleep, one record every 1/rate s) into partition 0 of a fresh topic; another sits in
 * rd_kafka_poll(), where the delivery report callback runs. Latency = callback time − the time
 * produce was called; linger.ms=0, no compression, idempotence off, as conveyor_latency_bench.
 * The output lines have the same shape as conveyor_latency_bench's.
 *
 * Built from bench/CMakeLists.txt when librdkafka's headers are present (Debian librdkafka-dev). */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char* what) {
  fprintf(stderr, "rdkafka_latency_bench: %s\n", what);
  exit(1);
}

/* 1 µs buckets below 100 ms; everything above in one overflow bucket (max is exact). */
#define FINE_US 100000
static int64_t hist[FINE_US];
static int64_t hist_over, hist_n, hist_max_ns;
static double hist_sum_ns;

static void record_ns(int64_t ns) {
  if (ns < 0) ns = 0;
  ++hist_n;
  hist_sum_ns += (double)ns;
  if (ns > hist_max_ns) hist_max_ns = ns;
  if (ns / 1000 < FINE_US) ++hist[ns / 1000];
  else ++hist_over;
}

static double percentile_us(double q) {
  if (hist_n == 0) return 0;
  int64_t rank = (int64_t)(q * (double)hist_n), seen = 0;
  if (rank >= hist_n) rank = hist_n - 1;
  for (int64_t i = 0; i < FINE_US; ++i) {
    seen += hist[i];
    if (seen > rank) return (double)(i + 1);
  }
  return hist_max_ns / 1000.0;
}

static int64_t* sent_ns;
static int64_t warmup_n;
static atomic_long failed;
static atomic_long delivered;
static atomic_int producing = 1;
static rd_kafka_t* rk;

static void on_delivery(rd_kafka_t* k, const rd_kafka_message_t* m, void* opaque) {
  (void)k;
  (void)opaque;
  int64_t done = now_ns();
  int64_t i = (int64_t)(intptr_t)m->_private;
  atomic_fetch_add(&delivered, 1);
  if (m->err) {
    atomic_fetch_add(&failed, 1);
    return;
  }
  if (i >= warmup_n) record_ns(done - sent_ns[i]);
}

static void* poller(void* arg) {
  int64_t n = *(int64_t*)arg;
  while (atomic_load(&producing) || atomic_load(&delivered) < n) rd_kafka_poll(rk, 100);
  return NULL;
}

static void set(rd_kafka_conf_t* conf, const char* k, const char* v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) die(err);
}

/* Seconds on a CPU and runnable-but-waiting over this process's threads (schedstat). */
static void sched_totals(double* run, double* wait) {
  char cmd[128];
  *run = *wait = 0;
  /* The shell's /proc/self is not ours: name our pid. */
  snprintf(cmd, sizeof cmd, "cat /proc/%d/task/*/schedstat", (int)getpid());
  FILE* f = popen(cmd, "r");
  if (!f) return;
  unsigned long long r, w, s;
  while (fscanf(f, "%llu %llu %llu", &r, &w, &s) == 3) {
    *run += r / 1e9;
    *wait += w / 1e9;
  }
  pclose(f);
}

int main(int argc, char** argv) {
  long rate = 10000;
  double seconds = 10, warmup = 1;
  size_t size = 100;
  const char* bootstrap = NULL;
  const char* acks = "1";
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printf("usage: conveyor_rdkafka_latency_bench [--rate=10000] [--seconds=10] [--warmup-seconds=1]\n"
             "  [--size=100] [--acks=1] [--bootstrap=HOST:PORT]\n"
             "Without --bootstrap librdkafka's mock cluster runs in this process. See bench/README.md.\n");
      return 0;
    }
    if (!strncmp(a, "--rate=", 7)) rate = atol(a + 7);
    else if (!strncmp(a, "--seconds=", 10)) seconds = atof(a + 10);
    else if (!strncmp(a, "--warmup-seconds=", 17)) warmup = atof(a + 17);
    else if (!strncmp(a, "--size=", 7)) size = (size_t)atol(a + 7);
    else if (!strncmp(a, "--acks=", 7)) acks = a + 7;
    else if (!strncmp(a, "--bootstrap=", 12)) bootstrap = a + 12;
    else {
      fprintf(stderr, "rdkafka_latency_bench: unknown argument '%s'\n", a);
      return 2;
    }
  }
  if (rate <= 0 || seconds <= 0) die("--rate and --seconds must be positive");

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (bootstrap) set(conf, "bootstrap.servers", bootstrap);
  else set(conf, "test.mock.num.brokers", "1");
  set(conf, "acks", acks);
  set(conf, "linger.ms", "0");
  set(conf, "compression.type", "none");
  set(conf, "enable.idempotence", "false");
  set(conf, "log_level", "3");
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) die(err);

  char topic_name[64];
  snprintf(topic_name, sizeof topic_name, "rdlatency-%d", (int)getpid());
  rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, topic_name, NULL);
  if (!topic) die("rd_kafka_topic_new failed");

  char* payload = malloc(size);
  memset(payload, 'x', size);
  /* Warm up the connection and metadata (auto-created topic on both brokers). */
  if (rd_kafka_produce(topic, 0, RD_KAFKA_MSG_F_COPY, payload, size, NULL, 0, (void*)(intptr_t)-1) != 0)
    die(rd_kafka_err2str(rd_kafka_last_error()));
  if (rd_kafka_flush(rk, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) die("first flush timed out");
  atomic_store(&delivered, 0);
  if (atomic_load(&failed)) die("warm-up record failed (is auto.create.topics.enable on?)");

  const int64_t period_ns = 1000000000 / rate;
  warmup_n = (int64_t)(warmup * rate);
  int64_t n = warmup_n + (int64_t)(seconds * rate);
  sent_ns = calloc((size_t)n, sizeof *sent_ns);
  double run0, wait0;
  sched_totals(&run0, &wait0);
  pthread_t th;
  pthread_create(&th, NULL, poller, &n);
  const int64_t t0 = now_ns() + 1000000;
  for (int64_t i = 0; i < n; ++i) {
    int64_t at = t0 + i * period_ns;
    struct timespec ts = {(time_t)(at / 1000000000), (long)(at % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
    }
    sent_ns[i] = now_ns();
    if (rd_kafka_produce(topic, 0, RD_KAFKA_MSG_F_COPY, payload, size, NULL, 0, (void*)(intptr_t)i) != 0)
      die(rd_kafka_err2str(rd_kafka_last_error()));
  }
  double achieved = (double)n / ((double)(now_ns() - t0) / 1e9);
  double run1, wait1;
  sched_totals(&run1, &wait1);
  atomic_store(&producing, 0);
  pthread_join(th, NULL);
  rd_kafka_flush(rk, 10000);

  printf("broker %s; rate %ld records/s (achieved %.0f), %zu B values, acks=%s, linger.ms=0, %.0f s "
         "measured after %.0f s warm-up\n",
         bootstrap ? bootstrap : "librdkafka mock (test.mock.num.brokers=1) in this process", rate, achieved,
         size, acks, seconds, warmup);
  printf("threads of this process during the run: %.2f s on a CPU, %.2f s runnable but waiting for one "
         "(%.1f us waiting per record)\n",
         run1 - run0, wait1 - wait0, (wait1 - wait0) * 1e6 / (double)n);
  printf("%-28s n=%lld  p50=%.0f us  p90=%.0f us  p99=%.0f us  p99.9=%.0f us  max=%.0f us  mean=%.1f us\n",
         "produce() -> callback:", (long long)hist_n, percentile_us(0.50), percentile_us(0.90),
         percentile_us(0.99), percentile_us(0.999), hist_max_ns / 1000.0,
         hist_n ? hist_sum_ns / 1000.0 / (double)hist_n : 0.0);
  long f = atomic_load(&failed);
  if (f) printf("FAILED deliveries: %ld\n", f);
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(rk);
  free(payload);
  free(sent_ns);
  return f ? 1 : 0;
}
