/// The characters of the Basic Multilingual Plane that a normalizer leaves unchanged and never joins with a
/// neighbour (ICU's "normalization-inert" characters): most CJK ideographs, kana, Hangul syllables without a final,
/// Thai, most letters of other scripts. Cutting text next to one and normalizing each part gives the normalized
/// whole cut at the same place, with the character itself still on its side of the cut, so `SafeCut` can cut text
/// that a tokenizer normalizes next to such characters as well as next to ASCII.
public struct InertCharacters: Sendable {
    /// One bit per code point below U+10000.
    @usableFromInline let words: [UInt64]

    /// The set of code points below U+10000 (surrogates aside) for which `isInert` is true.
    public init(_ isInert: (UInt32) -> Bool) {
        var words = [UInt64](repeating: 0, count: 0x10000 / 64)
        for cp in UInt32(0)..<0x10000 where !(0xD800...0xDFFF).contains(cp) && isInert(cp) {
            words[Int(cp >> 6)] |= 1 << UInt64(cp & 63)
        }
        self.words = words
    }

    /// The characters in both sets.
    public func intersection(_ other: InertCharacters) -> InertCharacters {
        InertCharacters(words: zip(words, other.words).map { $0 & $1 })
    }

    /// The characters that every normalizer of `sets` leaves alone; nil (ASCII only) when there is none, or when
    /// one of them has no set.
    public static func common(_ sets: [InertCharacters?]) -> InertCharacters? {
        guard var all = sets.first ?? nil else { return nil }
        for s in sets.dropFirst() {
            guard let s else { return nil }
            all = all.intersection(s)
        }
        return all
    }

    init(words: [UInt64]) { self.words = words }

    /// Whether `cp` is in the set (never for code points above U+FFFF).
    @inlinable
    public func contains(_ cp: UInt32) -> Bool {
        cp < 0x10000 && words[Int(cp >> 6)] >> UInt64(cp & 63) & 1 != 0
    }

    /// Whether a well-formed character of two or three bytes in the set starts at `b[i]` and ends by `count`.
    @inlinable
    public func startsInert(_ b: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Bool {
        let c = b[i]
        if c >= 0xC2 && c < 0xE0 {
            guard i + 2 <= count, b[i + 1] & 0xC0 == 0x80 else { return false }
            return contains(UInt32(c & 0x1F) << 6 | UInt32(b[i + 1] & 0x3F))
        }
        guard c >= 0xE0 && c < 0xF0, i + 3 <= count, b[i + 1] & 0xC0 == 0x80, b[i + 2] & 0xC0 == 0x80 else { return false }
        let cp = UInt32(c & 0x0F) << 12 | UInt32(b[i + 1] & 0x3F) << 6 | UInt32(b[i + 2] & 0x3F)
        // Overlong forms and surrogates are not characters (and their bits are clear anyway).
        return cp >= 0x800 && contains(cp)
    }

    /// Whether a well-formed character of two or three bytes in the set ends right before `b[end]`.
    @inlinable
    public func endsInert(_ b: UnsafePointer<UInt8>, _ end: Int) -> Bool {
        if end >= 2 && b[end - 2] >= 0xC2 && b[end - 2] < 0xE0 { return startsInert(b, end - 2, end) }
        if end >= 3 && b[end - 3] >= 0xE0 && b[end - 3] < 0xF0 { return startsInert(b, end - 3, end) }
        return false
    }
}

extension InertCharacters {
    /// Whether `0 < i < count` in well-formed UTF-8 `b[0..<count]` is a place where normalizing each side alone gives
    /// the normalized whole cut there: between two ASCII characters (which never compose with each other), next to a
    /// whole character of `inert` (the normalizer's inert characters), or before one of `boundaryBefore` (its
    /// characters that never join with what precedes them; `TextNormalizer.boundaryBeforeCharacters`). A character
    /// that `b` cuts short is never next to one.
    @inlinable
    public static func isNormalizationPlace(_ b: UnsafePointer<UInt8>, _ i: Int, _ count: Int, inert: InertCharacters?,
                                            boundaryBefore: InertCharacters?) -> Bool {
        let c = b[i]
        if c < 0x80 && (b[i - 1] < 0x80 || boundaryBefore?.contains(UInt32(c)) == true) { return true }
        if let inert, inert.endsInert(b, i) || (c >= 0x80 && inert.startsInert(b, i, count)) { return true }
        return c >= 0x80 && boundaryBefore?.startsInert(b, i, count) == true
    }

    /// The last `isNormalizationPlace` in `lower..<upper` (`lower` at least 1), or nil.
    @inlinable
    public static func lastNormalizationPlace(_ b: UnsafePointer<UInt8>, from lower: Int, below upper: Int, _ count: Int,
                                              inert: InertCharacters?, boundaryBefore: InertCharacters?) -> Int? {
        var i = upper - 1
        while i >= lower {
            if isNormalizationPlace(b, i, count, inert: inert, boundaryBefore: boundaryBefore) { return i }
            i -= 1
        }
        return nil
    }
}
