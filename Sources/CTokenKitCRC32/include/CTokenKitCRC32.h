// CRC-32 (IEEE 802.3, the polynomial TokenKit's checksums use) in the processor's own
// instructions: carry-less multiplication (PCLMULQDQ) on x86-64, the CRC32 instructions on arm64.
// TokenKit's Swift code handles the bytes these functions leave, and processors without them.

#ifndef CTOKENKIT_CRC32_H
#define CTOKENKIT_CRC32_H

#include <stddef.h>
#include <stdint.h>

// Every pointer here is non-null.
#pragma clang assume_nonnull begin

/// 1 when this processor has the instructions `tokenkit_crc32_update_hardware` uses, else 0. Asks
/// the processor (cpuid) or the operating system (getauxval, sysctl) once per call.
int tokenkit_crc32_hardware_available(void);

/// Extends `state`, a running CRC-32 register (the checksum so far with all bits inverted, as
/// before the final inversion), over the `count` bytes at `bytes`, and returns the new register.
/// `count` must be at least 64 and a multiple of 16. Call only when
/// `tokenkit_crc32_hardware_available()` returned 1; on a processor architecture this target has
/// no code for, it returns `state` unchanged.
uint32_t tokenkit_crc32_update_hardware(uint32_t state, const void *bytes, size_t count);

#pragma clang assume_nonnull end

#endif
