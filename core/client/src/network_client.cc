#include "network_client.h"

#include <algorithm>
#include <deque>

#include <fmt/format.h>

#include "conveyor/base/assert.h"
#include "conveyor/base/log.h"

namespace conveyor::client {
namespace {
constexpr std::string_view kLog = "client";
constexpr int64_t kTickMs = 50;  // granularity of request timeouts and metadata ageing
constexpr int16_t kApiVersionsPreferred = 3;
}  // namespace

Result<std::vector<std::pair<std::string, uint16_t>>> parse_bootstrap(const std::string& servers) {
  std::vector<std::pair<std::string, uint16_t>> out;
  size_t start = 0;
  while (start <= servers.size()) {
    size_t comma = servers.find(',', start);
    std::string item = servers.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? servers.size() + 1 : comma + 1;
    // trim
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.erase(item.begin());
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.pop_back();
    if (item.empty()) continue;
    // Accept an optional "PLAINTEXT://" style prefix as listeners use it.
    if (auto p = item.find("://"); p != std::string::npos) item = item.substr(p + 3);
    std::string host;
    std::string port_text;
    if (item.front() == '[') {
      auto close = item.find(']');
      if (close == std::string::npos || close + 1 >= item.size() || item[close + 1] != ':')
        return fail(ErrorCode::invalid_config, fmt::format("bootstrap.servers: bad address \"{}\"", item));
      host = item.substr(1, close - 1);
      port_text = item.substr(close + 2);
    } else {
      auto colon = item.rfind(':');
      if (colon == std::string::npos || colon == 0)
        return fail(ErrorCode::invalid_config,
                    fmt::format("bootstrap.servers: \"{}\" is not host:port", item));
      host = item.substr(0, colon);
      port_text = item.substr(colon + 1);
    }
    int port = 0;
    try {
      size_t used = 0;
      port = std::stoi(port_text, &used);
      if (used != port_text.size()) port = -1;
    } catch (...) {
      port = -1;
    }
    if (port <= 0 || port > 65535)
      return fail(ErrorCode::invalid_config, fmt::format("bootstrap.servers: bad port in \"{}\"", item));
    out.emplace_back(host, static_cast<uint16_t>(port));
  }
  if (out.empty()) return fail(ErrorCode::invalid_config, "bootstrap.servers: no servers given");
  return out;
}

std::string uuid_to_string(const protocol::Uuid& id) {
  std::string s;
  static const char* hex = "0123456789abcdef";
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(hex[id[i] >> 4]);
    s.push_back(hex[id[i] & 15]);
  }
  return s;
}

TopicDescription to_description(const TopicMetadata& t) {
  TopicDescription d;
  d.name = t.name;
  d.topic_id = uuid_to_string(t.topic_id);
  d.is_internal = t.is_internal;
  d.error = t.error;
  for (const auto& p : t.partitions) {
    PartitionDescription pd;
    pd.partition = p.partition;
    pd.leader = p.leader;
    pd.leader_epoch = p.leader_epoch;
    pd.replicas = p.replicas;
    pd.isr = p.isr;
    pd.offline_replicas = p.offline;
    pd.error = p.error;
    d.partitions.push_back(std::move(pd));
  }
  return d;
}

TopicMetadata topic_from_response(const protocol::MetadataResponse::MetadataResponseTopic& t) {
  TopicMetadata tm;
  tm.name = t.name.value_or("");
  tm.topic_id = t.topic_id;
  tm.is_internal = t.is_internal;
  tm.error = static_cast<ErrorCode>(t.error_code);
  int32_t max_index = -1;
  for (const auto& p : t.partitions) max_index = std::max(max_index, p.partition_index);
  if (max_index >= 0 && max_index < (1 << 20) && tm.error != ErrorCode::unknown_topic_or_partition &&
      tm.error != ErrorCode::invalid_topic_exception) {
    tm.partitions.resize(static_cast<size_t>(max_index) + 1);
    for (size_t i = 0; i < tm.partitions.size(); ++i) tm.partitions[i].partition = static_cast<int32_t>(i);
    for (const auto& p : t.partitions) {
      if (p.partition_index < 0) continue;
      auto& pm = tm.partitions[static_cast<size_t>(p.partition_index)];
      pm.leader = p.leader_id;
      pm.leader_epoch = p.leader_epoch;
      pm.replicas = p.replica_nodes;
      pm.isr = p.isr_nodes;
      pm.offline = p.offline_replicas;
      pm.error = static_cast<ErrorCode>(p.error_code);
    }
  }
  return tm;
}

