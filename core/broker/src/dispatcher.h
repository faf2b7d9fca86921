#pragma once
// Request dispatch: frame → request header → the handler of its API key (handlers/).
//
// Bad input closes the connection (other connections are unaffected): a frame shorter than a
// header, an API key conveyor does not serve, a version outside the message codecs' range
// (Kafka does the same), a header or body that does not decode. ApiVersions of an unsupported
// version gets a v0 body with UNSUPPORTED_VERSION (35) and the supported key list (KIP-511).
#include <memory>

#include "broker_state.h"
#include "conveyor/io/server.h"

namespace conveyor::broker {

void dispatch(BrokerState& broker, const std::shared_ptr<io::Connection>& connection, io::Frame frame);

}  // namespace conveyor::broker
