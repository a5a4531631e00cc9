/// The cl100k pre-tokenizer (tiktoken `cl100k_base`), equivalent to
/// `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
/// where `$` is the end of the text.
///
/// A hand-written byte scanner: no allocation per piece, linear time on any input. Invalid UTF-8 bytes are
/// one-byte characters that are neither letters, numbers nor white space.
public struct Cl100kScanner: PreTokenizer, BlockPieceScanner {
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

    @inline(__always)
    func windowStarts(_ s: ScanText, _ i: Int) -> (committed: UInt64, hard: Int) { cl100kWindowStarts(s, i) }

    @inline(__always)
    func pieceEnd(_ s: ScanText, _ i: Int) -> Int {
        cl100kFamilyPieceEnd(s, i, wholeTrailingRun: true)
    }
}

/// The cl100k and Llama 3 patterns differ only in white space that runs to the end of the text: cl100k's
/// `\s++$` takes the whole run, while Llama 3's `\s*[\r\n]+` stops after the run's last CR/LF (for "\n  " at the
/// end of the text Llama 3 gives "\n", "  " and cl100k "\n  "). Everything else is the same: the possessive
/// quantifiers of cl100k never change a match here, because the prefix `[^\r\n\p{L}\p{N}]` is disjoint from
/// `\p{L}` and the other possessive runs are followed by nothing that could need a character back.
@inline(__always)
func cl100kFamilyPieceEnd(_ s: ScanText, _ i: Int, wholeTrailingRun: Bool) -> Int {
    let b = s.p[i]
    let a = s.ascii(b)
    if a & CharClass.letter != 0 { return s.letterRun(i &+ 1) }
    if a & CharClass.multi == 0 {
        return cl100kASCIIPieceEnd(s, i, b, a, wholeTrailingRun: wholeTrailingRun)
    }
    // A non-ASCII character: the alternatives in pattern order.
    let (c, l) = s.decode(i)
    let j = i &+ l
    if c & CharClass.letter != 0 { return s.letterRun(j) }
    // One prefix character before letters.
    if c & CharClass.lnCRLF == 0 && j < s.n {
        let (c2, l2) = s.char(j)
        if c2 & CharClass.letter != 0 { return s.letterRun(j &+ l2) }
    }
    if c & CharClass.number != 0 { return s.digits(after: j) }
    if c & CharClass.lns == 0 { return s.crlfRun(s.run(j, none: CharClass.lns)) }
    return whitespacePieceEnd(s, i, j, wholeTrailingRun: wholeTrailingRun)
}

/// `cl100kFamilyPieceEnd` for an ASCII character `b` (class `a`) that is not a letter, with the alternatives
/// that cannot match it left out.
@inline(__always)
func cl100kASCIIPieceEnd(_ s: ScanText, _ i: Int, _ b: UInt8, _ a: UInt8, wholeTrailingRun: Bool) -> Int {
    let j = i &+ 1
    if a & CharClass.space != 0 {
        if a & CharClass.crlf == 0 && j < s.n {
            let (c2, l2) = s.char(j)
            // The space or tab is the prefix of a word.
            if c2 & CharClass.letter != 0 { return s.letterRun(j &+ l2) }
            // ` ?[^\s\p{L}\p{N}]++[\r\n]*+`
            if b == 0x20 && c2 & CharClass.lns == 0 { return s.crlfRun(s.run(j &+ l2, none: CharClass.lns)) }
        }
        return whitespacePieceEnd(s, i, j, wholeTrailingRun: wholeTrailingRun)
    }
    if a & CharClass.number != 0 { return s.digits(after: j) }
    // Punctuation, symbols and controls.
    if b == 0x27 {
        let e = s.contractionFolded(j)
        if e >= 0 { return e }
    }
    if j < s.n {
        let (c2, l2) = s.char(j)
        if c2 & CharClass.letter != 0 { return s.letterRun(j &+ l2) }
    }
    return s.crlfRun(s.run(j, none: CharClass.lns))
}

/// The white-space alternatives shared by cl100k, Llama 3 and o200k, for a white-space character at `i` that
/// ends at `j`: `\s++$` (if `wholeTrailingRun`), then `\s*[\r\n]+` (up to the run's last CR/LF), `\s+(?!\S)`
/// (the run minus its last character when a non-space follows) and `\s+`.
@inline(__always)
func whitespacePieceEnd(_ s: ScanText, _ i: Int, _ j: Int, wholeTrailingRun: Bool) -> Int {
    var k = j, last = i
    var crlfEnd = s.p[i] == 0x0A || s.p[i] == 0x0D ? j : -1
    while k < s.n {
        // Indentation is the common long run: take eight spaces at a time.
        if k + 8 <= s.n && UnsafeRawPointer(s.p + k).loadUnaligned(as: UInt64.self) == 0x2020_2020_2020_2020 {
            last = k + 7
            k += 8
            continue
        }
        let a = s.ascii(s.p[k])
        if a & CharClass.space != 0 {
            if a & CharClass.crlf != 0 { crlfEnd = k + 1 }
            last = k
            k += 1
            continue
        }
        if a & CharClass.multi == 0 { break }
        let (c, l) = s.decode(k)
        if c & CharClass.space == 0 { break }
        last = k
        k += l
    }
    if k == s.n && wholeTrailingRun { return k }
    if crlfEnd >= 0 { return crlfEnd }
    if k == s.n { return k }
    return last > i ? last : k
}
