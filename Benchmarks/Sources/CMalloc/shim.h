// glibc's allocator controls (malloc_trim), which Swift's Glibc module leaves out: the memory
// benchmark returns the allocator's free memory to the system before it measures.
#include <malloc.h>
