#include "conveyor/protocol/header.h"

#include <fmt/format.h>

#include "conveyor/base/assert.h"

namespace conveyor::protocol {

int16_t request_header_version(ApiKey key, int16_t api_version) {
  auto entry = find_api_versions(key);
  if (!entry || entry->first_flexible_version < 0) return 1;
  return api_version >= entry->first_flexible_version ? 2 : 1;
}

int16_t response_header_version(ApiKey key, int16_t api_version) {
  if (key == ApiKey::api_versions) return 0;
  return request_header_version(key, api_version) == 2 ? 1 : 0;
}

void RequestHeader::encode(Writer& w) const { encode(w, request_header_version(api_key, api_version)); }

void RequestHeader::encode(Writer& w, int16_t header_version) const {
  CONVEYOR_ASSERT(header_version == 1 || header_version == 2);
  w.int16(static_cast<int16_t>(api_key));
  w.int16(api_version);
  w.int32(correlation_id);
  w.nullable_string(client_id);
  if (header_version >= 2) w.tagged_fields({}, unknown_tagged_fields);
}

Result<void> RequestHeader::decode(Reader& r) {
  api_key = static_cast<ApiKey>(r.int16());
  api_version = r.int16();
  correlation_id = r.int32();
  client_id = r.nullable_string();
  if (r.ok() && request_header_version(api_key, api_version) >= 2) r.skip_tagged_fields(unknown_tagged_fields);
  if (!r.ok()) return fail(ErrorCode::invalid_request, "request header truncated or malformed");
  return {};
}

Result<void> RequestHeader::decode(Reader& r, int16_t header_version) {
  if (header_version != 1 && header_version != 2) {
    return fail(ErrorCode::invalid_request, fmt::format("unknown request header version {}", header_version));
  }
  api_key = static_cast<ApiKey>(r.int16());
  api_version = r.int16();
  correlation_id = r.int32();
  client_id = r.nullable_string();
  if (header_version >= 2) r.skip_tagged_fields(unknown_tagged_fields);
  if (!r.ok()) return fail(ErrorCode::invalid_request, "request header truncated or malformed");
  return {};
}

void ResponseHeader::encode(Writer& w, int16_t header_version) const {
  CONVEYOR_ASSERT(header_version == 0 || header_version == 1);
  w.int32(correlation_id);
  if (header_version >= 1) w.tagged_fields({}, unknown_tagged_fields);
}

Result<void> ResponseHeader::decode(Reader& r, int16_t header_version) {
  if (header_version != 0 && header_version != 1) {
    return fail(ErrorCode::corrupt_message, fmt::format("unknown response header version {}", header_version));
  }
  correlation_id = r.int32();
  if (header_version >= 1) r.skip_tagged_fields(unknown_tagged_fields);
  if (!r.ok()) return fail(ErrorCode::corrupt_message, "response header truncated or malformed");
  return {};
}

std::optional<RequestPrefix> peek_request_prefix(ByteView payload) {
  if (payload.size() < 8) return std::nullopt;
  Reader r(payload.first(8));
  RequestPrefix p;
  p.api_key = r.int16();
  p.api_version = r.int16();
  p.correlation_id = r.int32();
  return p;
}

}  // namespace conveyor::protocol
