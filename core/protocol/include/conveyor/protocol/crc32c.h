#pragma once
// CRC-32C (Castagnoli), as RecordBatch v2 uses it (protocol guide, "Record Batch").
// Uses the SSE4.2 crc32 instruction when the CPU has it, a table otherwise.
#include <cstddef>
#include <cstdint>

namespace conveyor::protocol {

// CRC of [data, data+size) continuing from `crc` (0 to start). crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const uint8_t* data, size_t size, uint32_t crc = 0);

}  // namespace conveyor::protocol
