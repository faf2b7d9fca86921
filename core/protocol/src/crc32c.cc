// CRC-32C: the SSE4.2 crc32 instruction when available, a slicing-by-8 table otherwise.
#include "conveyor/protocol/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define CONVEYOR_CRC32C_X86 1
#endif

namespace conveyor::protocol {
namespace detail {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;  // Castagnoli, bit-reversed

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    t[0][i] = c;
  }
  // t[k][i]: CRC of byte i followed by k zero bytes.
  for (size_t k = 1; k < 8; ++k)
    for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  return t;
}

constexpr Tables kTables = make_tables();

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

uint32_t crc32c_table(const uint8_t* data, size_t size, uint32_t crc) {
  uint32_t c = ~crc;
  while (size >= 8) {
    uint64_t v = load_le64(data) ^ c;
    c = kTables[7][v & 0xff] ^ kTables[6][(v >> 8) & 0xff] ^ kTables[5][(v >> 16) & 0xff] ^
        kTables[4][(v >> 24) & 0xff] ^ kTables[3][(v >> 32) & 0xff] ^ kTables[2][(v >> 40) & 0xff] ^
        kTables[1][(v >> 48) & 0xff] ^ kTables[0][v >> 56];
    data += 8;
    size -= 8;
  }
  while (size--) c = (c >> 8) ^ kTables[0][(c ^ *data++) & 0xff];
  return ~c;
}

#ifdef CONVEYOR_CRC32C_X86
__attribute__((target("sse4.2"))) uint32_t crc32c_hardware(const uint8_t* data, size_t size,
                                                           uint32_t crc) {
  uint32_t c = ~crc;
  // Align to 8 bytes, then 8 bytes per instruction.
  while (size && (reinterpret_cast<uintptr_t>(data) & 7)) {
    c = _mm_crc32_u8(c, *data++);
    --size;
  }
#ifdef __x86_64__
  uint64_t c64 = c;
  while (size >= 8) {
    uint64_t v;
    std::memcpy(&v, data, 8);
    c64 = _mm_crc32_u64(c64, v);
    data += 8;
    size -= 8;
  }
  c = static_cast<uint32_t>(c64);
#endif
  while (size >= 4) {
    uint32_t v;
    std::memcpy(&v, data, 4);
    c = _mm_crc32_u32(c, v);
    data += 4;
    size -= 4;
  }
  while (size--) c = _mm_crc32_u8(c, *data++);
  return ~c;
}

bool crc32c_hardware_available() {
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
}
#else
uint32_t crc32c_hardware(const uint8_t* data, size_t size, uint32_t crc) {
  return crc32c_table(data, size, crc);
}
bool crc32c_hardware_available() { return false; }
#endif

}  // namespace detail

uint32_t crc32c(const uint8_t* data, size_t size, uint32_t crc) {
  static const auto impl =
      detail::crc32c_hardware_available() ? &detail::crc32c_hardware : &detail::crc32c_table;
  return impl(data, size, crc);
}

}  // namespace conveyor::protocol
