import Synchronization
/// A byte-level BPE tokenizer: a vocabulary of ranked byte strings, a pre-tokenizer and special tokens.
///
/// A `Tokenizer` is immutable and `Sendable`: load it once and share it between any number of tasks. Each
/// `encode` call borrows warm scratch memory (piece cache included) from a pool the tokenizer keeps, so repeated
/// calls on short strings stay cheap; for a tight loop on one thread, `makeEncoder()` gives a `TokenEncoder` of
/// your own.
///
/// ```swift
/// let tok = try Tokenizer.load(name: "cl100k_base")
/// let ids = try tok.encode("Hello, world!")          // [9906, 11, 1917, 0]
/// let text = try tok.decodeString(ids)               // "Hello, world!"
/// ```
public final class Tokenizer: Sendable {
    /// A short name (the shipped name, or the vocabulary file's base name).
    public let name: String
    /// Token bytes to rank (= id) for ordinary tokens.
    public let ranks: RankTable
    /// Splits text into pieces before BPE.
    public let preTokenizer: any PreTokenizer
    /// The pre-tokenization regular expression, as given.
    public let pattern: String
    /// Special tokens and their ids.
    public let specialTokens: SpecialTokens
    /// Applied to text before anything else when set (a vocabulary trained on normalized text). Offsets reported
    /// by `encodeWithOffsets` then refer to the normalized text.
    public let normalizer: (any TextNormalizer)?
    /// BPE tables shared by every encoder of this tokenizer.
    public let model: BPEModel
    /// Idle BPE scratch (piece cache, merge buffers) for `withEncoder`. It holds `BytePairEncoder`s, which do not
    /// point back to the tokenizer, so there is no reference cycle.
    private let idle = Mutex<[UncheckedBPE]>([])
    private struct UncheckedBPE: @unchecked Sendable { let bpe: BytePairEncoder }

    /// Number of ids, ordinary and special: one more than the largest id.
    public var vocabularySize: Int {
        max(ranks.rankLimit, specialTokens.entries.last.map { Int($0.id) + 1 } ?? 0)
    }

    /// A tokenizer from its parts; `Tokenizer.load(name:)` and `load(contentsOf:)` build one from a shipped or
    /// `.tiktoken` vocabulary. `pattern` is only recorded: `preTokenizer` is what splits text.
    public init(name: String, ranks: RankTable, pattern: String, preTokenizer: any PreTokenizer,
                specialTokens: SpecialTokens, normalizer: (any TextNormalizer)? = nil) {
        self.name = name
        self.normalizer = normalizer
        self.ranks = ranks
        self.pattern = pattern
        self.preTokenizer = preTokenizer
        self.specialTokens = specialTokens
        self.model = BPEModel(table: ranks)
    }

    private init(_ t: Tokenizer, normalizer: (any TextNormalizer)?, specialTokens: SpecialTokens? = nil) {
        name = t.name
        self.normalizer = normalizer
        ranks = t.ranks
        pattern = t.pattern
        preTokenizer = t.preTokenizer
        self.specialTokens = specialTokens ?? t.specialTokens
        model = t.model
    }

    /// This tokenizer, sharing its tables, with its special tokens treated as tiktoken's
    /// `encode(text, allowed_special=allowed, disallowed_special=...)` treats them when it encodes with
    /// `special: .allow`: `allowed` become their ids, the others are ordinary text (`others: .plain`) or an error
    /// (`.error`, tiktoken's default). See `SpecialTokens.selecting`.
    public func selectingSpecialTokens(allowed: some Sequence<String>, others: SpecialTokenPolicy) throws(VocabularyError) -> Tokenizer {
        Tokenizer(self, normalizer: normalizer, specialTokens: try specialTokens.selecting(allowed: allowed, others: others))
    }

    /// This tokenizer without its normalizer, sharing its tables (itself when it has none): for callers that
    /// normalize the text themselves, such as a stream normalized as it is read.
    public var withoutNormalizer: Tokenizer {
        normalizer == nil ? self : Tokenizer(self, normalizer: nil)
    }

    // MARK: Encoding

    /// Encodes `text`. With `.plain` (the default) special-token strings are ordinary text; with `.allow` they
    /// become special ids; with `.error` their presence throws `SpecialTokenFound`.
    public func encode(_ text: String, special: SpecialTokenPolicy = .plain) throws(SpecialTokenFound) -> [UInt32] {
        var t = text
        let r = t.withUTF8 { b in Result { () throws(SpecialTokenFound) -> [UInt32] in try encode(bytes: b, special: special) } }
        return try r.get()
    }

