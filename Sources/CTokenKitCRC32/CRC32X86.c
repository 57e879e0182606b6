// CRC-32 by folding with carry-less multiplication (PCLMULQDQ), as in Intel's white paper "Fast
// CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction" (Gopal, Ozturk, Guilford,
// Wolrich, Feghali, Dixon and Karakoyunlu, 2009), for the bit-reflected IEEE polynomial.
//
// The message is a polynomial over GF(2); its CRC is its remainder modulo P(x). Folding replaces
// a 128-bit chunk A followed by more data with A's high half times x^(n+64) mod P and its low half
// times x^n mod P, added (xor) to the 128 bits n bits further on: the remainder is unchanged, and
// the message is 128 bits shorter. So the loop keeps four 128-bit accumulators and folds each
// forward by 512 bits per 64 bytes read; then they are folded into one, the last 16-byte blocks
// are folded in, and the final 128 bits are reduced to 32 with one more fold and a Barrett
// reduction. The constants are x^k mod P for the distances used, in the reflected domain:
//
//   k1 = x^(4·128+32) mod P, k2 = x^(4·128−32) mod P   fold by 512 bits
//   k3 = x^(128+32) mod P,   k4 = x^(128−32) mod P     fold by 128 bits
//   k5 = x^64 mod P                                    fold 96 bits to 64
//   P' = the polynomial with its x^32 term, μ = floor(x^64 / P): Barrett reduction
//
// (the k's bit-reflected and shifted left by one, P' and μ bit-reflected, as the paper gives them).

#if defined(__x86_64__)

#include "include/CTokenKitCRC32.h"

#include <cpuid.h>
#include <immintrin.h>

int tokenkit_crc32_x86_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    int pclmul = (ecx >> 1) & 1;
    int sse41 = (ecx >> 19) & 1;
    return pclmul && sse41;
}

/// Folds `accumulator` forward over the 128 bits that follow it, `next`, with the constant pair
/// in `constants` (low half: the distance for the accumulator's low 64 bits, high half: for its
/// high 64 bits).
__attribute__((target("pclmul,sse4.1")))
static inline __m128i fold(__m128i accumulator, __m128i next, __m128i constants) {
    __m128i low = _mm_clmulepi64_si128(accumulator, constants, 0x00);
    __m128i high = _mm_clmulepi64_si128(accumulator, constants, 0x11);
    return _mm_xor_si128(_mm_xor_si128(low, high), next);
}

__attribute__((target("pclmul,sse4.1")))
uint32_t tokenkit_crc32_update_x86(uint32_t state, const uint8_t *bytes, size_t count) {
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
    const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124);
    const __m128i polynomialAndMu = _mm_set_epi64x(0x01f7011641, 0x01db710641);
    const __m128i low32OfEachHalf = _mm_setr_epi32(~0, 0, ~0, 0);

    // The register enters as the first 32 bits of the message, added to them.
    __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(bytes + 0)), _mm_cvtsi32_si128((int)state));
    __m128i b = _mm_loadu_si128((const __m128i *)(bytes + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(bytes + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(bytes + 48));
    bytes += 64;
    count -= 64;

    while (count >= 64) {
        a = fold(a, _mm_loadu_si128((const __m128i *)(bytes + 0)), k1k2);
        b = fold(b, _mm_loadu_si128((const __m128i *)(bytes + 16)), k1k2);
        c = fold(c, _mm_loadu_si128((const __m128i *)(bytes + 32)), k1k2);
        d = fold(d, _mm_loadu_si128((const __m128i *)(bytes + 48)), k1k2);
        bytes += 64;
        count -= 64;
    }

    // Four accumulators into one, then the remaining 16-byte blocks.
    a = fold(a, b, k3k4);
    a = fold(a, c, k3k4);
    a = fold(a, d, k3k4);
    while (count >= 16) {
        a = fold(a, _mm_loadu_si128((const __m128i *)bytes), k3k4);
        bytes += 16;
        count -= 16;
    }

    // 128 bits to 96: the low 64 bits times k4, added to the high 64 bits.
    __m128i x = _mm_xor_si128(_mm_clmulepi64_si128(a, k3k4, 0x10), _mm_srli_si128(a, 8));
    // 96 bits to 64: the low 32 bits times k5, added to the high 64 bits.
    x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, low32OfEachHalf), k5, 0x00), _mm_srli_si128(x, 4));
    // Barrett reduction of the 64 bits to the 32-bit remainder.
    __m128i quotient = _mm_clmulepi64_si128(_mm_and_si128(x, low32OfEachHalf), polynomialAndMu, 0x10);
    __m128i product = _mm_clmulepi64_si128(_mm_and_si128(quotient, low32OfEachHalf), polynomialAndMu, 0x00);
    return (uint32_t)_mm_extract_epi32(_mm_xor_si128(x, product), 1);
}

#endif
