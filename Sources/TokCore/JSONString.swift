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

    /// The most bytes `writeQuoted` writes for `count` input bytes: a control character becomes six (`\u001f`).
    @inlinable
    public static func quotedCapacity(_ count: Int) -> Int { 6 &* count &+ 2 }

    /// Writes `bytes` as a JSON string literal at `out` (room for `quotedCapacity(bytes.count)` bytes) and returns
    /// how many bytes it wrote (`JSONValue.quote` of a `String` is this over its UTF-8). Each maximal subpart of
    /// ill-formed UTF-8 becomes U+FFFD; `"` and `\` are escaped, LF, CR and TAB in JSON's short form, other C0
    /// controls, DEL, C1 controls and U+2028/U+2029 as `\u` escapes, so a record stays on one line for readers that
    /// split on any Unicode line break.
    public static func writeQuoted(_ bytes: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var w = out
        w.pointee = 0x22
        w += 1
        guard let p = bytes.baseAddress else { w.pointee = 0x22; return 2 }
        let n = bytes.count
        var i = 0
        while i < n {
            let b = p[i]
            if b < 0x80 {
                i &+= 1
                if b >= 0x20 && b != 0x22 && b != 0x5C && b != 0x7F {
                    w.pointee = b
                    w += 1
                    continue
                }
                w[0] = 0x5C
                switch b {
                case 0x22, 0x5C: w[1] = b; w += 2
                case 0x0A: w[1] = UInt8(ascii: "n"); w += 2
                case 0x0D: w[1] = UInt8(ascii: "r"); w += 2
                case 0x09: w[1] = UInt8(ascii: "t"); w += 2
                default: w += writeUnicodeEscape(UInt16(b), at: w)
                }
                continue
            }
            switch checkSequence(p, at: i, end: n) {
            case .valid(let l):
                if l == 2 && b == 0xC2 && p[i &+ 1] < 0xA0 {
                    w += writeUnicodeEscape(UInt16(p[i &+ 1]), at: w)   // U+0080...U+009F
                } else if l == 3 && b == 0xE2 && p[i &+ 1] == 0x80 && p[i &+ 2] & 0xFE == 0xA8 {
                    w += writeUnicodeEscape(0x2000 | UInt16(p[i &+ 2] & 0x3F), at: w)   // U+2028, U+2029
                } else {
                    w.update(from: p + i, count: l)
                    w += l
                }
                i &+= l
            case .invalid(let l), .truncated(let l):
                w[0] = 0xEF; w[1] = 0xBF; w[2] = 0xBD
                w += 3
                i &+= l
            }
        }
        w.pointee = 0x22
        return w + 1 - out
    }

    /// Writes `\u` and `v` as four lower-case hex digits at `w`; returns 6.
    @inline(__always)
    static func writeUnicodeEscape(_ v: UInt16, at w: UnsafeMutablePointer<UInt8>) -> Int {
        let hex: StaticString = "0123456789abcdef"
        w[0] = 0x5C
        w[1] = UInt8(ascii: "u")
        hex.withUTF8Buffer { h in
            w[2] = h[Int(v >> 12)]; w[3] = h[Int(v >> 8 & 0xF)]; w[4] = h[Int(v >> 4 & 0xF)]; w[5] = h[Int(v & 0xF)]
        }
        return 6
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
