/// Decoding of one JSON string literal to UTF-8, shared by the document parser (`JSONValue.parse`) and readers that
/// pull single fields out of records without building a tree.
public enum JSONString {
    /// What to do with a `\u` escape that is half of a surrogate pair without its other half.
    public enum LoneSurrogates: Sendable {
        /// Decode it as U+FFFD, as most JSON readers do.
        case replace
        /// Throw: the text cannot be represented as UTF-8.
        case reject
    }

    /// Decodes the string literal whose opening quote is at `i` in `b`, appends its UTF-8 to `out` and leaves `i`
    /// just after the closing quote. Bytes between escapes are copied as they are, without UTF-8 validation.
    /// Throws with `offset` at the failing byte, or at the backslash of a bad escape.
    public static func decode(_ b: UnsafeBufferPointer<UInt8>, at i: inout Int, into out: inout [UInt8],
                              loneSurrogates: LoneSurrogates) throws(JSONError) {
        func fail(_ reason: String) -> JSONError { JSONError(offset: i, reason: reason) }
        var escapeAt = 0
        func escapeFail(_ reason: String) -> JSONError { JSONError(offset: escapeAt, reason: reason) }
        func hex4() throws(JSONError) -> UInt32 {
            guard i + 4 <= b.count else { throw escapeFail("truncated \\u escape") }
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = b[i + k], d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw escapeFail("invalid \\u escape")
                }
                v = v << 4 | d
            }
            i += 4
            return v
        }

        i += 1
        while true {
            var j = i
            while j < b.count, b[j] != 0x22, b[j] != 0x5C, b[j] >= 0x20 { j += 1 }
            if j > i { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<j])) }
            i = j
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == 0x22 { i += 1; return }
            if c < 0x20 { throw fail("control character in a string") }
            // A backslash escape.
            escapeAt = i
            i += 1
            guard i < b.count else { throw fail("unterminated string") }
            let e = b[i]
            i += 1
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var cp = try hex4()
                if cp >= 0xD800 && cp < 0xDC00, i + 6 <= b.count, b[i] == 0x5C, b[i + 1] == UInt8(ascii: "u") {
                    let save = i, firstEscape = escapeAt
                    escapeAt = i
                    i += 2
                    let lo = try hex4()
                    if lo >= 0xDC00 && lo < 0xE000 { cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00) } else { i = save }
                    escapeAt = firstEscape
                }
                if cp >= 0xD800 && cp < 0xE000 {
                    if loneSurrogates == .reject { throw escapeFail("lone surrogate in a \\u escape") }
                    cp = 0xFFFD
                }
                appendUTF8(cp, to: &out)
            default:
                throw escapeFail("invalid escape")
            }
        }
    }

    /// Appends the UTF-8 of the scalar value `cp` (not a surrogate, at most 0x10FFFF).
    static func appendUTF8(_ cp: UInt32, to out: inout [UInt8]) {
        if cp < 0x80 {
            out.append(UInt8(cp))
        } else if cp < 0x800 {
            out.append(UInt8(0xC0 | cp >> 6)); out.append(UInt8(0x80 | cp & 0x3F))
        } else if cp < 0x10000 {
            out.append(UInt8(0xE0 | cp >> 12)); out.append(UInt8(0x80 | (cp >> 6) & 0x3F)); out.append(UInt8(0x80 | cp & 0x3F))
        } else {
            out.append(UInt8(0xF0 | cp >> 18)); out.append(UInt8(0x80 | (cp >> 12) & 0x3F))
            out.append(UInt8(0x80 | (cp >> 6) & 0x3F)); out.append(UInt8(0x80 | cp & 0x3F))
        }
    }
}
