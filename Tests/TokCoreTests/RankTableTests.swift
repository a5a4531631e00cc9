import XCTest
import TokCore

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
        }
        XCTAssertNil(t.bytes(ofRank: UInt32(keys.count + 5)))
    }

    func testDuplicatesAreRejected() {
        XCTAssertThrowsError(try RankTable(bytes: Array("abab".utf8), ends: [2, 4], ranks: [0, 1]))
        XCTAssertThrowsError(try RankTable(bytes: Array("abcd".utf8), ends: [2, 4], ranks: [3, 3]))
    }
}