struct NetworkClient::Pending {
  protocol::ApiKey key;
  int16_t min_version;
  int16_t max_version;
  Encoder encoder;
  RawHandler handler;
  bool expect_response;
  int64_t enqueued_ms;
  int64_t timeout_ms;
};

struct NetworkClient::Node {
  enum class State { disconnected, connecting, negotiating, ready };
  struct InFlight {
    int32_t correlation_id;
    protocol::ApiKey key;
    int16_t version;
    int64_t deadline_ms;
    RawHandler handler;
  };
  int32_t id;
  std::string host;
  uint16_t port;
  std::unique_ptr<io::ClientConnection> conn;
  uint64_t generation = 0;  // bumps per connection, so late callbacks of an old one are ignored
  State state = State::disconnected;
  int64_t backoff_until_ms = 0;
  std::deque<Pending> waiting;  // until negotiated
  std::deque<InFlight> in_flight;
  std::map<int16_t, std::pair<int16_t, int16_t>> versions;
  std::string address() const { return fmt::format("{}:{} (node {})", host, port, id); }
};

NetworkClient::NetworkClient(io::ClientLoop& loop, NetworkConfig config) : loop_(loop), config_(std::move(config)) {
  int32_t id = -1;
  for (const auto& [host, port] : config_.bootstrap) {
    auto n = std::make_unique<Node>();
    n->id = id;
    n->host = host;
    n->port = port;
    nodes_.emplace(id, std::move(n));
    --id;
  }
  std::weak_ptr<bool> alive = alive_;
  auto tick = [this, alive] {
    if (alive.expired()) return;
    this->tick();
  };
  tick_timer_ = loop_.schedule(kTickMs, tick);
}

NetworkClient::~NetworkClient() { close(); }

void NetworkClient::close() {
  if (closed_) return;
  closed_ = true;
  loop_.cancel(tick_timer_);
  if (metadata_timer_) loop_.cancel(metadata_timer_);
  Error why{ErrorCode::local_destroy, "client closing"};
  for (auto& [id, node] : nodes_) {
    node_failed(*node, why);
  }
  for (auto& [id, node] : nodes_) node->conn.reset();
}

NetworkClient::Node* NetworkClient::node_for(int32_t node_id) {
  if (node_id == kAnyNode) return any_node();
  auto it = nodes_.find(node_id);
  auto b = metadata_.brokers.find(node_id);
  if (it != nodes_.end()) {
    if (b != metadata_.brokers.end() &&
        (b->second.host != it->second->host || b->second.port != it->second->port)) {
      // The broker moved: drop the old connection.
      node_failed(*it->second, Error{ErrorCode::local_transport, "broker address changed"});
      it->second->host = b->second.host;
      it->second->port = static_cast<uint16_t>(b->second.port);
    }
    return it->second.get();
  }
  if (b == metadata_.brokers.end()) return nullptr;
  auto n = std::make_unique<Node>();
  n->id = node_id;
  n->host = b->second.host;
  n->port = static_cast<uint16_t>(b->second.port);
  Node* raw = n.get();
  nodes_.emplace(node_id, std::move(n));
  return raw;
}

