#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "conveyor/protocol/header.h"
#include "conveyor/protocol/messages.h"

namespace conveyor::protocol {
namespace {

Bytes bytes_of(std::initializer_list<int> v) {
  Bytes out;
  for (int b : v) out.push_back(static_cast<uint8_t>(b));
  return out;
}

TEST(Header, HeaderVersions) {
  EXPECT_EQ(request_header_version(ApiKey::api_versions, 0), 1);
  EXPECT_EQ(request_header_version(ApiKey::api_versions, 3), 2);
  EXPECT_EQ(request_header_version(ApiKey::api_versions, 9), 2) << "newer ApiVersions stay flexible";
  EXPECT_EQ(response_header_version(ApiKey::api_versions, 3), 0) << "ApiVersions response header is always v0";
  EXPECT_EQ(response_header_version(ApiKey::api_versions, 0), 0);
  EXPECT_EQ(request_header_version(ApiKey::metadata, 8), 1);
  EXPECT_EQ(request_header_version(ApiKey::metadata, 9), 2);
  EXPECT_EQ(response_header_version(ApiKey::metadata, 8), 0);
  EXPECT_EQ(response_header_version(ApiKey::metadata, 9), 1);
  EXPECT_EQ(request_header_version(ApiKey::produce, 9), 2);
  EXPECT_EQ(response_header_version(ApiKey::fetch, 11), 0);
  EXPECT_EQ(response_header_version(ApiKey::fetch, 12), 1);
  EXPECT_EQ(request_header_version(ApiKey::init_producer_id, 2), 2);
  EXPECT_EQ(request_header_version(static_cast<ApiKey>(999), 0), 1);
}

TEST(Header, RequestHeaderV1Golden) {
  RequestHeader h{ApiKey::metadata, 1, 7, "abc", {}};
  Bytes out;
  Writer w(out);
  h.encode(w);
  EXPECT_EQ(out, bytes_of({0, 3, 0, 1, 0, 0, 0, 7, 0, 3, 'a', 'b', 'c'}));
  Reader r(out);
  RequestHeader back;
  ASSERT_TRUE(back.decode(r).has_value());
  EXPECT_EQ(back, h);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Header, RequestHeaderV2KeepsInt16ClientIdAndTaggedFields) {
  RequestHeader h{ApiKey::api_versions, 3, 1, "rdkafka", {{5, {9}}}};
  Bytes out;
  Writer w(out);
  h.encode(w);
  EXPECT_EQ(out, bytes_of({0, 18, 0, 3, 0, 0, 0, 1, 0, 7, 'r', 'd', 'k', 'a', 'f', 'k', 'a', 1, 5, 1, 9}));
  Reader r(out);
  RequestHeader back;
  ASSERT_TRUE(back.decode(r).has_value());
  EXPECT_EQ(back, h);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Header, NullClientId) {
  RequestHeader h{ApiKey::produce, 3, -5, std::nullopt, {}};
  Bytes out;
  Writer w(out);
  h.encode(w);
  EXPECT_EQ(out, bytes_of({0, 0, 0, 3, 0xff, 0xff, 0xff, 0xfb, 0xff, 0xff}));
  Reader r(out);
  RequestHeader back;
  ASSERT_TRUE(back.decode(r).has_value());
  EXPECT_FALSE(back.client_id.has_value());
}

TEST(Header, TruncatedRequestHeaderFails) {
  Bytes full = bytes_of({0, 18, 0, 3, 0, 0, 0, 1, 0, 2, 'a', 'b', 0});
  for (size_t n = 0; n < full.size(); ++n) {
    Bytes part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    Reader r(part);
    RequestHeader h;
    auto res = h.decode(r);
    ASSERT_FALSE(res.has_value()) << n;
    EXPECT_EQ(res.error().code, ErrorCode::invalid_request);
  }
  // A client id longer than the frame.
  Bytes lying = bytes_of({0, 3, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 'a'});
  Reader r(lying);
  RequestHeader h;
  EXPECT_FALSE(h.decode(r).has_value());
}

TEST(Header, ResponseHeaders) {
  ResponseHeader h{0x01020304, {}};
  Bytes v0, v1;
  Writer w0(v0), w1(v1);
  h.encode(w0, 0);
  h.encode(w1, 1);
  EXPECT_EQ(v0, bytes_of({1, 2, 3, 4}));
  EXPECT_EQ(v1, bytes_of({1, 2, 3, 4, 0}));
  Reader r(v1);
  ResponseHeader back;
  ASSERT_TRUE(back.decode(r, 1).has_value());
  EXPECT_EQ(back.correlation_id, 0x01020304);
  Bytes short_header = bytes_of({1, 2, 3});
  Reader rs(short_header);
  auto res = back.decode(rs, 0);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code, ErrorCode::corrupt_message);
}

TEST(Header, PeekPrefixOfUnknownVersion) {
  // An ApiVersions v9 request from some future client: the broker must still read the key,
  // version and correlation id to answer UNSUPPORTED_VERSION.
  Bytes payload = bytes_of({0, 18, 0, 9, 0, 0, 0, 42, 0, 0, 0});
  auto p = peek_request_prefix(payload);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->api_key, 18);
  EXPECT_EQ(p->api_version, 9);
  EXPECT_EQ(p->correlation_id, 42);
  EXPECT_FALSE(peek_request_prefix(ByteView(payload).first(7)).has_value());
}

