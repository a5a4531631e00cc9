import Foundation
import Synchronization
import TokCore
import TokICU
@testable import TokMetrics
import TokTestSupport
import TokTrain
import XCTest

/// `tok eval` reads a corpus in segments cut where every tokenizer, the reference pre-tokenizer and the word break
/// allow, including between ASCII punctuation and letters or digits (so that minified JSON and base64 are not held
/// whole). Such a cut lies inside a whitespace word: the counts must still be those of the whole text.
final class SegmentCutTests: XCTestCase {
    /// Text with few or no spaces: JSON, base64, code-like runs, every printable ASCII character ("@" and ":",
    /// which ICU joins to letters, among them), Hebrew letters and quotes, marks, other scripts.
    func text(seed: UInt64, bytes: Int, spaces: Bool) -> [UInt8] {
        var fragments = (UInt8(0x21)...0x7E).map { String(UnicodeScalar($0)) }
        fragments += ["{\"key\":[1,2.5,-3e9,\"v\"]}", "x+y/z==", "abc", "Def", "1234", "a.b", "a:b", "x@y.z", "a_b", "1,000",
                      "don't", "IT'S", "é", "Ж", "日本語", "ภาษา", "\u{5d0}\"\u{5d1}", "a\u{301}", "\u{ad}", "\u{200d}",
                      "\u{1f1fa}\u{1f1f8}", "Ａ", "ﬁ", "①"]
        if spaces { fragments += [" ", "\n", "  ", "\u{a0}", "\u{3000}", "\t"] }
        var rng = SeededRandom(seed: seed)
        var out: [UInt8] = []
        while out.count < bytes { out += Array(fragments[Int.random(in: 0..<fragments.count, using: &rng)].utf8) }
        return out
    }

    func tokenizers() throws -> [Tokenizer] {
        let o200k = try Tokenizer.load(name: "o200k_base"), cl100k = try Tokenizer.load(name: "cl100k_base")
        let words = Tokenizer(name: "o200k-words", ranks: o200k.ranks, pattern: "icu-words",
                              preTokenizer: try ICUWordBreakPreTokenizer(), specialTokens: o200k.specialTokens)
        let nfkc = Tokenizer(name: "o200k-nfkc", ranks: o200k.ranks, pattern: o200k.pattern, preTokenizer: o200k.preTokenizer,
                             specialTokens: o200k.specialTokens, normalizer: ICUNormalizer(.nfkc))
        return [o200k, cl100k, words, nfkc]
    }

    func assertEqualCounts(_ a: TokenCounts, _ b: TokenCounts, _ label: String, file: StaticString = #filePath,
                           line: UInt = #line) {
        XCTAssertEqual(a.bytes, b.bytes, label, file: file, line: line)
        XCTAssertEqual(a.characters, b.characters, label, file: file, line: line)
        XCTAssertEqual(a.tokens, b.tokens, label, file: file, line: line)
        XCTAssertEqual(a.whitespaceWords, b.whitespaceWords, label, file: file, line: line)
        XCTAssertEqual(a.whitespaceWordsWhole, b.whitespaceWordsWhole, label, file: file, line: line)
        XCTAssertEqual(a.words, b.words, label, file: file, line: line)
        XCTAssertEqual(a.wordsWhole, b.wordsWhole, label, file: file, line: line)
        XCTAssertEqual(a.crossingTokens, b.crossingTokens, label, file: file, line: line)
        XCTAssertTrue(a.idCounts == b.idCounts, "\(label): id counts", file: file, line: line)
        XCTAssertTrue(a.crossingIDs == b.crossingIDs, "\(label): crossing ids", file: file, line: line)
    }

    /// Counts over segments of 300 bytes and 4 KB, on one thread and two, equal the counts of the text read whole,
    /// for standard patterns, the word break pre-tokenizer and a normalizer, alone and together; and the segments
    /// were cut inside whitespace words many times. (Without the `wordCuts` bookkeeping the whitespace word counts
    /// differ; checked.)
    func testCountsOverCutsInsideWordsEqualTheWhole() throws {
        let all = try tokenizers()
        let sets: [[Tokenizer]] = [all, [all[0]], [all[2]], [all[3]], [all[1], all[2]]]
        let dir = FileManager.default.temporaryDirectory.path
        for seed: UInt64 in 1...3 {
            let bytes = text(seed: seed, bytes: 40_000, spaces: seed % 2 == 0)
            let path = "\(dir)/tok-segment-cuts-\(getpid())-\(seed).txt"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            defer { unlink(path) }
            for (s, set) in sets.enumerated() {
                let e = try Evaluator(tokenizers: set)
                let whole = try e.measure(files: [path], threads: 1, options: e.corpusOptions(segmentBytes: 1 << 30))
                for segmentBytes in [300, 4096] {
                    let options = e.corpusOptions(segmentBytes: segmentBytes)
                    // The reader did cut inside words (else this test would prove nothing).
                    let insideCuts = Mutex(0)
                    try CorpusReader(files: [path], options: options).process(workers: 1) { _, segment in
                        insideCuts.withLock { $0 += segment.wordCuts.filter { $0 & CorpusSegment.startsInsideWord != 0 }.count }
                    }
                    XCTAssertGreaterThan(insideCuts.withLock { $0 }, 40_000 / segmentBytes / 2, "seed \(seed), set \(s), \(segmentBytes)")
                    for threads in [1, 2] {
                        let parts = try e.measure(files: [path], threads: threads, options: options)
                        for k in set.indices {
                            assertEqualCounts(parts[k], whole[k], "seed \(seed), \(set[k].name) in set \(s), segments of \(segmentBytes), \(threads) threads")
                        }
                    }
                }
            }
        }
    }
}