    /// Encodes UTF-8 bytes (invalid sequences are encoded as raw bytes, which decode back unchanged).
    public func encode(bytes: UnsafeBufferPointer<UInt8>, special: SpecialTokenPolicy = .plain) throws(SpecialTokenFound) -> [UInt32] {
        let r = withEncoder { e in Result { () throws(SpecialTokenFound) -> [UInt32] in try e.ids(bytes, special: special) } }
        return try r.get()
    }

    /// Encodes `bytes` and returns the ids.
    public func encode(bytes: [UInt8], special: SpecialTokenPolicy = .plain) throws(SpecialTokenFound) -> [UInt32] {
        let r = bytes.withUnsafeBufferPointer { b in Result { () throws(SpecialTokenFound) -> [UInt32] in try encode(bytes: b, special: special) } }
        return try r.get()
    }

    /// Number of tokens of `text` with special strings as ordinary text (after the normalizer, if any, as
    /// `encode` does).
    public func count(_ text: String) -> Int {
        var t = text
        return t.withUTF8 { b in withEncoder { $0.count(b) } }
    }

    /// A reusable single-thread encoder sharing this tokenizer's tables.
    public func makeEncoder() -> TokenEncoder { TokenEncoder(self, bpe: BytePairEncoder(model: model)) }

    /// Frees the pooled scratch memory.
    public func releaseScratch() { idle.withLock { $0.removeAll() } }

    /// Empties the piece and pair caches of the pooled encoders, keeping their memory, and forgets what the model
    /// learnt from text (which tokens merges reach, whether cutting pieces pays): the next encode computes every
    /// piece afresh, as on a new instance. Benchmarks call this between timed runs. Safe while other threads
    /// encode (they get the same ids; what they learn meanwhile may be forgotten).
    public func clearCaches() {
        idle.withLock { for e in $0 { e.bpe.clearCaches() } }
        model.forgetLearnedFacts()
    }

    /// Runs `body` with an encoder that no other thread is using, built on pooled scratch memory that goes back
    /// to the pool afterwards (so its piece cache stays warm across calls). The encoder must not be used after
    /// `body` returns (another call may be using its scratch memory by then): for an encoder of your own, use
    /// `makeEncoder()`.
    public func withEncoder<R>(_ body: (TokenEncoder) throws -> R) rethrows -> R {
        let bpe = idle.withLock { $0.popLast() }?.bpe ?? BytePairEncoder(model: model)
        defer { idle.withLock { $0.append(UncheckedBPE(bpe: bpe)) } }
        return try body(TokenEncoder(self, bpe: bpe))
    }

    // MARK: Decoding

    /// The bytes of token `id` (ordinary or special), or nil for an id with no token. The buffer points into
    /// this tokenizer's tables, without a copy: it is valid only while the tokenizer is alive (keep a reference
    /// to it, or copy with `bytes(of:)`).
    public func tokenBytes(_ id: UInt32) -> UnsafeBufferPointer<UInt8>? {
        ranks.bytes(ofRank: id) ?? specialTokens.bytes(of: id)
    }

    /// A copy of the bytes of token `id` (ordinary or special), or nil for an id with no token.
    public func bytes(of id: UInt32) -> [UInt8]? {
        tokenBytes(id).map { Array($0) }
    }

    /// The concatenated bytes of `ids`. Throws `UnknownTokenID` with the position of the first id with no token.
    public func decode(_ ids: [UInt32]) throws(UnknownTokenID) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for (i, id) in ids.enumerated() {
            guard let b = tokenBytes(id) else { throw UnknownTokenID(id: id, position: i) }
            out.append(contentsOf: b)
        }
        return out
    }

    /// The text of `ids`, with invalid UTF-8 (a character cut between tokens at the end, say) replaced by U+FFFD.
    public func decodeString(_ ids: [UInt32]) throws(UnknownTokenID) -> String {
        String(decoding: try decode(ids), as: UTF8.self)
    }
}

/// An id that is neither an ordinary nor a special token.
public struct UnknownTokenID: Error, CustomStringConvertible, Sendable {
    /// The id.
    public var id: UInt32
    /// 0-based index of the id in the input sequence.
    public var position: Int
    public var description: String { "unknown token id \(id) at position \(position)" }
}

