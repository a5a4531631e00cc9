/// The o200k pre-tokenizer (tiktoken `o200k_base`), equivalent to
/// `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|`
/// `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|`
/// `\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+` (one pattern, split here for reading).
///
/// A hand-written byte scanner: no allocation per piece, linear time on any input. Invalid UTF-8 bytes are
/// one-byte characters that are neither letters, numbers nor white space.
public struct O200kScanner: PreTokenizer, BlockPieceScanner {
    public init() {}

    public var cutRule: SafeCut.Rule? { .standard }

    public func split(_ text: UnsafeBufferPointer<UInt8>, into ends: inout [Int]) {
        splitBlocks(text, into: &ends)
    }

    public func forEachBatch(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<Int>) -> Void) {
        forEachBlockBatch(text, body)
    }

    /// The exclusive end of the piece that starts at byte offset `start` (`0 <= start < text.count`).
    public func pieceEnd(in text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        checkedPieceEnd(text, start)
    }

    // The two word alternatives are simulated with the regex engine's backtracking order: the optional prefix
    // is first tried consumed, then empty; M, Lm and Lo are in both the "upper" (U) and "lower" (W) classes, and
    // M is also a prefix character, which is what makes the order matter ("\u{301}AB!" gives "\u{301}", "AB").

    @inline(__always)
    func windowStarts(_ s: ScanText, _ i: Int) -> (committed: UInt64, hard: Int) { o200kWindowStarts(s, i) }

    @inline(__always)
    func pieceEnd(_ s: ScanText, _ i: Int) -> Int {
        let b = s.p[i]
        // A lower-case letter is not in U, so U* is empty and W+ starts right there.
        if b &- 0x61 < 26 { return contractionSuffix(s, s.lowerRun(i &+ 1)) }
        let a = s.ascii(b)
        if a & CharClass.multi == 0 {
            let e = asciiPieceEnd(s, i, b, a)
            if e >= 0 { return e }
        }
        return generalPieceEnd(s, i)
    }

    /// The piece end for an ASCII character that is not a lower-case letter, or -1 when a non-ASCII character
    /// makes the general path necessary.
    @inline(__always)
    func asciiPieceEnd(_ s: ScanText, _ i: Int, _ b: UInt8, _ a: UInt8) -> Int {
        let j = i &+ 1
        if a & CharClass.letter != 0 { return asciiUpperWord(s, i) }
        if a & CharClass.number != 0 { return s.digits(after: j) }
        if a & CharClass.crlf != 0 { return whitespacePieceEnd(s, i, j, wholeTrailingRun: false) }
        // Now `b` is a prefix character: a space, tab or other white space, or punctuation.
        if j < s.n {
            let b1 = s.p[j]
            if b1 &- 0x61 < 26 { return contractionSuffix(s, s.lowerRun(j &+ 1)) }
            if b1 &- 0x41 < 26 { return asciiUpperWord(s, j) }
            if b1 >= 0x80 { return -1 }
        }
        if a & CharClass.space == 0 { return s.crlfSlashRun(s.run(j, none: CharClass.lns)) }
        if b == 0x20 && j < s.n && s.ascii(s.p[j]) & CharClass.lns == 0 {
            return s.crlfSlashRun(s.run(j &+ 1, none: CharClass.lns))
        }
        return whitespacePieceEnd(s, i, j, wholeTrailingRun: false)
    }

    /// The word that starts with the ASCII upper-case letter at `u`, or -1 if a non-ASCII character follows its
    /// upper-case run. An ASCII upper-case run has no W character, so the first word alternative needs a
    /// lower-case letter right after it; otherwise the second one takes just the run.
    @inline(__always)
    func asciiUpperWord(_ s: ScanText, _ u: Int) -> Int {
        var k = u &+ 1
        while k < s.n && s.p[k] &- 0x41 < 26 { k &+= 1 }
        guard k < s.n else { return k }
        let b = s.p[k]
        if b >= 0x80 { return -1 }
        if b &- 0x61 < 26 { return contractionSuffix(s, s.lowerRun(k &+ 1)) }
        return contractionSuffix(s, k)
    }

    func generalPieceEnd(_ s: ScanText, _ i: Int) -> Int {
        let b = s.p[i]
        let (c, l) = s.char(i)
        let j = i &+ l
        let prefix = c & CharClass.lnCRLF == 0
        // P? U* W+ C?
        if prefix {
            let e = upperThenLower(s, j)
            if e >= 0 { return e }
        }
        var e = upperThenLower(s, i)
        if e >= 0 { return e }
        // P? U+ W* C?
        if prefix {
            e = upperRun(s, j)
            if e >= 0 { return e }
        }
        e = upperRun(s, i)
        if e >= 0 { return e }
        if c & CharClass.number != 0 { return s.digits(after: j) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
        if c & CharClass.lns == 0 { return s.crlfSlashRun(s.run(j, none: CharClass.lns)) }
        if b == 0x20 && j < s.n {
            let (c2, l2) = s.char(j)
            if c2 & CharClass.lns == 0 { return s.crlfSlashRun(s.run(j &+ l2, none: CharClass.lns)) }
        }
        return whitespacePieceEnd(s, i, j, wholeTrailingRun: false)
    }

    /// `U* W+ C?` from `i`, or -1. U* is greedy, so W+ starts at the last position in or just after the U run
    /// where a W character is: right after the run if that character is W (then Ll), else at the run's last
    /// Lm/Lo/M character.
    @inline(__always)
    func upperThenLower(_ s: ScanText, _ i: Int) -> Int {
        var k = i, lastLower = -1
        while k < s.n {
            let (c, l) = s.char(k)
            if c & CharClass.upper == 0 {
                if c & CharClass.lower != 0 { lastLower = k }
                break
            }
            if c & CharClass.lower != 0 { lastLower = k }
            k += l
        }
        if lastLower < 0 { return -1 }
        return contractionSuffix(s, s.lowerRun(lastLower))
    }

    /// `U+ W* C?` from `i`, or -1.
    @inline(__always)
    func upperRun(_ s: ScanText, _ i: Int) -> Int {
        guard i < s.n else { return -1 }
        let (c, l) = s.char(i)
        if c & CharClass.upper == 0 { return -1 }
        return contractionSuffix(s, s.lowerRun(s.run(i + l, any: CharClass.upper)))
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)?` at `e`.
    @inline(__always)
    func contractionSuffix(_ s: ScanText, _ e: Int) -> Int {
        guard e < s.n, s.p[e] == 0x27 else { return e }
        let f = s.contractionFolded(e + 1)
        return f >= 0 ? f : e
    }
}
