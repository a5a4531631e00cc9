import XCTest
import TokCore
import TokTestSupport

/// Every place `SafeCut` allows a cut must be a piece boundary of every standard pattern, or encoding segments
/// apart (threads, the pipe, eval, training counts) would differ from encoding the whole.
final class SafeCutTests: XCTestCase {
    let scanners: [(String, any PreTokenizer)] = [("gpt2", GPT2Scanner()), ("cl100k", Cl100kScanner()),
                                                  ("o200k", O200kScanner()), ("llama3", Llama3Scanner())]

    /// Random text from fragments heavy in what sits next to the cuts: LFs, spaces between letters, "/", CR,
    /// punctuation, digits, apostrophes, other scripts and marks.
    func testEveryCutIsAPieceBoundary() {
        let fragments = ["\n", "\r\n", " ", "  ", "\t", "/", "//", "}", ";", "\"", "'", "'s", "a", "b", "Z", "x y",
                         "7", "123", "é", "\u{301}", "Ж", "日本", "🙂", "\u{2028}", "\u{85}", "-", "*", ".", "\n/", "}\n/"]
        var rng = SeededRandom(seed: 11)
        var cuts = 0
        for round in 0..<2000 {
            var text: [UInt8] = []
            for _ in 0..<Int.random(in: 1...40, using: &rng) {
                text += Array(fragments[Int.random(in: 0..<fragments.count, using: &rng)].utf8)
            }
            text.withUnsafeBufferPointer { b in
                for (name, scanner) in scanners {
                    var ends: [Int] = []
                    scanner.split(b, into: &ends)
                    let boundaries = Set(ends)
                    for i in 1..<max(b.count, 1) where SafeCut.isCut(b.baseAddress!, i, b.count) {
                        cuts += 1
                        XCTAssertTrue(boundaries.contains(i), "\(name), round \(round): cut at \(i) of \(Array(b)) is inside a piece")
                    }
                }
            }
        }
        XCTAssertGreaterThan(cuts, 10_000, "the texts have cuts to check")
    }

    /// The case that was wrong: o200k's "}\n/" is one piece, so no cut after its LF.
    func testNoCutBeforeSlashAfterLineFeed() {
        let text = Array("a}\n/b\nc".utf8)
        text.withUnsafeBufferPointer { b in
            XCTAssertFalse(SafeCut.isCut(b.baseAddress!, 3, b.count))
            XCTAssertTrue(SafeCut.isCut(b.baseAddress!, 6, b.count))
        }
    }
}
