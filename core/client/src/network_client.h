#pragma once
// Internal: connections per broker, ApiVersions negotiation, request pipelining with
// correlation ids, request timeouts, reconnect backoff, and the cluster metadata cache.
// Everything here runs on the owning ClientLoop's thread (call only from there), except
// the constructor and where noted.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/client/types.h"
#include "conveyor/io/client_loop.h"
#include "conveyor/protocol/api.h"
#include "conveyor/protocol/codec.h"
#include "conveyor/protocol/header.h"
#include "conveyor/protocol/messages.h"

namespace conveyor::client {

struct NetworkConfig {
  std::vector<std::pair<std::string, uint16_t>> bootstrap;  // bootstrap.servers
  std::string client_id = "conveyor";                       // client.id
  int64_t request_timeout_ms = 30000;                       // request.timeout.ms
  int64_t reconnect_backoff_ms = 50;                        // reconnect.backoff.ms
  int64_t connect_timeout_ms = 10000;                       // socket.connection.setup.timeout.ms
  int64_t metadata_max_age_ms = 300000;                     // metadata.max.age.ms
  int64_t retry_backoff_ms = 100;                           // retry.backoff.ms (metadata retries)
  int32_t max_response_bytes = 256 << 20;                   // largest response frame accepted
  bool allow_auto_topic_creation = true;                    // Metadata v4+ flag
};

// Parses "host:port,host:port" (IPv6 as [addr]:port). Errors: invalid_config naming the key.
Result<std::vector<std::pair<std::string, uint16_t>>> parse_bootstrap(const std::string& servers);

struct PartitionMetadata {
  int32_t partition = 0;
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas, isr, offline;
  ErrorCode error = ErrorCode::none;
};
struct TopicMetadata {
  std::string name;
  protocol::Uuid topic_id{};
  bool is_internal = false;
  ErrorCode error = ErrorCode::none;
  std::vector<PartitionMetadata> partitions;  // index == partition id
};
struct ClusterMetadata {
  std::map<int32_t, BrokerDescription> brokers;
  std::map<std::string, TopicMetadata> topics;
  int32_t controller_id = -1;
  std::optional<std::string> cluster_id;
  int64_t updated_ms = 0;  // steady clock; 0 = never
};

std::string uuid_to_string(const protocol::Uuid& id);
TopicDescription to_description(const TopicMetadata& t);
TopicMetadata topic_from_response(const protocol::MetadataResponse::MetadataResponseTopic& t);

class NetworkClient {
 public:
  // Sentinel node id: any ready broker (least loaded), else a bootstrap server.
  static constexpr int32_t kAnyNode = -1000;

  NetworkClient(io::ClientLoop& loop, NetworkConfig config);
  ~NetworkClient();

  // Encodes a request body for the negotiated version.
  using Encoder = std::function<void(protocol::Writer&, int16_t version)>;
  // Receives the response body (after the response header) or an error. The Reader views a
  // buffer that lives until the handler returns.
  using RawHandler = std::function<void(Result<protocol::Reader*>, int16_t version)>;

  // Sends a request to `node_id` once connected and negotiated; versions are the
  // intersection of [min_version, max_version] with the broker's range, highest chosen.
  // expect_response=false (Produce acks=0): handler gets an empty Reader once written.
  // Errors to the handler: local_transport (connection lost), request_timed_out,
  // unsupported_version (no common version), local_all_brokers_down / leader_not_available
  // (unknown node), local_destroy (closing).
  // timeout_ms > 0 replaces request.timeout.ms for this request (JoinGroup waits up to the
  // rebalance timeout on the broker).
  void send_raw(int32_t node_id, protocol::ApiKey key, int16_t min_version, int16_t max_version,
                Encoder encoder, RawHandler handler, bool expect_response = true, int64_t timeout_ms = -1);

