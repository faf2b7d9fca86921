// Disk faults injected through the io layer (conveyor/io/file_faults.h): a failed fsync or an
// unrecoverable write takes the log dir offline (KIP-112) and is never retried or
// acknowledged; a full disk refuses the append, keeps the log intact and online, and the next
// append succeeds once space is back; durable mode (conveyor.fsync.before.ack) acknowledges
// only after an fsync, and concurrent appends share fsyncs (group commit).
#include <gtest/gtest.h>

#include <cerrno>
#include <future>
#include <thread>

#include "conveyor/io/file_faults.h"
#include "conveyor/storage/log_manager.h"
#include "storage_test_util.h"

namespace conveyor::storage {
namespace {

using namespace testing;
namespace faults = io::faults;

TopicId id_of(uint8_t seed) {
  TopicId id{};
  id[0] = seed;
  return id;
}

class DiskFaults : public ::testing::Test {
 protected:
  void TearDown() override { faults::clear(); }
};

Result<void> commit_and_wait(LogManager& m, const std::shared_ptr<PartitionLog>& log, int64_t offset) {
  std::promise<Result<void>> done;
  auto f = done.get_future();
  m.commit_async(log, offset, [&done](Result<void> r) { done.set_value(std::move(r)); });
  return f.get();
}

TEST_F(DiskFaults, FailedFsyncTakesTheLogDirOfflineAndIsNeverRetried) {
  TempDir dir;
  std::vector<std::string> dirs{dir.sub("d1"), dir.sub("d2")};
  {
    auto m = LogManager::open(dirs, Properties{});
    ASSERT_TRUE(m) << m.error().to_string();
    auto a = *(*m)->create_partition("t", 0, id_of(1));
    auto b = *(*m)->create_partition("t", 1, id_of(1));
    std::string dir_a = (*m)->log_dir_of("t", 0);
    std::string dir_b = (*m)->log_dir_of("t", 1);
    ASSERT_NE(dir_a, dir_b);
    ASSERT_TRUE(a->append(make_batch({.records = 3}), 0, 0));
    ASSERT_TRUE((*m)->flush_all());
    int64_t rp = a->recovery_point();
    EXPECT_EQ(rp, 3);
    ASSERT_TRUE(a->append(make_batch({.records = 2}), 0, 0));  // page cache: acknowledged as in Kafka
    ASSERT_TRUE(b->append(make_batch({.records = 4}), 0, 0));

    int64_t rule = faults::add({faults::Op::fsync, dir_a + "/", EIO, 0, /*times=*/1});
    auto flushed = a->flush();
    ASSERT_FALSE(flushed);
    EXPECT_EQ(flushed.error().code, ErrorCode::kafka_storage_error);
    EXPECT_EQ(faults::failed(rule), 1);
    // The whole dir is offline, the other dir is not.
    EXPECT_FALSE((*m)->log_dir_online(dir_a));
    EXPECT_TRUE((*m)->log_dir_online(dir_b));
    EXPECT_EQ((*m)->offline_log_dirs(), std::vector<std::string>{dir_a});
    EXPECT_TRUE(a->offline());
    EXPECT_FALSE(b->offline());
    auto appended = a->append(make_batch({.records = 1}), 0, 0);
    ASSERT_FALSE(appended);
    EXPECT_EQ(appended.error().code, ErrorCode::kafka_storage_error);
    EXPECT_EQ(a->read(0, 1 << 20, INT64_MAX).error().code, ErrorCode::kafka_storage_error);
    // The fault is gone (times=1), but a failed fsync is never retried: the recovery point
    // stays where the last successful fsync left it, so nothing after it is acknowledged.
    EXPECT_FALSE(a->flush());
    EXPECT_EQ(a->recovery_point(), rp);
    EXPECT_EQ(faults::matched(rule), 1);  // no second fsync was even attempted
    EXPECT_FALSE(commit_and_wait(**m, a, 5));
    // The other dir keeps working, new partitions go there, checkpoints skip the offline dir.
    ASSERT_TRUE(b->append(make_batch({.records = 1}), 0, 0));
    EXPECT_TRUE(b->flush());
    EXPECT_EQ(b->read(0, 1 << 20, INT64_MAX)->records.size(), read_all(*b).size());
    auto c = (*m)->create_partition("u", 0, id_of(2));
    ASSERT_TRUE(c) << c.error().to_string();
    EXPECT_EQ((*m)->log_dir_of("u", 0), dir_b);
    EXPECT_TRUE((*m)->checkpoint_recovery_points());
    EXPECT_FALSE((*m)->close());  // the offline dir's logs do not close cleanly
    EXPECT_FALSE(io::path_exists(dir_a + "/.kafka_cleanshutdown"));
    EXPECT_TRUE(io::path_exists(dir_b + "/.kafka_cleanshutdown"));
  }
  // After a restart the dir is back (recovered from its files).
  auto m = LogManager::open(dirs, Properties{});
  ASSERT_TRUE(m) << m.error().to_string();
  auto a = (*m)->get("t", 0);
  EXPECT_FALSE(a->offline());
  EXPECT_EQ(a->log_end_offset(), 5);
  EXPECT_EQ((*m)->get("t", 1)->log_end_offset(), 5);
  EXPECT_TRUE(a->append(make_batch({.records = 1}), 0, 0));
}

TEST_F(DiskFaults, FlushMessagesOneNeverAcknowledgesAfterAFailedFsync) {
  TempDir dir;
  auto m = LogManager::open({dir.sub("d")}, Properties{{"log.flush.interval.messages", "1"}});
  ASSERT_TRUE(m);
  auto log = *(*m)->create_partition("t", 0, id_of(1));
  ASSERT_TRUE(log->append(make_batch({.records = 1}), 0, 0));
  faults::add({faults::Op::fsync, dir.sub("d/t-0/"), EIO, 0, 1});
  auto r = log->append(make_batch({.records = 1}), 0, 0);
  ASSERT_FALSE(r);  // the produce gets an error, not an acknowledgement
  EXPECT_EQ(r.error().code, ErrorCode::kafka_storage_error);
  EXPECT_FALSE(log->append(make_batch({.records = 1}), 0, 0));  // and so does every later one
  EXPECT_EQ(log->recovery_point(), 1);
}

TEST_F(DiskFaults, WriteErrorGoesOfflineNoSpaceDoesNot) {
  TempDir dir;
  auto m = LogManager::open({dir.sub("d")}, Properties{});
  ASSERT_TRUE(m);
  auto log = *(*m)->create_partition("t", 0, id_of(1));
  ASSERT_TRUE(log->append(make_batch({.records = 3, .value_bytes = 100}), 0, 0));
  std::string seg = dir.sub("d/t-0/") + segment_file_name(0, ".log");
  int64_t size = *io::file_size(seg);
  Bytes before = read_all(*log);

  // Disk full in the middle of the write: refused, truncated back, still online.
  faults::add({faults::Op::write, seg, ENOSPC, 0, 1, /*partial_bytes=*/20});
  auto full = log->append(make_batch({.records = 2, .value_bytes = 100}), 0, 0);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ErrorCode::kafka_storage_error);
  EXPECT_NE(full.error().message.find("no space"), std::string::npos) << full.error().message;
  EXPECT_NE(full.error().message.find(dir.sub("d/t-0")), std::string::npos) << full.error().message;
  EXPECT_FALSE(log->offline());
  EXPECT_EQ(*io::file_size(seg), size);
  EXPECT_EQ(read_all(*log), before);
  // Space is back (times=1): the next append goes through at the next offset.
  auto next = log->append(make_batch({.records = 2}), 0, 0);
  ASSERT_TRUE(next) << next.error().to_string();
  EXPECT_EQ(next->base_offset, 3);
  ASSERT_TRUE(log->flush());

