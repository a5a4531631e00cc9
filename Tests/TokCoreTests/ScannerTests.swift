import Foundation
import TokCore
import XCTest
import TokTestSupport

/// Hand-checked splits of the standard scanners, robustness on arbitrary bytes, and the StandardPattern API.
/// Exact agreement with ICU on large and adversarial inputs is tested in TokICUTests/ScannerVsICUTests.
final class ScannerTests: XCTestCase {
    private typealias Expected = [StandardPattern: [String]]

    /// (text, expected pieces per pattern); a missing pattern means "same as cl100k".
    private let asciiCases: [(String, Expected)] = [
        ("Hello world", [.gpt2: ["Hello", " world"], .cl100k: ["Hello", " world"], .o200k: ["Hello", " world"]]),
        ("I'm don't", [.gpt2: ["I", "'m", " don", "'t"], .cl100k: ["I", "'m", " don", "'t"], .o200k: ["I'm", " don't"]]),
        // Contractions are case-insensitive except in GPT-2.
        ("DON'T STOP", [.gpt2: ["DON", "'", "T", " STOP"], .cl100k: ["DON", "'T", " STOP"], .o200k: ["DON'T", " STOP"]]),
        ("it's 'quoted'", [.gpt2: ["it", "'s", " '", "quoted", "'"], .cl100k: ["it", "'s", " '", "quoted", "'"],
                           .o200k: ["it's", " '", "quoted", "'"]]),
        ("'''s", [.gpt2: ["'''", "s"], .cl100k: ["'''", "s"], .o200k: ["'''", "s"]]),
        // A white-space run before a word leaves its last character to the word.
        ("  hello", [.gpt2: [" ", " hello"], .cl100k: [" ", " hello"], .o200k: [" ", " hello"]]),
        ("hello   ", [.gpt2: ["hello", "   "], .cl100k: ["hello", "   "], .o200k: ["hello", "   "]]),
        ("a  1", [.gpt2: ["a", " ", " 1"], .cl100k: ["a", " ", " ", "1"], .o200k: ["a", " ", " ", "1"]]),
        ("\tfoo", [.gpt2: ["\t", "foo"], .cl100k: ["\tfoo"], .o200k: ["\tfoo"]]),
        // Newlines: `\s*[\r\n]` ends at the last newline of a run.
        ("a\n\nb", [.gpt2: ["a", "\n", "\n", "b"], .cl100k: ["a", "\n\n", "b"], .o200k: ["a", "\n\n", "b"]]),
        ("x  \n  y", [.gpt2: ["x", "  \n ", " y"], .cl100k: ["x", "  \n", " ", " y"], .o200k: ["x", "  \n", " ", " y"]]),
        ("x = 1;\r\n", [.gpt2: ["x", " =", " 1", ";", "\r\n"], .cl100k: ["x", " =", " ", "1", ";\r\n"],
                        .o200k: ["x", " =", " ", "1", ";\r\n"]]),
        ("hello!!!\n", [.gpt2: ["hello", "!!!", "\n"], .cl100k: ["hello", "!!!\n"], .o200k: ["hello", "!!!\n"]]),
        // Numbers: at most three digits per piece except in GPT-2.
        ("12345", [.gpt2: ["12345"], .cl100k: ["123", "45"], .o200k: ["123", "45"]]),
        ("foo( bar )", [.gpt2: ["foo", "(", " bar", " )"], .cl100k: ["foo", "(", " bar", " )"], .o200k: ["foo", "(", " bar", " )"]]),
        // o200k: slashes after punctuation and newlines, case changes inside words.
        ("a/b", [.gpt2: ["a", "/", "b"], .cl100k: ["a", "/b"], .o200k: ["a", "/b"]]),
        ("!/\n/", [.gpt2: ["!/", "\n", "/"], .cl100k: ["!/\n", "/"], .o200k: ["!/\n/"]]),
        ("HelloWORLD", [.gpt2: ["HelloWORLD"], .cl100k: ["HelloWORLD"], .o200k: ["Hello", "WORLD"]]),
        ("camelCase", [.gpt2: ["camelCase"], .cl100k: ["camelCase"], .o200k: ["camel", "Case"]]),
        ("ABCdef", [.gpt2: ["ABCdef"], .cl100k: ["ABCdef"], .o200k: ["ABCdef"]]),
        // The one cl100k / Llama 3 difference: white space with a newline at the end of the text.
        ("a\n  ", [.gpt2: ["a", "\n  "], .cl100k: ["a", "\n  "], .llama3: ["a", "\n", "  "], .o200k: ["a", "\n", "  "]]),
    ]

