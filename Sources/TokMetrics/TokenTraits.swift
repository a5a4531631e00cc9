import TokCore
import TokICU

/// What each token of a vocabulary is made of, worked out once per tokenizer: its length in bytes, whether its
/// bytes are well-formed UTF-8 on their own, and whether its characters keep to one script and to one class.
public final class TokenTraits: @unchecked Sendable {
    /// Length in bytes, by id (0 for ids with no token).
    public let length: [UInt16]
    /// The same, one byte each (255 for 255 and longer: look in `length`), so that the table the counting loop
    /// reads for every token fits in the L2 cache.
    public let shortLength: [UInt8]
    /// Ordinary tokens (the rank table's size).
    public let ordinaryCount: Int
    let tokenizer: Tokenizer
    /// Flags by id, worked out on first use (most of a vocabulary never occurs on a given text); `known` marks
    /// the ids done.
    private var cache: [UInt8]
    private static let known: UInt8 = 0x80

    /// The bytes are not well-formed UTF-8 on their own: the token holds part of a character, as byte fallback
    /// does in vocabularies that have one.
    public static let partial: UInt8 = 1
    /// The characters belong to at most one script, not counting Common and Inherited (spaces, punctuation,
    /// digits, combining marks) and the bytes of cut characters.
    public static let oneScript: UInt8 = 2
    /// The characters are of one class (letters and marks, numbers, white space, other), not counting white space
    /// in front of something else (the "Ġ" prefix of word tokens) or the bytes of cut characters.
    public static let oneClass: UInt8 = 4
    /// Only white space.
    public static let whitespace: UInt8 = 8

    /// Works out the length of every id of `tokenizer` now; the flags are worked out by `flags(_:)` on first use.
    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
        let n = tokenizer.vocabularySize
        var length = [UInt16](repeating: 0, count: n)
        for id in 0..<n { length[id] = UInt16(clamping: tokenizer.tokenBytes(UInt32(id))?.count ?? 0) }
        self.length = length
        shortLength = length.map { UInt8(min($0, 255)) }
        cache = [UInt8](repeating: 0, count: n)
        ordinaryCount = tokenizer.ranks.count
    }

    /// The flags of token `id`. Not thread-safe (it fills a cache).
    public func flags(_ id: Int) -> UInt8 {
        let c = cache[id]
        if c & Self.known != 0 { return c & ~Self.known }
        let f = tokenizer.tokenBytes(UInt32(id)).map(Self.traits(of:)) ?? 0
        cache[id] = f | Self.known
        return f
    }

    /// The flags of one token's bytes.
    public static func traits(of b: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var f: UInt8 = 0
        if !isValidUTF8(b) { f |= partial }
        // Decode the complete characters; skip bytes that do not start one (the ends of a cut character).
        var script: Int32 = -1, scripts = 0
        var kind: UnicodeProperties.CharacterKind? = nil, kinds = 0
        var sawNonSpace = false, sawAny = false
        var i = 0
        while i < b.count {
            guard let (cp, len) = decodeCharacter(b, i) else { i += 1; continue }
            i += len
            sawAny = true
            let s = UnicodeProperties.script(of: cp)
            if s > 1 && s != 103 && s != script {
                scripts += 1
                script = s
            }
            let k = UnicodeProperties.kind(of: cp)
            if k != .space { sawNonSpace = true }
            // White space before the first other character does not count.
            if !sawNonSpace { continue }
            if k != kind {
                kinds += 1
                kind = k
            }
        }
        if scripts <= 1 { f |= oneScript }
        if sawAny && !sawNonSpace { f |= whitespace }
        if kinds <= 1 { f |= oneClass }
        return f
    }

    /// The code point and length of the well-formed character at `i`, or nil.
    static func decodeCharacter(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int)? {
        let b0 = b[i]
        let len: Int
        switch b0 {
        case 0..<0x80: return (UInt32(b0), 1)
        case 0xC2...0xDF: len = 2
        case 0xE0...0xEF: len = 3
        case 0xF0...0xF4: len = 4
        default: return nil
        }
        guard i + len <= b.count, isValidUTF8(UnsafeBufferPointer(rebasing: b[i..<(i + len)])) else { return nil }
        var cp = UInt32(b0) & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07)
        for k in 1..<len { cp = cp << 6 | UInt32(b[i + k] & 0x3F) }
        return (cp, len)
    }
}
