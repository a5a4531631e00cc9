import XCTest
import TokCore
import TokTestSupport

final class BytePairEncoderTests: XCTestCase {
    /// The heap path (long pieces) and the scan path (short pieces) must agree on every piece. Long pieces are
    /// built by repeating short ones so both paths can be run on the same bytes via concatenation rules: a piece of
    /// length >= threshold is compared against a reference implementation of tiktoken's scan.
    func testHeapAgreesWithReferenceScan() throws {
        var rng = SeededRandom(seed: 7)
        let alphabet: [[UInt8]] = ["a", "b", "ab", " ", "the", "ing", "語", "🙂", "\u{301}", "0", "__", "=", "\n"].map { Array($0.utf8) }
        for tok in Shipped.all {
            let bpe = BytePairEncoder(model: tok.model)
            for round in 0..<120 {
                var piece: [UInt8] = []
                let target = round < 50 ? Int.random(in: 2..<BytePairEncoder.longThreshold, using: &rng)
                                        : Int.random(in: BytePairEncoder.longThreshold..<400, using: &rng)
                while piece.count < target { piece += alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
                var out = TokenBuffer()
                piece.withUnsafeBufferPointer { bpe.encodePiece($0.baseAddress!, $0.count, into: &out) }
                XCTAssertEqual(out.array, referenceMerge(piece, tok.ranks), "round \(round) with \(tok.name)")
            }
        }
    }

    /// Long pieces that recur come from the long-piece memo; enough distinct ones pass through it to make it start
    /// over several times, and every answer must still be the reference merge.
    func testLongPieceMemoGivesTheSameTokens() {
        var rng = SeededRandom(seed: 21)
        let alphabet: [[UInt8]] = ["─", "┼", " ", "ab", "x", "语", "==", "\t", "7"].map { Array($0.utf8) }
        var pool: [[UInt8]] = []
        for _ in 0..<60 {
            var piece: [UInt8] = []
            let target = Int.random(in: 25..<300, using: &rng)
            while piece.count < target { piece += alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
            pool.append(piece)
        }
        let tok = Shipped.cl100k
        let want = pool.map { referenceMerge($0, tok.ranks) }
        let bpe = BytePairEncoder(model: tok.model)
        for round in 0..<12000 {
            // Mostly pieces from the pool; now and then a fresh one, so the memo fills up and starts over.
            var piece: [UInt8]
            let k = Int.random(in: 0..<pool.count, using: &rng)
            if round % 3 == 0 {
                piece = pool[k] + Array("\(round)".utf8)
            } else {
                piece = pool[k]
            }
            var out = TokenBuffer()
            piece.withUnsafeBufferPointer { bpe.encodePiece($0.baseAddress!, $0.count, into: &out) }
            if round % 3 == 0 {
                if round % 30 == 0 { XCTAssertEqual(out.array, referenceMerge(piece, tok.ranks), "round \(round)") }
            } else {
                XCTAssertEqual(out.array, want[k], "round \(round)")
            }
        }
    }

    func testPathologicalRunsAreCorrect() {
        let bpe = BytePairEncoder(model: Shipped.cl100k.model)
        for piece in [[UInt8](repeating: 0x61, count: 600), Array(String(repeating: "语", count: 200).utf8)] {
            var out = TokenBuffer()
            piece.withUnsafeBufferPointer { bpe.encodePiece($0.baseAddress!, $0.count, into: &out) }
            XCTAssertEqual(out.array, referenceMerge(piece, Shipped.cl100k.ranks))
        }
    }

    /// Ranks too large for the packed merge keys and the pair cache take the general paths; spreading cl100k's
    /// ranks (same order, times 400) must give the same merges, each id times 400.
    func testSparseRanksTakeTheGeneralPathsAndAgree() throws {
        let base = Shipped.cl100k.ranks
        var bytes: [UInt8] = [], ends: [Int] = [], ranks: [UInt32] = []
        for r in 0..<UInt32(base.rankLimit) {
            guard let b = base.bytes(ofRank: r) else { continue }
            bytes += b; ends.append(bytes.count); ranks.append(r * 400)
        }
        let sparse = try RankTable(bytes: bytes, ends: ends, ranks: ranks)
        XCTAssertGreaterThan(sparse.rankLimit, 1 << 25)
        let fast = BytePairEncoder(model: Shipped.cl100k.model), general = BytePairEncoder(table: sparse)
        var rng = SeededRandom(seed: 11)
        let alphabet: [[UInt8]] = ["a", "e", "st", " ", "ing", "語", "言", "🙂", "\u{301}", "7", "==", "\t"].map { Array($0.utf8) }
        for round in 0..<300 {
            var piece: [UInt8] = []
            let target = Int.random(in: 2..<(round < 250 ? 40 : 300), using: &rng)
            while piece.count < target { piece += alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
            var a = TokenBuffer(), b = TokenBuffer()
            piece.withUnsafeBufferPointer {
                fast.encodePiece($0.baseAddress!, $0.count, into: &a)
                general.encodePiece($0.baseAddress!, $0.count, into: &b)
            }
            XCTAssertEqual(b.array, a.array.map { $0 * 400 }, "round \(round)")
        }
    }

    /// tiktoken's `_byte_pair_merge`, written as plainly as possible.
    private func referenceMerge(_ piece: [UInt8], _ table: RankTable) -> [UInt32] {
        if let r = table.rank(of: piece) { return [r] }
        var parts = Array(0...piece.count)   // part boundaries
        func rank(_ a: Int, _ b: Int) -> UInt32 { table.rank(of: piece[parts[a]..<parts[b]]) ?? .max }
        var pairRank = (0..<(parts.count - 2)).map { rank($0, $0 + 2) }
        while parts.count > 2 {
            var best = UInt32.max, at = -1
            for (i, r) in pairRank.enumerated() where r < best { best = r; at = i }
            if at < 0 { break }
            parts.remove(at: at + 1)
            pairRank.remove(at: at)
            if at < pairRank.count { pairRank[at] = rank(at, at + 2) }
            if at > 0 { pairRank[at - 1] = rank(at - 1, at + 1) }
        }
        return (0..<(parts.count - 1)).map { table.rank(of: piece[parts[$0]..<parts[$0 + 1]])! }
    }
}
