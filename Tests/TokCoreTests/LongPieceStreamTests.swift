import XCTest
import TokCore
import TokTestSupport

final class LongPieceStreamTests: XCTestCase {
    /// Feeds `piece` to a stream in slices of random sizes; returns the tokens, or nil if the stream refused.
    private func streamed(_ encoder: TokenEncoder, _ piece: [UInt8], keep: Int, step: Int,
                          rng: inout SeededRandom) -> [UInt32]? {
        var stream = LongPieceStream(keepBytes: keep, stepBytes: step)
        var out = TokenBuffer()
        var at = 0
        while at < piece.count {
            let n = min(piece.count - at, Int.random(in: 1...(3 * step), using: &rng))
            let last = at + n == piece.count
            let ok = piece.withUnsafeBufferPointer {
                encoder.feed(&stream, UnsafeBufferPointer(rebasing: $0[at..<(at + n)]), final: last, into: &out)
            }
            if !ok { return nil }
            at += n
        }
        XCTAssertEqual(stream.bytesSeen, piece.count)
        return out.array
    }

    /// Long pieces of real vocabularies, fed in random slices with the smallest window the stream allows, give
    /// the tokens of the whole piece encoded as one piece (the chunked encoding, tested against tiktoken).
    func testStreamedPiecesEqualWholePieces() throws {
        var rng = SeededRandom(seed: 3)
        let alphabets: [[String]] = [
            ["a"], ["\u{0}"], ["a", "b", "c", "d", "e", "f", "g", "h", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t"],
            ["!", "?", "-", "=", "*", "/", "\\", "<", ">"], ["中", "国", "語", "言", "カ", "ー"],
            ["ก", "ข", "า", "ี", "่", "้"], ["a", "A", "é", "É", "\u{301}", "ǅ", "ʰ"], ["ab", "abc", "b"],
        ]
        for tokenizer in Shipped.all {
            let encoder = tokenizer.makeEncoder()
            for alphabet in alphabets {
                for size in [300, 5_000, 60_000] {
                    var piece: [UInt8] = []
                    while piece.count < size { piece += Array(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)].utf8) }
                    var one = TokenBuffer()
                    piece.withUnsafeBufferPointer { p in
                        [p.count].withUnsafeBufferPointer { encoder.encodeOrdinary(p, pieceEnds: $0, into: &one) }
                    }
                    let whole = one.array
                    let got = streamed(encoder, piece, keep: 256, step: 256, rng: &rng)
                    XCTAssertEqual(got, whole, "\(tokenizer.name), \(alphabet), \(size) bytes")
                }
            }
        }
    }

    /// A vocabulary whose merges pair a text from its right end (each pair ranked below the one on its left) changes
    /// every token when one byte is added: the stream must say so rather than give wrong tokens, and with a window
    /// longer than the text it must give BPE's tokens.
    func testChangesFarBackAreRefusedNotMisencoded() throws {
        // A walk over 26 letters with every pair at most once: about 670 distinct pairs in a row, ranked lower and
        // lower to the right, so that BPE pairs the bytes from the right end.
        let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        var walk: [UInt8] = []
        var used = Set<[UInt8]>()
        var current = letters[0]
        walk.append(current)
        while true {
            guard let next = letters.reversed().first(where: { !used.contains([current, $0]) }) else { break }
            used.insert([current, next])
            walk.append(next)
            current = next
        }
        XCTAssertGreaterThan(walk.count, 600)
        var bytes: [UInt8] = [], ends: [Int] = [], ranks: [UInt32] = []
        for b in 0..<256 { bytes.append(UInt8(b)); ends.append(bytes.count); ranks.append(UInt32(b)) }
        for i in 0..<(walk.count - 1) {
            bytes += [walk[i], walk[i + 1]]; ends.append(bytes.count); ranks.append(UInt32(256 + walk.count - i))
        }
        let table = try RankTable(bytes: bytes, ends: ends, ranks: ranks)
        let tokenizer = Tokenizer(name: "right-to-left", ranks: table, pattern: "", preTokenizer: Shipped.cl100k.preTokenizer,
                                  specialTokens: .none)
        let encoder = tokenizer.makeEncoder()
        let whole = try tokenizer.encode(bytes: walk)
        let shorter = try tokenizer.encode(bytes: Array(walk.dropLast()))
        XCTAssertNotEqual(whole.first, shorter.first, "the vocabulary must change tokens far back")
        var rng = SeededRandom(seed: 5)
        XCTAssertNil(streamed(encoder, walk, keep: 256, step: 256, rng: &rng))
        XCTAssertEqual(streamed(encoder, walk, keep: 4096, step: 256, rng: &rng), whole)
    }

    /// A stream whose piece turns out no longer than a token ends as tiktoken ends a piece: a token that BPE's merges
    /// do not build ("xyz" with no "xy" or "yz") is looked up whole; `endingAgreesWithMerges` tells the two apart.
    func testShortPieceIsLookedUpWhole() throws {
        var bytes: [UInt8] = [], ends: [Int] = [], ranks: [UInt32] = []
        for b in 0..<256 { bytes.append(UInt8(b)); ends.append(bytes.count); ranks.append(UInt32(b)) }
        bytes += Array("xyz".utf8); ends.append(bytes.count); ranks.append(300)
        bytes += Array("ab".utf8); ends.append(bytes.count); ranks.append(301)
        let table = try RankTable(bytes: bytes, ends: ends, ranks: ranks)
        let tokenizer = Tokenizer(name: "unreachable", ranks: table, pattern: "", preTokenizer: Shipped.cl100k.preTokenizer,
                                  specialTokens: .none)
        let encoder = tokenizer.makeEncoder()
        XCTAssertEqual(try tokenizer.encode(bytes: Array("xyz".utf8)), [300])
        for (text, want, agrees) in [("xyz", [UInt32(300)], false), ("ab", [301], true), ("xyzab", [120, 121, 122, 301], true)] {
            let piece = Array(text.utf8)
            var stream = LongPieceStream(keepBytes: 256, stepBytes: 256)
            var out = TokenBuffer(capacity: 16)
            piece.withUnsafeBufferPointer { b in
                XCTAssertEqual(encoder.endingAgreesWithMerges(stream, b), agrees, text)
                XCTAssertTrue(encoder.feed(&stream, b, final: true, into: &out))
            }
            XCTAssertEqual(Array(out.ids), want, text)
        }
        // Fed in two parts, nothing given out yet: the same.
        var stream = LongPieceStream(keepBytes: 256, stepBytes: 256)
        var out = TokenBuffer(capacity: 16)
        [UInt8]([0x78]).withUnsafeBufferPointer { XCTAssertTrue(encoder.feed(&stream, $0, final: false, into: &out)) }
        [UInt8]([0x79, 0x7A]).withUnsafeBufferPointer { b in
            XCTAssertFalse(encoder.endingAgreesWithMerges(stream, b))
            XCTAssertTrue(encoder.feed(&stream, b, final: true, into: &out))
        }
        XCTAssertEqual(Array(out.ids), [300])
    }
}
