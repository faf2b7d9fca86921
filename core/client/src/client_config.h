#pragma once
// Internal: configuration keys shared by Producer, Consumer and Admin, and the list of
// Kafka/librdkafka keys accepted and ignored (documented in core/client/README.md).
#include "conveyor/base/properties.h"
#include "network_client.h"

namespace conveyor::client {

// Adds bootstrap.servers, client.id, request.timeout.ms, reconnect.backoff.ms,
// socket.connection.setup.timeout.ms, metadata.max.age.ms, retry.backoff.ms, security.protocol
// (plaintext only) and the ignored common keys.
void add_common_keys(ConfigSchema& schema);

// Validates and reads the common keys.
Result<NetworkConfig> read_network_config(const Properties& config, const ConfigSchema& schema);

// Reads an integer key that validate() already checked.
int64_t get_int(const Properties& config, const ConfigSchema& schema, std::string_view key);
bool get_bool(const Properties& config, const ConfigSchema& schema, std::string_view key);
std::string get_string(const Properties& config, const ConfigSchema& schema, std::string_view key);

}  // namespace conveyor::client
