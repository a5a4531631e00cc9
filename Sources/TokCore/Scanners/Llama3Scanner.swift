/// The Llama 3 pre-tokenizer, equivalent to
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
/// which is also the pre-possessive form of the cl100k pattern.
///
/// It splits like `Cl100kScanner` except for white space at the very end of the text that contains a CR/LF
/// followed by other white space: "a\n  " is "a", "\n", "  " here and "a", "\n  " with cl100k.
public struct Llama3Scanner: PreTokenizer, BlockPieceScanner {
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
        cl100kFamilyPieceEnd(s, i, wholeTrailingRun: false)
    }
}
