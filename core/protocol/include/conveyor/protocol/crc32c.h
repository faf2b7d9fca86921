#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as RecordBatch v2 uses it (protocol
// guide, "Record Batch": the CRC field covers attributes through the end of the batch).
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at runtime), a
// slicing-by-8 table otherwise. Thread-safety: pure functions, safe from any thread.
#include <cstddef>
#include <cstdint>

namespace conveyor::protocol {

// CRC of [data, data+size) continuing from `crc` (0 to start). crc32c("123456789") == 0xE3069283.
// Chaining: crc32c(b, nb, crc32c(a, na)) == crc32c(a ++ b).
uint32_t crc32c(const uint8_t* data, size_t size, uint32_t crc = 0);

namespace detail {
// The two implementations behind crc32c(), exposed so tests can check both on any machine.
uint32_t crc32c_table(const uint8_t* data, size_t size, uint32_t crc);
// Only callable when crc32c_hardware_available() is true.
uint32_t crc32c_hardware(const uint8_t* data, size_t size, uint32_t crc);
bool crc32c_hardware_available();
}  // namespace detail

}  // namespace conveyor::protocol
