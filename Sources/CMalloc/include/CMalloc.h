// glibc's malloc tuning, which Swift's Glibc module does not import (malloc.h is not part of it).
#ifndef TOK_CMALLOC_H
#define TOK_CMALLOC_H

#if defined(__has_include)
#if __has_include(<malloc.h>)
#include <malloc.h>
#endif
#endif

/// Serves blocks of `bytes` and more by mmap and gives them back to the system when freed, and stops glibc from
/// raising that threshold as blocks are freed. Returns whether the setting took (0 where the C library has no such
/// setting).
static inline int tok_fix_mmap_threshold(int bytes) {
#if defined(M_MMAP_THRESHOLD)
    return mallopt(M_MMAP_THRESHOLD, bytes);
#else
    (void)bytes;
    return 0;
#endif
}

#endif