TEST(Header, RequestAndResponseFrames) {
  ApiVersionsRequest body;
  body.client_software_name = "c";
  body.client_software_version = "1";
  Bytes frame;
  write_request_frame(frame, RequestHeader{ApiKey::api_versions, 3, 9, "id", {}}, body);
  EXPECT_EQ(frame, bytes_of({0, 0, 0, 18, 0, 18, 0, 3, 0, 0, 0, 9, 0, 2, 'i', 'd', 0, 2, 'c', 2, '1', 0}));

  // ApiVersions v3 response: header v0 (no tagged fields) then the flexible body.
  ApiVersionsResponse resp;
  Bytes out;
  write_response_frame(out, 9, 3, resp);
  EXPECT_EQ(out, bytes_of({0, 0, 0, 12, 0, 0, 0, 9, 0, 0, 1, 0, 0, 0, 0, 0}));
  // Metadata v9 response: header v1 has a tagged-field byte.
  MetadataResponse md;
  Bytes mout;
  write_response_frame(mout, 1, 9, md);
  EXPECT_EQ(mout[8], 0);  // header tagged fields
  EXPECT_EQ(mout.size(), 4u + 5u + 4u + 1u + 1u + 4u + 1u + 4u + 1u);
}

TEST(Api, NamesAndTable) {
  EXPECT_EQ(api_name(ApiKey::api_versions), "ApiVersions");
  EXPECT_EQ(api_name(ApiKey::init_producer_id), "InitProducerId");
  EXPECT_EQ(api_name(static_cast<ApiKey>(999)), "Unknown");
  EXPECT_EQ(static_cast<int16_t>(ApiKey::create_topics), 19);
  EXPECT_EQ(static_cast<int16_t>(ApiKey::describe_cluster), 60);
  auto table = message_api_versions();
  ASSERT_FALSE(table.empty());
  for (size_t i = 1; i < table.size(); ++i) {
    EXPECT_LT(static_cast<int>(table[i - 1].key), static_cast<int>(table[i].key));
  }
  EXPECT_TRUE(is_flexible_version(ApiKey::produce, 9));
  EXPECT_FALSE(is_flexible_version(ApiKey::produce, 8));
  EXPECT_FALSE(find_api_versions(ApiKey::vote).has_value());
}

}  // namespace
}  // namespace conveyor::protocol
