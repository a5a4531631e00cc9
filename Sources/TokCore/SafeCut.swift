/// Finding places where text can be cut so that encoding the parts separately gives the same tokens as
/// encoding the whole.
///
/// Two kinds of cut are used, both piece boundaries for the gpt2, cl100k, o200k and llama3 patterns and for
/// UAX #29 word breaks: right after a LF that is followed by an ASCII byte that is neither white space nor "/",
/// and right before a space that sits between two ASCII letters. No piece of those patterns extends across either
/// place, whatever comes before or after. ("/" is left out because o200k's punctuation pieces,
/// ` ?[^\s\p{L}\p{N}]+[\r\n/]*`, take the CR, LF and "/" after them: "}\n/" is one piece.)
/// User-supplied regular expressions are assumed to respect the same cuts
/// (a pattern that matches across a line break followed by text would need the whole input in one chunk).
public enum SafeCut {
    @inlinable @inline(__always)
    static func isASCIILetter(_ c: UInt8) -> Bool { (c | 0x20) &- 0x61 < 26 }

    @inlinable @inline(__always)
    static func isASCIINonSpace(_ c: UInt8) -> Bool { c < 0x80 && !(c == 0x20 || (c >= 0x09 && c <= 0x0D)) && c != 0x1C && c != 0x1D && c != 0x1E && c != 0x1F }

    /// Whether `0 < i < count` is a cut of `b[0..<count]` (reading `b[i - 1]`, `b[i]` and `b[i + 1]`), special
    /// tokens aside.
    @inlinable @inline(__always)
    public static func isCut(_ b: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Bool {
        let c = b[i]
        if b[i - 1] == 0x0A { return isASCIINonSpace(c) && c != 0x2F }
        return c == 0x20 && i + 1 < count && isASCIILetter(b[i - 1]) && isASCIILetter(b[i + 1])
    }

    /// The last cut position `c` with `lower < c < text.count` (searching back from the end), or nil.
    /// Positions whose cut would split an occurrence of a special token are skipped.
    public static func lastCut(in text: UnsafeBufferPointer<UInt8>, above lower: Int, specials: SpecialTokens? = nil) -> Int? {
        guard let b = text.baseAddress else { return nil }
        var i = text.count - 1   // candidate cut position: between i-1 and i
        while i > lower {
            if isCut(b, i, text.count) {
                if let specials, !specials.isEmpty, crossesSpecial(text, at: i, specials) {
                    i -= 1
                    continue
                }
                return i
            }
            i -= 1
        }
        return nil
    }

    static func crossesSpecial(_ text: UnsafeBufferPointer<UInt8>, at cut: Int, _ specials: SpecialTokens) -> Bool {
        let from = max(0, cut - specials.maxLength + 1)
        var s = from
        while let m = specials.firstMatch(in: text, from: s, end: min(text.count, cut + specials.maxLength)) {
            if m.start >= cut { return false }
            if m.start + m.length > cut { return true }
            s = m.start + 1
        }
        return false
    }
}
