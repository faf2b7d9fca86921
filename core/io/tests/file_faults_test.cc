// The file layer's fault injection (file_faults.h): rules by operation and path prefix, skip and
// times, torn writes, counting rules, and the rules file of $CONVEYOR_FAULT_INJECTION_FILE's format.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "conveyor/io/file.h"
#include "conveyor/io/file_faults.h"

namespace conveyor::io {
namespace {

class FileFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "conveyor-faults-XXXXXX").string();
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back('\0');
    ASSERT_NE(::mkdtemp(buf.data()), nullptr);
    dir_ = buf.data();
  }
  void TearDown() override {
    faults::clear();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST_F(FileFaults, FsyncFailsOnlyUnderThePrefixAndOnlyAsOftenAsAsked) {
  std::string a = join_path(dir_, "a");
  std::string b = join_path(dir_, "b");
  ASSERT_TRUE(create_directories(a));
  ASSERT_TRUE(create_directories(b));
  auto fa = File::open(join_path(a, "x.log"), OpenMode::create);
  auto fb = File::open(join_path(b, "x.log"), OpenMode::create);
  ASSERT_TRUE(fa && fb);
  int64_t id = faults::add({faults::Op::fsync, a + "/", EIO, /*skip=*/1, /*times=*/2});
  EXPECT_TRUE(fa->fdatasync());  // skipped
  auto r = fa->fdatasync();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kafka_storage_error);
  EXPECT_NE(r.error().message.find(std::strerror(EIO)), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(a), std::string::npos);
  EXPECT_FALSE(fa->fsync());
  EXPECT_TRUE(fa->fsync());  // times exhausted
  EXPECT_TRUE(fb->fdatasync());  // another dir
  EXPECT_TRUE(fsync_directory(b));
  EXPECT_EQ(faults::matched(id), 4);
  EXPECT_EQ(faults::failed(id), 2);
  faults::remove(id);
  EXPECT_TRUE(fa->fdatasync());
  EXPECT_EQ(faults::matched(id), 0);
}

TEST_F(FileFaults, TornWriteLeavesAPrefixAndReportsNoSpace) {
  auto f = File::open(join_path(dir_, "t.log"), OpenMode::create);
  ASSERT_TRUE(f);
  faults::add({faults::Op::write, dir_, ENOSPC, 0, 1, /*partial_bytes=*/3});
  auto r = f->pwrite(bytes("abcdefgh"), 0);
  ASSERT_FALSE(r);
  EXPECT_TRUE(is_no_space_error(r.error())) << r.error().message;
  EXPECT_EQ(*f->size(), 3);
  ASSERT_TRUE(f->pwrite(bytes("abcdefgh"), 0));  // times=1: the next write goes through
  EXPECT_EQ(*f->size(), 8);
  auto eio = File::open(join_path(dir_, "u.log"), OpenMode::create);
  faults::add({faults::Op::write, join_path(dir_, "u.log"), EIO});
  auto w = eio->pwrite(bytes("x"), 0);
  ASSERT_FALSE(w);
  EXPECT_FALSE(is_no_space_error(w.error()));
}

TEST_F(FileFaults, CountingRuleNeverFails) {
  auto f = File::open(join_path(dir_, "c.log"), OpenMode::create);
  int64_t id = faults::add({faults::Op::fsync, dir_, 0});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(f->fdatasync());
  ASSERT_TRUE(write_file_atomic(join_path(dir_, "cp"), "0\n0\n"));  // file fsync + dir fsync
  EXPECT_EQ(faults::matched(id), 7);
  EXPECT_EQ(faults::failed(id), 0);
}

TEST_F(FileFaults, OtherOperations) {
  faults::add({faults::Op::open, join_path(dir_, "no"), EACCES});
  EXPECT_FALSE(File::open(join_path(dir_, "no.log"), OpenMode::create));
  EXPECT_TRUE(File::open(join_path(dir_, "yes.log"), OpenMode::create));
  faults::add({faults::Op::truncate, join_path(dir_, "yes"), EIO});
  auto f = File::open(join_path(dir_, "yes.log"), OpenMode::read_write);
  EXPECT_FALSE(f->truncate(0));
  faults::add({faults::Op::rename, join_path(dir_, "yes"), EIO});
  EXPECT_FALSE(rename_path(join_path(dir_, "yes.log"), join_path(dir_, "z.log")));
  faults::add({faults::Op::mkdir, join_path(dir_, "sub"), ENOSPC});
  EXPECT_FALSE(create_directories(join_path(dir_, "sub/x")));
  EXPECT_EQ(faults::parse_errno("ENOSPC"), ENOSPC);
  EXPECT_EQ(faults::parse_errno("5"), 5);
  EXPECT_FALSE(faults::parse_errno("EWHATEVER"));
}

}  // namespace
}  // namespace conveyor::io
