#pragma once
// conveyor's Kafka admin client: topics (CreateTopics, DeleteTopics, Metadata).
//
// Configuration: bootstrap.servers (required), client.id, request.timeout.ms,
// metadata.max.age.ms, reconnect.backoff.ms, socket.connection.setup.timeout.ms; accepted and
// ignored keys as in core/client/README.md; unknown keys → invalid_config.
//
// Threading: every method is thread-safe and blocking (up to its timeout_ms). Requests go to
// the controller the Metadata response names (any broker if none), as Kafka's AdminClient does.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/client/types.h"

namespace conveyor::client {

class Admin {
 public:
  static const ConfigSchema& config_schema();
  static Result<std::unique_ptr<Admin>> create(const Properties& config);

  // CreateTopics (v2–7). partitions / replication_factor -1 = the broker's defaults
  // (num.partitions, default.replication.factor; needs CreateTopics v4+ on the broker).
  // configs: topic-level configs, e.g. {"cleanup.policy", "delete"}.
  // Errors: the broker's per-topic error (topic_already_exists, invalid_partitions,
  // invalid_replication_factor, invalid_topic_exception, invalid_config, ...),
  // local_timed_out. Waits until the topic shows up in metadata (or timeout).
  Result<void> create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                            const std::map<std::string, std::string>& configs, int timeout_ms);

  // DeleteTopics (v1–6) by name. Errors: unknown_topic_or_partition, local_timed_out, ...
  Result<void> delete_topic(const std::string& name, int timeout_ms);

  // All topics the broker lists (Metadata with a null topic list), internal ones included
  // (check TopicDescription::is_internal), sorted by name.
  Result<std::vector<TopicDescription>> list_topics(int timeout_ms);

  // The named topics, in the order given. A missing topic is an entry with
  // error = unknown_topic_or_partition (the call itself succeeds). Never auto-creates.
  Result<std::vector<TopicDescription>> describe_topics(const std::vector<std::string>& names,
                                                        int timeout_ms);

  // Brokers from the latest Metadata response (node id, host, port, rack).
  Result<std::vector<BrokerDescription>> describe_cluster(int timeout_ms);

  void close();
  ~Admin();

  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  struct Impl;

 private:
  explicit Admin(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor::client
