// Golden bytes for the topic-configuration APIs (issue 5): DescribeConfigs 1–4, AlterConfigs
// 0–2, IncrementalAlterConfigs 0–1 and CreatePartitions 0–3, each derived by hand from the
// protocol guide's field lists (classic: int16 string lengths, int32 array counts, -1 = null;
// flexible: unsigned-varint lengths + 1, 0 = null, a tagged-field count after every struct).
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "conveyor/protocol/api.h"
#include "conveyor/protocol/codec.h"
#include "conveyor/protocol/messages.h"

namespace conveyor::protocol {
namespace {

// "00 01 ff 'abc'" → bytes: hex pairs and quoted ASCII runs; spaces and '|' are separators.
Bytes hex(std::string_view text) {
  Bytes out;
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == ' ' || c == '\n' || c == '|') {
      ++i;
    } else if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      for (size_t j = i + 1; j < end; ++j) out.push_back(static_cast<uint8_t>(text[j]));
      i = end + 1;
    } else {
      out.push_back(static_cast<uint8_t>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
      i += 2;
    }
  }
  return out;
}

// Encodes `m` at `version`, compares with `want`, decodes `want` back and compares with `m`.
template <class Msg>
void expect_golden(const Msg& m, int16_t version, std::string_view want_hex) {
  SCOPED_TRACE(::testing::Message() << api_name(Msg::kApiKey) << " v" << version);
  Bytes want = hex(want_hex);
  Bytes out;
  Writer w(out);
  m.encode(w, version);
  EXPECT_EQ(out, want);
  Reader r(want);
  Msg back;
  auto res = back.decode(r, version);
  ASSERT_TRUE(res.has_value()) << res.error().to_string();
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(back == m);
}

void expect_range(ApiKey key, int16_t min, int16_t max, int16_t flex) {
  auto v = find_api_versions(key);
  ASSERT_TRUE(v.has_value()) << api_name(key);
  EXPECT_EQ(v->min_version, min);
  EXPECT_EQ(v->max_version, max);
  EXPECT_EQ(v->first_flexible_version, flex);
}

// ---- DescribeConfigs ----------------------------------------------------------------------

DescribeConfigsRequest describe_request() {
  DescribeConfigsRequest req;
  auto& r = req.resources.emplace_back();
  r.resource_type = 2;
  r.resource_name = "t";
  r.configuration_keys = std::vector<std::string>{"retention.ms"};
  auto& b = req.resources.emplace_back();
  b.resource_type = 4;
  b.resource_name = "1";
  b.configuration_keys = std::nullopt;  // all keys
  req.include_synonyms = true;
  req.include_documentation = true;
  return req;
}

TEST(ConfigGolden, DescribeConfigsRequestV1ToV4) {
  const char* classic = "00000002 | 02 0001 't' 00000001 000c 'retention.ms' | 04 0001 '1' ffffffff | 01";
  expect_golden([] { auto r = describe_request(); r.include_documentation = false; return r; }(), 1, classic);
  expect_golden([] { auto r = describe_request(); r.include_documentation = false; return r; }(), 2, classic);
  expect_golden(describe_request(), 3,
                "00000002 | 02 0001 't' 00000001 000c 'retention.ms' | 04 0001 '1' ffffffff | 01 01");
  expect_golden(describe_request(), 4, "03 | 02 02 't' 02 0d 'retention.ms' 00 | 04 02 '1' 00 00 | 01 01 00");
  expect_range(ApiKey::describe_configs, 1, 4, 4);
}

DescribeConfigsResponse describe_response(bool v3) {
  DescribeConfigsResponse resp;
  resp.throttle_time_ms = 0;
  auto& res = resp.results.emplace_back();
  res.error_code = 0;
  res.error_message = std::nullopt;
  res.resource_type = 2;
  res.resource_name = "t";
  auto& c = res.configs.emplace_back();
  c.name = "retention.ms";
  c.value = "1000";
  c.read_only = false;
  c.config_source = 1;  // DYNAMIC_TOPIC_CONFIG
  c.is_sensitive = false;
  auto& s = c.synonyms.emplace_back();
  s.name = "retention.ms";
  s.value = "1000";
  s.source = 1;
  if (v3) {
    c.config_type = 5;  // LONG
    c.documentation = std::nullopt;
  }
  return resp;
}

TEST(ConfigGolden, DescribeConfigsResponseV1ToV4) {
  const char* v1 =
      "00000000 | 00000001 | 0000 ffff 02 0001 't' | 00000001 | 000c 'retention.ms' 0004 '1000' 00 01 00 |"
      " 00000001 000c 'retention.ms' 0004 '1000' 01";
  expect_golden(describe_response(false), 1, v1);
  expect_golden(describe_response(false), 2, v1);
  expect_golden(describe_response(true), 3,
                "00000000 | 00000001 | 0000 ffff 02 0001 't' | 00000001 | 000c 'retention.ms' 0004 '1000' 00 01 00 |"
                " 00000001 000c 'retention.ms' 0004 '1000' 01 | 05 ffff");
  expect_golden(describe_response(true), 4,
                "00000000 | 02 | 0000 00 02 02 't' | 02 | 0d 'retention.ms' 05 '1000' 00 01 00 |"
                " 02 0d 'retention.ms' 05 '1000' 01 00 | 05 00 00 | 00 | 00");
}

// ---- AlterConfigs -------------------------------------------------------------------------

AlterConfigsRequest alter_request() {
  AlterConfigsRequest req;
  auto& r = req.resources.emplace_back();
  r.resource_type = 2;
  r.resource_name = "t";
  auto& a = r.configs.emplace_back();
  a.name = "retention.ms";
  a.value = "1000";
  auto& b = r.configs.emplace_back();
  b.name = "flush.ms";
  b.value = std::nullopt;
  req.validate_only = true;
  return req;
}

