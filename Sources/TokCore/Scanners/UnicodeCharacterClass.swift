/// The character classes that the standard pre-tokenizers distinguish, as the scanners see them (generated from
/// Unicode 16.0, the version tiktoken 0.14's regex engine follows). The system ICU 72 is Unicode 15.0, so
/// `ICURegexPreTokenizer` (`--pretokenizer icu-regex`) differs from the scanners on the characters added in
/// Unicode 15.1 and 16.0. Unassigned code points have none.
public struct UnicodeCharacterClass: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `\p{L}`
    public static let letter = UnicodeCharacterClass(rawValue: CharClass.letter)
    /// `\p{N}`
    public static let number = UnicodeCharacterClass(rawValue: CharClass.number)
    /// White_Space, the `\s` of ICU and Rust regex (includes U+000B, U+0085, U+00A0, U+2028, U+3000 ...).
    public static let whiteSpace = UnicodeCharacterClass(rawValue: CharClass.space)
    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`, the "upper" class of the o200k pattern.
    public static let o200kUpper = UnicodeCharacterClass(rawValue: CharClass.upper)
    /// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`, the "lower" class of the o200k pattern.
    public static let o200kLower = UnicodeCharacterClass(rawValue: CharClass.lower)
    /// `\p{M}`
    public static let mark = UnicodeCharacterClass(rawValue: CharClass.mark)

    /// The classes of a code point (none for surrogates and values above U+10FFFF).
    public init(codePoint: UInt32) {
        guard codePoint <= 0x10FFFF, codePoint & 0x1FF800 != 0xD800 else {
            self.init(rawValue: 0)
            return
        }
        self.init(rawValue: ClassTable.shared.bits(ofScalar: codePoint))
    }

    /// The Unicode version of the tables.
    public static var unicodeVersion: String { UnicodeClassTables.unicodeVersion }
}