NetworkClient::Node* NetworkClient::any_node() {
  int64_t now = io::steady_now_ms();
  Node* best = nullptr;
  // Ready broker with the fewest requests in flight; known brokers before bootstrap entries.
  for (auto& [id, n] : nodes_) {
    if (n->state != Node::State::ready || coordinator_ids_.count(id)) continue;
    if (id < 0 && !metadata_.brokers.empty()) continue;
    if (!best || n->in_flight.size() < best->in_flight.size()) best = n.get();
  }
  if (best) return best;
  for (auto& [id, n] : nodes_)
    if ((n->state == Node::State::connecting || n->state == Node::State::negotiating) && !coordinator_ids_.count(id))
      return n.get();
  // Something not backing off: known brokers first, then bootstrap servers.
  std::vector<Node*> candidates;
  for (const auto& [id, b] : metadata_.brokers)
    if (Node* n = node_for(id)) candidates.push_back(n);
  for (auto& [id, n] : nodes_)
    if (id < 0) candidates.push_back(n.get());
  for (Node* n : candidates)
    if (n->backoff_until_ms <= now) return n;
  for (Node* n : candidates)
    if (!best || n->backoff_until_ms < best->backoff_until_ms) best = n;
  return best;
}

bool NetworkClient::node_ready(int32_t node_id) const {
  auto it = nodes_.find(node_id);
  return it != nodes_.end() && it->second->state == Node::State::ready;
}

size_t NetworkClient::node_in_flight(int32_t node_id) const {
  auto it = nodes_.find(node_id);
  return it == nodes_.end() ? 0 : it->second->in_flight.size() + it->second->waiting.size();
}

std::optional<std::pair<int16_t, int16_t>> NetworkClient::broker_versions(int32_t node_id,
                                                                         protocol::ApiKey key) const {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || it->second->state != Node::State::ready) return std::nullopt;
  auto v = it->second->versions.find(static_cast<int16_t>(key));
  if (v == it->second->versions.end()) return std::nullopt;
  return v->second;
}

void NetworkClient::ensure_connecting(int32_t node_id) {
  if (closed_) return;
  Node* n = node_for(node_id);
  if (n && n->state == Node::State::disconnected && n->backoff_until_ms <= io::steady_now_ms()) connect(*n);
}

void NetworkClient::connect(Node& node) {
  CONVEYOR_ASSERT(node.state == Node::State::disconnected);
  if (node.conn) {
    // Retire the old connection object outside of any of its callbacks.
    auto old = std::shared_ptr<io::ClientConnection>(std::move(node.conn));
    loop_.post([old] {});
  }
  node.state = Node::State::connecting;
  node.generation++;
  io::ClientConnection::Options opts;
  opts.connect_timeout_ms = config_.connect_timeout_ms;
  opts.max_response_bytes = config_.max_response_bytes;
  node.conn = std::make_unique<io::ClientConnection>(loop_, node.host, node.port, opts);
  log::debug(kLog, "connecting to {}", node.address());
  Node* np = &node;
  uint64_t gen = node.generation;
  std::weak_ptr<bool> alive = alive_;
  node.conn->connect([this, np, gen, alive](Result<void> r) {
    if (alive.expired() || np->generation != gen) return;
    if (!r) {
      log::debug(kLog, "connect to {} failed: {}", np->address(), r.error().message);
      return node_failed(*np, r.error());
    }
    on_connected(*np);
  });
}

void NetworkClient::on_connected(Node& node) {
  node.state = Node::State::negotiating;
  send_api_versions(node, kApiVersionsPreferred);
}

