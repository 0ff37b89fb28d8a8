#include "crc32c.h"

#include <string.h>

static uint32_t table[256];

/* Built once when the library loads, before any thread can call journeyd_crc32c. */
__attribute__((constructor)) static void build_table(void) {
    for (uint32_t index = 0; index < 256; index++) {
        uint32_t value = index;
        for (int bit = 0; bit < 8; bit++) {
            value = (value & 1) ? (value >> 1) ^ 0x82F63B78u : value >> 1;
        }
        table[index] = value;
    }
}

static uint32_t crc32c_software(uint32_t crc, const unsigned char *bytes, size_t length) {
    for (size_t index = 0; index < length; index++) {
        crc = table[(crc ^ bytes[index]) & 0xff] ^ (crc >> 8);
    }
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_hardware(uint32_t crc, const unsigned char *bytes, size_t length) {
    uint64_t value = crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        value = __builtin_ia32_crc32di(value, word);
        bytes += 8;
        length -= 8;
    }
    uint32_t small = (uint32_t)value;
    while (length > 0) {
        small = __builtin_ia32_crc32qi(small, *bytes);
        bytes++;
        length--;
    }
    return small;
}
#endif

uint32_t journeyd_crc32c(uint32_t crc, const void *data, size_t length) {
    const unsigned char *bytes = (const unsigned char *)data;
    crc = ~crc;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) {
        return ~crc32c_hardware(crc, bytes, length);
    }
#endif
    return ~crc32c_software(crc, bytes, length);
}
