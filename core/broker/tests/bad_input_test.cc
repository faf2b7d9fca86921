// Bad input closes only the offending connection; another connection keeps working.
#include <gtest/gtest.h>

#include "test_client.h"

namespace conveyor::broker {
namespace {

using namespace testing;

Bytes be32(int32_t v) {
  auto u = static_cast<uint32_t>(v);
  return {uint8_t(u >> 24), uint8_t(u >> 16), uint8_t(u >> 8), uint8_t(u)};
}

// A complete request frame as bytes.
template <class Req>
Bytes frame_of(const Req& req, int16_t version, int32_t correlation_id = 7) {
  protocol::RequestHeader h;
  h.api_key = Req::kApiKey;
  h.api_version = version;
  h.correlation_id = correlation_id;
  h.client_id = "bad";
  Bytes out;
  protocol::write_request_frame(out, h, req);
  return out;
}

void fix_size(Bytes& frame) {
  Bytes size = be32(static_cast<int32_t>(frame.size() - 4));
  std::copy(size.begin(), size.end(), frame.begin());
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = start_broker(Properties{{"socket.request.max.bytes", "1048576"}});
    ASSERT_NE(broker_, nullptr);
    good_ = std::make_unique<TestClient>(broker_->port());
  }
  // The long-lived connection still works.
  void expect_good_still_works() {
    auto r = good_->call<protocol::ApiVersionsResponse>(protocol::ApiVersionsRequest{}, 3);
    EXPECT_EQ(r.error_code, 0);
  }
  void expect_closed(const Bytes& bytes, const char* what) {
    TestClient bad(broker_->port());
    bad.send_raw(bytes);
    EXPECT_TRUE(bad.closed_by_peer()) << what;
    expect_good_still_works();
  }
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<TestClient> good_;
};

TEST_F(BadInputTest, SizePrefixOutOfRangeClosesConnection) {
  expect_closed(be32(-1), "negative");
  expect_closed(be32(0), "zero");
  expect_closed(be32(1048577), "above socket.request.max.bytes");
  expect_closed(be32(INT32_MAX), "huge");
}

TEST_F(BadInputTest, ShortHeaderClosesConnection) {
  Bytes f = be32(3);
  f.insert(f.end(), {0, 18, 0});
  expect_closed(f, "three-byte frame");
}

TEST_F(BadInputTest, TruncatedRequestClosesConnection) {
  // A Metadata v9 request whose frame ends in the middle of the topic list.
  protocol::MetadataRequest m;
  m.topics.emplace();
  m.topics->emplace_back().name = "some-topic-name";
  Bytes f = frame_of(m, 9);
  f.resize(f.size() - 8);
  fix_size(f);
  expect_closed(f, "truncated metadata");

  Bytes p = frame_of(produce_request("t", 0, make_batch(2)), 9);
  p.resize(p.size() - 30);
  fix_size(p);
  expect_closed(p, "truncated produce");
}

TEST_F(BadInputTest, UnknownApiKeyClosesConnection) {
  protocol::ApiVersionsRequest req;
  Bytes f = frame_of(req, 0);
  f[4] = 0x03;  // api key 999
  f[5] = 0xe7;
  expect_closed(f, "api key 999");
  Bytes g = frame_of(req, 0);
  g[4] = 0;
  g[5] = 11;  // JoinGroup: not served yet
  expect_closed(g, "api key 11");
  Bytes neg = frame_of(req, 0);
  neg[4] = 0xff;
  neg[5] = 0xff;
  expect_closed(neg, "api key -1");
}

TEST_F(BadInputTest, UnsupportedVersionOfOtherApiClosesConnection) {
  protocol::MetadataRequest m;
  Bytes f = frame_of(m, 9);
  f[7] = 40;  // Metadata v40
  expect_closed(f, "metadata v40");
}

TEST_F(BadInputTest, LyingArrayLengthClosesConnection) {
  // Metadata v4 (classic): topics array length claims 1,000,000 entries.
  protocol::MetadataRequest m;
  m.topics.emplace();
  m.topics->emplace_back().name = "x";
  Bytes f = frame_of(m, 4);
  // Header v1: size(4) key(2) version(2) corr(4) client_id(2+3) → array length at 17.
  ASSERT_EQ(f[17], 0);
  ASSERT_EQ(f[20], 1);
  Bytes lie = be32(1000000);
  std::copy(lie.begin(), lie.end(), f.begin() + 17);
  expect_closed(f, "array length 1e6");

  // A string length longer than the frame.
  Bytes s = frame_of(m, 4);
  s[21] = 0x7f;  // topic name length 0x7f01
  expect_closed(s, "string length beyond frame");

  // Produce with a records length beyond the frame.
  Bytes p = frame_of(produce_request("t", 0, make_batch(1)), 3);
  // Find the records length: the last 4+N bytes are length + batch.
  size_t batch_size = make_batch(1).size();
  size_t len_at = p.size() - batch_size - 4;
  Bytes big = be32(static_cast<int32_t>(batch_size + 100));
  std::copy(big.begin(), big.end(), p.begin() + static_cast<ptrdiff_t>(len_at));
  expect_closed(p, "records length beyond frame");
}

TEST_F(BadInputTest, GarbageAfterGoodRequestsStillClosesOnlyThatConnection) {
  TestClient bad(broker_->port());
  auto ok = bad.call<protocol::ApiVersionsResponse>(protocol::ApiVersionsRequest{}, 3);
  EXPECT_EQ(ok.error_code, 0);
  Bytes garbage = be32(64);
  garbage.resize(68, 0xab);
  bad.send_raw(garbage);
  EXPECT_TRUE(bad.closed_by_peer());
  expect_good_still_works();
}

TEST_F(BadInputTest, MaximumSizeRequestIsReadAndAnswered) {
  // A produce request of nearly socket.request.max.bytes is accepted as a frame (the batch is
  // then refused as too large by message.max.bytes, but the connection stays open).
  Bytes batch = make_batch(1, std::string(1040000, 'q'));
  auto r = good_->call<protocol::ProduceResponse>(produce_request("huge", 0, batch), 9);
  EXPECT_EQ(r.responses[0].partition_responses[0].error_code, 0);
  Bytes too_big = make_batch(1, std::string(1100000, 'q'));
  TestClient c(broker_->port());
  c.send(produce_request("huge", 0, too_big), 9);
  EXPECT_TRUE(c.closed_by_peer());
  expect_good_still_works();
}

}  // namespace
}  // namespace conveyor::broker
