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
    /// Throws for malformed JSON, a line that is not an object, or a member that is neither a string nor null.
    public static func extract(_ line: UnsafeBufferPointer<UInt8>, field: [UInt8], into out: inout [UInt8]) throws(Failure) -> Bool {
        var r = Reader(b: line)
        r.skipSpace()
        guard r.peek() == UInt8(ascii: "{") else { throw r.fail("expected a JSON object") }
        r.i += 1
        r.skipSpace()
        if r.peek() == UInt8(ascii: "}") { r.i += 1; try r.expectEnd(); return false }
        let base = out.count
        var found = false
        while true {
            r.skipSpace()
            guard r.peek() == UInt8(ascii: "\"") else { throw r.fail("expected a member name") }
            let keyStart = out.count
            try r.string(into: &out)
            let isField = out.count - keyStart == field.count && out[keyStart...].elementsEqual(field)
            out.removeSubrange(keyStart...)
            r.skipSpace()
            guard r.peek() == UInt8(ascii: ":") else { throw r.fail("expected ':'") }
            r.i += 1
            r.skipSpace()
            if isField {
                out.removeSubrange(base...)
                found = false
                switch r.peek() {
                case UInt8(ascii: "\""):
                    try r.string(into: &out)
                    found = true
                case UInt8(ascii: "n"):
                    try r.skipValue()
                default:
                    throw r.fail("member \"\(String(decoding: field, as: UTF8.self))\" is not a string")
                }
            } else {
                try r.skipValue()
            }
            r.skipSpace()
            switch r.peek() {
            case UInt8(ascii: ","): r.i += 1
            case UInt8(ascii: "}"): r.i += 1; try r.expectEnd(); return found
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
        mutating func string(into out: inout [UInt8]) throws(Failure) {
            do {
                try JSONString.decode(b, at: &i, into: &out, loneSurrogates: .reject)
            } catch {
                throw Failure(column: error.offset, reason: error.reason)
            }
        }

        /// Skips one value of any kind.
        mutating func skipValue() throws(Failure) {
            guard let c = peek() else { throw fail("expected a value") }
            switch c {
            case 0x22:
                // Skip a string without decoding it.
                i += 1
                while i < b.count {
                    if b[i] == 0x5C { i += 2; continue }
                    if b[i] == 0x22 { i += 1; return }
                    i += 1
                }
                throw fail("unterminated string")
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while i < b.count {
                    let d = b[i]
                    if d == 0x22 {
                        try skipValue()
                        continue
                    }
                    if d == UInt8(ascii: "{") || d == UInt8(ascii: "[") { depth += 1 }
                    if d == UInt8(ascii: "}") || d == UInt8(ascii: "]") {
                        depth -= 1
                        if depth == 0 { i += 1; return }
                    }
                    i += 1
                }
                throw fail("unterminated object or array")
            default:
                // A number or a literal.
                let start = i
                while i < b.count {
                    let d = b[i]
                    if d == UInt8(ascii: ",") || d == UInt8(ascii: "}") || d == UInt8(ascii: "]") || d == 0x20 || d == 0x09
                        || d == 0x0A || d == 0x0D { break }
                    i += 1
                }
                if i == start { throw fail("expected a value") }
            }
        }
    }
}