/// A special-token string found in input under `SpecialTokenPolicy.error`, or one that a selection refuses (see
/// `SpecialTokens.selecting`).
public struct SpecialTokenFound: Error, CustomStringConvertible, Sendable {
    /// The special token's text.
    public var token: String
    /// Byte offset of the special string in the input that was encoded.
    public var offset: Int
    public var description: String { "special token \(JSONValue.quote(token)) at byte offset \(offset)" }
}

/// Encodes on one thread with reusable scratch memory. Make one per thread with `Tokenizer.makeEncoder()`.
/// (Not named `Encoder`, which would hide Swift's `Codable` protocol in every file that imports TokCore.)
public final class TokenEncoder {
    /// The tokenizer this encoder encodes for.
    public let tokenizer: Tokenizer
    @usableFromInline let bpe: BytePairEncoder
    @usableFromInline let pre: any PreTokenizer

    init(_ t: Tokenizer, bpe: BytePairEncoder) {
        tokenizer = t
        self.bpe = bpe
        pre = t.preTokenizer
    }

    /// Appends the tokens of `text` to `out`, treating special strings per `special`.
    /// `baseOffset` is added to offsets reported in errors. With a normalizer, special strings are found in the
    /// text as given and the text between them is normalized (as HF matches its added tokens before normalizing:
    /// a special token that normalization would change, such as DeepSeek's fullwidth "｜", is still found).
    public func encode(_ text: UnsafeBufferPointer<UInt8>, special: SpecialTokenPolicy, into out: inout TokenBuffer,
                       baseOffset: Int = 0) throws(SpecialTokenFound) {
        try splitAtSpecialTokens(text, special: special, baseOffset: baseOffset,
                                 ordinary: { encodeNormalizingOrdinary($0, into: &out) },
                                 matched: { id, _ in out.append(id) })
    }

    /// Splits `text` where `special` matches special tokens: `ordinary` gets each stretch of text between them
    /// (the whole text under `.plain` or without special tokens), `matched` each one's id and length, in order.
    /// Throws for a refused one.
    @inline(__always)
    func splitAtSpecialTokens(_ text: UnsafeBufferPointer<UInt8>, special: SpecialTokenPolicy, baseOffset: Int,
                              ordinary: (UnsafeBufferPointer<UInt8>) -> Void,
                              matched: (_ id: UInt32, _ length: Int) -> Void) throws(SpecialTokenFound) {
        // Plain first: reading `specialTokens` copies the struct (a retain per field), which `--lines` would pay on
        // every line.
        if special == .plain {
            ordinary(text)
            return
        }
        let specials = tokenizer.specialTokens
        if specials.isEmpty {
            ordinary(text)
            return
        }
        if special == .allow, let r = specials.firstRefused(in: text, from: 0, end: text.count) {
            throw SpecialTokenFound(token: r.text, offset: baseOffset + r.start)
        }
        var start = 0
        while let m = specials.firstMatch(in: text, from: start, end: text.count) {
            if special == .error || specials.refuses(entry: m.entry) {
                let s = String(decoding: UnsafeBufferPointer(rebasing: text[m.start..<(m.start + m.length)]), as: UTF8.self)
                throw SpecialTokenFound(token: s, offset: baseOffset + m.start)
            }
            if m.start > start { ordinary(UnsafeBufferPointer(rebasing: text[start..<m.start])) }
            matched(m.id, m.length)
            start = m.start + m.length
        }
        if start < text.count { ordinary(UnsafeBufferPointer(rebasing: text[start...])) }
    }

    /// The ids of `text`, treating special strings per `special`.
    func ids(_ text: UnsafeBufferPointer<UInt8>, special: SpecialTokenPolicy) throws(SpecialTokenFound) -> [UInt32] {
        // Real text averages 3-4 bytes per token; text in other scripts can be below 3. The ids go straight into the
        // result's storage (pages of it that are never written cost no memory); only text of more than one token
        // per two bytes (random bytes) outgrows it and is copied once.
        var spilled: [UInt32]? = nil
        let ids = try [UInt32](unsafeUninitializedCapacity: text.count / 2 + 16) { (dst: inout UnsafeMutableBufferPointer<UInt32>, n: inout Int) throws(SpecialTokenFound) in
            var out = TokenBuffer(writingInto: dst)
            n = 0
            try encode(text, special: special, into: &out)
            if out.wroteInPlace { n = out.count } else { spilled = out.array }
        }
        return spilled ?? ids
    }

