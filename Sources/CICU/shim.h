#ifndef TOK_CICU_SHIM_H
#define TOK_CICU_SHIM_H
#include <unicode/utypes.h>
#include <unicode/uversion.h>
#include <unicode/uregex.h>
#include <unicode/ubrk.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>
#include <unicode/uscript.h>

/* ICU renames every entry point with a function-like macro (uregex_open -> uregex_open_72) that Swift's
   ClangImporter cannot import. Each wrapper below lets clang expand the macro, so the Swift side names a stable
   symbol whatever ICU version the system has. Add a wrapper here before using another ICU function. */
#define CICU_INLINE static inline __attribute__((always_inline))

CICU_INLINE void cicu_getVersion(UVersionInfo v) { u_getVersion(v); }
CICU_INLINE const char *cicu_errorName(UErrorCode c) { return u_errorName(c); }

/* Regular expressions */
CICU_INLINE URegularExpression *cicu_uregex_open(const UChar *p, int32_t len, uint32_t flags, UParseError *pe, UErrorCode *st) { return uregex_open(p, len, flags, pe, st); }
CICU_INLINE URegularExpression *cicu_uregex_clone(const URegularExpression *re, UErrorCode *st) { return uregex_clone(re, st); }
CICU_INLINE void cicu_uregex_setText(URegularExpression *re, const UChar *t, int32_t len, UErrorCode *st) { uregex_setText(re, t, len, st); }
CICU_INLINE void cicu_uregex_setUText(URegularExpression *re, UText *t, UErrorCode *st) { uregex_setUText(re, t, st); }
CICU_INLINE UBool cicu_uregex_findNext(URegularExpression *re, UErrorCode *st) { return uregex_findNext(re, st); }
CICU_INLINE int32_t cicu_uregex_start(URegularExpression *re, int32_t g, UErrorCode *st) { return uregex_start(re, g, st); }
CICU_INLINE int32_t cicu_uregex_end(URegularExpression *re, int32_t g, UErrorCode *st) { return uregex_end(re, g, st); }
CICU_INLINE int64_t cicu_uregex_start64(URegularExpression *re, int32_t g, UErrorCode *st) { return uregex_start64(re, g, st); }
CICU_INLINE int64_t cicu_uregex_end64(URegularExpression *re, int32_t g, UErrorCode *st) { return uregex_end64(re, g, st); }
CICU_INLINE void cicu_uregex_close(URegularExpression *re) { uregex_close(re); }
CICU_INLINE void cicu_uregex_setStackLimit(URegularExpression *re, int32_t limit, UErrorCode *st) { uregex_setStackLimit(re, limit, st); }
/* A step budget for each start a search tries: ICU counts steps in ticks of 10,000 and calls the match callback at
   every tick, and the find-progress callback whenever a search moves to a new start. While a search stays at one
   start it may spend `base_ticks` plus `steps_per_byte` for each byte from there to the end of the text (a long
   match that runs in linear time needs a few steps a byte); a search stuck there longer (exponential
   backtracking) is stopped. All the searches over one text together may take `total_ticks_allowed`: a search
   that scans to the end of the text from every start ([^\n]*\n on a text without a line feed) stays within the
   budget of each start, but takes time that grows with the square of the text. */
typedef struct {
    int64_t text_length;
    int64_t last_index;     /* the latest start reported by ICU */
    int64_t seen_index;     /* the start the tick callback last saw */
    int64_t move_ticks;     /* ticks when it saw that start first */
    int64_t base_ticks;
    int64_t steps_per_byte;
    int64_t total_ticks;    /* ticks of all the searches over the text so far */
    int64_t total_ticks_allowed;
    int32_t stopped;        /* set when the budget stopped a search: 1 at one start, 2 in all */
} cicu_step_budget;

static UBool U_CALLCONV cicu_step_budget_progress(const void *context, int64_t index) {
    ((cicu_step_budget *)context)->last_index = index;
    return 1;
}

static UBool U_CALLCONV cicu_step_budget_tick(const void *context, int32_t ticks) {
    cicu_step_budget *b = (cicu_step_budget *)context;
    /* One call a tick, whether or not ICU counts `ticks` afresh for each search. */
    if (++b->total_ticks > b->total_ticks_allowed) {
        b->stopped = 2;
        return 0;
    }
    if (b->last_index != b->seen_index) {
        b->seen_index = b->last_index;
        b->move_ticks = ticks;
    }
    int64_t allowed = b->base_ticks + (b->text_length - b->last_index) * b->steps_per_byte / 10000;
    if ((int64_t)ticks - b->move_ticks <= allowed) return 1;
    b->stopped = 1;
    return 0;
}

