#include "conveyor/protocol/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string_view>
#include <vector>

namespace conveyor::protocol {
namespace {

using Fn = uint32_t (*)(const uint8_t*, size_t, uint32_t);

uint32_t of(Fn fn, std::string_view s) { return fn(reinterpret_cast<const uint8_t*>(s.data()), s.size(), 0); }

// Bit-at-a-time reference, independent of both implementations.
uint32_t bitwise(const uint8_t* p, size_t n, uint32_t crc) {
  uint32_t c = ~crc;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
  }
  return ~c;
}

std::vector<Fn> implementations() {
  std::vector<Fn> fns{&detail::crc32c_table, &crc32c};
  if (detail::crc32c_hardware_available()) fns.push_back(&detail::crc32c_hardware);
  return fns;
}

TEST(Crc32c, CheckValues) {
  for (Fn fn : implementations()) {
    EXPECT_EQ(of(fn, "123456789"), 0xE3069283u);
    EXPECT_EQ(of(fn, ""), 0u);
    EXPECT_EQ(of(fn, "a"), 0xC1D04330u);
    EXPECT_EQ(of(fn, "The quick brown fox jumps over the lazy dog"), 0x22620404u);
    // RFC 3720 (iSCSI) appendix B.4 vectors.
    std::vector<uint8_t> zeros(32, 0), ones(32, 0xff), ascending(32);
    for (int i = 0; i < 32; ++i) ascending[i] = static_cast<uint8_t>(i);
    EXPECT_EQ(fn(zeros.data(), 32, 0), 0x8A9136AAu);
    EXPECT_EQ(fn(ones.data(), 32, 0), 0x62A8AB43u);
    EXPECT_EQ(fn(ascending.data(), 32, 0), 0x46DD794Eu);
    std::vector<uint8_t> pattern(1000);
    for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 7);
    EXPECT_EQ(fn(pattern.data(), pattern.size(), 0), 0x79A16AE6u);
  }
}

TEST(Crc32c, HardwareDetectedOnThisMachine) {
#if defined(__x86_64__)
  // Every x86-64 machine this project targets has SSE4.2; if not, the table path is used.
  EXPECT_EQ(detail::crc32c_hardware_available(), __builtin_cpu_supports("sse4.2") != 0);
#endif
}

TEST(Crc32c, AllLengthsAndAlignmentsMatchReference) {
  std::vector<uint8_t> buf(300);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 131 + 17);
  for (Fn fn : implementations()) {
    for (size_t start = 0; start < 9; ++start) {
      for (size_t len = 0; len + start <= buf.size(); len += (len < 40 ? 1 : 13)) {
        ASSERT_EQ(fn(buf.data() + start, len, 0), bitwise(buf.data() + start, len, 0))
            << "start " << start << " len " << len;
      }
    }
  }
}

TEST(Crc32c, ChainingEqualsWhole) {
  std::string_view s = "123456789";
  auto* p = reinterpret_cast<const uint8_t*>(s.data());
  for (Fn fn : implementations()) {
    for (size_t split = 0; split <= s.size(); ++split) {
      EXPECT_EQ(fn(p + split, s.size() - split, fn(p, split, 0)), 0xE3069283u) << split;
    }
  }
}

TEST(Crc32c, DetectsSingleBitFlip) {
  std::vector<uint8_t> buf(100, 0x5a);
  uint32_t base = crc32c(buf.data(), buf.size());
  buf[50] ^= 0x01;
  EXPECT_NE(crc32c(buf.data(), buf.size()), base);
}

}  // namespace
}  // namespace conveyor::protocol
