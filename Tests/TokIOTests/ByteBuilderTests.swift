import XCTest
@testable import TokIO
import TokCore

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

    /// One number at a time (jsonl offsets): every digit count, the million and 10^12 boundaries of the word paths,
    /// and the division loop above them.
    func testDecimalMatchesStringFormatting() {
        var values: [UInt64] = [0, 1, 9, 10, 99, 100, 999_999, 1_000_000, 1_000_001, 1_000_010, 10_000_000,
                                123_456_789, 999_999_999_999, 1_000_000_000_000, 1_000_000_000_001, UInt64.max]
        var p: UInt64 = 1
        for _ in 0..<19 { values += [p - 1, p, p + 1]; p *= 10 }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5000 { values.append(UInt64.random(in: 0..<5_000_000_000_000, using: &rng)) }
        let b = ByteBuilder(capacity: 8)
        var expected = ""
        for v in values {
            b.appendDecimal(v)
            b.append(0x2C)
            expected += "\(v),"
        }
        XCTAssertEqual(String(decoding: b.bytes, as: UTF8.self), expected)
    }

    /// Lists with a comma between ids (jsonl), from the table and without it.
    func testDecimalListWithAnotherSeparator() {
        let ids: [UInt32] = [0, 7, 10, 999_999, 1_000_000, 100_257, 4_294_967_295, 3]
        let table = DecimalIDs(count: 200_000)
        for useTable in [false, true] {
            let b = ByteBuilder(capacity: 8)
            ids.withUnsafeBufferPointer {
                if useTable { b.appendDecimalList($0, table: table, separator: 0x2C) } else { b.appendDecimalList($0, separator: 0x2C) }
            }
            XCTAssertEqual(String(decoding: b.bytes, as: UTF8.self), ids.map(String.init).joined(separator: ","))
        }
    }

    /// GPT-2's byte-level alphabet written from words: every byte, alone and in a run.
    func testByteLevelMatchesTheAlphabet() {
        let all = (0..<256).map { UInt8($0) }
        let b = ByteBuilder(capacity: 8)
        for byte in all { [byte].withUnsafeBufferPointer { b.appendByteLevel($0) }; b.append(0x20) }
        all.withUnsafeBufferPointer { b.appendByteLevel($0) }
        let one = ByteLevelAlphabet.characters.map { String(Character($0)) }
        XCTAssertEqual(String(decoding: b.bytes, as: UTF8.self), one.joined(separator: " ") + " " + one.joined())
    }
}
