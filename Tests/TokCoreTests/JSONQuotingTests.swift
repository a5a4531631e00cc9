import XCTest
import TokTestSupport
@testable import TokCore

final class JSONQuotingTests: XCTestCase {
    /// The JSON quoting of a string scalar by scalar, as `JSONValue.quote` was written before it used the byte-level
    /// writer: the independent reference of these tests.
    private static func quoteScalars(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || (0x7F...0x9F).contains(u.value) || u.value == 0x2028 || u.value == 0x2029 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// The byte-level writer against scalar-by-scalar quoting of Swift's own decoding (U+FFFD per maximal subpart).
    private func assertSameAsStringQuoting(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        let expected = Self.quoteScalars(String(decoding: bytes, as: UTF8.self))
        let got = bytes.withUnsafeBufferPointer { b in
            let out = UnsafeMutablePointer<UInt8>.allocate(capacity: JSONString.quotedCapacity(b.count))
            defer { out.deallocate() }
            let n = JSONString.writeQuoted(b, to: out)
            XCTAssertLessThanOrEqual(n, JSONString.quotedCapacity(b.count), file: file, line: line)
            return String(decoding: UnsafeBufferPointer(start: out, count: n), as: UTF8.self)
        }
        XCTAssertEqual(got, expected, "bytes \(bytes.map { String($0, radix: 16) })", file: file, line: line)
        XCTAssertEqual(JSONValue.quote(String(decoding: bytes, as: UTF8.self)), expected, file: file, line: line)
    }

    /// Every byte alone and every pair of bytes; every three-byte sequence with an E0-F4 lead; C1 controls, line
    /// and paragraph separators and their neighbours; truncated and overlong forms, surrogates, code points above
    /// U+10FFFF.
    func testWriteQuotedMatchesStringQuotingExhaustively() {
        assertSameAsStringQuoting([])
        for a in 0..<256 {
            assertSameAsStringQuoting([UInt8(a)])
            for b in 0..<256 { assertSameAsStringQuoting([UInt8(a), UInt8(b)]) }
        }
        for lead in 0xE0...0xF4 {
            for b in 0x70...0xC5 {
                for c in [0x00, 0x22, 0x5C, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xA8, 0xA9, 0xAA, 0xBF, 0xC0] {
                    assertSameAsStringQuoting([UInt8(lead), UInt8(b), UInt8(c)])
                    assertSameAsStringQuoting([UInt8(lead), UInt8(b), UInt8(c), 0x80, 0x41])
                }
            }
        }
        for s in ["\u{2027}\u{2028}\u{2029}\u{202A}", "\u{7F}\u{80}\u{9F}\u{A0}", "\"\\/\u{8}\u{C}\n\r\t", "𝄞😀\u{10FFFF}",
                  "a\u{0}b", "Ġ ĉ wörld 语言"] {
            assertSameAsStringQuoting(Array(s.utf8))
        }
    }

    /// Random byte strings, drawn mostly from bytes that make UTF-8 structure (leads, continuations, ASCII
    /// specials), so that ill-formed and well-formed sequences mix.
    func testWriteQuotedMatchesStringQuotingOnRandomBytes() {
        var rng = SeededRandom(seed: 20261207)
        let alphabet: [UInt8] = [0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x22, 0x41, 0x5C, 0x7F, 0x80, 0x85, 0x9F, 0xA0,
                                 0xA8, 0xA9, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        for _ in 0..<100_000 {
            let n = Int(rng.next() % 12)
            var bytes: [UInt8] = []
            for _ in 0..<n {
                let r = rng.next()
                bytes.append(r & 3 == 0 ? UInt8(truncatingIfNeeded: r >> 8) : alphabet[Int(r >> 8) % alphabet.count])
            }
            assertSameAsStringQuoting(bytes)
        }
    }

    /// Every token of the shipped vocabularies (token strings are what `tok encode --format jsonl` writes).
    func testWriteQuotedMatchesStringQuotingOnEveryToken() throws {
        for name in ["cl100k_base", "o200k_base"] {
            let tok = try Tokenizer.load(name: name)
            for id in 0..<UInt32(tok.vocabularySize) {
                guard let b = tok.tokenBytes(id) else { continue }
                assertSameAsStringQuoting(Array(b))
            }
        }
    }
}
