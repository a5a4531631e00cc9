/// The pre-tokenization patterns of the shipped vocabularies, each with a hand-written scanner that splits
/// exactly like the regular expression with Unicode 16.0 character classes, as in tiktoken (tested against ICU,
/// which is Unicode 15.0 in ICU 72, on all other characters, and against tiktoken).
public enum StandardPattern: String, CaseIterable, Sendable {
    /// GPT-2, tiktoken `r50k_base` and `p50k_base`.
    case gpt2
    /// tiktoken `cl100k_base`.
    case cl100k
    /// tiktoken `o200k_base`.
    case o200k
    /// Meta Llama 3 (the pre-possessive form of cl100k's pattern).
    case llama3

    /// The regular expression, exactly as tiktoken's `pat_str` (Llama 3: as in Meta's tokenizer.py).
    public var patternString: String {
        switch self {
        case .gpt2:
            return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .cl100k:
            return #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"#
        case .o200k:
            return #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        }
    }

    /// The same splits in the syntax of Oniguruma, HF `tokenizers`' regex engine, which reads cl100k's possessive
    /// `\p{N}{1,3}+` as "one or more" and its `$` as the end of any line: there cl100k is Llama 3's pattern with the
    /// end-of-text branch (`\s+\z`) that tells the two apart (white space ending with a line break and more white
    /// space at the end of a text is one piece in cl100k, two in Llama 3).
    public var oniguramaPatternString: String {
        guard self == .cl100k else { return patternString }
        return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+\z|\s*[\r\n]+|\s+(?!\S)|\s+"#
    }

    /// Recognizes a pattern string: each case's `patternString` exactly. The non-possessive form of cl100k's
    /// pattern is the same string as Llama 3's and gives `.llama3`; it differs from `.cl100k` only for white
    /// space at the end of the text (see `Llama3Scanner`).
    public init?(pattern: String) {
        guard let p = StandardPattern.allCases.first(where: { $0.patternString == pattern }) else { return nil }
        self = p
    }

    /// The scanner for this pattern.
    public var preTokenizer: any PreTokenizer { scanner }

    /// The cuts this pattern allows (`SafeCut`).
    public var cutRule: SafeCut.Rule { self == .gpt2 ? .gpt2 : .standard }

    /// The scanner for this pattern as a concrete enum, for callers that want to avoid an existential.
    public var scanner: StandardScanner {
        switch self {
        case .gpt2: return .gpt2(GPT2Scanner())
        case .cl100k: return .cl100k(Cl100kScanner())
        case .o200k: return .o200k(O200kScanner())
        case .llama3: return .llama3(Llama3Scanner())
        }
    }
}

/// One of the standard scanners, dispatched with a switch instead of a witness table.
public enum StandardScanner: PreTokenizer {
    case gpt2(GPT2Scanner)
    case cl100k(Cl100kScanner)
    case o200k(O200kScanner)
    case llama3(Llama3Scanner)

    public func split(_ text: UnsafeBufferPointer<UInt8>, into ends: inout [Int]) {
        switch self {
        case .gpt2(let s): s.split(text, into: &ends)
        case .cl100k(let s): s.split(text, into: &ends)
        case .o200k(let s): s.split(text, into: &ends)
        case .llama3(let s): s.split(text, into: &ends)
        }
    }

    public func forEachBatch(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<Int>) -> Void) {
        switch self {
        case .gpt2(let s): s.forEachBatch(text, body)
        case .cl100k(let s): s.forEachBatch(text, body)
        case .o200k(let s): s.forEachBatch(text, body)
        case .llama3(let s): s.forEachBatch(text, body)
        }
    }

    public var cutRule: SafeCut.Rule? {
        if case .gpt2 = self { return .gpt2 }
        return .standard
    }

    /// The exclusive end of the piece that starts at byte offset `start` (`0 <= start < text.count`).
    public func pieceEnd(in text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        switch self {
        case .gpt2(let s): return s.pieceEnd(in: text, from: start)
        case .cl100k(let s): return s.pieceEnd(in: text, from: start)
        case .o200k(let s): return s.pieceEnd(in: text, from: start)
        case .llama3(let s): return s.pieceEnd(in: text, from: start)
        }
    }
}
