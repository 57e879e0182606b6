// CRC-32 with the Armv8 CRC32 instructions (`crc32x`, `crc32b`), which compute the IEEE
// polynomial's bit-reflected CRC directly, eight bytes at a time.

#if defined(__aarch64__)

#include "include/CTokenKitCRC32.h"

#include <arm_acle.h>
#include <string.h>

#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif

int tokenkit_crc32_arm_available(void) {
#if defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
#elif defined(__APPLE__)
    int value = 0;
    size_t size = sizeof(value);
    if (sysctlbyname("hw.optional.armv8_crc32", &value, &size, NULL, 0) != 0) return 0;
    return value != 0;
#else
    return 0;
#endif
}

__attribute__((target("crc")))
uint32_t tokenkit_crc32_update_arm(uint32_t state, const uint8_t *bytes, size_t count) {
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, bytes, sizeof(word));  // little-endian, unaligned
        state = __crc32d(state, word);
        bytes += 8;
        count -= 8;
    }
    while (count > 0) {
        state = __crc32b(state, *bytes);
        bytes += 1;
        count -= 1;
    }
    return state;
}

#endif
