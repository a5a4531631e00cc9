import XCTest
@testable import TokIO

final class ByteBuilderTests: XCTestCase {
    /// The decimal list formatter (one 8-byte store per id below a million) against Swift's own formatting, on
    /// every digit-count boundary, ids above a million, lists of one, and random lists.
    func testDecimalListMatchesStringFormatting() {
        var edges: [UInt32] = [0, 1, 7, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10_000, 99_999, 100_000, 100_257,
                               199_997, 999_999, 1_000_000, 1_000_001, 12_345_678, UInt32.max - 1, UInt32.max]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 { edges.append(UInt32.random(in: 0..<300_000, using: &rng)) }
        let cases: [[UInt32]] = [[], [0], [999_999], [1_000_000], edges, edges.reversed(), Array(0..<12_000)]
        for ids in cases {
            let b = ByteBuilder(capacity: 8)
            b.append(0x41)
            ids.withUnsafeBufferPointer { b.appendDecimalList($0) }
            b.append(0x42)
            XCTAssertEqual(String(decoding: b.bytes, as: UTF8.self), "A" + ids.map(String.init).joined(separator: " ") + "B")
        }
    }

    /// The table-driven formatter gives the same text: ids in the table, past its end (a table of 1,000 and one
    /// of the whole million), above a million, and every number of digits.
    func testDecimalListFromTableMatchesStringFormatting() {
        var ids: [UInt32] = [0, 5, 9, 10, 99, 100, 999, 1000, 1001, 9999, 10_000, 99_999, 100_000, 100_257, 999_999,
                             1_000_000, 4_294_967_295, 7]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5000 { ids.append(UInt32.random(in: 0..<1_200_000, using: &rng)) }
        for table in [DecimalIDs(count: 1000), DecimalIDs(count: 2_000_000)] {
            let lists: [[UInt32]] = [[], [ids[0]], [999_999], [1_000_000, 3], ids, ids.reversed(), Array(0..<12_000)]
            for list in lists {
                let b = ByteBuilder(capacity: 8)
                b.append(0x41)
                list.withUnsafeBufferPointer { b.appendDecimalList($0, table: table) }
                b.append(0x42)
                XCTAssertEqual(String(decoding: b.bytes, as: UTF8.self), "A" + list.map(String.init).joined(separator: " ") + "B")
            }
        }
        XCTAssertEqual(DecimalIDs(count: 2_000_000).count, 1_000_000)
    }
}