void NetworkClient::send_api_versions(Node& node, int16_t version) {
  protocol::ApiVersionsRequest req;
  req.client_software_name = "conveyor";
  req.client_software_version = "0.1.0";
  int32_t corr = next_correlation_id_++;
  protocol::RequestHeader header;
  header.api_key = protocol::ApiKey::api_versions;
  header.api_version = version;
  header.correlation_id = corr;
  header.client_id = config_.client_id;
  Bytes frame;
  protocol::write_request_frame(frame, header, req);
  Node* np = &node;
  uint64_t gen = node.generation;
  std::weak_ptr<bool> alive = alive_;
  node.in_flight.push_back(Node::InFlight{corr, protocol::ApiKey::api_versions, version,
                                          io::steady_now_ms() + config_.request_timeout_ms, nullptr});
  node.conn->send(std::move(frame), true, [this, np, gen, alive, corr, version](Result<Bytes> r) {
    if (alive.expired() || np->generation != gen) return;
    if (!np->in_flight.empty()) np->in_flight.pop_front();
    if (!r) return node_failed(*np, r.error());
    protocol::Reader reader(*r);
    protocol::ResponseHeader h;
    if (!h.decode(reader, 0) || h.correlation_id != corr)
      return node_failed(*np, Error{ErrorCode::local_transport, "bad ApiVersions response header"});
    protocol::Reader peek = reader;
    int16_t error = peek.int16();
    protocol::ApiVersionsResponse resp;
    if (error == static_cast<int16_t>(ErrorCode::unsupported_version)) {
      // KIP-511: the broker answers an unsupported ApiVersions version with a v0 body listing
      // its range. Some brokers (librdkafka's mock cluster, older servers) answer in the
      // request's own form instead; then the body says nothing usable and we retry at v0.
      if (version == 0)
        return node_failed(*np, Error{ErrorCode::unsupported_version, "ApiVersions not supported"});
      int16_t retry = 0;
      if (resp.decode(reader, 0)) {
        for (const auto& k : resp.api_keys)
          if (k.api_key == static_cast<int16_t>(protocol::ApiKey::api_versions))
            retry = std::min<int16_t>(k.max_version, version - 1);
      }
      return send_api_versions(*np, std::max<int16_t>(retry, 0));
    }
    if (auto d = resp.decode(reader, version); !d)
      return node_failed(*np, Error{ErrorCode::local_transport, "bad ApiVersions response: " + d.error().message});
    if (resp.error_code != 0)
      return node_failed(*np, Error{static_cast<ErrorCode>(resp.error_code), "ApiVersions failed"});
    np->versions.clear();
    for (const auto& k : resp.api_keys) np->versions[k.api_key] = {k.min_version, k.max_version};
    np->state = Node::State::ready;
    log::debug(kLog, "connected to {}, {} APIs", np->address(), np->versions.size());
    auto waiting = std::move(np->waiting);
    np->waiting.clear();
    for (auto& p : waiting) dispatch(*np, std::move(p));
    for (auto& l : ready_listeners_) l(np->id);
  });
}

void NetworkClient::node_failed(Node& node, const Error& error) {
  if (node.state == Node::State::disconnected && node.in_flight.empty() && !(error.code == ErrorCode::local_destroy))
    return;
  bool was_connected = node.state != Node::State::disconnected;
  node.state = Node::State::disconnected;
  node.generation++;  // ignore anything the old connection still reports
  node.backoff_until_ms = io::steady_now_ms() + config_.reconnect_backoff_ms;
  if (node.conn) node.conn->close(error);
  auto in_flight = std::move(node.in_flight);
  node.in_flight.clear();
  if (was_connected && error.code != ErrorCode::local_destroy)
    log::debug(kLog, "connection to {} failed: {}", node.address(), error.to_string());
  for (auto& f : in_flight)
    if (f.handler) f.handler(fail(error), f.version);
  if (closed_ || error.code == ErrorCode::local_destroy) {
    auto waiting = std::move(node.waiting);
    node.waiting.clear();
    for (auto& p : waiting) p.handler(fail(Error{ErrorCode::local_destroy, "client closing"}), -1);
  }
  // Connection errors usually mean the cluster changed: look again.
  if (!closed_ && error.code != ErrorCode::local_destroy) request_metadata_update();
}

void NetworkClient::send_raw(int32_t node_id, protocol::ApiKey key, int16_t min_version, int16_t max_version,
                             Encoder encoder, RawHandler handler, bool expect_response, int64_t timeout_ms) {
  if (closed_) return handler(fail(ErrorCode::local_destroy, "client closing"), -1);
  Node* node = node_for(node_id);
  if (!node)
    return handler(fail(ErrorCode::leader_not_available, fmt::format("unknown broker node {}", node_id)), -1);
  Pending p{key, min_version, max_version, std::move(encoder), std::move(handler), expect_response,
            io::steady_now_ms(), timeout_ms > 0 ? timeout_ms : config_.request_timeout_ms};
  if (node->state != Node::State::ready) {
    node->waiting.push_back(std::move(p));
    if (node->state == Node::State::disconnected && node->backoff_until_ms <= io::steady_now_ms()) connect(*node);
    return;
  }
  dispatch(*node, std::move(p));
}

