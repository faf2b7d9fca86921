#include "conveyor/io/file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace conveyor::io {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/conveyor-file-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)remove_all(dir_); }
  std::string dir_;
};

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST_F(FileTest, WriteReadTruncate) {
  auto path = join_path(dir_, "a.log");
  auto f = File::open(path, OpenMode::create);
  ASSERT_TRUE(f) << f.error().to_string();
  ASSERT_TRUE(f->pwrite(bytes("hello world"), 0));
  ASSERT_TRUE(f->pwrite(bytes("!"), 11));
  EXPECT_EQ(*f->size(), 12);
  uint8_t buf[32];
  auto n = f->pread(buf, 6);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 6u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 6), "world!");
  EXPECT_FALSE(f->pread_exact(std::span<uint8_t>(buf, 10), 6));
  ASSERT_TRUE(f->truncate(5));
  EXPECT_EQ(*file_size(path), 5);
  ASSERT_TRUE(f->fsync());
  ASSERT_TRUE(f->preallocate(100));
  EXPECT_EQ(*f->size(), 100);
  ASSERT_TRUE(f->pread_exact(std::span<uint8_t>(buf, 4), 50));
  EXPECT_EQ(buf[0], 0);
  ASSERT_TRUE(f->close());
}

TEST_F(FileTest, OpenMissingFailsWithErrnoText) {
  auto f = File::open(join_path(dir_, "missing"), OpenMode::read_only);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::kafka_storage_error);
  EXPECT_NE(f.error().message.find("No such file"), std::string::npos) << f.error().message;
  EXPECT_NE(f.error().message.find("missing"), std::string::npos);
  ASSERT_TRUE(File::open(join_path(dir_, "x"), OpenMode::create_exclusive));
  EXPECT_FALSE(File::open(join_path(dir_, "x"), OpenMode::create_exclusive));
}

TEST_F(FileTest, DirectoriesAndAtomicWrite) {
  auto sub = join_path(dir_, "t-0/deeper");
  ASSERT_TRUE(create_directories(sub));
  ASSERT_TRUE(create_directories(sub));  // idempotent
  auto path = join_path(dir_, "checkpoint");
  ASSERT_TRUE(write_file_atomic(path, "one"));
  ASSERT_TRUE(write_file_atomic(path, "two"));
  EXPECT_EQ(*read_file(path, 100), "two");
  EXPECT_FALSE(path_exists(path + ".tmp"));
  EXPECT_FALSE(read_file(path, 2));  // over the limit
  ASSERT_TRUE(fsync_directory(dir_));

  auto entries = list_directory(dir_);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "checkpoint");
  EXPECT_FALSE((*entries)[0].is_directory);
  EXPECT_EQ((*entries)[1].name, "t-0");
  EXPECT_TRUE((*entries)[1].is_directory);

  ASSERT_TRUE(rename_path(join_path(dir_, "t-0"), join_path(dir_, "t-0.x-delete")));
  EXPECT_TRUE(path_exists(join_path(dir_, "t-0.x-delete/deeper")));
  ASSERT_TRUE(remove_all(join_path(dir_, "t-0.x-delete")));
  EXPECT_FALSE(path_exists(join_path(dir_, "t-0.x-delete")));
  ASSERT_TRUE(remove_file(path));
  ASSERT_TRUE(remove_file(path));  // already gone
  EXPECT_FALSE(list_directory(join_path(dir_, "nope")));
}

TEST(PathTest, ParentAndJoin) {
  EXPECT_EQ(parent_path("/a/b/c"), "/a/b");
  EXPECT_EQ(parent_path("c"), ".");
  EXPECT_EQ(parent_path("/c"), "/");
  EXPECT_EQ(join_path("/a/", "b"), "/a/b");
  EXPECT_EQ(join_path("/a", "b"), "/a/b");
}

}  // namespace
}  // namespace conveyor::io