/* Installs `b`, which must outlive `re`. */
CICU_INLINE void cicu_uregex_setStepBudget(URegularExpression *re, cicu_step_budget *b, UErrorCode *st) {
    uregex_setMatchCallback(re, cicu_step_budget_tick, b, st);
    uregex_setFindProgressCallback(re, cicu_step_budget_progress, b, st);
}

/* UText over UTF-8 (native indexes are UTF-8 byte offsets) */
CICU_INLINE UText *cicu_utext_openUTF8(UText *ut, const char *s, int64_t len, UErrorCode *st) { return utext_openUTF8(ut, s, len, st); }
CICU_INLINE UText *cicu_utext_close(UText *ut) { return utext_close(ut); }

/* Break iteration */
CICU_INLINE UBreakIterator *cicu_ubrk_open(UBreakIteratorType t, const char *loc, const UChar *text, int32_t len, UErrorCode *st) { return ubrk_open(t, loc, text, len, st); }
CICU_INLINE UBreakIterator *cicu_ubrk_clone(const UBreakIterator *bi, UErrorCode *st) { return ubrk_clone(bi, st); }
CICU_INLINE void cicu_ubrk_setUText(UBreakIterator *bi, UText *t, UErrorCode *st) { ubrk_setUText(bi, t, st); }
CICU_INLINE void cicu_ubrk_setText(UBreakIterator *bi, const UChar *text, int32_t len, UErrorCode *st) { ubrk_setText(bi, text, len, st); }
CICU_INLINE int32_t cicu_ubrk_first(UBreakIterator *bi) { return ubrk_first(bi); }
CICU_INLINE int32_t cicu_ubrk_next(UBreakIterator *bi) { return ubrk_next(bi); }
CICU_INLINE int32_t cicu_ubrk_getRuleStatus(UBreakIterator *bi) { return ubrk_getRuleStatus(bi); }
CICU_INLINE void cicu_ubrk_close(UBreakIterator *bi) { ubrk_close(bi); }

/* Normalization */
CICU_INLINE const UNormalizer2 *cicu_unorm2_getNFCInstance(UErrorCode *st) { return unorm2_getNFCInstance(st); }
CICU_INLINE const UNormalizer2 *cicu_unorm2_getNFKCInstance(UErrorCode *st) { return unorm2_getNFKCInstance(st); }
CICU_INLINE const UNormalizer2 *cicu_unorm2_getNFDInstance(UErrorCode *st) { return unorm2_getNFDInstance(st); }
CICU_INLINE const UNormalizer2 *cicu_unorm2_getNFKDInstance(UErrorCode *st) { return unorm2_getNFKDInstance(st); }
CICU_INLINE int32_t cicu_unorm2_normalize(const UNormalizer2 *n, const UChar *src, int32_t len, UChar *dst, int32_t cap, UErrorCode *st) { return unorm2_normalize(n, src, len, dst, cap, st); }
CICU_INLINE UBool cicu_unorm2_isNormalized(const UNormalizer2 *n, const UChar *s, int32_t len, UErrorCode *st) { return unorm2_isNormalized(n, s, len, st); }
CICU_INLINE int32_t cicu_unorm2_spanQuickCheckYes(const UNormalizer2 *n, const UChar *s, int32_t len, UErrorCode *st) { return unorm2_spanQuickCheckYes(n, s, len, st); }
CICU_INLINE UBool cicu_unorm2_isInert(const UNormalizer2 *n, UChar32 c) { return unorm2_isInert(n, c); }
CICU_INLINE UBool cicu_unorm2_hasBoundaryBefore(const UNormalizer2 *n, UChar32 c) { return unorm2_hasBoundaryBefore(n, c); }

/* Strings and properties */
CICU_INLINE UChar *cicu_strFromUTF8(UChar *dst, int32_t cap, int32_t *dlen, const char *src, int32_t slen, UErrorCode *st) { return u_strFromUTF8(dst, cap, dlen, src, slen, st); }
CICU_INLINE char *cicu_strToUTF8(char *dst, int32_t cap, int32_t *dlen, const UChar *src, int32_t slen, UErrorCode *st) { return u_strToUTF8(dst, cap, dlen, src, slen, st); }
CICU_INLINE UBool cicu_hasBinaryProperty(UChar32 c, UProperty p) { return u_hasBinaryProperty(c, p); }
CICU_INLINE int8_t cicu_charType(UChar32 c) { return u_charType(c); }
CICU_INLINE int32_t cicu_getIntPropertyValue(UChar32 c, UProperty p) { return u_getIntPropertyValue(c, p); }
CICU_INLINE UScriptCode cicu_getScript(UChar32 c, UErrorCode *st) { return uscript_getScript(c, st); }
#endif
