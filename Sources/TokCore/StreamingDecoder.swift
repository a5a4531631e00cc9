/// Turns a stream of token ids into UTF-8 text, one id at a time, never emitting part of a character.
///
/// Byte-level tokens can end in the middle of a multi-byte character; the decoder holds such an incomplete tail
/// back until the tokens that complete it arrive, so every chunk it returns is valid UTF-8 on its own (what a
/// chat UI or a pipe consumer needs). Bytes that can never form a character are an error, or, when `lossy`,
/// are replaced by U+FFFD following the Unicode "maximal subpart" practice (the same output as Python's
/// `bytes.decode("utf-8", errors="replace")`).
public struct StreamingDecoder: Sendable {
    /// Whose tokens the ids name.
    public let tokenizer: Tokenizer
    /// Whether invalid UTF-8 becomes U+FFFD instead of a `Failure`.
    public let lossy: Bool
    private var pending: [UInt8] = []   // an incomplete but so far valid character, at most 3 bytes
    private var idsSeen = 0
    /// The 0-based position of the id whose bytes began the character still incomplete, if any: after an
    /// `invalidUTF8` failure, where the broken character starts (the failure's position is where it was found).
    public private(set) var incompleteCharacterStart: Int?

    /// A decoder at the start of a stream.
    public init(tokenizer: Tokenizer, lossy: Bool = false) {
        self.tokenizer = tokenizer
        self.lossy = lossy
    }

    /// Why decoding stopped.
    public enum Failure: Error, CustomStringConvertible, Sendable {
        /// An id with no token, at this 0-based position in the id stream.
        case unknownID(id: UInt32, position: Int)
        /// Invalid UTF-8 produced by the token at this position (or, at the end, an incomplete character).
        case invalidUTF8(position: Int, atEnd: Bool)

        public var description: String {
            switch self {
            case .unknownID(let id, let pos): return "unknown token id \(id) at position \(pos)"
            case .invalidUTF8(let pos, false): return "token at position \(pos) produces invalid UTF-8"
            case .invalidUTF8(let pos, true): return "the ids end in the middle of a UTF-8 character (last token at position \(pos))"
            }
        }
    }

    /// Decodes one more id and appends the text completed by it to `out`.
    public mutating func append(_ id: UInt32, to out: inout [UInt8]) throws(Failure) {
        let position = idsSeen
        idsSeen += 1
        guard let bytes = tokenizer.tokenBytes(id) else { throw .unknownID(id: id, position: position) }
        if pending.isEmpty {
            // Fast path: a token that is all ASCII, or whole characters, needs no state.
            var ascii = true
            for b in bytes where b >= 0x80 { ascii = false; break }
            if ascii || isValidUTF8(bytes) { out.append(contentsOf: bytes); return }
        }
        for b in bytes { try feed(b, to: &out, position: position) }
    }

    /// Ends the stream: an incomplete trailing character is an error, or U+FFFD when lossy.
    public mutating func finish(to out: inout [UInt8]) throws(Failure) {
        if pending.isEmpty { return }
        if !lossy { throw .invalidUTF8(position: max(idsSeen - 1, 0), atEnd: true) }
        pending.removeAll()
        incompleteCharacterStart = nil
        out += Self.replacement
    }

    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// Expected total length of a character starting with `lead`, or 0 if `lead` cannot start one.
    @inline(__always)
    static func sequenceLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 0
        }
    }

    /// Whether `b` may follow the bytes in `prefix` (lead byte first) inside one character.
    @inline(__always)
    static func accepts(_ prefix: [UInt8], _ b: UInt8) -> Bool {
        if prefix.count == 1 {
            switch prefix[0] {
            case 0xE0: return b >= 0xA0 && b <= 0xBF
            case 0xED: return b >= 0x80 && b <= 0x9F
            case 0xF0: return b >= 0x90 && b <= 0xBF
            case 0xF4: return b >= 0x80 && b <= 0x8F
            default: return b >= 0x80 && b <= 0xBF
            }
        }
        return b >= 0x80 && b <= 0xBF
    }

    private mutating func feed(_ b: UInt8, to out: inout [UInt8], position: Int) throws(Failure) {
        if !pending.isEmpty {
            if Self.accepts(pending, b) {
                pending.append(b)
                if pending.count == Self.sequenceLength(pending[0]) {
                    out += pending
                    pending.removeAll(keepingCapacity: true)
                    incompleteCharacterStart = nil
                }
                return
            }
            // The pending prefix can never complete: it is one maximal invalid subpart.
            if !lossy { throw .invalidUTF8(position: position, atEnd: false) }
            pending.removeAll(keepingCapacity: true)
            incompleteCharacterStart = nil
            out += Self.replacement
            // b starts afresh below.
        }
        let len = Self.sequenceLength(b)
        if len == 1 { out.append(b); return }
        if len == 0 {
            if !lossy { throw .invalidUTF8(position: position, atEnd: false) }
            out += Self.replacement
            return
        }
        pending.append(b)
        incompleteCharacterStart = position
    }
}
