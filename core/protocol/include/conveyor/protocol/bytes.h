#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace conveyor {
using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;
}  // namespace conveyor