AlterConfigsResponse alter_response() {
  AlterConfigsResponse resp;
  resp.throttle_time_ms = 7;
  auto& r = resp.responses.emplace_back();
  r.error_code = 40;  // INVALID_CONFIG
  r.error_message = "bad";
  r.resource_type = 2;
  r.resource_name = "t";
  return resp;
}

TEST(ConfigGolden, AlterConfigsV0ToV2) {
  const char* req_classic =
      "00000001 | 02 0001 't' | 00000002 | 000c 'retention.ms' 0004 '1000' | 0008 'flush.ms' ffff | 01";
  const char* resp_classic = "00000007 | 00000001 | 0028 0003 'bad' 02 0001 't'";
  for (int16_t v : {0, 1}) {
    expect_golden(alter_request(), v, req_classic);
    expect_golden(alter_response(), v, resp_classic);
  }
  expect_golden(alter_request(), 2, "02 | 02 02 't' | 03 | 0d 'retention.ms' 05 '1000' 00 | 09 'flush.ms' 00 00 | 00 | 01 00");
  expect_golden(alter_response(), 2, "00000007 | 02 | 0028 04 'bad' 02 02 't' 00 | 00");
  expect_range(ApiKey::alter_configs, 0, 2, 2);
}

// ---- IncrementalAlterConfigs -------------------------------------------------------------

IncrementalAlterConfigsRequest incremental_request() {
  IncrementalAlterConfigsRequest req;
  auto& r = req.resources.emplace_back();
  r.resource_type = 2;
  r.resource_name = "t";
  auto& a = r.configs.emplace_back();
  a.name = "cleanup.policy";
  a.config_operation = 2;  // APPEND
  a.value = "compact";
  auto& b = r.configs.emplace_back();
  b.name = "retention.ms";
  b.config_operation = 1;  // DELETE
  b.value = std::nullopt;
  req.validate_only = false;
  return req;
}

IncrementalAlterConfigsResponse incremental_response() {
  IncrementalAlterConfigsResponse resp;
  resp.throttle_time_ms = 0;
  auto& r = resp.responses.emplace_back();
  r.error_code = 0;
  r.error_message = std::nullopt;
  r.resource_type = 4;
  r.resource_name = "1";
  return resp;
}

TEST(ConfigGolden, IncrementalAlterConfigsV0V1) {
  expect_golden(incremental_request(), 0,
                "00000001 | 02 0001 't' | 00000002 | 000e 'cleanup.policy' 02 0007 'compact' |"
                " 000c 'retention.ms' 01 ffff | 00");
  expect_golden(incremental_response(), 0, "00000000 | 00000001 | 0000 ffff 04 0001 '1'");
  expect_golden(incremental_request(), 1,
                "02 | 02 02 't' | 03 | 0f 'cleanup.policy' 02 08 'compact' 00 | 0d 'retention.ms' 01 00 00 | 00 |"
                " 00 00");
  expect_golden(incremental_response(), 1, "00000000 | 02 | 0000 00 04 02 '1' 00 | 00");
  expect_range(ApiKey::incremental_alter_configs, 0, 1, 1);
}

// ---- CreatePartitions --------------------------------------------------------------------

CreatePartitionsRequest create_partitions_request() {
  CreatePartitionsRequest req;
  auto& t = req.topics.emplace_back();
  t.name = "t";
  t.count = 3;
  t.assignments = std::nullopt;  // the broker chooses
  auto& u = req.topics.emplace_back();
  u.name = "u";
  u.count = 2;
  std::vector<CreatePartitionsRequest::CreatePartitionsAssignment> assignments(1);
  assignments[0].broker_ids = {1};
  u.assignments = std::move(assignments);
  req.timeout_ms = 30000;
  req.validate_only = false;
  return req;
}

CreatePartitionsResponse create_partitions_response() {
  CreatePartitionsResponse resp;
  resp.throttle_time_ms = 0;
  auto& t = resp.results.emplace_back();
  t.name = "t";
  t.error_code = 0;
  t.error_message = std::nullopt;
  auto& u = resp.results.emplace_back();
  u.name = "u";
  u.error_code = 37;  // INVALID_PARTITIONS
  u.error_message = "bad";
  return resp;
}

TEST(ConfigGolden, CreatePartitionsV0ToV3) {
  const char* req_classic =
      "00000002 | 0001 't' 00000003 ffffffff | 0001 'u' 00000002 00000001 00000001 00000001 | 00007530 00";
  const char* resp_classic = "00000000 | 00000002 | 0001 't' 0000 ffff | 0001 'u' 0025 0003 'bad'";
  const char* req_flex = "03 | 02 't' 00000003 00 00 | 02 'u' 00000002 02 02 00000001 00 00 | 00007530 00 00";
  const char* resp_flex = "00000000 | 03 | 02 't' 0000 00 00 | 02 'u' 0025 04 'bad' 00 | 00";
  for (int16_t v : {0, 1}) {
    expect_golden(create_partitions_request(), v, req_classic);
    expect_golden(create_partitions_response(), v, resp_classic);
  }
  for (int16_t v : {2, 3}) {
    expect_golden(create_partitions_request(), v, req_flex);
    expect_golden(create_partitions_response(), v, resp_flex);
  }
  expect_range(ApiKey::create_partitions, 0, 3, 2);
  // A lying compact array length fails before allocating.
  Bytes bad = hex("80808080 08 02 't'");
  Reader r(bad);
  CreatePartitionsRequest none;
  EXPECT_FALSE(none.decode(r, 2).has_value());
}

}  // namespace
}  // namespace conveyor::protocol
