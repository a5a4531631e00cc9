import TokCore

/// Pulls one string field out of a JSON Lines record without building a document tree: the corpus reader calls it
/// once per line, so it must cost little more than a pass over the bytes.
public enum JSONLField {
    /// Why a record could not be read; `column` is the 0-based byte offset in the line.
    public struct Failure: Error, Sendable {
        /// 0-based byte offset in the line where the record went wrong.
        public var column: Int
        /// What is wrong, for the message.
        public var reason: String
    }

    /// Appends the decoded UTF-8 of the top-level string member `field` of the object in `line` to `out` and
    /// returns true; returns false when the object has no such member or its value is `null`. A member given twice
    /// takes its last value, as Python's `json` and JavaScript's `JSON.parse` do.
    /// Throws for malformed JSON, a line that is not an object, or a member that is neither a string nor null;
    /// a lone surrogate escape in the field's value, which is not UTF-8, as `loneSurrogates` says.
    public static func extract(_ line: UnsafeBufferPointer<UInt8>, field: [UInt8], into out: inout [UInt8],
                               loneSurrogates: JSONString.LoneSurrogates = .reject) throws(Failure) -> Bool {
        var r = Reader(b: line)
        r.skipSpace()
        guard r.peek() == UInt8(ascii: "{") else { throw r.fail("expected a JSON object") }
        r.i += 1
        r.skipSpace()
        if r.peek() == UInt8(ascii: "}") { r.i += 1; try r.expectEnd(); return false }
        let base = out.count
        var found = false
        // A member of another type is an error unless a later one replaces it (the last value counts).
        var wrongType: Failure? = nil
        while true {
            r.skipSpace()
            guard r.peek() == UInt8(ascii: "\"") else { throw r.fail("expected a member name") }
            let keyStart = out.count, keyAt = r.i
            // A name with a lone surrogate escape is a name like any other (Python reads it), just never `field`,
            // which is UTF-8: it is read with U+FFFD for the surrogate, and read again strictly should it then
            // equal a field name that holds U+FFFD.
            try r.string(into: &out, loneSurrogates: .replace)
            var isField = out.count - keyStart == field.count && out[keyStart...].elementsEqual(field)
            if isField && field.contains(0xEF) {
                var strict = Reader(b: line)
                strict.i = keyAt
                var scratch: [UInt8] = []
                do { try strict.string(into: &scratch) } catch { isField = false }
            }
            out.removeSubrange(keyStart...)
            r.skipSpace()
            guard r.peek() == UInt8(ascii: ":") else { throw r.fail("expected ':'") }
            r.i += 1
            r.skipSpace()
            if isField {
                out.removeSubrange(base...)
                found = false
                wrongType = nil
                switch r.peek() {
                case UInt8(ascii: "\""):
                    try r.string(into: &out, loneSurrogates: loneSurrogates)
                    found = true
                case UInt8(ascii: "n"):
                    try r.skipValue()
                default:
                    wrongType = r.fail("member \"\(String(decoding: field, as: UTF8.self))\" is not a string")
                    try r.skipValue()
                }
            } else {
                try r.skipValue()
            }
            r.skipSpace()
            switch r.peek() {
            case UInt8(ascii: ","): r.i += 1
            case UInt8(ascii: "}"):
                r.i += 1
                try r.expectEnd()
                if let wrongType { throw wrongType }
                return found
            default: throw r.fail("expected ',' or '}'")
            }
        }
    }

    private struct Reader {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0

        func peek() -> UInt8? { i < b.count ? b[i] : nil }

        func fail(_ reason: String) -> Failure { Failure(column: i, reason: reason) }

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
        }

        mutating func expectEnd() throws(Failure) {
            skipSpace()
            if i < b.count { throw fail("unexpected text after the object") }
        }

        /// Decodes the string at `i` (at its opening quote) and appends its UTF-8.
        mutating func string(into out: inout [UInt8], loneSurrogates: JSONString.LoneSurrogates = .reject) throws(Failure) {
            do {
                try JSONString.decode(b, at: &i, into: &out, loneSurrogates: loneSurrogates)
            } catch {
                throw Failure(column: error.offset, reason: error.reason)
            }
        }

        /// Skips one value of any kind, checking it is well-formed JSON (as Python's `json` would read it), so that a
        /// malformed record is an error wherever it is malformed.
        mutating func skipValue(depth: Int = 0) throws(Failure) {
            guard depth < 1000 else { throw fail("nested too deeply") }
            guard let c = peek() else { throw fail("expected a value") }
            switch c {
            case 0x22:
                try skipString()
            case UInt8(ascii: "{"):
                i += 1
                skipSpace()
                if peek() == UInt8(ascii: "}") { i += 1; return }
                while true {
                    skipSpace()
                    guard peek() == 0x22 else { throw fail("expected a member name") }
                    try skipString()
                    skipSpace()
                    guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    i += 1
                    skipSpace()
                    try skipValue(depth: depth + 1)
                    skipSpace()
                    switch peek() {
                    case UInt8(ascii: ","): i += 1
                    case UInt8(ascii: "}"): i += 1; return
                    default: throw fail("expected ',' or '}'")
                    }
                }
            case UInt8(ascii: "["):
                i += 1
                skipSpace()
                if peek() == UInt8(ascii: "]") { i += 1; return }
                while true {
                    skipSpace()
                    try skipValue(depth: depth + 1)
                    skipSpace()
                    switch peek() {
                    case UInt8(ascii: ","): i += 1
                    case UInt8(ascii: "]"): i += 1; return
                    default: throw fail("expected ',' or ']'")
                    }
                }
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default:
                try skipNumber()
            }
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let n = word.utf8CodeUnitCount
            guard i + n <= b.count else { throw fail("expected a value") }
            for k in 0..<n where b[i + k] != word.utf8Start[k] { throw fail("expected a value") }
            i += n
        }

        /// A number as JSON writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func skipNumber() throws(Failure) {
            func digits() -> Int {
                let s = i
                while i < b.count && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
                return i - s
            }
            if peek() == UInt8(ascii: "-") { i += 1 }
            if peek() == UInt8(ascii: "0") { i += 1 } else if digits() == 0 { throw fail("expected a value") }
            if peek() == UInt8(ascii: ".") {
                i += 1
                if digits() == 0 { throw fail("expected digits after '.'") }
            }
            if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
                i += 1
                if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { i += 1 }
                if digits() == 0 { throw fail("expected digits in the exponent") }
            }
        }

        /// Skips a string (at its opening quote) without decoding it, checking its escapes and that it has no raw
        /// control characters. Lone surrogate escapes are accepted here, as Python accepts them.
        mutating func skipString() throws(Failure) {
            i += 1
            while i < b.count {
                let c = b[i]
                if c == 0x22 { i += 1; return }
                if c < 0x20 { throw fail("control character in a string") }
                if c == 0x5C {
                    guard i + 1 < b.count else { break }
                    switch b[i + 1] {
                    case 0x22, 0x5C, 0x2F, UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        i += 2
                    case UInt8(ascii: "u"):
                        guard i + 6 <= b.count else { throw fail("unterminated string") }
                        for k in 2..<6 {
                            let h = b[i + k] | 0x20
                            guard (h >= 0x30 && h <= 0x39) || (h >= 0x61 && h <= 0x66) else { throw fail("invalid \\u escape") }
                        }
                        i += 6
                    default:
                        throw fail("invalid escape")
                    }
                    continue
                }
                i += 1
            }
            throw fail("unterminated string")
        }
    }
}
