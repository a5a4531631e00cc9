import Foundation
import TokCore
@testable import TokMetrics
import XCTest

final class MetricsTests: XCTestCase {
    /// A tokenizer with the 256 bytes and the given extra tokens (ranks 256...), cl100k's pattern.
    func tiny(_ extra: [String]) throws -> Tokenizer {
        var bytes: [UInt8] = [], ends: [Int] = [], ranks: [UInt32] = []
        for b in 0..<256 { bytes.append(UInt8(b)); ends.append(bytes.count); ranks.append(UInt32(b)) }
        for (k, t) in extra.enumerated() { bytes += Array(t.utf8); ends.append(bytes.count); ranks.append(UInt32(256 + k)) }
        let table = try RankTable(bytes: bytes, ends: ends, ranks: ranks)
        return Tokenizer(name: "tiny", ranks: table, pattern: StandardPattern.cl100k.patternString,
                         preTokenizer: StandardPattern.cl100k.preTokenizer, specialTokens: try SpecialTokens([]))
    }

    func measure(_ t: Tokenizer, _ text: String) throws -> (TokenCounts, [Metric: Double]) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokmetrics-\(getpid())-\(text.hashValue).txt").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let e = try Evaluator(tokenizers: [t])
        let c = try e.measure(files: [path], threads: 1)[0]
        return (c, Evaluation.values(c, traits: e.traits[0], alpha: 2))
    }

    func testCountsAndRatiosByHand() throws {
        // "ab ab": pieces "ab", " ab". With "ab" a token: [ab], [' ', ab]: 3 tokens for 5 bytes, both words whole.
        let (c, v) = try measure(try tiny(["ab"]), "ab ab")
        XCTAssertEqual(c.tokens, 3)
        XCTAssertEqual(c.bytes, 5)
        XCTAssertEqual(c.whitespaceWords, 2)
        XCTAssertEqual(c.words, 2)
        XCTAssertEqual(v[.bytesPerToken]!, 5.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(v[.fertilityWhitespace]!, 1.5, accuracy: 1e-12)
        XCTAssertEqual(v[.retentionWhitespace]!, 1, accuracy: 1e-12)
        // Token distribution: ab twice, space once.
        let h = -(2.0 / 3 * log2(2.0 / 3) + 1.0 / 3 * log2(1.0 / 3))
        XCTAssertEqual(v[.entropy]!, h, accuracy: 1e-12)
        let renyi2 = -log(4.0 / 9 + 1.0 / 9)
        XCTAssertEqual(v[.renyiEfficiency]!, renyi2 / log(257.0), accuracy: 1e-12)
        XCTAssertEqual(v[.utilization]!, 2.0 / 257, accuracy: 1e-12)
        XCTAssertEqual(v[.unusedTokens]!, 255)
    }

    /// Whitespace words (Python's `str.split()`) come from 64-byte masks on ASCII blocks and a character loop
    /// elsewhere; they must be what a plain character loop finds, on texts whose words and space runs cross block
    /// edges, with every ASCII space (0x1C-0x1F too), non-ASCII spaces, other scripts and ill-formed bytes.
    func testWhitespaceWordsAcrossBlocks() {
        func reference(_ t: UnsafeBufferPointer<UInt8>) -> ([Int], Int) {
            var spans: [Int] = [], chars = 0, i = 0, start = -1
            while i < t.count {
                let (cp, len) = TokenTraits.decodeCharacter(t, i) ?? (0xFFFD, 1)
                chars += 1
                if TextLandmarks.isSpace(cp) {
                    if start >= 0 { spans += [start, i]; start = -1 }
                } else if start < 0 { start = i }
                i += len
            }
            if start >= 0 { spans += [start, t.count] }
            return (spans, chars)
        }
        let units: [[UInt8]] = ["a", "word", "x1", " ", "  ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{1C}", "\u{1F}", "\u{00A0}",
                                "\u{3000}", "\u{2028}", "\u{85}", "é", "日本", "🙂", "\u{7F}", "\u{00}"].map { Array($0.utf8) }
            + [[0xFF], [0xE6, 0x97], [0xC3]]
        var state: UInt64 = 7
        var checked = 0
        for round in 0..<600 {
            var text: [UInt8] = []
            let asciiOnly = round % 3 == 0
            for _ in 0..<(round % 200) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let r = Int(state >> 33)
                if r % 7 == 0 { text += [UInt8](repeating: UInt8(ascii: "a"), count: r % 150) }        // long words
                else if r % 11 == 0 { text += [UInt8](repeating: 0x20, count: r % 130) }              // long runs
                else {
                    let u = units[r % units.count]
                    text += asciiOnly && u.contains(where: { $0 >= 0x80 }) ? [0x20] : u
                }
            }
            text.withUnsafeBufferPointer { b in
                var spans: [Int] = []
                let chars = TextLandmarks.whitespaceWords(b, into: &spans)
                let (want, wantChars) = reference(b)
                XCTAssertEqual(spans, want, "\(text)")
                XCTAssertEqual(chars, wantChars)
            }
            checked += text.count
        }
        XCTAssertGreaterThan(checked, 100_000)
    }

    func testSplitWordsAreNotRetained() throws {
        // Without "ab" every byte is a token: "ab ab" is 5 tokens and no word lies in one token.
        let (c, v) = try measure(try tiny([]), "ab ab")
        XCTAssertEqual(c.tokens, 5)
        XCTAssertEqual(v[.retentionWhitespace]!, 0)
        XCTAssertEqual(v[.retentionWords]!, 0)
        XCTAssertEqual(v[.fertilityWords]!, 2.5, accuracy: 1e-12)
    }

    func testPurityByHand() throws {
        // Classes: "a1" mixes a letter and a digit; " b" is one class (the leading space does not count); "b " is
        // not. Scripts: "хz" mixes Cyrillic and Latin; "a1" is Latin only (digits are Common). A cut character is
        // partial.
        XCTAssertEqual(flags("a1") & TokenTraits.oneClass, 0)
        XCTAssertNotEqual(flags(" b") & TokenTraits.oneClass, 0)
        XCTAssertEqual(flags("b ") & TokenTraits.oneClass, 0)
        XCTAssertEqual(flags("хz") & TokenTraits.oneScript, 0)
        XCTAssertNotEqual(flags("a1") & TokenTraits.oneScript, 0)
        XCTAssertNotEqual(flags([0xE8, 0xAF]) & TokenTraits.partial, 0)
        XCTAssertNotEqual(flags("  ") & TokenTraits.whitespace, 0)
        // "хz b" with tokens "хz" and " b": half the occurrences mix scripts.
        let (_, v) = try measure(try tiny(["хz", " b"]), "хz b")
        XCTAssertEqual(v[.scriptPurity]!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(v[.classPurity]!, 1, accuracy: 1e-12)
        XCTAssertEqual(v[.pretokenPurity]!, 1, accuracy: 1e-12)
        // cl100k's pattern keeps "aB" in one piece and the token "aB" covers it, but the reference pattern (o200k)
        // cuts before the capital: the token crosses a reference boundary.
        let (c, w) = try measure(try tiny(["aB"]), "aB")
        XCTAssertEqual(c.tokens, 1)
        XCTAssertEqual(w[.pretokenPurity]!, 0, accuracy: 1e-12)
        XCTAssertEqual(w[.pretokenPurityTypes]!, 0, accuracy: 1e-12)
    }

    private func flags(_ s: String) -> UInt8 { flags(Array(s.utf8)) }
    private func flags(_ a: [UInt8]) -> UInt8 { a.withUnsafeBufferPointer { TokenTraits.traits(of: $0) } }

    func testGiniByHand() {
        XCTAssertEqual(Evaluation.gini([1, 1, 1]), 0, accuracy: 1e-12)
        // Pairs: |1-3| twice = 4, over 2 * 2^2 * 2 = 16.
        XCTAssertEqual(Evaluation.gini([1, 3]), 0.25, accuracy: 1e-12)
        // Sum over pairs of [1,2,3,6]: 2*(1+2+5+1+4+3) = 32; 2 n^2 mean = 2*16*3 = 96.
        XCTAssertEqual(Evaluation.gini([1, 2, 3, 6]), 32.0 / 96.0, accuracy: 1e-12)
    }

    func testMorphologyScoresByHand() throws {
        // Gold "abc" = "ab" + "c". With tokens "ab" and " ab": " abc" is [" ab", "c"]: the cut after "ab" is the
        // gold boundary (precision 1, recall 1), and both tokens ("ab" inside the word, "c") are whole morphemes.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tokmorph-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("seg.tsv").path
        try Data("abc\tab c\nxy\tx y\n".utf8).write(to: URL(fileURLWithPath: path))
        let gold = try GoldSegmentation(path: path)
        let s = gold.scores(try tiny(["ab", " ab", " xy"]))
        // "xy": [" xy"] — no cut, gold has one: recall 1/2 overall, precision 1/1; tokens: " ab", "c", "xy": 2 pure.
        XCTAssertEqual(s.precision!, 1, accuracy: 1e-12)
        XCTAssertEqual(s.recall!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.f1!, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(s.pure!, 2.0 / 3, accuracy: 1e-12)
        // A word of one morph encoded as one token: no boundary predicted or expected, so precision, recall and
        // F1 are undefined (they read 0.0, a perfect agreement shown as the worst score); %Pure is 1.
        try Data("ab\tab\n".utf8).write(to: URL(fileURLWithPath: path))
        let one = try GoldSegmentation(path: path).scores(try tiny(["ab", " ab"]))
        XCTAssertNil(one.precision)
        XCTAssertNil(one.recall)
        XCTAssertNil(one.f1)
        XCTAssertEqual(one.pure, 1)
        try Data("abc\tab d\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try GoldSegmentation(path: path)) { XCTAssertTrue("\($0)".contains("line 1"), "\($0)") }
    }

    func testLexiconValidity() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("toklex-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("lex.txt").path
        try Data("ab\nc\n".utf8).write(to: URL(fileURLWithPath: path))
        let lex = try Lexicon(path: path)
        let t = try tiny(["ab", " ab"])
        var counts = [UInt64](repeating: 0, count: t.vocabularySize)
        counts[256] = 3   // "ab": valid
        counts[257] = 1   // " ab": valid once the space is stripped
        counts[Int(UInt8(ascii: "x"))] = 5   // "x": not in the lexicon
        counts[32] = 2    // " ": white space only, left out
        XCTAssertEqual(lex.validity(t, idCounts: counts), 2.0 / 3, accuracy: 1e-12)
    }
}
