#pragma once
// TCP server for size-prefixed request frames (Kafka protocol guide, "Protocol" / framing:
// every frame is an int32 big-endian size followed by that many bytes).
//
// The server owns the sockets (the io layer is the only code touching them), an asio
// io_context and a small pool of threads running it. It knows nothing about Kafka messages:
// it hands each complete frame to a FrameHandler and writes back the response frames the
// handler produces.
//
// Per connection, requests are processed one at a time, as Kafka does (the channel is muted
// while a request is in flight): the next frame is handed over only after the handler called
// respond(), finish() or close() for the previous one. Responses therefore leave in request
// order, and a client may pipeline as many requests as it likes (they wait in the socket /
// read buffer).
//
// Bad framing closes only the offending connection: a size prefix <= 0 or above
// `max_request_bytes` (Kafka: `socket.request.max.bytes`) closes it before any allocation.
//
// Thread-safety: every public member of Server, Connection and Timer is thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conveyor/base/result.h"

namespace conveyor::io {

using Frame = std::vector<uint8_t>;

struct ServerOptions {
  std::string host = "127.0.0.1";  // "" or "0.0.0.0" binds every IPv4 interface
  int port = 9092;                 // 0 = ephemeral
  int32_t max_request_bytes = 104857600;  // socket.request.max.bytes
  int num_threads = 2;                    // io threads, each running its own event loop; a
                                          // connection is served by one of them throughout
  size_t read_buffer_bytes = 64 * 1024;   // initial per-connection read buffer
  int listen_backlog = 128;
  int32_t max_connections = 10000;  // max.connections: further connections are closed on accept
};

// One accepted client connection.
class Connection {
 public:
  virtual ~Connection() = default;

  // Sends `frame` (the complete response frame INCLUDING its 4-byte size prefix) as the
  // answer to the request in flight, then lets the next request in. Ignored once closed.
  virtual void respond(Frame frame) = 0;
  // Ends the request in flight without an answer (Produce acks=0) and lets the next one in.
  virtual void finish() = 0;
  // Closes the connection (bad input); pending writes are dropped.
  virtual void close() = 0;

  virtual bool is_open() const = 0;
  virtual uint64_t id() const = 0;       // unique per server, from 1
  virtual const std::string& peer() const = 0;  // "host:port" of the client
};

// Called on an io thread with one complete frame (without its size prefix). The handler must
// eventually call exactly one of respond()/finish()/close() on `connection`, from any thread.
using FrameHandler = std::function<void(const std::shared_ptr<Connection>& connection, Frame frame)>;

// A one-shot timer from Server::run_after.
class Timer {
 public:
  virtual ~Timer() = default;
  // Prevents the callback from running if it has not started yet. Returns true if it was
  // cancelled before running.
  virtual bool cancel() = 0;
};

class Server {
 public:
  // Binds host:port, starts `options.num_threads` io threads and accepts connections.
  // Errors: network_exception (bad address, bind/listen failure, e.g. port in use).
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options, FrameHandler handler);

  virtual ~Server() = default;

  virtual int port() const = 0;                 // the bound port
  virtual const std::string& host() const = 0;  // the bound host address as given/resolved

  // Runs `fn` once after `delay` on an io thread; the returned Timer can cancel it. After
  // stop() callbacks no longer run.
  virtual std::shared_ptr<Timer> run_after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // Runs `fn` soon on an io thread.
  virtual void post(std::function<void()> fn) = 0;

  // Number of open connections (for tests and metrics).
  virtual size_t connection_count() const = 0;

  // Stops accepting, closes every connection, waits for in-progress handlers and joins the io
  // threads. Idempotent. Must not be called from an io thread.
  virtual void stop() = 0;
};

// Builds the 4-byte size prefix in front of a payload; helper for response encoders.
inline void patch_frame_size(Frame& frame) {
  auto n = static_cast<uint32_t>(frame.size() - 4);
  frame[0] = static_cast<uint8_t>(n >> 24);
  frame[1] = static_cast<uint8_t>(n >> 16);
  frame[2] = static_cast<uint8_t>(n >> 8);
  frame[3] = static_cast<uint8_t>(n);
}

}  // namespace conveyor::io
