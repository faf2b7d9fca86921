#pragma once
// Request and response headers (protocol guide, "Headers" and "Common Request and Response
// Structure"; KIP-482 for the flexible v2/v1 headers) and framing helpers.
//
//   frame           = int32 size (big-endian, bytes that follow) + header + body
//   request header  v1: api_key int16, api_version int16, correlation_id int32,
//                       client_id nullable string (int16 length)
//                   v2: v1 + tagged fields (client_id keeps its int16 length)
//   response header v0: correlation_id int32;  v1: v0 + tagged fields
//
// Flexible request versions use request header v2 and response header v1, except ApiVersions
// whose response header is always v0 (so a client can read it before it knows the versions).
// Thread-safety: plain values and pure functions.
#include <cstdint>
#include <optional>
#include <string>

#include "conveyor/base/result.h"
#include "conveyor/protocol/api.h"
#include "conveyor/protocol/bytes.h"
#include "conveyor/protocol/codec.h"

namespace conveyor::protocol {

// 1 for non-flexible versions, 2 for flexible ones. A version above the known range keeps the
// flexibility of the newest known version (so an ApiVersions request from a newer client is
// still parsed, see peek_request_prefix). Unknown keys: 1.
int16_t request_header_version(ApiKey key, int16_t api_version);
// 1 for flexible versions, else 0; ApiVersions is always 0.
int16_t response_header_version(ApiKey key, int16_t api_version);

struct RequestHeader {
  ApiKey api_key = ApiKey::api_versions;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;  // null is legal on the wire
  TaggedFields unknown_tagged_fields;    // header v2 only

  // Writes header version request_header_version(api_key, api_version).
  void encode(Writer& w) const;
  void encode(Writer& w, int16_t header_version) const;
  // Reads the header; the header version follows from the api_key/api_version just read.
  // invalid_request when truncated. An unknown api_key is NOT an error here (the caller
  // decides); it is decoded as header v1.
  Result<void> decode(Reader& r);
  Result<void> decode(Reader& r, int16_t header_version);
  bool operator==(const RequestHeader&) const = default;
};

struct ResponseHeader {
  int32_t correlation_id = 0;
  TaggedFields unknown_tagged_fields;  // header v1 only

  void encode(Writer& w, int16_t header_version) const;
  // corrupt_message when truncated.
  Result<void> decode(Reader& r, int16_t header_version);
  bool operator==(const ResponseHeader&) const = default;
};

// The first 8 bytes of every request header, readable even when the key or version is
// unknown (e.g. to answer an ApiVersions request of a newer version with UNSUPPORTED_VERSION
// and a v0 body). `api_key` stays raw because it may not be a known ApiKey.
struct RequestPrefix {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
};
// `payload` is the frame without its size prefix. nullopt when shorter than 8 bytes.
std::optional<RequestPrefix> peek_request_prefix(ByteView payload);

// Appends a complete request frame (size, header, body) to `out`. Msg is a generated
// <Api>Request; the header's api_key must be Msg::kApiKey and its version in Msg's range.
template <class Msg>
void write_request_frame(Bytes& out, const RequestHeader& header, const Msg& body) {
  Writer w(out);
  size_t at = w.reserve_int32();
  header.encode(w);
  body.encode(w, header.api_version);
  w.patch_int32(at, static_cast<int32_t>(out.size() - at - 4));
}

// Appends a complete response frame (size, header, body) to `out` for a request of
// `api_version`; the response header version follows from Msg::kApiKey and the version.
template <class Msg>
void write_response_frame(Bytes& out, int32_t correlation_id, int16_t api_version, const Msg& body) {
  Writer w(out);
  size_t at = w.reserve_int32();
  ResponseHeader{correlation_id, {}}.encode(w, response_header_version(Msg::kApiKey, api_version));
  body.encode(w, api_version);
  w.patch_int32(at, static_cast<int32_t>(out.size() - at - 4));
}

}  // namespace conveyor::protocol
