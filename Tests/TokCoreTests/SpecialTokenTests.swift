import XCTest
import TokCore

final class SpecialTokenTests: XCTestCase {
    func testPolicies() throws {
        let tok = Shipped.cl100k
        let text = "a<|endoftext|>b<|fim_prefix|>"
        let plain = try tok.encode(text)
        XCTAssertFalse(plain.contains(100257))
        let allowed = try tok.encode(text, special: .allow)
        XCTAssertEqual(allowed.filter { $0 >= 100257 }, [100257, 100258])
        XCTAssertEqual(try tok.decode(allowed), Array(text.utf8))
        XCTAssertThrowsError(try tok.encode(text, special: .error)) { e in
            XCTAssertEqual("\(e)", "special token \"<|endoftext|>\" at byte offset 1")
        }
    }

    func testLongestMatchAmongOverlappingSpecials() throws {
        let s = try SpecialTokens([("<|a|>", 1), ("<|a|><|b|>", 2)])
        var text = Array("xx<|a|><|b|>".utf8)
        let m = text.withUnsafeMutableBufferPointer { s.firstMatch(in: UnsafeBufferPointer($0), from: 0, end: $0.count) }
        XCTAssertEqual(m?.start, 2)
        XCTAssertEqual(m?.id, 2)
    }
}
