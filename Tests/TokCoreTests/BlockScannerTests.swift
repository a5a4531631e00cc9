@testable import TokCore
import XCTest
import TokTestSupport

/// The 64-byte block pre-tokenizers against the scalar scanners they stand in for (which ScannerVsICUTests proves
/// equal to ICU), and their class masks against the class table.
final class BlockScannerTests: XCTestCase {
    func testClassMasksMatchTheClassTable() {
        let table = ClassTable.shared.base
        var rng = SeededRandom(seed: 7)
        var bytes = [UInt8](repeating: 0, count: 64)
        // Every byte value at every position, with random neighbours.
        for round in 0..<(256 * 4) {
            for k in 0..<64 { bytes[k] = UInt8(truncatingIfNeeded: rng.next()) }
            for k in 0..<64 where (k + round) % 4 == 0 { bytes[k] = UInt8(truncatingIfNeeded: round / 4 + k) }
            let m = bytes.withUnsafeBufferPointer { ASCIIBlockClasses($0.baseAddress!) }
            for k in 0..<64 {
                let b = bytes[k], a = table[Int(b)], bit = UInt64(1) << UInt64(k)
                func has(_ mask: UInt64) -> Bool { mask & bit != 0 }
                XCTAssertEqual(has(m.nonASCII), b >= 0x80, "byte \(b)")
                XCTAssertEqual(has(m.letter), b < 0x80 && a & CharClass.letter != 0, "byte \(b)")
                XCTAssertEqual(has(m.digit), b < 0x80 && a & CharClass.number != 0, "byte \(b)")
                XCTAssertEqual(has(m.space), b < 0x80 && a & CharClass.space != 0, "byte \(b)")
                XCTAssertEqual(has(m.newline), b < 0x80 && a & CharClass.crlf != 0, "byte \(b)")
                XCTAssertEqual(has(m.blank), b == 0x20, "byte \(b)")
                XCTAssertEqual(has(m.apostrophe), b == 0x27, "byte \(b)")
                XCTAssertEqual(has(m.upper), b < 0x80 && a & CharClass.letter != 0 && a & CharClass.upper != 0, "byte \(b)")
                XCTAssertEqual(has(m.slash), b == 0x2F, "byte \(b)")
            }
        }
    }

    /// Random texts built from the pieces that decide boundaries (every class pair, white-space runs, digit runs,
    /// contractions, invalid UTF-8), long enough for many windows.
    func testBlockSplitMatchesScalarScanner() {
        let units = ["a", "Z", "word", " the", "'s", "'T", "'ll", "'Re", "'ve", "'x", "'", "''", "1", "12", "1234", " ", "  ",
                     "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", ".", ",", "!?", " (", "\u{0}", "\u{1F}", "é", "中", "\u{85}",
                     "\u{3000}", "\u{17F}", "\u{301}", "😀"].map { Array($0.utf8) } + [[0xFF], [0xC3], [0x80]]
        // Upper-case runs, slashes after CR/LF, suffixes after suffixes (o200k).
        let o200kUnits = ["Word", "ABC", "aB", "/", "//", "\n/", "!\n/", "it's", "IT'S", "'s's", "we'rex", "x/\n/y", "camelCase",
                          "HTTPServer", "don'tKnow", "'rE", "'vE", "'lL", "E'rEL", "x'lLAMA"].map { Array($0.utf8) }
        var rng = SeededRandom(seed: 0xB10C)
        for p in [StandardPattern.cl100k, .llama3, .o200k] {
            var failures = 0
            for round in 0..<3000 where failures < 3 {
                var text: [UInt8] = []
                let length = Int(rng.next() % 600)
                // Some texts are ASCII only, so whole windows take the block path.
                // Non-ASCII units are the last 13 of `units`; the o200k units are all ASCII.
                let all = o200kUnits + units
                let pool = round % 2 == 0 ? all.count - 13 : all.count
                while text.count < length { text += all[Int(rng.next() % UInt64(pool))] }
                let want = scalarEnds(p, text), got = splitEnds(p.preTokenizer, text)
                if want != got {
                    failures += 1
                    var k = 0
                    while k < min(want.count, got.count) && want[k] == got[k] { k += 1 }
                    let at = k == 0 ? 0 : want[k - 1]
                    func show(_ e: [Int]) -> String {
                        var s = at
                        return e[k...].prefix(4).map { x in defer { s = x }; return String(decoding: text[s..<x], as: UTF8.self).debugDescription }.joined(separator: " | ")
                    }
                    XCTFail("\(p): block and scalar splits differ at byte \(at): block \(show(got)), scalar \(show(want)), in \(String(decoding: text, as: UTF8.self).debugDescription)")
                }
            }
        }
    }

    /// A suffix whose second letter is upper case after a lower-case one ("'rE", "'vE", "'lL") belongs to the word
    /// before it, so the window must not keep the camel-case start inside it: when such a suffix crosses a window's
    /// end, that stray start was where the next window began ("E'rEL" gave "E'r", "EL" instead of "E'rE", "L").
    func testNoPieceStartsInsideAMixedCaseSuffixAtAWindowEnd() {
        for core in ["E'rEL", "He'rEL", "x'vEL", "y'lLAMA", "x'rEL'LL", "ab'RE'rE'lLx"] {
            for k in 30..<140 {
                let text = Array((String(repeating: "ab ", count: 50).prefix(k) + core + String(repeating: " filler", count: 12)).utf8)
                XCTAssertEqual(splitEnds(StandardPattern.o200k.preTokenizer, text), scalarEnds(.o200k, text), "\(core) after \(k) bytes")
            }
        }
    }

    private func splitEnds(_ pre: any PreTokenizer, _ bytes: [UInt8]) -> [Int] {
        var ends: [Int] = []
        bytes.withUnsafeBufferPointer { pre.split($0, into: &ends) }
        return ends
    }

    private func scalarEnds(_ p: StandardPattern, _ text: [UInt8]) -> [Int] {
        text.withUnsafeBufferPointer { b in
            var ends: [Int] = []
            var i = 0
            while i < b.count {
                i = p.scanner.pieceEnd(in: b, from: i)
                ends.append(i)
            }
            return ends
        }
    }
}
