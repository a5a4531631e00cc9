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
        XCTAssertEqual(s.precision, 1, accuracy: 1e-12)
        XCTAssertEqual(s.recall, 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.f1, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(s.pure, 2.0 / 3, accuracy: 1e-12)
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
