// The cl100k / Llama 3 pre-tokenizer's 64-byte windows (see BlockSplitting.swift for how windows are used).
//
// On ASCII text every piece boundary of these patterns follows from the classes of the byte before it and of the
// one before that, as long as white space comes one character at a time and digit runs are at most three long:
//
//   letter    starts a piece unless after a letter, after white space other than CR/LF, or after
//             punctuation that itself starts a piece (the `[^\r\n\p{L}\p{N}]?\p{L}+` prefix);
//   digit     starts a piece unless after a digit;
//   other     ("punctuation": not letter, digit, white space) starts a piece after a letter, a digit or white
//             space other than U+0020 (` ?[^\s\p{L}\p{N}]+` takes one space in front and whole runs);
//   white     starts a piece after a letter or digit, and after punctuation unless it is CR/LF (`[\r\n]*` ends
//             the punctuation piece).
//
// plus contractions: an apostrophe that starts a piece and is followed by `(?i:[sdmt]|ll|ve|re)` forms a piece of
// its own, and white-space runs (`\s*[\r\n]`, `\s+(?!\S)`), which are worked out below. Non-ASCII bytes, a tenth
// digit in a row and white space that may go on past the window are hard.

/// `BlockPieceScanner.windowStarts` for cl100k and Llama 3.
@inline(__always)
func cl100kWindowStarts(_ s: ScanText, _ i: Int) -> (committed: UInt64, hard: Int) {
    let m = ASCIIBlockClasses(s.p + i)
    let L = m.letter, D = m.digit, W = m.space, N = m.newline
    let O = ~(L | D | W | m.nonASCII)
    // Bit b of a p-mask is the class of byte b - 1. Byte 0 starts a piece, which the `| 1` terms encode.
    let pL = L << 1, pD = D << 1, pW = W << 1, pO = O << 1, pN = N << 1
    let startO = O & (pL | pD | (pW & ~(m.blank << 1)) | 1)
    let startL = L & ~pL & ~((pW & ~pN) | startO << 1)

    let digits = windowDigitStarts(D)

    // White space. A run starts a piece after a letter or digit, and after punctuation unless it is CR/LF:
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*` takes the CR/LFs that follow punctuation (`absorbed`), and a piece starts after
    // them; then the run's inner starts (`windowWhitespaceStarts`).
    let runW = W & ~pW
    let startRunW = runW & (pL | pD | (pO & ~N) | 1)
    let absorbed = ((N &+ (N & pO)) ^ N) & N
    let afterAbsorbed = W & (absorbed << 1) & ~absorbed
    var starts = startL | digits.starts | startO | startRunW | afterAbsorbed | windowWhitespaceStarts(W, N)

    let hard = windowHardOffset(nonASCII: m.nonASCII, tenthDigit: digits.tenth, whitespace: W)

    // Contractions: an apostrophe that starts a piece, then s, d, m, t, ll, ve or re in either case, is a piece.
    var quotes = m.apostrophe & startO
    while quotes != 0 {
        let a = quotes.trailingZeroBitCount
        quotes &= quotes &- 1
        if a >= hard || a > 61 { break }
        let e = s.contractionFolded(i &+ a &+ 1)
        if e >= 0 && e &- i < 64 { starts |= 1 << UInt64(e &- i) }
    }
    return (starts & windowBitsBelow(hard) & ~1, hard)
}
