#pragma once
// The event loop and TCP connections the Kafka clients use (the io layer is the only code
// touching sockets and clocks; DESIGN.md §2). asio stays out of this header.
//
// A ClientLoop owns one thread running an asio io_context. Everything a client does on the
// network runs on that thread: handlers passed to post(), schedule(), ClientConnection
// callbacks. ClientConnection methods must be called on the loop thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <vector>

#include "conveyor/base/result.h"

namespace conveyor {
using Bytes = std::vector<uint8_t>;  // same alias as conveyor/protocol/bytes.h
}

namespace conveyor::io {

// Monotonic milliseconds (std::chrono::steady_clock), for timeouts and backoffs.
int64_t steady_now_ms();
// Wall-clock milliseconds since the Unix epoch (record timestamps, CreateTime).
int64_t wall_clock_ms();
// A pseudo-random 64-bit value (per-thread generator seeded from the OS; not for secrets).
uint64_t random_u64();

class ClientLoop {
 public:
  // Starts the loop thread; `name` is used in log lines and as the thread name (≤15 chars).
  explicit ClientLoop(std::string name);
  // stop()s and joins.
  ~ClientLoop();
  ClientLoop(const ClientLoop&) = delete;
  ClientLoop& operator=(const ClientLoop&) = delete;

  // Runs fn on the loop thread soon. Thread-safe. Ignored after stop().
  void post(std::function<void()> fn);
  // Runs fn on the loop thread after delay_ms (>= 0). Returns an id for cancel(). Thread-safe.
  uint64_t schedule(int64_t delay_ms, std::function<void()> fn);
  // Cancels a scheduled fn that has not run yet (no-op otherwise). Thread-safe.
  void cancel(uint64_t timer_id);
  // True on the loop thread.
  bool in_loop() const;
  // Stops the loop and joins its thread; pending handlers are dropped (destroyed on the
  // caller's thread). Must not be called from the loop thread. Idempotent.
  void stop();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// One TCP connection speaking Kafka framing (int32 big-endian size, then payload).
// Responses are matched to requests in send order: Kafka answers requests on a connection
// in the order received (protocol guide, "Network"); requests with expect_response=false
// (Produce acks=0) get no response and take no place in that order.
class ClientConnection {
 public:
  struct Options {
    int64_t connect_timeout_ms = 10000;        // socket.connection.setup.timeout.ms
    int32_t max_response_bytes = 256 << 20;    // a bigger size prefix closes the connection
  };
  enum class State { idle, connecting, connected, closed };
  // Called with the response payload (after the size prefix; starts with the correlation id),
  // or an Error (local_transport when the connection fails or closes; the connection then
  // fails every pending request the same way).
  using ResponseHandler = std::function<void(Result<Bytes>)>;

  ClientConnection(ClientLoop& loop, std::string host, uint16_t port, Options options);
  // Closes; pending handlers are failed first. Destroy on the loop thread or after stop().
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Resolves and connects (loop thread). on_done gets local_transport / local_timed_out on
  // failure. Requests sent while connecting are queued and written once connected.
  void connect(std::function<void(Result<void>)> on_done);
  // Queues one whole frame (size prefix included) for writing (loop thread). Consecutive
  // frames are written together (one gathered write).
  void send(Bytes frame, bool expect_response, ResponseHandler on_response);
  // Closes the socket and fails pending requests with `why` (loop thread). Idempotent.
  void close(Error why);

  State state() const;
  // Requests written or queued that still wait for their response.
  size_t in_flight() const;
  const std::string& host() const;
  uint16_t port() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace conveyor::io
