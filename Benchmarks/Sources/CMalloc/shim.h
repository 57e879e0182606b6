// glibc's allocator controls (malloc_trim), which Swift's Glibc module leaves out: the memory
// benchmark returns the allocator's free memory to the system before it measures. Empty where
// there is no <malloc.h> (macOS).
#if __has_include(<malloc.h>)
#include <malloc.h>
#endif
