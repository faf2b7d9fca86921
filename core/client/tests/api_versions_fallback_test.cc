// ApiVersions negotiation against a broker that answers an unsupported version in the
// request's own (flexible) form rather than KIP-511's v0 body — librdkafka's mock cluster
// does this. The client must fall back to v0, as librdkafka itself does, not give up.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <mutex>
#include <vector>

#include "conveyor/client/admin.h"
#include "conveyor/io/server.h"
#include "conveyor/protocol/header.h"
#include "conveyor/protocol/messages.h"

namespace conveyor::client {
namespace {

using protocol::ApiKey;

TEST(ApiVersionsFallback, RetriesAtV0WhenTheErrorBodyIsNotV0) {
  std::mutex mu;
  std::vector<int16_t> api_versions_seen;
  int port = 0;
  auto server = io::Server::start(
      io::ServerOptions{.host = "127.0.0.1", .port = 0},
      [&](const std::shared_ptr<io::Connection>& c, io::Frame f) {
        auto prefix = protocol::peek_request_prefix(f);
        if (!prefix) return c->close();
        Bytes out;
        if (prefix->api_key == static_cast<int16_t>(ApiKey::api_versions)) {
          {
            std::lock_guard lock(mu);
            api_versions_seen.push_back(prefix->api_version);
          }
          if (prefix->api_version > 0) {
            // error 35 in a v3-shaped body: compact (empty) key array, throttle, tagged fields.
            protocol::Writer w(out);
            size_t at = w.reserve_int32();
            w.int32(prefix->correlation_id);
            w.int16(static_cast<int16_t>(ErrorCode::unsupported_version));
            w.compact_array_length(0);
            w.int32(0);
            w.empty_tagged_fields();
            w.patch_int32(at, static_cast<int32_t>(out.size() - at - 4));
          } else {
            protocol::ApiVersionsResponse resp;
            resp.api_keys.push_back({.api_key = static_cast<int16_t>(ApiKey::api_versions), .min_version = 0, .max_version = 0});
            resp.api_keys.push_back({.api_key = static_cast<int16_t>(ApiKey::metadata), .min_version = 0, .max_version = 1});
            protocol::write_response_frame(out, prefix->correlation_id, 0, resp);
          }
        } else if (prefix->api_key == static_cast<int16_t>(ApiKey::metadata)) {
          protocol::MetadataResponse resp;
          auto& b = resp.brokers.emplace_back();
          b.node_id = 0;
          b.host = "127.0.0.1";
          b.port = port;
          protocol::write_response_frame(out, prefix->correlation_id, prefix->api_version, resp);
        } else {
          return c->close();
        }
        c->respond(std::move(out));
      });
  ASSERT_TRUE(server.has_value()) << server.error().to_string();
  port = (*server)->port();

  auto admin = Admin::create(Properties{{"bootstrap.servers", fmt::format("127.0.0.1:{}", port)}});
  ASSERT_TRUE(admin.has_value()) << admin.error().to_string();
  auto topics = (*admin)->list_topics(10000);
  ASSERT_TRUE(topics.has_value()) << topics.error().to_string();
  EXPECT_TRUE(topics->empty());
  std::lock_guard lock(mu);
  ASSERT_GE(api_versions_seen.size(), 2u);
  EXPECT_GT(api_versions_seen.front(), 0);
  EXPECT_EQ(api_versions_seen.back(), 0);
}

}  // namespace
}  // namespace conveyor::client
