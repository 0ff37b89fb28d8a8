#ifndef JOURNEYD_CRC32C_H
#define JOURNEYD_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli) of `length` bytes, continuing from `crc` (start with 0).
/// Uses the SSE4.2 instruction when the CPU has it, a table otherwise; both give the same result.
uint32_t journeyd_crc32c(uint32_t crc, const void *data, size_t length);

#endif
