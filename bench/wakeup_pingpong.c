/* conveyor_wakeup_pingpong: what one thread wake-up and one syscall cost on this machine, the
 * unit price behind the latency figures (docs/benchmarks.md S12). Two threads pass a token
 * through a pair of eventfds; each round trip is two wake-ups. Run it as it is (the scheduler
 * places the threads, usually on two CPUs) and under `taskset -c 0` (one CPU) to compare.
 *
 *   conveyor_wakeup_pingpong [ROUND_TRIPS]      (default 20000) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int to_pong, to_ping;
static long rounds = 20000;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void* pong(void* arg) {
  (void)arg;
  uint64_t v;
  for (long i = 0; i < rounds; ++i) {
    if (read(to_pong, &v, sizeof v) != sizeof v) abort();
    if (write(to_ping, &v, sizeof v) != sizeof v) abort();
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1) rounds = atol(argv[1]);
  if (rounds <= 0) {
    fprintf(stderr, "usage: conveyor_wakeup_pingpong [ROUND_TRIPS > 0]\n");
    return 2;
  }
  const long calls = 200000;
  double t = now_s();
  for (long i = 0; i < calls; ++i) syscall(SYS_getppid);
  printf("syscall (getppid): %.2f us\n", (now_s() - t) / (double)calls * 1e6);

  to_pong = eventfd(0, 0);
  to_ping = eventfd(0, 0);
  if (to_pong < 0 || to_ping < 0) {
    perror("eventfd");
    return 1;
  }
  pthread_t th;
  pthread_create(&th, NULL, pong, NULL);
  uint64_t v = 1;
  t = now_s();
  for (long i = 0; i < rounds; ++i) {
    if (write(to_pong, &v, sizeof v) != sizeof v) abort();
    if (read(to_ping, &v, sizeof v) != sizeof v) abort();
  }
  double rt = (now_s() - t) / (double)rounds * 1e6;
  pthread_join(th, NULL);
  printf("eventfd ping-pong: %.2f us per round trip (two wake-ups), %ld round trips\n", rt, rounds);
  return 0;
}