void NetworkClient::dispatch(Node& node, Pending p) {
  auto range = node.versions.find(static_cast<int16_t>(p.key));
  int16_t version = -1;
  if (range != node.versions.end()) {
    int16_t hi = std::min(p.max_version, range->second.second);
    int16_t lo = std::max(p.min_version, range->second.first);
    if (hi >= lo) version = hi;
  }
  if (version < 0)
    return p.handler(fail(ErrorCode::unsupported_version,
                          fmt::format("{} has no {} version in [{}, {}]", node.address(),
                                      protocol::api_name(p.key), p.min_version, p.max_version)),
                     -1);
  int32_t corr = next_correlation_id_++;
  if (next_correlation_id_ == INT32_MAX) next_correlation_id_ = 1;
  protocol::RequestHeader header;
  header.api_key = p.key;
  header.api_version = version;
  header.correlation_id = corr;
  header.client_id = config_.client_id;
  Bytes frame;
  protocol::Writer w(frame);
  size_t at = w.reserve_int32();
  header.encode(w);
  p.encoder(w, version);
  w.patch_int32(at, static_cast<int32_t>(frame.size() - at - 4));
  if (!p.expect_response) {
    node.conn->send(std::move(frame), false, nullptr);
    protocol::Reader empty{ByteView{}};
    return p.handler(&empty, version);
  }
  node.in_flight.push_back(Node::InFlight{corr, p.key, version, io::steady_now_ms() + p.timeout_ms,
                                          std::move(p.handler)});
  Node* np = &node;
  uint64_t gen = node.generation;
  std::weak_ptr<bool> alive = alive_;
  node.conn->send(std::move(frame), true, [this, np, gen, alive, corr](Result<Bytes> r) {
    if (alive.expired() || np->generation != gen) return;
    if (!r) return node_failed(*np, r.error());
    if (np->in_flight.empty() || np->in_flight.front().correlation_id != corr)
      return node_failed(*np, Error{ErrorCode::local_transport, "response out of order"});
    auto f = std::move(np->in_flight.front());
    np->in_flight.pop_front();
    protocol::Reader reader(*r);
    protocol::ResponseHeader h;
    if (!h.decode(reader, protocol::response_header_version(f.key, f.version)) || h.correlation_id != corr) {
      f.handler(fail(ErrorCode::corrupt_message, "bad response header"), f.version);
      return node_failed(*np, Error{ErrorCode::local_transport, "correlation id mismatch"});
    }
    f.handler(&reader, f.version);
  });
}

void NetworkClient::tick() {
  if (closed_) return;
  int64_t now = io::steady_now_ms();
  for (auto& [id, node] : nodes_) {
    Node& n = *node;
    // Answers come in order, so only the oldest request's deadline matters (a short request
    // queued behind a JoinGroup held for the rebalance timeout waits with it).
    if (!n.in_flight.empty() && n.in_flight.front().deadline_ms <= now) {
      node_failed(n, Error{ErrorCode::request_timed_out,
                           fmt::format("request to {} timed out after {} ms", n.address(), config_.request_timeout_ms)});
    }
    while (!n.waiting.empty() && n.waiting.front().enqueued_ms + n.waiting.front().timeout_ms <= now) {
      auto p = std::move(n.waiting.front());
      n.waiting.pop_front();
      p.handler(fail(ErrorCode::request_timed_out, fmt::format("no connection to {} in time", n.address())), -1);
    }
    if (!n.waiting.empty() && n.state == Node::State::disconnected && n.backoff_until_ms <= now) connect(n);
  }
  if (!topics_.empty() && metadata_.updated_ms + config_.metadata_max_age_ms <= now) request_metadata_update();
  std::weak_ptr<bool> alive = alive_;
  tick_timer_ = loop_.schedule(kTickMs, [this, alive] {
    if (!alive.expired()) tick();
  });
}

