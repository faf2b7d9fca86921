#pragma once
// conveyor's Kafka producer: partitioner, record accumulator and a background sender.
// Works against any Kafka-protocol broker (Apache Kafka 2.x+ or conveyor): versions are
// negotiated with ApiVersions, nothing assumes the broker is conveyor.
//
// Configuration (Kafka's producer property names; Properties values are strings):
//   bootstrap.servers                      host:port[,host:port...]  (required)
//   client.id                              default "conveyor"
//   acks                                   0 | 1 | -1 | all          (default all)
//   linger.ms                              default 5
//   batch.size                             bytes per partition batch, default 16384
//   buffer.memory                          bytes of unsent records, default 33554432
//   compression.type                       none|gzip|snappy|lz4|zstd (default none)
//   compression.level                      codec level, -1 = codec default
//   retries                                default 2147483647
//   retry.backoff.ms                       default 100
//   delivery.timeout.ms                    default 120000 (KIP-91)
//   request.timeout.ms                     default 30000
//   enable.idempotence                     default true (KIP-98, KIP-679)
//   max.in.flight.requests.per.connection  default 5 (≤ 5 when idempotent)
//   max.request.size / message.max.bytes   default 1048576 (largest record batch/request)
//   metadata.max.age.ms                    default 300000
//   reconnect.backoff.ms                   default 50
//   socket.connection.setup.timeout.ms     default 10000
//   partitioner.ignore.keys                default false (KIP-794)
// Accepted and ignored (they have no effect in conveyor yet): see core/client/README.md.
// An unknown key or a bad value fails create() with ErrorCode::invalid_config naming the key.
//
// Threading: produce(), poll(), flush() and close() may be called from any thread.
// Delivery callbacks run only inside poll() or flush(), on the thread calling them, never on
// the internal sender thread (DESIGN.md §5). Callbacks must not call close() or destroy the
// producer.
#include <cstdint>
#include <functional>
#include <memory>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/client/types.h"

namespace conveyor::client {

using DeliveryCallback = std::function<void(const DeliveryReport&)>;

class Producer {
 public:
  // The keys create() accepts (including the accepted-and-ignored ones).
  static const ConfigSchema& config_schema();

  // Validates the configuration and starts the sender thread. Does not contact a broker
  // yet (the first produce() or metadata need does). Errors: invalid_config naming the key.
  static Result<std::unique_ptr<Producer>> create(const Properties& config);

  // Queues one record. Returns at once; the record is sent by the background sender.
  // `on_delivery` (optional) is called exactly once with the outcome, inside poll()/flush().
  // Errors (nothing queued, no callback will run):
  //   local_queue_full   – buffer.memory bytes are already queued (call poll() and retry)
  //   message_too_large  – the record alone exceeds max.request.size / batch limits
  //   local_invalid_arg  – empty topic name, partition < -1
  //   local_state        – the producer is closed
  // Records to a partition that turns out not to exist are reported through the callback
  // (local_unknown_partition); an unknown topic waits for metadata up to delivery.timeout.ms.
  // Thread-safe; one short critical section per record.
  Result<void> produce(ProducerRecord record, DeliveryCallback on_delivery = {});

  // Serves queued delivery callbacks, waiting up to timeout_ms (0 = don't wait, -1 = forever)
  // for at least one. Returns how many callbacks ran.
  int poll(int timeout_ms);

  // Sends everything queued at once (ignoring linger.ms) and serves callbacks until every
  // record produced before the call is delivered or failed. Errors: local_timed_out if
  // records are still outstanding after timeout_ms (-1 = forever).
  Result<void> flush(int timeout_ms);

  // Records queued and not yet reported (includes those whose callback is pending in poll()).
  size_t outstanding() const;

  // Flushes up to timeout_ms, then stops the sender; records still outstanding fail with
  // local_destroy and their callbacks run here. Idempotent. The destructor calls close(0)
  // if it was not called.
  void close(int timeout_ms);
  ~Producer();

  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  struct Impl;

 private:
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Java-compatible key partitioning (PROTOCOL.md "Partitioning"): 32-bit MurmurHash2, seed
// 0x9747b28c, as org.apache.kafka.common.utils.Utils.murmur2.
int32_t murmur2(ByteView key);
// (murmur2(key) & 0x7fffffff) % num_partitions. num_partitions must be > 0.
int32_t partition_for_key(ByteView key, int32_t num_partitions);

}  // namespace conveyor::client
