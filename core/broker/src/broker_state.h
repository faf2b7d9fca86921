#pragma once
// What the request handlers share: configuration, storage, topics, producer ids, the fetch
// purgatory, the group coordinator and the network server (for timers). Internal to the broker.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "config.h"
#include "conveyor/io/server.h"
#include "conveyor/protocol/header.h"
#include "conveyor/storage/log_manager.h"
#include "fetch_purgatory.h"
#include "producer_id_manager.h"
#include "topic_manager.h"

namespace conveyor::broker {

class GroupService;  // group_service.h

// Named limits of request handling.
inline constexpr int32_t kMaxFetchWaitMs = 5 * 60 * 1000;  // a Fetch long-polls at most this long

struct BrokerState {
  BrokerConfig config;
  std::string advertised_host;
  int advertised_port = 0;
  std::string cluster_id;
  std::unique_ptr<storage::LogManager> logs;
  std::unique_ptr<TopicManager> topics;
  std::unique_ptr<ProducerIdManager> producer_ids;
  std::unique_ptr<FetchPurgatory> purgatory;
  std::unique_ptr<GroupService> groups;  // the group coordinator
  io::Server* server = nullptr;  // set once listening
  std::atomic<bool> ready{false};  // everything above is set (handlers wait for it)

  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// One request being handled.
struct RequestContext {
  BrokerState* broker = nullptr;
  std::shared_ptr<io::Connection> connection;
  protocol::RequestHeader header;

  int16_t version() const { return header.api_version; }

  // Encodes `response` as the answer (response header version per header.h) and sends it.
  template <class Msg>
  void respond(const Msg& response) const {
    Bytes frame;
    protocol::write_response_frame(frame, header.correlation_id, header.api_version, response);
    connection->respond(std::move(frame));
  }
  // Ends the request without a response (Produce acks=0).
  void finish() const { connection->finish(); }
  // Bad input: close the connection.
  void close() const { connection->close(); }
};

}  // namespace conveyor::broker
