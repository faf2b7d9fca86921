#include "dispatcher.h"

#include "conveyor/base/log.h"
#include "conveyor/protocol/messages.h"
#include "handlers/handlers.h"

namespace conveyor::broker {

namespace {
constexpr std::string_view kLog = "broker";

void close_bad(const std::shared_ptr<io::Connection>& connection, std::string_view why) {
  log::debug(kLog, "closing connection {} from {}: {}", connection->id(), connection->peer(), why);
  connection->close();
}
}  // namespace

void fill_api_versions(protocol::ApiVersionsResponse& response);  // handlers/api_versions.cc

void dispatch(BrokerState& broker, const std::shared_ptr<io::Connection>& connection, io::Frame frame) {
  auto prefix = protocol::peek_request_prefix(frame);
  if (!prefix) return close_bad(connection, "request shorter than its header");
  const BrokerApi* api = find_broker_api(prefix->api_key);
  if (!api) return close_bad(connection, fmt::format("unknown or unserved api key {}", prefix->api_key));

  if (api->key == protocol::ApiKey::api_versions && (prefix->api_version < 0 || prefix->api_version > api->max)) {
    // KIP-511: answer with a v0 body (header v0) carrying error 35 and the versions we have.
    protocol::ApiVersionsResponse response;
    response.error_code = static_cast<int16_t>(ErrorCode::unsupported_version);
    fill_api_versions(response);
    Bytes out;
    protocol::Writer w(out);
    size_t at = w.reserve_int32();
    w.int32(prefix->correlation_id);
    response.encode(w, 0);
    w.patch_int32(at, static_cast<int32_t>(out.size() - at - 4));
    connection->respond(std::move(out));
    return;
  }
  auto codec = protocol::find_api_versions(api->key);
  if (!codec || prefix->api_version < codec->min_version || prefix->api_version > api->max)
    return close_bad(connection, fmt::format("{} v{} is not supported", protocol::api_name(api->key),
                                             prefix->api_version));

  protocol::Reader reader(frame);
  RequestContext ctx;
  ctx.broker = &broker;
  ctx.connection = connection;
  if (auto r = ctx.header.decode(reader); !r) return close_bad(connection, r.error().to_string());
  log::at(log::Level::trace, kLog, "{} v{} correlation {} from {}", protocol::api_name(api->key),
          ctx.header.api_version, ctx.header.correlation_id, connection->peer());
  api->handler(std::move(ctx), reader);
}

}  // namespace conveyor::broker
