// Implementation-only: see ICUWordBreakPreTokenizer.swift.
@_implementationOnly import CICU

/// Character properties from ICU, for metrics that look at what tokens are made of.
public enum UnicodeProperties {
    /// ICU's `UScriptCode` of a code point: 0 is Common (punctuation, digits, symbols, spaces), 1 is Inherited
    /// (combining marks that take the script of their base), 103 is Unknown; every other value is a real script.
    public static func script(of codePoint: UInt32) -> Int32 {
        var status = U_ZERO_ERROR
        let s = cicu_getScript(UChar32(bitPattern: codePoint), &status)
        return status.rawValue > 0 ? 103 : Int32(s.rawValue)
    }

    /// The coarse class of a code point: letters and marks, numbers, white space (White_Space), or other
    /// (punctuation, symbols, controls, unassigned).
    public enum CharacterKind: UInt8, Sendable {
        case letter, number, space, other
    }

    /// The `CharacterKind` of a code point.
    public static func kind(of codePoint: UInt32) -> CharacterKind {
        let c = UChar32(bitPattern: codePoint)
        if cicu_hasBinaryProperty(c, UCHAR_WHITE_SPACE) != 0 { return .space }
        switch Int32(cicu_charType(c)) {
        case Int32(U_UPPERCASE_LETTER.rawValue), Int32(U_LOWERCASE_LETTER.rawValue), Int32(U_TITLECASE_LETTER.rawValue),
             Int32(U_MODIFIER_LETTER.rawValue), Int32(U_OTHER_LETTER.rawValue), Int32(U_NON_SPACING_MARK.rawValue),
             Int32(U_ENCLOSING_MARK.rawValue), Int32(U_COMBINING_SPACING_MARK.rawValue):
            return .letter
        case Int32(U_DECIMAL_DIGIT_NUMBER.rawValue), Int32(U_LETTER_NUMBER.rawValue), Int32(U_OTHER_NUMBER.rawValue):
            return .number
        default:
            return .other
        }
    }
}
