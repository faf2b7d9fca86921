// conveyor_bench_broker: the embedded broker in a process of its own, with nothing else in it
// (no Python interpreter), so the benchmarks can put client and broker in separate processes
// and measure the broker's own start time and footprint.
//
//   conveyor_bench_broker [key=value ...]
//
// Arguments are Kafka broker properties (listeners, log.dirs, ...). Defaults here:
// listeners=PLAINTEXT://127.0.0.1:9092 and a temporary log.dirs (the Broker's own default).
// Prints the CLI's ready line `conveyor broker listening on HOST:PORT` to stdout once the
// listener accepts connections, then runs until SIGTERM or SIGINT, stops cleanly, exits 0.
#include <cstdio>
#include <cstring>
#include <string>

#include "conveyor/broker/broker.h"

int main(int argc, char** argv) {
  conveyor::Properties props;
  props.set("listeners", "PLAINTEXT://127.0.0.1:9092");
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::printf("usage: %s [key=value ...]   (Kafka broker properties)\n", argv[0]);
      return 0;
    }
    auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "expected key=value, got '%s'\n", argv[i]);
      return 2;
    }
    props.set(arg.substr(0, eq), arg.substr(eq + 1));
  }

  return conveyor::broker::run_until_stop_signal(props);
}
