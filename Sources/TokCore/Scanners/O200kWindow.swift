// The o200k pre-tokenizer's 64-byte windows (see BlockSplitting.swift for how windows are used).
//
// On ASCII text o200k splits like cl100k (Cl100kWindow.swift) but for three things:
//
//   case      a word is `U* W+` or `U+ W*` (upper-case letters, then lower-case ones), so inside a run of letters
//             a piece starts at every upper-case letter that follows a lower-case one ("camelCase" is "camel",
//             "Case"; "HTTPServer" stays whole);
//   suffixes  `(?i:'s|'t|'re|'ve|'m|'ll|'d)` is not a piece of its own but the optional end of a word: an
//             apostrophe right after a letter, followed by one of these, joins that word, and the next
//             character starts a piece; an apostrophe right after such a suffix is ordinary punctuation;
//   slashes   punctuation takes `[\r\n/]*` after it, not just `[\r\n]*`, so the CR/LF run that follows
//             punctuation goes on through slashes and more CR/LFs, and whatever comes next starts a piece.

/// `BlockPieceScanner.windowStarts` for o200k.
@inline(__always)
func o200kWindowStarts(_ s: ScanText, _ i: Int) -> (committed: UInt64, hard: Int) {
    let m = ASCIIBlockClasses(s.p + i)
    let L = m.letter, D = m.digit, W = m.space, N = m.newline
    let lower = L & ~m.upper
    let O = ~(L | D | W | m.nonASCII)
    // Bit b of a p-mask is the class of byte b - 1. Byte 0 starts a piece, which the `| 1` terms encode.
    let pL = L << 1, pD = D << 1, pW = W << 1, pO = O << 1, pN = N << 1

    // What punctuation takes after it: from a CR/LF right after a punctuation character, the rest of the run of
    // CR, LF and '/' (a prefix fill through that run, by doubling steps).
    let X = N | m.slash
    var absorbed = N & pO, x = X
    absorbed |= (absorbed << 1) & x; x &= x << 1
    absorbed |= (absorbed << 2) & x; x &= x << 2
    absorbed |= (absorbed << 4) & x; x &= x << 4
    absorbed |= (absorbed << 8) & x; x &= x << 8
    absorbed |= (absorbed << 16) & x; x &= x << 16
    absorbed |= (absorbed << 32) & x
    let afterAbsorbed = (absorbed << 1) & ~absorbed

    let startO = O & ~absorbed & (pL | pD | (pW & ~(m.blank << 1)) | afterAbsorbed | 1)
    let startL = (L & ~pL & ~((pW & ~pN) | startO << 1)) | (m.upper & (lower << 1))

    let digits = windowDigitStarts(D)

    // White space, as for cl100k: a run starts a piece after a letter or digit, and after punctuation unless
    // punctuation took it; then the run's inner starts.
    let runW = W & ~pW
    let startRunW = runW & (pL | pD | (pO & ~N) | 1) & ~absorbed
    var starts = startL | digits.starts | startO | startRunW | afterAbsorbed | windowWhitespaceStarts(W, N)

    let hard = windowHardOffset(nonASCII: m.nonASCII, tenthDigit: digits.tenth, whitespace: W)

    // Suffixes, left to right: each one decides whether an apostrophe right after its last letter can be one.
    var quotes = m.apostrophe & pL
    var suffixEnd = -1
    while quotes != 0 {
        let a = quotes.trailingZeroBitCount
        quotes &= quotes &- 1
        if a >= hard { break }
        if a == suffixEnd { continue }
        let e = s.contractionFolded(i &+ a &+ 1)
        if e < 0 { continue }
        suffixEnd = e &- i
        // No piece starts inside the suffix: not at its apostrophe, and not at an upper-case letter after a
        // lower-case one ("'rE", "'vE", "'lL"), which the case rule above took for the start of a word.
        starts &= ~(windowBitsBelow(suffixEnd) & ~windowBitsBelow(a))
        if suffixEnd < 64 { starts |= 1 << UInt64(suffixEnd) }
    }
    return (starts & windowBitsBelow(hard) & ~1, hard)
}
