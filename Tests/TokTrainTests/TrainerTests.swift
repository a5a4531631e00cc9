import TokCore
import TokTrain
import XCTest
import TokTestSupport

final class TrainerTests: XCTestCase {
    /// BPE training written as plainly as possible: recount every pair after every merge, take the highest
    /// count, ties to the smallest (left bytes, right bytes), merge left to right in every word.
    static func referenceTrain(_ words: [([UInt8], UInt64)], tokens target: Int) -> [[UInt8]] {
        var vocab: [[UInt8]] = (0..<256).map { [UInt8($0)] }
        var known = Set(vocab)
        var split: [([[UInt8]], UInt64)] = words.map { ($0.0.map { [$0] }, $0.1) }
        while vocab.count < target {
            var counts: [[UInt8]: (UInt64, [UInt8], [UInt8])] = [:]
            for (parts, c) in split where parts.count > 1 {
                for i in 0..<(parts.count - 1) {
                    let key = parts[i] + [0xFF, 0xFE, 0xFD] + parts[i + 1]
                    counts[key, default: (0, parts[i], parts[i + 1])].0 += c
                }
            }
            guard let best = counts.values.min(by: { x, y in
                if x.0 != y.0 { return x.0 > y.0 }
                if x.1 != y.1 { return x.1.lexicographicallyPrecedes(y.1) }
                return x.2.lexicographicallyPrecedes(y.2)
            }) else { break }
            let merged = best.1 + best.2
            if !known.contains(merged) { vocab.append(merged); known.insert(merged) }
            for k in 0..<split.count {
                var parts = split[k].0, out: [[UInt8]] = [], i = 0
                while i < parts.count {
                    if i + 1 < parts.count && parts[i] == best.1 && parts[i + 1] == best.2 {
                        out.append(merged); i += 2
                    } else {
                        out.append(parts[i]); i += 1
                    }
                }
                parts = out
                split[k].0 = parts
            }
        }
        return vocab
    }

    func train(_ words: [([UInt8], UInt64)], tokens: Int) -> [[UInt8]] {
        let t = BPETrainer(words: words.map { ($0.0[...], $0.1) })
        t.train(targetTokens: tokens)
        return (0..<t.tokenCount).map { Array(t.bytes(of: UInt32($0))) }
    }

    func testMatchesReferenceOnRandomCorpora() {
        var rng = SeededRandom(seed: 3)
        // Small alphabets make many ties and overlapping pairs ("aaa"), which is where trainers go wrong.
        for round in 0..<60 {
            let alphabet: [UInt8] = round % 3 == 0 ? [0x61, 0x62] : [0x61, 0x62, 0x63, 0x20, 0xC3, 0xA9]
            var words: [([UInt8], UInt64)] = []
            for _ in 0..<Int.random(in: 1...30, using: &rng) {
                let w = (0..<Int.random(in: 1...9, using: &rng)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
                words.append((w, UInt64.random(in: 1...20, using: &rng)))
            }
            let target = 256 + Int.random(in: 1...25, using: &rng)
            XCTAssertEqual(train(words, tokens: target), Self.referenceTrain(words, tokens: target), "round \(round)")
        }
    }

    func testWordOrderDoesNotMatter() {
        var rng = SeededRandom(seed: 5)
        var words: [([UInt8], UInt64)] = []
        for _ in 0..<200 {
            let w = (0..<Int.random(in: 2...8, using: &rng)).map { _ in UInt8.random(in: 0x61...0x66, using: &rng) }
            words.append((w, UInt64.random(in: 1...5, using: &rng)))
        }
        let a = train(words, tokens: 320)
        words.shuffle(using: &rng)
        XCTAssertEqual(train(words, tokens: 320), a)
    }

    func testHandCountedMerges() {
        // "aaab" x 3, "ab" x 2: pairs aa 6, ab 5, so aa first; then "aa a b": (aa,a) 3, (a,b) 5 → ab; then
        // "aa ab": (aa,ab) 3.
        let t = BPETrainer(words: [(Array("aaab".utf8)[...], 3), (Array("ab".utf8)[...], 2)])
        t.train(targetTokens: 259)
        XCTAssertEqual(t.merges.map { [Array(t.bytes(of: $0.left)), Array(t.bytes(of: $0.right))] },
                       [[[0x61], [0x61]], [[0x61], [0x62]], [[0x61, 0x61], [0x61, 0x62]]])
        XCTAssertEqual(t.merges.map(\.count), [6, 5, 3])
    }

    func testStopsAtMinimumFrequency() {
        let t = BPETrainer(words: [(Array("abab".utf8)[...], 1), (Array("cd".utf8)[...], 5)])
        t.train(targetTokens: 300, minFrequency: 2)
        // "cd" (5), then "ab" (twice in "abab"); "ab"+"ab" occurs once, below the minimum.
        XCTAssertEqual(t.tokenCount, 258)
    }

    func testVetoAndRequeue() {
        let t = BPETrainer(words: [(Array("abc".utf8)[...], 10), (Array("bc".utf8)[...], 1)])
        t.allowMerge = { l, r, _ in !(l == 0x62 && r == 0x63) }  // never "b"+"c"
        t.train(targetTokens: 258)
        XCTAssertEqual(t.merges.first.map { [Array(t.bytes(of: $0.left)), Array(t.bytes(of: $0.right))] }, [[0x61], [0x62]])
    }

    func testApplyGivenMergesFirst() {
        let t = BPETrainer(words: [(Array("hello".utf8)[...], 3)])
        XCTAssertTrue(t.apply(left: Array("l".utf8), right: Array("o".utf8)))
        XCTAssertFalse(t.apply(left: Array("xyz".utf8), right: Array("o".utf8)))
        XCTAssertEqual(t.token(for: Array("lo".utf8)), 256)
        XCTAssertEqual(t.count(of: 0x6C, 256), 3)  // "l" + "lo"
    }
}
