internal import CByteClasses

/// Class bitmasks of a 64-byte window for the block pre-tokenizers: bit k of each mask describes byte k. Classes
/// are those of `ClassTable` for ASCII bytes; every class mask is clear for bytes >= 0x80, which only `nonASCII`
/// marks. Computed by `tok_classify64` (CByteClasses), which has SIMD compares and bitmask extraction.
struct ASCIIBlockClasses {
    /// A-Z, a-z.
    var letter: UInt64
    /// 0-9.
    var digit: UInt64
    /// ASCII White_Space: U+0009...U+000D and U+0020.
    var space: UInt64
    /// CR and LF.
    var newline: UInt64
    /// U+0020 only.
    var blank: UInt64
    /// U+0027 APOSTROPHE.
    var apostrophe: UInt64
    /// A-Z.
    var upper: UInt64
    /// U+002F SOLIDUS.
    var slash: UInt64
    /// Bytes >= 0x80.
    var nonASCII: UInt64

    /// Classifies the 64 bytes at `p` (all of which must be readable).
    @inline(__always)
    init(_ p: UnsafePointer<UInt8>) {
        let c = tok_classify64(p)
        letter = c.letter
        digit = c.digit
        space = c.space
        newline = c.newline
        blank = c.blank
        apostrophe = c.apostrophe
        upper = c.upper
        slash = c.slash
        nonASCII = c.nonascii
    }
}
