#include "producer_id_manager.h"

#include <charconv>

#include <fmt/format.h>

#include "conveyor/io/file.h"

namespace conveyor::broker {

Result<std::unique_ptr<ProducerIdManager>> ProducerIdManager::open(const std::string& log_dir, int32_t block_size) {
  std::string path = io::join_path(log_dir, kProducerIdBlockFile);
  int64_t next = 0;
  if (io::path_exists(path)) {
    auto text = io::read_file(path, 4096);
    if (!text) return fail(text.error());
    std::string_view s = *text;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), next);
    if (ec != std::errc() || ptr != s.data() + s.size() || next < 0)
      return fail(ErrorCode::corrupt_message, fmt::format("{}: expected a non-negative integer", path));
  }
  return std::unique_ptr<ProducerIdManager>(new ProducerIdManager(std::move(path), next, block_size));
}

Result<int64_t> ProducerIdManager::next_id() {
  std::lock_guard lock(mutex_);
  if (next_ >= block_end_) {
    int64_t end = next_ + block_size_;
    if (auto r = io::write_file_atomic(path_, fmt::format("{}\n", end)); !r) return fail(r.error());
    block_end_ = end;
  }
  return next_++;
}

}  // namespace conveyor::broker
