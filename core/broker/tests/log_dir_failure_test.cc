// Disk faults at the broker (KIP-112 log dir failure; conveyor's durable mode), injected through
// the io layer (conveyor/io/file_faults.h): a broker with two log dirs whose first dir fails an
// fsync answers KAFKA_STORAGE_ERROR for that dir's partitions (Produce, Fetch, ListOffsets,
// Metadata) and keeps serving the other dir; a full disk refuses produces with a retriable
// KAFKA_STORAGE_ERROR naming the dir and resumes when space is back; durable mode answers a
// produce only after an fsync, never after a failed one, and concurrent producers share fsyncs.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <thread>

#include "conveyor/io/file.h"
#include "conveyor/io/file_faults.h"
#include "conveyor/storage/log.h"
#include "test_client.h"

namespace conveyor::broker {
namespace {

using namespace testing;
namespace faults = io::faults;
constexpr int16_t kStorageError = static_cast<int16_t>(ErrorCode::kafka_storage_error);

std::string make_temp_dir() {
  std::string t = (std::filesystem::temp_directory_path() / "conveyor-logdir-XXXXXX").string();
  std::vector<char> buf(t.begin(), t.end());
  buf.push_back('\0');
  EXPECT_NE(::mkdtemp(buf.data()), nullptr);
  return buf.data();
}

class LogDirFailure : public ::testing::Test {
 protected:
  void SetUp() override { root_ = make_temp_dir(); }
  void TearDown() override {
    faults::clear();
    broker_.reset();
    std::filesystem::remove_all(root_);
  }
  void start(Properties props) {
    props.set("log.dirs", root_ + "/d1," + root_ + "/d2");
    broker_ = start_broker(props);
    ASSERT_NE(broker_, nullptr);
    client_ = std::make_unique<TestClient>(broker_->port());
  }
  protocol::ProduceResponse::TopicProduceResponse::PartitionProduceResponse produce(
      const std::string& topic, int32_t p, int count, int16_t acks = 1) {
    auto r = client_->call<protocol::ProduceResponse>(produce_request(topic, p, make_batch(count), acks), 9);
    return r.responses.at(0).partition_responses.at(0);
  }
  std::string dir_of(const std::string& topic, int32_t p) {
    for (const char* d : {"/d1/", "/d2/"})
      if (io::path_exists(root_ + d + topic + "-" + std::to_string(p))) return root_ + d;
    return "";
  }
  std::string root_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<TestClient> client_;
};

TEST_F(LogDirFailure, FailedFsyncTakesOneDirOfflineTheOtherKeepsServing) {
  start({{"num.partitions", "2"}, {"log.flush.interval.messages", "1"}});
  ASSERT_EQ(produce("t", 0, 3).error_code, 0);
  ASSERT_EQ(produce("t", 1, 3).error_code, 0);
  std::string bad = dir_of("t", 0);
  std::string good = dir_of("t", 1);
  ASSERT_FALSE(bad.empty());
  ASSERT_NE(bad, good);

  faults::add({faults::Op::fsync, bad, EIO});
  // flush.messages=1: the append is fsync'd before the answer; the fsync fails → not acknowledged.
  auto failed = produce("t", 0, 2);
  EXPECT_EQ(failed.error_code, kStorageError);
  EXPECT_EQ(failed.base_offset, -1);
  faults::clear();  // the disk "recovers", the dir stays offline until a restart
  EXPECT_EQ(produce("t", 0, 1).error_code, kStorageError);
  EXPECT_EQ(produce("t", 0, 1, -1).error_code, kStorageError);

  auto fetch = client_->call<protocol::FetchResponse>(fetch_request("t", 0, 0), 12);
  EXPECT_EQ(fetch.responses.at(0).partitions.at(0).error_code, kStorageError);
  protocol::ListOffsetsRequest lo;
  auto& lt = lo.topics.emplace_back();
  lt.name = "t";
  for (int32_t p : {0, 1}) {
    auto& lp = lt.partitions.emplace_back();
    lp.partition_index = p;
    lp.timestamp = -1;
  }
  auto offsets = client_->call<protocol::ListOffsetsResponse>(lo, 5);
  EXPECT_EQ(offsets.topics.at(0).partitions.at(0).error_code, kStorageError);
  EXPECT_EQ(offsets.topics.at(0).partitions.at(1).error_code, 0);
  EXPECT_EQ(offsets.topics.at(0).partitions.at(1).offset, 3);
  protocol::MetadataRequest md;
  md.topics = std::vector<protocol::MetadataRequest::MetadataRequestTopic>(1);
  md.topics->at(0).name = "t";
  auto meta = client_->call<protocol::MetadataResponse>(md, 9);
  const auto& parts = meta.topics.at(0).partitions;
  ASSERT_EQ(parts.size(), 2u);
  for (const auto& p : parts) {
    if (p.partition_index == 0) {
      EXPECT_EQ(p.error_code, kStorageError);
      EXPECT_EQ(p.offline_replicas, std::vector<int32_t>{1});
    } else {
      EXPECT_EQ(p.error_code, 0);
      EXPECT_TRUE(p.offline_replicas.empty());
    }
  }

  // The other dir: produce, fetch, and new topics land there.
  auto ok = produce("t", 1, 2);
  EXPECT_EQ(ok.error_code, 0);
  EXPECT_EQ(ok.base_offset, 3);
  auto f1 = client_->call<protocol::FetchResponse>(fetch_request("t", 1, 0), 12);
  EXPECT_EQ(f1.responses.at(0).partitions.at(0).error_code, 0);
  EXPECT_EQ(f1.responses.at(0).partitions.at(0).high_watermark, 5);
  EXPECT_EQ(produce("fresh", 0, 1).error_code, 0);
  EXPECT_EQ(produce("fresh", 1, 1).error_code, 0);
  EXPECT_EQ(dir_of("fresh", 0), good);
  EXPECT_EQ(dir_of("fresh", 1), good);

  // A restart brings the dir back with every acknowledged record.
  broker_->stop();
  EXPECT_FALSE(io::path_exists(bad + ".kafka_cleanshutdown"));
  EXPECT_TRUE(io::path_exists(good + ".kafka_cleanshutdown"));
  client_.reset();
  start({{"num.partitions", "2"}});
  auto again = client_->call<protocol::FetchResponse>(fetch_request("t", 0, 0), 12);
  const auto& pd = again.responses.at(0).partitions.at(0);
  EXPECT_EQ(pd.error_code, 0);
  EXPECT_GE(pd.high_watermark, 3);  // the 3 acknowledged records (the refused 2 may be there too)
  EXPECT_EQ(produce("t", 0, 1).error_code, 0);
}

TEST_F(LogDirFailure, DiskFullRefusesWithARetriableErrorAndResumes) {
  start({{"num.partitions", "1"}});
  ASSERT_EQ(produce("t", 0, 3).error_code, 0);
  std::string dir = dir_of("t", 0);
  int64_t rule = faults::add({faults::Op::write, dir + "t-0/", ENOSPC, 0, -1, /*partial_bytes=*/7});
  auto full = client_->call<protocol::ProduceResponse>(produce_request("t", 0, make_batch(2)), 9);
  const auto& pr = full.responses.at(0).partition_responses.at(0);
  EXPECT_EQ(pr.error_code, kStorageError);
  EXPECT_TRUE(error_retriable(static_cast<ErrorCode>(pr.error_code)));
  ASSERT_TRUE(pr.error_message.has_value());
  EXPECT_NE(pr.error_message->find("no space"), std::string::npos) << *pr.error_message;
  EXPECT_NE(pr.error_message->find(dir), std::string::npos) << *pr.error_message;
  // Existing data stays readable.
  auto f = client_->call<protocol::FetchResponse>(fetch_request("t", 0, 0), 12);
  EXPECT_EQ(f.responses.at(0).partitions.at(0).error_code, 0);
  EXPECT_EQ(f.responses.at(0).partitions.at(0).high_watermark, 3);
  // Space comes back: the next produce is accepted at the next offset.
  faults::remove(rule);
  auto ok = produce("t", 0, 2);
  EXPECT_EQ(ok.error_code, 0);
  EXPECT_EQ(ok.base_offset, 3);
  auto all = client_->call<protocol::FetchResponse>(fetch_request("t", 0, 0), 12);
  auto batches = protocol::split_batches(*all.responses.at(0).partitions.at(0).records);
  ASSERT_TRUE(batches);
  ASSERT_EQ(batches->size(), 2u);
  for (const auto& b : *batches) EXPECT_TRUE(protocol::batch_crc_valid(b.bytes));
}

TEST_F(LogDirFailure, DurableModeAnswersAfterAnFsyncAndNeverAfterAFailedOne) {
  start({{"num.partitions", "1"}, {"conveyor.log.fsync.before.ack", "true"}});
  ASSERT_EQ(produce("t", 0, 1).error_code, 0);  // creates the topic
  std::string seg = dir_of("t", 0) + "t-0/" + storage::segment_file_name(0, ".log");
  int64_t fsyncs = faults::add({faults::Op::fsync, seg, 0});
  for (int16_t acks : {1, -1, 1, -1}) {
    int64_t before = faults::matched(fsyncs);
    EXPECT_EQ(produce("t", 0, 2, acks).error_code, 0);
    EXPECT_GT(faults::matched(fsyncs), before) << "answered without an fsync of " << seg;
  }
  faults::add({faults::Op::fsync, seg, EIO, 0, 1});
  auto failed = produce("t", 0, 2);
  EXPECT_EQ(failed.error_code, kStorageError);
  EXPECT_EQ(produce("t", 0, 1).error_code, kStorageError);  // no retried fsync, no late ack
}

TEST_F(LogDirFailure, DurableModeConcurrentProducersShareFsyncs) {
  start({{"num.partitions", "1"}, {"conveyor.log.fsync.before.ack", "true"}, {"num.network.threads", "4"}});
  ASSERT_EQ(produce("t", 0, 1).error_code, 0);
  std::string seg = dir_of("t", 0) + "t-0/" + storage::segment_file_name(0, ".log");
  int64_t fsyncs = faults::add({faults::Op::fsync, seg, 0, 0, -1, -1, /*delay_ms=*/20});
  constexpr int kProducers = 8;
  constexpr int kEach = 8;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  int port = broker_->port();
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back([&, port] {
      TestClient c(port);
      for (int i = 0; i < kEach; ++i) {
        auto r = c.call<protocol::ProduceResponse>(produce_request("t", 0, make_batch(1)), 9, 30000ms);
        if (r.responses.at(0).partition_responses.at(0).error_code != 0) ++errors;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  // 64 acknowledged produces; one fsync each would be 64.
  EXPECT_LE(faults::matched(fsyncs), kProducers * kEach / 2) << faults::matched(fsyncs);
  EXPECT_GE(faults::matched(fsyncs), 1);
}

}  // namespace
}  // namespace conveyor::broker
