/// The GPT-2 pre-tokenizer (tiktoken `r50k_base`, `p50k_base`), equivalent to
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
///
/// A hand-written byte scanner: no allocation per piece, linear time on any input. Invalid UTF-8 bytes are
/// one-byte characters that are neither letters, numbers nor white space.
public struct GPT2Scanner: PreTokenizer, PieceScanner {
    public init() {}

    public var cutRule: SafeCut.Rule? { .gpt2 }

    public func split(_ text: UnsafeBufferPointer<UInt8>, into ends: inout [Int]) {
        splitPieces(text, into: &ends)
    }

    public func forEachBatch(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<Int>) -> Void) {
        forEachPieceBatch(text, body)
    }

    /// The exclusive end of the piece that starts at byte offset `start` (`0 <= start < text.count`).
    public func pieceEnd(in text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        checkedPieceEnd(text, start)
    }

    @inline(__always)
    func pieceEnd(_ s: ScanText, _ i: Int) -> Int {
        let b = s.p[i]
        let a = s.ascii(b)
        if a & CharClass.letter != 0 { return s.letterRun(i &+ 1) }
        let c: UInt8, l: Int
        if a & CharClass.multi == 0 {
            // ASCII fast paths, with the alternatives that cannot match left out.
            let j = i &+ 1
            if b == 0x20 && j < s.n {
                let (c2, l2) = s.char(j)
                if c2 & CharClass.letter != 0 { return s.letterRun(j &+ l2) }
                if c2 & CharClass.number != 0 { return s.run(j &+ l2, any: CharClass.number) }
                if c2 & CharClass.lns == 0 { return s.run(j &+ l2, none: CharClass.lns) }
            }
            if a & CharClass.space == 0 {
                if a & CharClass.number != 0 { return s.run(j, any: CharClass.number) }
                if b == 0x27 {
                    let e = s.contractionExact(j)
                    if e >= 0 { return e }
                }
                return s.run(j, none: CharClass.lns)
            }
            (c, l) = (a, 1)
        } else {
            (c, l) = s.decode(i)
            let j = i &+ l
            if c & CharClass.letter != 0 { return s.letterRun(j) }
            if c & CharClass.number != 0 { return s.run(j, any: CharClass.number) }
            if c & CharClass.lns == 0 { return s.run(j, none: CharClass.lns) }
        }
        // White space: `\s+(?!\S)` leaves the run's last character for the next piece if a non-space follows
        // (unless the run is that one character: then `\s+` takes it).
        var k = i &+ l, last = i
        while k < s.n {
            if k &+ 8 <= s.n && UnsafeRawPointer(s.p + k).loadUnaligned(as: UInt64.self) == 0x2020_2020_2020_2020 {
                last = k &+ 7
                k &+= 8
                continue
            }
            let (c2, l2) = s.char(k)
            if c2 & CharClass.space == 0 { break }
            last = k
            k &+= l2
        }
        if k == s.n { return k }
        return last > i ? last : k
    }
}
