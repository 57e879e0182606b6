// SHA-256 with the x86 SHA extensions (SHA-NI): `sha256rnds2` does two rounds, `sha256msg1` and
// `sha256msg2` extend the message schedule four words at a time. The state is kept as the two
// registers the instructions expect, ABEF and CDGH.

#if defined(__x86_64__)

#include "include/CTokenKitSHA256.h"

#include <cpuid.h>
#include <immintrin.h>

int tokenkit_sha256_x86_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    int ssse3 = (ecx >> 9) & 1;
    int sse41 = (ecx >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    int sha = (ebx >> 29) & 1;
    return ssse3 && sse41 && sha;
}

__attribute__((target("sha,sse4.1,ssse3")))
void tokenkit_sha256_compress_x86(uint32_t *state, const uint8_t *blocks, size_t count) {
    // Loads a block's words big-endian: reverses the bytes of each 32-bit word.
    const __m128i byteSwap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);

    __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

    for (size_t block = 0; block < count; block++, blocks += 64) {
        const __m128i abefBefore = abef;
        const __m128i cdghBefore = cdgh;
        // The last four groups of four schedule words, W[4i] … W[4i+3] in group i % 4.
        __m128i words[4];
        for (int i = 0; i < 4; i++) {
            words[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blocks + 16 * i)), byteSwap);
        }
        for (int i = 0; i < 16; i++) {
            if (i >= 4) {
                // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], four at a time.
                __m128i next = _mm_sha256msg1_epu32(words[i & 3], words[(i + 1) & 3]);
                next = _mm_add_epi32(next, _mm_alignr_epi8(words[(i + 3) & 3], words[(i + 2) & 3], 4));
                words[i & 3] = _mm_sha256msg2_epu32(next, words[(i + 3) & 3]);
            }
            __m128i constantsAndWords = _mm_add_epi32(
                words[i & 3], _mm_load_si128((const __m128i *)&tokenkit_sha256_round_constants[4 * i]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, constantsAndWords);
            constantsAndWords = _mm_shuffle_epi32(constantsAndWords, 0x0E);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, constantsAndWords);
        }
        abef = _mm_add_epi32(abef, abefBefore);
        cdgh = _mm_add_epi32(cdgh, cdghBefore);
    }

    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

#endif
