// Chooses the architecture's code; on a processor without SHA-256 instructions, or an
// architecture with no code here, TokenKit uses its portable Swift implementation.

#include "include/CTokenKitSHA256.h"

#if defined(__x86_64__)
int tokenkit_sha256_x86_available(void);
void tokenkit_sha256_compress_x86(uint32_t *state, const uint8_t *blocks, size_t count);
#elif defined(__aarch64__)
int tokenkit_sha256_arm_available(void);
void tokenkit_sha256_compress_arm(uint32_t *state, const uint8_t *blocks, size_t count);
#endif

int tokenkit_sha256_hardware_available(void) {
#if defined(__x86_64__)
    return tokenkit_sha256_x86_available();
#elif defined(__aarch64__)
    return tokenkit_sha256_arm_available();
#else
    return 0;
#endif
}

void tokenkit_sha256_compress_hardware(uint32_t *state, const uint8_t *blocks, size_t count) {
#if defined(__x86_64__)
    tokenkit_sha256_compress_x86(state, blocks, count);
#elif defined(__aarch64__)
    tokenkit_sha256_compress_arm(state, blocks, count);
#else
    (void)state;
    (void)blocks;
    (void)count;
#endif
}