int32_t NetworkClient::add_coordinator_node(int32_t broker_node_id, const std::string& host, uint16_t port) {
  int32_t id = INT32_MAX - broker_node_id;
  coordinator_ids_.insert(id);
  auto it = nodes_.find(id);
  if (it == nodes_.end()) {
    auto n = std::make_unique<Node>();
    n->id = id;
    n->host = host;
    n->port = port;
    nodes_.emplace(id, std::move(n));
  } else if (it->second->host != host || it->second->port != port) {
    node_failed(*it->second, Error{ErrorCode::local_transport, "coordinator address changed"});
    it->second->host = host;
    it->second->port = port;
  }
  return id;
}

void NetworkClient::add_topics(const std::vector<std::string>& topics) {
  bool added = false;
  for (const auto& t : topics) added |= topics_.insert(t).second;
  if (added) request_metadata_update();
}

void NetworkClient::remove_topic(const std::string& topic) { topics_.erase(topic); }

void NetworkClient::request_metadata_update() {
  if (closed_) return;
  if (metadata_in_flight_) {
    metadata_again_ = true;
    return;
  }
  if (metadata_timer_) return;  // already scheduled
  int64_t now = io::steady_now_ms();
  int64_t wait = last_metadata_request_ms_ + config_.retry_backoff_ms - now;
  if (wait <= 0) return refresh_metadata_now();
  std::weak_ptr<bool> alive = alive_;
  metadata_timer_ = loop_.schedule(wait, [this, alive] {
    if (alive.expired()) return;
    metadata_timer_ = 0;
    refresh_metadata_now();
  });
}

void NetworkClient::refresh_metadata_now() {
  if (closed_ || metadata_in_flight_) return;
  metadata_in_flight_ = true;
  metadata_again_ = false;
  last_metadata_request_ms_ = io::steady_now_ms();
  std::vector<std::string> topics(topics_.begin(), topics_.end());
  std::weak_ptr<bool> alive = alive_;
  fetch_metadata(std::move(topics), config_.allow_auto_topic_creation,
                 [this, alive](Result<protocol::MetadataResponse> r) {
                   if (alive.expired()) return;
                   metadata_in_flight_ = false;
                   bool again = metadata_again_;
                   if (!r) {
                     log::debug(kLog, "metadata refresh failed: {}", r.error().to_string());
                     again = true;
                   } else {
                     for (const auto& t : r->topics)
                       if (t.error_code != 0) again = true;  // e.g. LEADER_NOT_AVAILABLE while creating
                   }
                   if (again && !closed_) request_metadata_update();
                 });
}

void NetworkClient::fetch_metadata(std::optional<std::vector<std::string>> topics, bool allow_auto_create,
                                   std::function<void(Result<protocol::MetadataResponse>)> done) {
  protocol::MetadataRequest req;
  if (topics) {
    req.topics.emplace();
    for (auto& t : *topics) {
      protocol::MetadataRequest::MetadataRequestTopic rt;
      rt.name = t;
      req.topics->push_back(std::move(rt));
    }
  }
  req.allow_auto_topic_creation = allow_auto_create;
  // v0 can not ask for "no topics" (an empty list means all of them).
  int16_t min_version = (topics && topics->empty()) ? 1 : 0;
  std::weak_ptr<bool> alive = alive_;
  send<protocol::MetadataRequest, protocol::MetadataResponse>(
      kAnyNode, std::move(req),
      [this, alive, done = std::move(done)](Result<protocol::MetadataResponse> r, int16_t version) {
        if (!alive.expired() && r) merge_metadata(*r, version);
        done(std::move(r));
      },
      protocol::MetadataRequest::kMaxVersion, min_version);
}

void NetworkClient::merge_metadata(const protocol::MetadataResponse& resp, int16_t version) {
  if (!resp.brokers.empty()) {
    metadata_.brokers.clear();
    for (const auto& b : resp.brokers) metadata_.brokers[b.node_id] = BrokerDescription{b.node_id, b.host, b.port, b.rack};
  }
  metadata_.controller_id = resp.controller_id;
  metadata_.cluster_id = resp.cluster_id;
  for (const auto& t : resp.topics) {
    if (!t.name) continue;
    TopicMetadata tm = topic_from_response(t);
    metadata_.topics[tm.name] = std::move(tm);
  }
  metadata_.updated_ms = io::steady_now_ms();
  (void)version;
  for (auto& l : listeners_) l();
}

}  // namespace conveyor::client
