// SHA-256's compression function in the processor's own instructions: the SHA extensions on
// x86-64, the SHA-2 instructions on arm64. TokenKit's Swift code pads and buffers; these functions
// only process whole 64-byte blocks, and only when the processor has the instructions.

#ifndef CTOKENKIT_SHA256_H
#define CTOKENKIT_SHA256_H

#include <stddef.h>
#include <stdint.h>

// Every pointer here is non-null.
#pragma clang assume_nonnull begin

/// SHA-256's 64 round constants K0…K63 (FIPS 180-4, 4.2.2), 16-byte aligned.
extern const uint32_t tokenkit_sha256_round_constants[64];

/// The round constants as a pointer, for Swift (which imports a C array as a tuple, by value).
static inline const uint32_t *tokenkit_sha256_round_constants_pointer(void) {
    return tokenkit_sha256_round_constants;
}

/// 1 when this processor has SHA-256 instructions that `tokenkit_sha256_compress_hardware` uses,
/// else 0. Asks the processor (cpuid) or the operating system (getauxval, sysctl) once per call.
int tokenkit_sha256_hardware_available(void);

/// Processes `count` 64-byte blocks at `blocks` into `state`, eight words H0…H7 (FIPS 180-4 order).
/// Call only when `tokenkit_sha256_hardware_available()` returned 1; the function does nothing
/// on a processor architecture it has no code for.
void tokenkit_sha256_compress_hardware(uint32_t *state, const uint8_t *blocks, size_t count);

#pragma clang assume_nonnull end

#endif
