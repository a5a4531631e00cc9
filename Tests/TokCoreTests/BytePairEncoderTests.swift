import XCTest
@testable import TokCore
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

    /// Long pieces are encoded in chunks joined at checked junctions. Runs (which chunk cleanly), near-runs with one
    /// odd unit, and random strings over tiny alphabets (whose junctions often fail, forcing retries and whole-piece
    /// fallbacks) must all give the reference merge; the counters prove each of those paths ran.
    func testChunkedLongPiecesAgreeWithReferenceMerge() {
        var rng = SeededRandom(seed: 33)
        let alphabets: [[String]] = [["a", "b"], ["a", "b", "c"], ["a", "a", "b"], ["ing", "the"], ["é", "e"],
                                     ["语", "言"], ["ไ", "ท", "ย"], ["а", "б"], ["🙂", "a"], ["-", "=", "-="], ["─", "┼"],
                                     ["ab", "aab", "b"], ["क्", "षि"], ["\u{301}", "e"], ["x"], ["0a", "a"]]
        var fallbacks = 0
        for tok in Shipped.all {
            let bpe = BytePairEncoder(model: tok.model)
            for round in 0..<90 {
                let units = alphabets[round % alphabets.count].map { Array($0.utf8) }
                let target = [130, 200, 333, 700][Int.random(in: 0..<4, using: &rng)]
                var piece: [UInt8] = []
                switch round % 3 {
                case 0:   // random over the alphabet
                    while piece.count < target { piece += units[Int.random(in: 0..<units.count, using: &rng)] }
                case 1:   // a repeated motif
                    var motif: [UInt8] = []
                    for _ in 0..<Int.random(in: 1...5, using: &rng) { motif += units[Int.random(in: 0..<units.count, using: &rng)] }
                    while piece.count < target { piece += motif }
                default:  // a repeated motif with one odd unit inserted
                    let motif = units[Int.random(in: 0..<units.count, using: &rng)]
                    while piece.count < target { piece += motif }
                    let at = Int.random(in: 0..<(piece.count / motif.count), using: &rng) * motif.count
                    piece.insert(contentsOf: units[Int.random(in: 0..<units.count, using: &rng)], at: at)
                }
                var out = TokenBuffer()
                piece.withUnsafeBufferPointer { bpe.encodePiece($0.baseAddress!, $0.count, into: &out) }
                XCTAssertEqual(out.array, referenceMerge(piece, tok.ranks), "round \(round) with \(tok.name): \(String(decoding: piece, as: UTF8.self))")
            }
            // Raw bytes that are not UTF-8 (input read with --invalid-utf8 bytes): continuation bytes only, or mixed.
            for raw: [UInt8] in [[0x80], [0xBF, 0x80, 0x61], [0xE4, 0xB8], [0xFF, 0x20, 0x80]] {
                var piece: [UInt8] = []
                while piece.count < 300 { piece += raw }
                var out = TokenBuffer()
                piece.withUnsafeBufferPointer { bpe.encodePiece($0.baseAddress!, $0.count, into: &out) }
                XCTAssertEqual(out.array, referenceMerge(piece, tok.ranks), "\(raw) with \(tok.name)")
            }
            XCTAssertGreaterThan(bpe.chunkStats.chunks, bpe.chunkStats.pieces, tok.name)
            XCTAssertGreaterThan(bpe.chunkStats.retries, 0, tok.name)
            // The whole-piece fallback, reached by allowing no retry: a piece whose junctions fail (random text
            // over a tiny alphabet) is merged whole, with the same result.
            bpe.chunkRetryLimit = 0
            for round in 0..<12 {
                let units = alphabets[round % alphabets.count].map { Array($0.utf8) }
                var piece: [UInt8] = []
                while piece.count < 600 { piece += units[Int.random(in: 0..<units.count, using: &rng)] }
                var out = TokenBuffer()
                piece.withUnsafeBufferPointer { bpe.encodePiece($0.baseAddress!, $0.count, into: &out) }
                XCTAssertEqual(out.array, referenceMerge(piece, tok.ranks), "fallback round \(round) with \(tok.name)")
            }
            bpe.chunkRetryLimit = nil
            fallbacks += bpe.chunkStats.fallbacks
        }
        XCTAssertGreaterThan(fallbacks, 0)
    }

    /// Two tokens form a junction exactly when merging their bytes gives them back.
    func testJunctionIsTheMergeOfThePair() {
        let tok = Shipped.cl100k
        let bpe = BytePairEncoder(model: tok.model)
        var rng = SeededRandom(seed: 4)
        var valid = 0, invalid = 0
        for i in 0..<6000 {
            var a = UInt32.random(in: 0..<UInt32(tok.ranks.rankLimit), using: &rng)
            var b = UInt32.random(in: 0..<UInt32(tok.ranks.rankLimit), using: &rng)
            if i % 2 == 1, let t = tok.ranks.bytes(ofRank: a), t.count > 1 {
                // The two halves of a token, when both are tokens: mostly not a junction (they merge back).
                let cut = Int.random(in: 1..<t.count, using: &rng)
                guard let l = tok.ranks.rank(of: t[..<cut]), let r = tok.ranks.rank(of: t[cut...]) else { continue }
                (a, b) = (l, r)
            }
            guard let ba = tok.ranks.bytes(ofRank: a), let bb = tok.ranks.bytes(ofRank: b) else { continue }
            let want = referenceMerge(Array(ba) + Array(bb), tok.ranks) == [a, b]
            XCTAssertEqual(bpe.isJunction(a, b), want, "\(a) \(b)")
            XCTAssertEqual(bpe.isJunction(a, b), want, "\(a) \(b), cached")
            if want { valid += 1 } else { invalid += 1 }
        }
        XCTAssertGreaterThan(valid, 100)
        XCTAssertGreaterThan(invalid, 100)
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

    /// Pieces made of tokens with non-ASCII bytes (so that tokens over character boundaries, partial characters
    /// included, sit next to each other), of single characters of many scripts, and of stray bytes.
    private func multilingualPieces(_ tok: Tokenizer, count: Int, seed: UInt64) -> [[UInt8]] {
        var rng = SeededRandom(seed: seed)
        let table = tok.ranks
        var nonASCII: [[UInt8]] = []
        for r in 0..<UInt32(table.rankLimit) {
            if let b = table.bytes(ofRank: r), b.contains(where: { $0 >= 0x80 }) { nonASCII.append(Array(b)) }
        }
        let chars: [[UInt8]] = ["语", "言", "の", "ン", "ไ", "ท", "क", "्", "ष", "ا", "ل", "é", "ж", "🙂", "\u{301}", "a", " ", "1"].map { Array($0.utf8) }
        let stray: [[UInt8]] = [[0x80], [0xE4, 0xB8], [0xFF], [0xBF, 0xBF]]
        var pieces: [[UInt8]] = []
        for _ in 0..<count {
            var piece: [UInt8] = []
            let target = Int.random(in: 2..<160, using: &rng)
            while piece.count < target {
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<6: piece += nonASCII[Int.random(in: 0..<nonASCII.count, using: &rng)]
                case 6..<9: piece += chars[Int.random(in: 0..<chars.count, using: &rng)]
                default: piece += stray[Int.random(in: 0..<stray.count, using: &rng)]
                }
            }
            pieces.append(piece)
        }
        return pieces
    }

    /// The filter may only report a cut where no token occurs across it: checked against every substring.
    func testSpanningTokenFilterNeverCutsAcrossAToken() {
        for tok in Shipped.all {
            let filter = tok.model.spanningTokenFilter()
            let maxLen = tok.model.maxTokenLength
            var cuts = 0, refused = 0
            for piece in multilingualPieces(tok, count: 150, seed: 41) {
                piece.withUnsafeBufferPointer { buf in
                    let p = buf.baseAddress!, n = buf.count
                    for k in 1..<n where SpanningTokenFilter.isCandidate(p, k) {
                        guard filter.isCut(p, k, n) else { refused += 1; continue }
                        cuts += 1
                        for s in max(0, k - maxLen + 1)..<k {
                            for e in (k + 1)...min(n, s + maxLen) where tok.ranks.rank(of: piece[s..<e]) != nil {
                                XCTFail("\(tok.name): token \(piece[s..<e]) spans cut \(k) of \(piece)")
                            }
                        }
                    }
                }
            }
            XCTAssertGreaterThan(cuts, 1000, tok.name)
            XCTAssertGreaterThan(refused, 1000, tok.name)
        }
    }

    /// Pieces cut where no token spans give the reference merge, whole and through the caches; Llama 3 has tokens
    /// merges cannot reach ("しない"), which a whole piece may become but a part may not.
    func testPiecesCutWhereNoTokenSpansAgreeWithReferenceMerge() {
        for tok in Shipped.all {
            tok.model.cutDecision.pointee = BPEModel.cutsPay   // cut from the first piece, not after 4,096
            let bpe = BytePairEncoder(model: tok.model)
            var pieces = multilingualPieces(tok, count: 400, seed: 43)
            pieces += ["響しない。", "しない", "影響しない", "しないしない。"].map { Array($0.utf8) }
            for round in 0..<2 {   // the second round runs through the caches
                for piece in pieces {
                    var out = TokenBuffer()
                    piece.withUnsafeBufferPointer { bpe.encodePiece($0.baseAddress!, $0.count, into: &out) }
                    XCTAssertEqual(out.array, referenceMerge(piece, tok.ranks), "round \(round), \(tok.name): \(piece)")
                }
            }
            XCTAssertGreaterThan(bpe.cutStats.cutPieces, 200, tok.name)
        }
        // A fresh model merges its first non-ASCII pieces whole and counts their merges: o200k then cuts; a
        // vocabulary of 8k tokens, whose non-ASCII pieces barely merge, does not.
        let mixed = try! Tokenizer.load(name: "mixed-8k")
        for (table, cuts) in [(Shipped.o200k.ranks, true), (mixed.ranks, false)] {
            let fresh = BytePairEncoder(model: BPEModel(table: table))
            var out = TokenBuffer()
            // 512 pieces when the table came from an image holding the filter, else 4,096.
            let sample = fresh.piecesToDecideCuts
            XCTAssertEqual(sample, table.spanningBits == nil ? BytePairEncoder.piecesToDecideCutsBuilding : BytePairEncoder.piecesToDecideCutsBuilt)
            for i in 0..<(sample + 100) {
                let piece = Array("影響しない\(i)語".utf8)
                piece.withUnsafeBufferPointer { fresh.encodePiece($0.baseAddress!, $0.count, into: &out) }
                if i == sample - 2 { XCTAssertEqual(fresh.cutStats.pieces, 0) }
            }
            XCTAssertEqual(fresh.cutStats.cutPieces > 50, cuts)
            XCTAssertEqual(fresh.model.cutDecision.pointee, cuts ? BPEModel.cutsPay : BPEModel.cutsDoNotPay)
        }
        let llama = Shipped.llama3
        let shinai = llama.ranks.rank(of: Array("しない".utf8)[...])!
        XCTAssertEqual(llama.model.reachable[Int(shinai)], 2, "しない is a Llama 3 token that merging does not reach")
    }

    /// Pieces and parts of two and three bytes take shortcuts (the pair table; the lower of two pairs): every
    /// two-byte string and 20,000 three-byte ones, of every byte, must encode as the reference merge does, as
    /// pieces and as parts, with each shipped vocabulary and one without every two-byte merge (mixed-8k).
    func testTwoAndThreeBytePiecesAgreeWithReferenceMerge() throws {
        let mixed = try Tokenizer.load(name: "mixed-8k")
        var rng = SeededRandom(seed: 23)
        for tok in Shipped.all + [mixed] {
            let bpe = BytePairEncoder(model: tok.model)
            var pieces: [[UInt8]] = []
            for a in 0..<256 { for b in 0..<256 { pieces.append([UInt8(a), UInt8(b)]) } }
            let common = Array(" etaoinsrhl.,\n0123456789'".utf8) + [0xE3, 0x81, 0x82, 0xC3, 0xA9]
            for k in 0..<20_000 {
                pieces.append((0..<3).map { _ in
                    k % 2 == 0 ? UInt8.random(in: 0...255, using: &rng) : common[Int.random(in: 0..<common.count, using: &rng)]
                })
            }
            var failures = 0
            for piece in pieces {
                for asPart in [false, true] {
                    let want = referenceMerge(piece, tok.ranks, wholeLookup: !asPart)
                    var out = TokenBuffer()
                    piece.withUnsafeBufferPointer { b in
                        if asPart { bpe.encodePart(b.baseAddress!, b.count, into: &out) } else { bpe.encodePiece(b.baseAddress!, b.count, into: &out) }
                    }
                    if out.array != want && failures < 5 {
                        failures += 1
                        XCTFail("\(tok.name) \(piece) asPart \(asPart): \(out.array) != \(want)")
                    }
                }
            }
        }
    }

    /// tiktoken's `_byte_pair_merge`, written as plainly as possible.
    /// `wholeLookup: false` is BPE as a part between cuts gets it: merging only, no lookup of the whole first.
    private func referenceMerge(_ piece: [UInt8], _ table: RankTable, wholeLookup: Bool = true) -> [UInt32] {
        if wholeLookup, let r = table.rank(of: piece) { return [r] }
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