    /// Appends the tokens of `text` to `out`, special strings being ordinary text. No normalizer is applied
    /// (`encodeNormalizingOrdinary` applies it).
    public func encodeOrdinary(_ text: UnsafeBufferPointer<UInt8>, into out: inout TokenBuffer) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        let bpe = self.bpe
        var s = 0
        pre.forEachBatch(text) { batch in
            bpe.encodePieces(base, from: s, ends: batch, textCount: text.count, into: &out)
            s = batch[batch.count - 1]
        }
    }

    /// Appends the tokens of `text` to `out` given its pieces (`pieceEnds`, the exclusive end of every piece, in
    /// order, the last being `text.count`), as found by this tokenizer's pre-tokenizer or one that splits the same
    /// way: for callers that have the pieces already. No normalizer is applied.
    public func encodeOrdinary(_ text: UnsafeBufferPointer<UInt8>, pieceEnds: UnsafeBufferPointer<Int>, into out: inout TokenBuffer) {
        guard let base = text.baseAddress, text.count > 0, !pieceEnds.isEmpty else { return }
        bpe.encodePieces(base, from: 0, ends: pieceEnds, textCount: text.count, into: &out)
    }

    /// Appends the tokens of `text` to `out` and records, for each token, the byte offsets where it starts and
    /// ends (counted from `baseOffset`, which is also added to offsets reported in errors). Special strings are
    /// treated per `special`; a special token spans the string matched, which is not always the string its id
    /// decodes to (two strings may share an id, see `SpecialTokens`).
    public func encodeWithOffsets(_ text: UnsafeBufferPointer<UInt8>, special: SpecialTokenPolicy,
                                  into out: inout TokenBuffer, starts: inout [Int], ends: inout [Int],
                                  baseOffset: Int = 0) throws(SpecialTokenFound) {
        // Ordinary tokens tile the (normalized) text, so their offsets follow from their lengths.
        var pos = baseOffset
        func ordinary(_ stretch: UnsafeBufferPointer<UInt8>) {
            let before = out.count
            encodeNormalizingOrdinary(stretch, into: &out)
            let ids = out.ids
            for k in before..<out.count {
                starts.append(pos)
                pos += tokenizer.tokenBytes(ids[k])?.count ?? 0
                ends.append(pos)
            }
        }
        try splitAtSpecialTokens(text, special: special, baseOffset: baseOffset, ordinary: ordinary,
                                 matched: { id, length in
                                     out.append(id)
                                     starts.append(pos)
                                     pos += length
                                     ends.append(pos)
                                 })
    }

    /// Number of tokens of `text`, special strings being ordinary text (normalized first, as `encode` does).
    public func count(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var out = TokenBuffer(capacity: text.count / 3 + 16)
        encodeNormalizingOrdinary(text, into: &out)
        return out.count
    }

    /// `encodeOrdinary` after the tokenizer's normalizer, if any. In text that is not well-formed UTF-8 (kept as
    /// bytes), each well-formed run between bytes that are not is normalized on its own and those bytes are kept
    /// as they are; text the normalizer refuses otherwise is encoded as it is.
    public func encodeNormalizingOrdinary(_ text: UnsafeBufferPointer<UInt8>, into out: inout TokenBuffer) {
        guard let n = tokenizer.normalizer else { return encodeOrdinary(text, into: &out) }
        if let normalized = try? n.normalize(text) {
            return normalized.withUnsafeBufferPointer { encodeOrdinary($0, into: &out) }
        }
        guard var bad = firstInvalidUTF8Offset(text) else { return encodeOrdinary(text, into: &out) }
        // Normalizing only where it could not take the text (one bad byte had left a whole segment unnormalized).
        var joined: [UInt8] = []
        joined.reserveCapacity(text.count + text.count / 8)
        var start = 0
        while true {
            if bad > start {
                let run = UnsafeBufferPointer(rebasing: text[start..<bad])
                if let normalized = try? n.normalize(run) { joined += normalized } else { joined += run }
            }
            if bad == text.count { break }
            joined.append(text[bad])
            start = bad + 1
            bad = firstInvalidUTF8Offset(UnsafeBufferPointer(rebasing: text[start...])).map { start + $0 } ?? text.count
        }
        joined.withUnsafeBufferPointer { encodeOrdinary($0, into: &out) }
    }
}
