#pragma once
// The conveyor broker, embeddable in any process (DESIGN.md §1, §2; issue 2 item 3).
//
// A single-node broker speaking the Kafka protocol on its listeners: ApiVersions, Metadata,
// Produce, Fetch, ListOffsets, CreateTopics, DeleteTopics, InitProducerId. Configuration uses
// Kafka's broker property names (Kafka docs, "Broker Configs"): `listeners`,
// `advertised.listeners`, `log.dirs`/`log.dir`, `num.partitions`, `auto.create.topics.enable`,
// `message.max.bytes`, `socket.request.max.bytes`, `log.segment.bytes`,
// `log.flush.interval.messages`, `log.flush.interval.ms`, `node.id`/`broker.id`, ...;
// broker_config_schema() lists every key with its default and a doc line.
//
// Thread-safety: start() and stop() may be called from any thread; stop() is idempotent and
// may race with itself. bootstrap_servers() and port() are constant after start().
#include <memory>
#include <string>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"

namespace conveyor::broker {

// Every broker key with its default and a one-line doc; Kafka keys conveyor accepts but does
// not act on yet (e.g. `log.retention.hours`, `process.roles`) are in its ignore list.
const ConfigSchema& broker_config_schema();

class BrokerImpl;

class Broker {
 public:
  // Validates `props` (unknown key or bad value → invalid_config naming the key), opens
  // log.dirs (unset → a fresh temporary directory, removed again by stop()), loads the topics
  // found there, binds the listeners (port 0 = ephemeral) and starts the io threads. Returns
  // once the listener accepts connections. Errors: invalid_config, kafka_storage_error (log
  // dir unusable), network_exception (bind failed, e.g. port in use).
  static Result<std::unique_ptr<Broker>> start(const Properties& props);

  // The advertised listener as "host:port", e.g. "127.0.0.1:54321" — what clients put in
  // `bootstrap.servers`. If advertised.listeners is unset: the bound listener (a wildcard
  // host is advertised as 127.0.0.1).
  std::string bootstrap_servers() const;
  // The bound TCP port (the real one when the listener asked for port 0).
  int port() const;
  // The data directory in use (the first of log.dirs, or the temporary one).
  std::string log_dir() const;

  // Stops accepting, closes connections (answering nothing more), flushes every partition and
  // writes clean-shutdown checkpoints. Idempotent; blocks until done.
  void stop();
  ~Broker();  // calls stop()

  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

 private:
  explicit Broker(std::unique_ptr<BrokerImpl> impl);
  std::unique_ptr<BrokerImpl> impl_;
};

// A broker as the whole of a process (the `conveyor broker` command, the bench's broker
// main): blocks SIGTERM and SIGINT in the calling thread (call it before any other thread
// exists, so only it receives them), starts a Broker with `props`, writes
// "conveyor broker: data in DIR" to stderr and the ready line
// "conveyor broker listening on HOST:PORT" to stdout, waits for SIGTERM/SIGINT, stops the
// broker cleanly and returns 0. A broker that cannot start: its error on stderr, returns 1.
int run_until_stop_signal(const Properties& props);

}  // namespace conveyor::broker
