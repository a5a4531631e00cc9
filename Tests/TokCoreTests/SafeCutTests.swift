import XCTest
import TokCore
import TokTestSupport

/// Every place `SafeCut` allows a cut must be a piece boundary of every standard pattern, or encoding segments
/// apart (threads, the pipe, eval, training counts) would differ from encoding the whole.
final class SafeCutTests: XCTestCase {
    let scanners: [(String, any PreTokenizer)] = [("gpt2", GPT2Scanner()), ("cl100k", Cl100kScanner()),
                                                  ("o200k", O200kScanner()), ("llama3", Llama3Scanner())]

    /// Random text from fragments heavy in what sits next to the cuts: LFs after runs of white space, spaces
    /// between letters, "/", CR, punctuation, digits, apostrophes, other scripts and marks. At every cut of each
    /// scanner's rule, the two parts must split into exactly the pieces of the whole (a boundary of the whole is
    /// not enough: GPT-2's "\n\n" before a letter is two pieces in the whole, one at a part's end).
    func testEveryCutSplitsThePartsAsTheWhole() {
        let fragments = ["\n", "\r\n", " ", "  ", "\t", "/", "//", "}", ";", "\"", "'", "'s", "a", "b", "Z", "x y",
                         "7", "123", "é", "\u{301}", "Ж", "日本", "🙂", "\u{2028}", "\u{85}", "-", "*", ".", "\n/", "}\n/",
                         "\n\n", " \n", "\t\n", "\u{3000}\n", "\nЖ", "日\n", "\n日本", "\n\u{301}", "\n\u{3000}", "\n\u{a0}",
                         "\n\u{85}", "\u{a0}\n", "\u{2028}\n", "é\n", "\n🙂", "\n٣", "\n。", "\u{85}\n",
                         "中文", "。", "，", "「", "」", "！", "（", "）", "：", "？", "、", "日本語", "カナ", "ひら", "한국",
                         "7", "x", "!", "'", " ", "\u{301}", "々", "ー", "\u{ff0e}", "…", "〜",
                         // ASCII kinds side by side (the letter/digit/punctuation cuts): base64, hex, JSON,
                         // contractions in both cases, case changes, digit runs, controls.
                         "+", "=", "/", "_", "$", "%", "`", "~", "(", "[", "{", ":", ",", "\"", "-", "\u{0}", "\u{7f}",
                         "\u{1c}", "\u{1f}", "\u{b}", "abc", "ABC", "aB", "Ab", "x1", "1x", "a9b", "0x", "ff", "1234567",
                         "'t", "'S", "'re", "'LL", "'d", "don't", "it's", "'1", "1'", "a'", "'a", "é1", "1é", "Ж1", "a\u{301}1",
                         "=\n", "+\n", "1\n", "a\r", "\r\n1", " 1", " +", "+ ", "a ", "1 ", "\t1",
                         // Spaces between other characters (the space cut in any script).
                         "Ж Ж", "é ", " é", "日 本", "\u{301} ", " \u{301}", "\u{a0} ", " \u{a0}", "\u{3000} ", " \u{3000}",
                         "🙂 ", " 🙂", "٣ ", " ٣", "\u{200d} ", " \u{200d}", "\u{85} ", " \u{85}", "\u{2028} ", "' ", " '",
                         " 's", "\u{1c} ", " \u{1f}", "。 ", " 。"]
        var rng = SeededRandom(seed: 11)
        var cuts = 0
        for round in 0..<3000 {
            var text: [UInt8] = []
            for _ in 0..<Int.random(in: 1...40, using: &rng) {
                text += Array(fragments[Int.random(in: 0..<fragments.count, using: &rng)].utf8)
            }
            text.withUnsafeBufferPointer { b in
                for (name, scanner) in scanners {
                    let rule = scanner.cutRule!
                    var whole: [Int] = []
                    scanner.split(b, into: &whole)
                    for i in 1..<max(b.count, 1) where SafeCut.isCut(b.baseAddress!, i, b.count, rule: rule) {
                        cuts += 1
                        var parts: [Int] = []
                        scanner.split(UnsafeBufferPointer(rebasing: b[0..<i]), into: &parts)
                        var tail: [Int] = []
                        scanner.split(UnsafeBufferPointer(rebasing: b[i...]), into: &tail)
                        parts += tail.map { $0 + i }
                        XCTAssertEqual(parts, whole, "\(name), round \(round): cut at \(i) of \(Array(b))")
                    }
                }
            }
        }
        XCTAssertGreaterThan(cuts, 10_000, "the texts have cuts to check")
    }

    /// GPT-2's rule leaves out a LF cut after white space, which the standard rule takes.
    func testGPT2RuleNeedsTextBeforeTheLineFeed() {
        let text = Array("a\n\nb x\nc".utf8)
        text.withUnsafeBufferPointer { b in
            XCTAssertTrue(SafeCut.isCut(b.baseAddress!, 3, b.count, rule: .standard))
            XCTAssertFalse(SafeCut.isCut(b.baseAddress!, 3, b.count, rule: .gpt2))
            XCTAssertTrue(SafeCut.isCut(b.baseAddress!, 7, b.count, rule: .gpt2))
        }
    }

    /// A special token that may go on past the bytes at hand rules out the cuts in its reach; the same bytes
    /// complete allow them.
    func testNoCutWhereASpecialTokenMayContinue() throws {
        let specials = try SpecialTokens([("<|end of text|>", 100)])
        let text = Array("ab cd<|end of".utf8)
        text.withUnsafeBufferPointer { b in
            XCTAssertEqual(SafeCut.lastCut(in: b, above: 0, specials: specials, complete: true), 10)
            XCTAssertNil(SafeCut.lastCut(in: b, above: 0, specials: specials, complete: false))
            XCTAssertEqual(SafeCut.lastCut(in: b, above: 0, specials: nil, complete: false), 10)
        }
        let whole = Array("ab cd<|end of text|> ef gh".utf8)
        whole.withUnsafeBufferPointer { b in
            // The space inside the special token is not a cut; the place before it (letter, then punctuation) and
            // the space before "gh" are.
            XCTAssertEqual(SafeCut.lastCut(in: b, above: 0, below: 20, specials: specials), 5)
            XCTAssertEqual(SafeCut.lastCut(in: b, above: 0, below: 20, rule: .basic, specials: specials), 2)
            XCTAssertEqual(SafeCut.lastCut(in: b, above: 0, specials: specials), 23)
        }
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
