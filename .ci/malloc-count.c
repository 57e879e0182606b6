// Counts heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc) and prints the
// count at exit. `.ci/allocation-check` preloads it where valgrind cannot run the code under test:
// valgrind reports the SHA-256 instructions but stops at the first one.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_long allocations;

typedef void *(*malloc_function)(size_t);
typedef void *(*realloc_function)(void *, size_t);
typedef int (*posix_memalign_function)(void **, size_t, size_t);
typedef void *(*aligned_alloc_function)(size_t, size_t);

// The real function, looked up once.
#define FORWARD(name, type) \
    static type real_##name; \
    if (!real_##name) real_##name = (type)dlsym(RTLD_NEXT, #name)

void *malloc(size_t size) {
    FORWARD(malloc, malloc_function);
    atomic_fetch_add(&allocations, 1);
    return real_malloc(size);
}

void *calloc(size_t count, size_t size) {
    // dlsym itself may call calloc before the real one is known: answer from a static buffer.
    static char early[4096];
    static size_t used;
    static void *(*real_calloc)(size_t, size_t);
    if (!real_calloc) {
        static int resolving;
        if (resolving) {
            void *memory = early + used;
            used += (count * size + 15) & ~(size_t)15;
            return used <= sizeof(early) ? memory : NULL;
        }
        resolving = 1;
        real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
        resolving = 0;
    }
    atomic_fetch_add(&allocations, 1);
    return real_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    FORWARD(realloc, realloc_function);
    atomic_fetch_add(&allocations, 1);
    return real_realloc(pointer, size);
}

int posix_memalign(void **pointer, size_t alignment, size_t size) {
    FORWARD(posix_memalign, posix_memalign_function);
    atomic_fetch_add(&allocations, 1);
    return real_posix_memalign(pointer, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    FORWARD(aligned_alloc, aligned_alloc_function);
    atomic_fetch_add(&allocations, 1);
    return real_aligned_alloc(alignment, size);
}

__attribute__((destructor)) static void report(void) {
    fprintf(stderr, "heap allocations: %ld\n", atomic_load(&allocations));
}
