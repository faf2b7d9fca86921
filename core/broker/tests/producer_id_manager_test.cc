#include "producer_id_manager.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>

#include "conveyor/io/file.h"

namespace conveyor::broker {
namespace {

struct TempDir {
  std::string path = std::filesystem::temp_directory_path() / ("conveyor-pid-" + std::to_string(std::random_device{}()));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
};

TEST(ProducerIdManager, NeverReusesIdsAcrossReopen) {
  TempDir dir;
  std::set<int64_t> seen;
  for (int round = 0; round < 3; ++round) {
    // Reopen without any shutdown step, as after kill -9.
    auto m = ProducerIdManager::open(dir.path, 4);
    ASSERT_TRUE(m.has_value()) << m.error().to_string();
    for (int i = 0; i < 6; ++i) {
      auto id = (*m)->next_id();
      ASSERT_TRUE(id.has_value());
      EXPECT_TRUE(seen.insert(*id).second) << "id " << *id << " handed out twice";
    }
  }
  // Blocks of 4: each round used 2 blocks, so the file points past 3 * 8 ids.
  auto text = io::read_file(io::join_path(dir.path, kProducerIdBlockFile), 100);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "24\n");
}

TEST(ProducerIdManager, CorruptFileIsAnError) {
  TempDir dir;
  ASSERT_TRUE(io::write_file_atomic(io::join_path(dir.path, kProducerIdBlockFile), "twelve\n").has_value());
  auto m = ProducerIdManager::open(dir.path, 10);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::corrupt_message);
}

}  // namespace
}  // namespace conveyor::broker
