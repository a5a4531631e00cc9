// Class bitmasks of 64 bytes at a time, for the block pre-tokenizers in TokCore.
//
// In C because the block pre-tokenizers need SIMD compares turned into bitmasks (SSE2 `pmovmskb`), which Swift
// cannot express: the same work in portable Swift (SWAR on UInt64 words) was 4x slower and made the block path
// slower than the scalar scanner. Header-only and `static inline`, so Swift inlines it into the scanner loop.
// Other targets get a plain C loop with the same results; TokCoreTests checks every mask against the class table.
#ifndef TOK_BYTE_CLASSES_H
#define TOK_BYTE_CLASSES_H

#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Bit k of each mask describes byte k. Every class mask is clear for bytes >= 0x80, which only `nonascii` marks.
typedef struct {
    uint64_t letter;     // A-Z, a-z
    uint64_t digit;      // 0-9
    uint64_t space;      // ASCII White_Space: U+0009...U+000D, U+0020
    uint64_t newline;    // CR, LF
    uint64_t blank;      // U+0020
    uint64_t apostrophe; // U+0027
    uint64_t upper;      // A-Z
    uint64_t slash;      // U+002F
    uint64_t nonascii;   // bytes >= 0x80
} tok_byte_classes;

/// Classifies the 64 bytes at `p`, all of which must be readable.
static inline __attribute__((always_inline)) tok_byte_classes tok_classify64(const uint8_t *p) {
    tok_byte_classes r = {0, 0, 0, 0, 0, 0, 0, 0, 0};
#if defined(__SSE2__)
    for (int k = 0; k < 4; k++) {
        const __m128i x = _mm_loadu_si128((const __m128i *)(p + 16 * k));
        // Unsigned range tests as signed compares: add so that the range starts at -128, then compare below.
        const __m128i letter = _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8(0x1F)),
                                              _mm_set1_epi8(-128 + 26));
        const __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(0x50)), _mm_set1_epi8(-128 + 10));
        const __m128i blank = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x20));
        const __m128i controls = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(0x77)), _mm_set1_epi8(-128 + 5));
        const __m128i newline = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(0x0A)), _mm_cmpeq_epi8(x, _mm_set1_epi8(0x0D)));
        const __m128i apostrophe = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x27));
        const __m128i upper = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(0x3F)), _mm_set1_epi8(-128 + 26));
        const __m128i slash = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x2F));
        const unsigned s = 16 * (unsigned)k;
        r.letter |= (uint64_t)(uint16_t)_mm_movemask_epi8(letter) << s;
        r.digit |= (uint64_t)(uint16_t)_mm_movemask_epi8(digit) << s;
        r.space |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_or_si128(controls, blank)) << s;
        r.newline |= (uint64_t)(uint16_t)_mm_movemask_epi8(newline) << s;
        r.blank |= (uint64_t)(uint16_t)_mm_movemask_epi8(blank) << s;
        r.apostrophe |= (uint64_t)(uint16_t)_mm_movemask_epi8(apostrophe) << s;
        r.upper |= (uint64_t)(uint16_t)_mm_movemask_epi8(upper) << s;
        r.slash |= (uint64_t)(uint16_t)_mm_movemask_epi8(slash) << s;
        r.nonascii |= (uint64_t)(uint16_t)_mm_movemask_epi8(x) << s;
    }
#else
    for (int k = 0; k < 64; k++) {
        const uint8_t b = p[k], folded = b | 0x20;
        const uint64_t bit = (uint64_t)1 << k;
        if (folded >= 'a' && folded <= 'z') r.letter |= bit;
        if (b >= '0' && b <= '9') r.digit |= bit;
        if ((b >= 0x09 && b <= 0x0D) || b == 0x20) r.space |= bit;
        if (b == 0x0A || b == 0x0D) r.newline |= bit;
        if (b == 0x20) r.blank |= bit;
        if (b == 0x27) r.apostrophe |= bit;
        if (b >= 'A' && b <= 'Z') r.upper |= bit;
        if (b == 0x2F) r.slash |= bit;
        if (b >= 0x80) r.nonascii |= bit;
    }
#endif
    return r;
}

/// Python's `str.isspace()` on the 64 ASCII bytes at `p` (0x09-0x0D and 0x1C-0x20) as a bit mask, and the mask of
/// bytes >= 0x80 (for which the space mask says nothing), for tok eval's whitespace words.
typedef struct { uint64_t space; uint64_t nonascii; } tok_space_mask;

static inline __attribute__((always_inline)) tok_space_mask tok_python_space64(const uint8_t *p) {
    tok_space_mask r = {0, 0};
#if defined(__SSE2__)
    for (int k = 0; k < 4; k++) {
        const __m128i x = _mm_loadu_si128((const __m128i *)(p + 16 * k));
        const __m128i controls = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(0x77)), _mm_set1_epi8(-128 + 5));
        const __m128i separators = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(0x64)), _mm_set1_epi8(-128 + 5));
        const unsigned s = 16 * (unsigned)k;
        r.space |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_or_si128(controls, separators)) << s;
        r.nonascii |= (uint64_t)(uint16_t)_mm_movemask_epi8(x) << s;
    }
#else
    for (int k = 0; k < 64; k++) {
        const uint8_t b = p[k];
        const uint64_t bit = (uint64_t)1 << k;
        if ((b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x20)) r.space |= bit;
        if (b >= 0x80) r.nonascii |= bit;
    }
#endif
    return r;
}

// Relaxed atomic byte access, for per-token facts that threads work out lazily and share: every thread that
// writes a byte writes the same value, so relaxed order is enough, and the atomics keep the race defined.
static inline __attribute__((always_inline)) uint8_t tok_load_relaxed_u8(const uint8_t *p) {
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline __attribute__((always_inline)) void tok_store_relaxed_u8(uint8_t *p, uint8_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

// A pointer that one thread publishes once (a lazily built table): acquire load, and a compare-and-swap from
// NULL that reports whether this caller's pointer won.
static inline __attribute__((always_inline)) void *tok_load_acquire_ptr(void *const *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline __attribute__((always_inline)) int tok_publish_ptr(void **p, void *value) {
    void *expected = 0;
    return __atomic_compare_exchange_n(p, &expected, value, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

// A hint to load the cache line at `p` for writing or reading: for loops that know the addresses they will touch a
// few iterations ahead (tok eval's per-id counts), where the out-of-order window is too short to overlap the misses.
static inline __attribute__((always_inline)) void tok_prefetch_write(const void *p) {
    __builtin_prefetch(p, 1, 3);
}
static inline __attribute__((always_inline)) void tok_prefetch_read(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

// An empty instruction the compiler may neither remove nor execute speculatively. Put in the rare arm of a
// branch, it keeps the branch a branch (LLVM would otherwise make it a select), so that the core can predict it and
// go on without waiting for the data it tests.
static inline __attribute__((always_inline)) void tok_keep_branch(void) {
    __asm__ volatile("");
}

// A value the compiler cannot see through: keeps a loop of scalar loads scalar (LLVM would widen them into vector
// loads, which cannot take their data from narrower stores still in the store buffer).
static inline __attribute__((always_inline)) int32_t tok_opaque_i32(int32_t x) {
    __asm__("" : "+r"(x));
    return x;
}

#endif
