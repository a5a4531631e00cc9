import XCTest
import TokCore
import TokTestSupport

final class RankTableTests: XCTestCase {
    func testLookupOfEveryKeyLength() throws {
        // Keys of lengths 1...40 exercise the word-packing and tail-compare paths.
        var bytes: [UInt8] = [], ends: [Int] = [], ranks: [UInt32] = []
        var keys: [[UInt8]] = []
        var rng = SeededRandom(seed: 1)
        for i in 0..<2000 {
            let len = 1 + i % 40
            var k = (0..<len).map { _ in UInt8.random(in: 0...255, using: &rng) }
            k[0] = UInt8(i & 0xFF); k[len - 1] = UInt8(i >> 8)
            if keys.contains(k) { continue }
            keys.append(k)
            bytes += k; ends.append(bytes.count); ranks.append(UInt32(keys.count - 1))
        }
        let t = try RankTable(bytes: bytes, ends: ends, ranks: ranks)
        XCTAssertEqual(t.count, keys.count)
        for (r, k) in keys.enumerated() {
            XCTAssertEqual(t.rank(of: k), UInt32(r))
            XCTAssertEqual(t.bytes(ofRank: UInt32(r)).map(Array.init), k)
            // A key with one byte changed is (almost surely) absent, and a prefix is not a hit for the key.
            var m = k; m[m.count - 1] ^= 0x5A
            if !keys.contains(m) { XCTAssertNil(t.rank(of: m)) }
            if k.count > 1, !keys.contains(Array(k.dropLast())) { XCTAssertNil(t.rank(of: k.dropLast())) }
            // Any single byte changed, wherever it is (the tail compare reads overlapping words).
            for i in 0..<k.count {
                var m = k; m[i] ^= 0x01
                if !keys.contains(m) { XCTAssertNil(t.rank(of: m), "key \(r) byte \(i)") }
            }
        }
        XCTAssertNil(t.bytes(ofRank: UInt32(keys.count + 5)))
    }

    /// The masked load (for keys with 8 readable bytes after their start) gives the same prefix word as the
    /// length-branching reader, for every length and whatever the bytes after the key.
    func testMaskedPrefixWordEqualsPrefixWord() {
        var rng = SeededRandom(seed: 88)
        for _ in 0..<2000 {
            let buf = (0..<24).map { _ in UInt8.random(in: 0...255, using: &rng) }
            buf.withUnsafeBufferPointer { b in
                for len in 0...16 {
                    XCTAssertEqual(ByteKey.prefixWord(readable8: b.baseAddress!, len), ByteKey.prefixWord(b.baseAddress!, len),
                                   "length \(len)")
                }
            }
        }
    }

    /// Encoding through the masked path (whole texts, where most pieces have 8 readable bytes) gives the ids of the
    /// piece-by-piece path without it, on text whose pieces end near the end of the buffer too.
    func testEncodePiecesWithAndWithoutMaskedLoads() throws {
        let tok = try Tokenizer.load(name: "cl100k_base")
        var rng = SeededRandom(seed: 99)
        let units = ["a", " the", "Hello", " wonderful", "1", "22", "333", "!", "\n", "  ", "é", "日本", "'s", " x"]
        for round in 0..<300 {
            var text = ""
            for _ in 0..<(round % 40) { text += units[Int(rng.next() % UInt64(units.count))] }
            let bytes = Array(text.utf8)
            let want = bytes.withUnsafeBufferPointer { b -> [UInt32] in
                var ends: [Int] = []
                tok.preTokenizer.split(b, into: &ends)
                guard let base = b.baseAddress else { return [] }
                var out = TokenBuffer()
                let e = BytePairEncoder(model: tok.model)
                ends.withUnsafeBufferPointer { e.encodePieces(base, from: 0, ends: $0, into: &out) }
                return Array(out.ids)
            }
            XCTAssertEqual(try tok.encode(bytes: bytes), want, text)
        }
    }

    func testDuplicatesAreRejected() {
        XCTAssertThrowsError(try RankTable(bytes: Array("abab".utf8), ends: [2, 4], ranks: [0, 1]))
        XCTAssertThrowsError(try RankTable(bytes: Array("abcd".utf8), ends: [2, 4], ranks: [3, 3]))
    }

    /// Keys of 255 bytes and more (whose slot tag caps the length) that share their first 8 bytes and differ only
    /// in length or in a late byte; and a table whose arena passes 16 MB (slots then hold lengths, not offsets).
    func testLongKeysAndLargeArenas() throws {
        var rng = SeededRandom(seed: 3)
        func check(_ keys: [[UInt8]], probes: [[UInt8]]) throws {
            var bytes: [UInt8] = [], ends: [Int] = []
            for k in keys { bytes += k; ends.append(bytes.count) }
            let table = try RankTable(bytes: bytes, ends: ends, ranks: (0..<UInt32(keys.count)).map { $0 })
            let image = table.image(sourceFingerprint: 9, sourceLength: 9)
            let reread = try XCTUnwrap(image.withUnsafeBytes { RankTable(image: $0, sourceFingerprint: 9, sourceLength: 9) })
            for t in [table, reread] {
                for (r, k) in keys.enumerated() { XCTAssertEqual(t.rank(of: k), UInt32(r)) }
                for p in probes { XCTAssertNil(t.rank(of: p), "\(p.count)-byte probe") }
            }
        }
        let stem = [UInt8](repeating: 0x61, count: 8)
        var long: [[UInt8]] = []
        for n in [9, 254, 255, 256, 300, 301, 1000] {
            long.append(stem + [UInt8](repeating: 0x62, count: n - 8))
            long.append(stem + [UInt8](repeating: 0x62, count: n - 9) + [0x63])
        }
        let probes = [254, 255, 256, 257, 302, 999].map { stem + [UInt8](repeating: 0x62, count: $0 - 9) + [0x64] }
            + [stem + [UInt8](repeating: 0x62, count: 302 - 8), stem + [UInt8](repeating: 0x62, count: 999)]
        try check(long, probes: probes)
        // 17 MB of keys: the arena no longer fits a 24-bit offset.
        var big: [[UInt8]] = long
        var seen = Set(long)
        while big.count < 68_000 {
            var k: [UInt8] = []
            k.reserveCapacity(256)
            for _ in 0..<32 { withUnsafeBytes(of: rng.next()) { k += $0 } }
            k.removeLast(6)
            if seen.insert(k).inserted { big.append(k) }
        }
        XCTAssertGreaterThan(big.reduce(0) { $0 + $1.count }, 1 << 24)
        try check(big, probes: probes + [[UInt8](repeating: 7, count: 250)])
    }
}
