// SHA-256 with the Armv8 SHA-2 instructions: `sha256h` and `sha256h2` do four rounds on the two
// halves of the state, `sha256su0` and `sha256su1` extend the message schedule four words at a time.

#if defined(__aarch64__)

#include "include/CTokenKitSHA256.h"

#include <arm_neon.h>

#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_SHA2
#define HWCAP_SHA2 (1 << 6)
#endif
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif

int tokenkit_sha256_arm_available(void) {
#if defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_SHA2) != 0;
#elif defined(__APPLE__)
    int value = 0;
    size_t size = sizeof(value);
    if (sysctlbyname("hw.optional.arm.FEAT_SHA256", &value, &size, NULL, 0) != 0) return 0;
    return value != 0;
#else
    return 0;
#endif
}

__attribute__((target("sha2")))
void tokenkit_sha256_compress_arm(uint32_t *state, const uint8_t *blocks, size_t count) {
    uint32x4_t abcd = vld1q_u32(&state[0]);
    uint32x4_t efgh = vld1q_u32(&state[4]);

    for (size_t block = 0; block < count; block++, blocks += 64) {
        const uint32x4_t abcdBefore = abcd;
        const uint32x4_t efghBefore = efgh;
        // The last four groups of four schedule words, W[4i] … W[4i+3] in group i % 4.
        uint32x4_t words[4];
        for (int i = 0; i < 4; i++) {
            words[i] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(blocks + 16 * i)));
        }
        for (int i = 0; i < 16; i++) {
            if (i >= 4) {
                // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], four at a time.
                words[i & 3] = vsha256su1q_u32(
                    vsha256su0q_u32(words[i & 3], words[(i + 1) & 3]), words[(i + 2) & 3], words[(i + 3) & 3]);
            }
            uint32x4_t constantsAndWords = vaddq_u32(words[i & 3], vld1q_u32(&tokenkit_sha256_round_constants[4 * i]));
            uint32x4_t abcdRound = abcd;
            abcd = vsha256hq_u32(abcd, efgh, constantsAndWords);
            efgh = vsha256h2q_u32(efgh, abcdRound, constantsAndWords);
        }
        abcd = vaddq_u32(abcd, abcdBefore);
        efgh = vaddq_u32(efgh, efghBefore);
    }

    vst1q_u32(&state[0], abcd);
    vst1q_u32(&state[4], efgh);
}

#endif
