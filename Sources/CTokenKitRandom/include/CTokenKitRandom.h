// Random bytes from the operating system's CSPRNG, many in one call.
//
// Swift's SystemRandomNumberGenerator makes one system call (getrandom(2) on Linux) per 8 bytes it
// returns: eight for a token. This fills a whole buffer in one.

#ifndef CTOKENKIT_RANDOM_H
#define CTOKENKIT_RANDOM_H

#include <stddef.h>

// Every pointer here is non-null.
#pragma clang assume_nonnull begin

/// Fills `count` bytes at `buffer` from the system's CSPRNG: getrandom(2) on Linux, waiting for the
/// pool to be initialised at boot and retrying when interrupted; arc4random_buf(3) on Apple
/// platforms. Returns 0, or -1 with `errno` set (no such call, or refused by a seccomp filter);
/// the buffer's contents are then unspecified.
int tokenkit_random_bytes(void *buffer, size_t count);

#pragma clang assume_nonnull end

#endif