    func testASCIICases() {
        for (text, expected) in asciiCases {
            for p in StandardPattern.allCases {
                let want = expected[p] ?? expected[.cl100k]!
                XCTAssertEqual(pieces(p.preTokenizer, text), want, "\(p) on \(text.debugDescription)")
            }
        }
    }

    func testNonASCIICases() {
        let cases: [(String, StandardPattern, [String])] = [
            ("e\u{301}e\u{301}", .cl100k, ["e", "\u{301}e", "\u{301}"]),
            ("e\u{301}e\u{301}", .o200k, ["e\u{301}e\u{301}"]),
            ("it'\u{17F} IT\u{2019}S", .cl100k, ["it", "'\u{17F}", " IT", "\u{2019}S"]),
            ("\u{2B0}ello", .o200k, ["\u{2B0}ello"]),
            ("\u{301}AB!", .o200k, ["\u{301}", "AB", "!"]),
            ("\u{1C5}ungla", .o200k, ["\u{1C5}ungla"]),
            ("x\u{3000}y", .cl100k, ["x", "\u{3000}y"]),
            ("x\u{85}\u{85}y", .cl100k, ["x", "\u{85}", "\u{85}y"]),
            ("\u{661}\u{662}\u{663}\u{664}", .cl100k, ["\u{661}\u{662}\u{663}", "\u{664}"]),
            ("\u{216B}\u{B2}\u{BD}3", .o200k, ["\u{216B}\u{B2}\u{BD}", "3"]),
            ("\u{1F44D}\u{1F3FD}!", .cl100k, ["\u{1F44D}\u{1F3FD}!"]),
            // Characters added in Unicode 15.1 and 16.0 (the scanners follow 16.0, like tiktoken; ICU 72 does not).
            ("x\u{2EBF0}\u{2EBF0}y", .cl100k, ["x\u{2EBF0}\u{2EBF0}y"]),
            ("!\u{1E5D0}", .llama3, ["!\u{1E5D0}"]),
            ("ab\u{1C89}\u{1C8A}\u{A7CB}\u{10D50}", .o200k, ["ab", "\u{1C89}\u{1C8A}", "\u{A7CB}\u{10D50}"]),
            ("e\u{897}e\u{897}", .cl100k, ["e", "\u{897}e", "\u{897}"]),
            ("e\u{897}e\u{897}", .o200k, ["e\u{897}e\u{897}"]),
            ("\u{10D40}\u{10D41}\u{10D42}\u{10D43}", .cl100k, ["\u{10D40}\u{10D41}\u{10D42}", "\u{10D43}"]),
            (" \u{10D40}\u{10D41}", .gpt2, [" \u{10D40}\u{10D41}"]),
        ]
        for (text, p, want) in cases {
            XCTAssertEqual(pieces(p.preTokenizer, text), want, "\(p) on \(text.debugDescription)")
        }
    }

    func testEmptyText() {
        for p in StandardPattern.allCases {
            var ends = [7]
            p.preTokenizer.split(UnsafeBufferPointer(start: nil, count: 0), into: &ends)
            XCTAssertEqual(ends, [7], "\(p) appends nothing for empty text")
        }
    }

