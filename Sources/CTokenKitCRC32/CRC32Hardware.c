// Chooses the architecture's code; on a processor without the instructions, or an architecture
// with no code here, TokenKit uses its portable Swift implementation.

#include "include/CTokenKitCRC32.h"

#if defined(__x86_64__)
int tokenkit_crc32_x86_available(void);
uint32_t tokenkit_crc32_update_x86(uint32_t state, const uint8_t *bytes, size_t count);
#elif defined(__aarch64__)
int tokenkit_crc32_arm_available(void);
uint32_t tokenkit_crc32_update_arm(uint32_t state, const uint8_t *bytes, size_t count);
#endif

int tokenkit_crc32_hardware_available(void) {
#if defined(__x86_64__)
    return tokenkit_crc32_x86_available();
#elif defined(__aarch64__)
    return tokenkit_crc32_arm_available();
#else
    return 0;
#endif
}

uint32_t tokenkit_crc32_update_hardware(uint32_t state, const void *bytes, size_t count) {
#if defined(__x86_64__)
    return tokenkit_crc32_update_x86(state, bytes, count);
#elif defined(__aarch64__)
    return tokenkit_crc32_update_arm(state, bytes, count);
#else
    (void)bytes;
    (void)count;
    return state;
#endif
}
