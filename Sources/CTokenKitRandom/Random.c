// See include/CTokenKitRandom.h.

#if defined(__linux__)
#define _GNU_SOURCE
#endif

#include "CTokenKitRandom.h"

#include <errno.h>
#if defined(__APPLE__)
#include <stdlib.h>
#elif defined(__linux__)
#include <sys/random.h>
#include <sys/types.h>
#endif

int tokenkit_random_bytes(void *buffer, size_t count) {
#if defined(__APPLE__)
    arc4random_buf(buffer, count);
    return 0;
#elif defined(__linux__)
    unsigned char *bytes = buffer;
    while (count > 0) {
        // Up to 256 bytes never come back short once the pool is initialised; larger requests,
        // or a signal while waiting for the pool at boot, may.
        ssize_t read = getrandom(bytes, count, 0);
        if (read < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        bytes += read;
        count -= (size_t)read;
    }
    return 0;
#else
    errno = ENOSYS;
    return -1;
#endif
}