    /// Ill-formed UTF-8 never traps, every piece is non-empty, and each invalid byte is an "other" character.
    func testInvalidUTF8Tiles() {
        let samples: [[UInt8]] = [
            [0xFF], [0x80], [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC0, 0xAF], [0xE0, 0x80, 0xAF],
            [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
            Array("ab".utf8) + [0xE2, 0x82] + Array("cd".utf8), Array("'".utf8) + [0xC5], [0x20, 0xC3], [0x0A, 0xC3, 0x0A],
        ]
        for p in StandardPattern.allCases {
            for s in samples { assertTiles(p, s) }
        }
        // An invalid byte behaves like punctuation: it joins a following letter run as cl100k's prefix, and
        // runs of them form one piece.
        XCTAssertEqual(splitBytes(StandardPattern.cl100k.preTokenizer, [0x61, 0xFF, 0x62]), [[0x61], [0xFF, 0x62]])
        XCTAssertEqual(splitBytes(StandardPattern.gpt2.preTokenizer, [0x61, 0xFF, 0x80, 0x62]), [[0x61], [0xFF, 0x80], [0x62]])
        XCTAssertEqual(splitBytes(StandardPattern.gpt2.preTokenizer, [0x20, 0xFF]), [[0x20, 0xFF]])
        // A truncated sequence is one byte at a time, so the valid character after it is still seen.
        XCTAssertEqual(splitBytes(StandardPattern.gpt2.preTokenizer, [0xE2, 0x82, 0xC3, 0xA9]), [[0xE2, 0x82], [0xC3, 0xA9]])

        var rng = SeededRandom(seed: 0x5EED)
        let ascii = Array(" 'a1\n\r!s".utf8)
        for _ in 0..<5_000 {
            let n = Int(rng.next() % 40)
            var bytes: [UInt8] = []
            for _ in 0..<n {
                // Bias towards bytes that start or continue sequences, and towards ASCII classes.
                let r = rng.next()
                switch r % 4 {
                case 0: bytes.append(UInt8(truncatingIfNeeded: r >> 8))
                case 1: bytes.append(0x80 | UInt8(truncatingIfNeeded: r >> 8) & 0x3F)
                case 2: bytes.append([0xC2, 0xC5, 0xE0, 0xE2, 0xED, 0xF0, 0xF4, 0xF5][Int(r >> 8) % 8])
                default: bytes.append(ascii[Int(r >> 8) % ascii.count])
                }
            }
            for p in StandardPattern.allCases { assertTiles(p, bytes) }
        }
    }

    /// Runs of one class must be linear; the quadratic candidates are the white-space look-ahead, the
    /// `\s*[\r\n]` backtrack and o200k's U*W+ backtrack.
    func testLongRunsFinish() {
        #if DEBUG
        let length = 200_000
        #else
        let length = 1_000_000
        #endif
        for unit in [" ", "a", "1", "'", "\n", "\r\n", " \n", "A", "\u{2B0}", "A\u{2B0}", "\u{301}", "\u{301}A", "!", "\u{3000}"] {
            let text = String(repeating: unit, count: length / unit.utf8.count)
            for p in StandardPattern.allCases {
                for t in [text, text + "x", " " + text + "A"] {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let ends = splitEnds(p.preTokenizer, Array(t.utf8))
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    XCTAssertEqual(ends.last, t.utf8.count)
                    // Generous: quadratic behaviour on 200k characters would take minutes.
                    XCTAssertLessThan(seconds, 10, "\(p) on a run of \(unit.debugDescription)")
                }
            }
        }
    }

    func testPieceEndMatchesSplit() {
        let text = Array("Hello, world! I'm   here\n\n  12345 caf\u{E9} \u{1F600}\u{1F600} ABCdef\r\n".utf8)
        for p in StandardPattern.allCases {
            let ends = splitEnds(p.preTokenizer, text)
            var starts = [0] + ends.dropLast()
            starts = Array(starts)
            text.withUnsafeBufferPointer { b in
                for (s, e) in zip(starts, ends) {
                    XCTAssertEqual(p.scanner.pieceEnd(in: b, from: s), e, "\(p) at \(s)")
                }
            }
        }
    }

    func testStandardPatternStrings() {
        for p in StandardPattern.allCases {
            XCTAssertEqual(StandardPattern(pattern: p.patternString), p)
            XCTAssertEqual(StandardPattern(rawValue: p.rawValue), p)
        }
        // tiktoken's pat_str values, as published.
        XCTAssertEqual(StandardPattern(pattern: #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#), .gpt2)
        XCTAssertEqual(StandardPattern(pattern: #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"#), .cl100k)
        // The older, non-possessive cl100k form is Llama 3's pattern.
        XCTAssertEqual(StandardPattern(pattern: #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#), .llama3)
        XCTAssertNil(StandardPattern(pattern: #"\p{L}+"#))
        XCTAssertNil(StandardPattern(pattern: StandardPattern.cl100k.patternString + " "))
    }

    func testCharacterClasses() {
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x61), [.letter, .o200kLower])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x41), [.letter, .o200kUpper])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x1C5), [.letter, .o200kUpper])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x2B0), [.letter, .o200kUpper, .o200kLower])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x4E2D), [.letter, .o200kUpper, .o200kLower])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x301), [.mark, .o200kUpper, .o200kLower])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0xE0100), [.mark, .o200kUpper, .o200kLower])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x216B), [.number])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0xBD), [.number])
        // New in Unicode 15.1 and 16.0.
        XCTAssertEqual(UnicodeCharacterClass.unicodeVersion, "16.0.0")
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x2EBF0), [.letter, .o200kUpper, .o200kLower])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x1E5D0), [.letter, .o200kUpper, .o200kLower])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x1C89), [.letter, .o200kUpper])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0xA7CB), [.letter, .o200kUpper])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x10D50), [.letter, .o200kUpper])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x1C8A), [.letter, .o200kLower])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x10D40), [.number])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x897), [.mark, .o200kUpper, .o200kLower])
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 0x1171E), [.mark, .o200kUpper, .o200kLower])
        for ws: UInt32 in [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000] {
            XCTAssertEqual(UnicodeCharacterClass(codePoint: ws), [.whiteSpace], "U+\(String(ws, radix: 16))")
        }
        for none: UInt32 in [0x00, 0x1C, 0x27, 0x180E, 0x200B, 0xFEFF, 0x378, 0xE000, 0x2EE5E, 0x10FFFF, 0xD800, 0x110000] {
            XCTAssertEqual(UnicodeCharacterClass(codePoint: none), [], "U+\(String(none, radix: 16))")
        }
    }

    // MARK: Helpers

    private func splitEnds(_ pre: any PreTokenizer, _ bytes: [UInt8]) -> [Int] {
        var ends: [Int] = []
        bytes.withUnsafeBufferPointer { pre.split($0, into: &ends) }
        return ends
    }

    private func splitBytes(_ pre: any PreTokenizer, _ bytes: [UInt8]) -> [[UInt8]] {
        var start = 0
        return splitEnds(pre, bytes).map { e in
            defer { start = e }
            return Array(bytes[start..<e])
        }
    }

    private func pieces(_ pre: any PreTokenizer, _ text: String) -> [String] {
        splitBytes(pre, Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    private func assertTiles(_ p: StandardPattern, _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        let ends = splitEnds(p.preTokenizer, bytes)
        var prev = 0
        for e in ends {
            XCTAssertGreaterThan(e, prev, "\(p): empty or backwards piece in \(bytes)", file: file, line: line)
            prev = e
        }
        XCTAssertEqual(prev, bytes.count, "\(p): pieces do not cover \(bytes)", file: file, line: line)
    }
}