  // Disk full and the truncation back fails too: the file may be torn, offline.
  faults::add({faults::Op::write, seg, ENOSPC, 0, 1, 10});
  faults::add({faults::Op::truncate, seg, EIO, 0, 1});
  ASSERT_FALSE(log->append(make_batch({.records = 1}), 0, 0));
  EXPECT_TRUE(log->offline());
  EXPECT_FALSE((*m)->log_dir_online(dir.sub("d")));
}

TEST_F(DiskFaults, EioOnWriteTakesTheDirOffline) {
  TempDir dir;
  auto m = LogManager::open({dir.sub("d")}, Properties{});
  ASSERT_TRUE(m);
  auto log = *(*m)->create_partition("t", 0, id_of(1));
  ASSERT_TRUE(log->append(make_batch({.records = 1}), 0, 0));
  faults::add({faults::Op::write, dir.sub("d/t-0/"), EIO, 0, 1});
  EXPECT_FALSE(log->append(make_batch({.records = 1}), 0, 0));
  EXPECT_TRUE(log->offline());
  EXPECT_FALSE(log->append(make_batch({.records = 1}), 0, 0));
}

TEST_F(DiskFaults, DurableCommitRunsAfterAnFsyncAndFailsWithIt) {
  TempDir dir;
  auto m = LogManager::open({dir.sub("d")}, Properties{{"conveyor.log.fsync.before.ack", "true"}});
  ASSERT_TRUE(m);
  auto log = *(*m)->create_partition("t", 0, id_of(1));
  EXPECT_TRUE(log->config().fsync_before_ack);
  auto plain = *(*m)->create_partition("p", 0, id_of(2), Properties{{"conveyor.fsync.before.ack", "false"}});
  EXPECT_FALSE(plain->config().fsync_before_ack);
  int64_t fsyncs = faults::add({faults::Op::fsync, dir.sub("d/t-0/") + segment_file_name(0, ".log"), 0});
  for (int i = 0; i < 5; ++i) {
    auto a = log->append(make_batch({.records = 2}), 0, 0);
    ASSERT_TRUE(a);
    int64_t before = faults::matched(fsyncs);
    ASSERT_TRUE(commit_and_wait(**m, log, a->last_offset + 1));
    EXPECT_GE(log->recovery_point(), a->last_offset + 1);
    EXPECT_GT(faults::matched(fsyncs), before);  // an fsync of the segment ran before the answer
  }
  faults::add({faults::Op::fsync, dir.sub("d/t-0/"), EIO, 0, 1});
  auto a = log->append(make_batch({.records = 1}), 0, 0);
  ASSERT_TRUE(a);
  auto r = commit_and_wait(**m, log, a->last_offset + 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kafka_storage_error);
  EXPECT_TRUE(log->offline());
}

TEST_F(DiskFaults, ConcurrentDurableAppendsShareFsyncs) {
  TempDir dir;
  auto m = LogManager::open({dir.sub("d")}, Properties{{"conveyor.log.fsync.before.ack", "true"}});
  ASSERT_TRUE(m);
  auto log = *(*m)->create_partition("t", 0, id_of(1));
  // A slow disk: every fsync of the partition takes 20 ms.
  int64_t fsyncs = faults::add({faults::Op::fsync, dir.sub("d/t-0/") + segment_file_name(0, ".log"), 0, 0, -1, -1, 20});
  constexpr int kProducers = 8;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto a = log->append(make_batch({.records = 1}), 0, 0);
        if (!a || !commit_and_wait(**m, log, a->last_offset + 1) || log->recovery_point() < a->last_offset + 1)
          ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  int64_t rounds = (*m)->group_commit_rounds(dir.sub("d"));
  // 80 acknowledged appends; with one fsync each there would be 80 rounds and 80 fsyncs.
  EXPECT_LE(rounds, kProducers * kEach / 2) << "rounds " << rounds;
  EXPECT_LE(faults::matched(fsyncs), kProducers * kEach / 2);
  EXPECT_GE(faults::matched(fsyncs), 1);
}

}  // namespace
}  // namespace conveyor::storage