  // Typed convenience: Req/Resp are generated messages.
  template <class Req, class Resp>
  void send(int32_t node_id, Req request, std::function<void(Result<Resp>, int16_t)> handler,
            int16_t max_version = Req::kMaxVersion, int16_t min_version = Req::kMinVersion,
            int64_t timeout_ms = -1) {
    auto shared = std::make_shared<Req>(std::move(request));
    send_raw(
        node_id, Req::kApiKey, min_version, max_version,
        [shared](protocol::Writer& w, int16_t v) { shared->encode(w, v); },
        [handler = std::move(handler)](Result<protocol::Reader*> r, int16_t v) {
          if (!r) return handler(fail(r.error()), v);
          Resp resp;
          if (auto d = resp.decode(**r, v); !d) return handler(fail(d.error()), v);
          handler(std::move(resp), v);
        },
        true, timeout_ms);
  }

  // The group coordinator gets its own connection (as Java's client does), so a JoinGroup held
  // by the broker does not delay fetches: registers host:port under a node id derived from the
  // broker's (INT32_MAX - node_id) and returns that id. Re-registering moves the connection.
  int32_t add_coordinator_node(int32_t broker_node_id, const std::string& host, uint16_t port);

  // Negotiated version range for a node (nullopt until ApiVersions completed).
  std::optional<std::pair<int16_t, int16_t>> broker_versions(int32_t node_id, protocol::ApiKey key) const;

  // ---- metadata ----
  const ClusterMetadata& metadata() const { return metadata_; }
  // Topics whose metadata is kept fresh (refreshed every metadata.max.age.ms).
  void add_topics(const std::vector<std::string>& topics);
  void remove_topic(const std::string& topic);
  // Asks for a refresh of the interesting topics (coalesced; rate limited by retry.backoff.ms).
  void request_metadata_update();
  // One-off metadata request (null = all topics); also merged into the cache.
  void fetch_metadata(std::optional<std::vector<std::string>> topics, bool allow_auto_create,
                      std::function<void(Result<protocol::MetadataResponse>)> done);
  // Called after each successful metadata merge (loop thread).
  void on_metadata_update(std::function<void()> listener) { listeners_.push_back(std::move(listener)); }

  // Whether the node has a ready connection (negotiated) and how many requests await answers.
  bool node_ready(int32_t node_id) const;
  size_t node_in_flight(int32_t node_id) const;
  // Starts connecting if not connected and not backing off.
  void ensure_connecting(int32_t node_id);
  // Called when any node becomes ready (to resume draining).
  void on_node_ready(std::function<void(int32_t)> listener) { ready_listeners_.push_back(std::move(listener)); }

  // Fails everything pending with local_destroy and closes all connections. Idempotent.
  void close();

 private:
  struct Node;
  struct Pending;
  Node* node_for(int32_t node_id);
  Node* any_node();
  void connect(Node& node);
  void on_connected(Node& node);
  void send_api_versions(Node& node, int16_t version);
  void node_failed(Node& node, const Error& error);
  void dispatch(Node& node, Pending pending);
  void tick();
  void refresh_metadata_now();
  void merge_metadata(const protocol::MetadataResponse& resp, int16_t version);

  io::ClientLoop& loop_;
  NetworkConfig config_;
  std::map<int32_t, std::unique_ptr<Node>> nodes_;  // bootstrap nodes have ids -1, -2, ...
  int32_t next_correlation_id_ = 1;
  ClusterMetadata metadata_;
  std::set<std::string> topics_;
  std::set<int32_t> coordinator_ids_;  // nodes added by add_coordinator_node (never "any node")
  bool metadata_in_flight_ = false;
  bool metadata_again_ = false;
  int64_t last_metadata_request_ms_ = 0;
  uint64_t metadata_timer_ = 0;
  uint64_t tick_timer_ = 0;
  bool closed_ = false;
  std::vector<std::function<void()>> listeners_;
  std::vector<std::function<void(int32_t)>> ready_listeners_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace conveyor::client
