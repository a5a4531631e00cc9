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

    /// A selection of special tokens (tiktoken's allowed_special with disallowed_special=() or "all"): allowed ones
    /// become ids, the others ordinary text or an error; every token still decodes; unknown names are refused.
    func testSelectingSpecialTokens() throws {
        let t = Shipped.cl100k
        let text = "a<|endoftext|>b<|fim_prefix|>c"
        let plain = try t.selectingSpecialTokens(allowed: ["<|endoftext|>"], others: .plain)
        let eot = t.specialTokens.id(of: "<|endoftext|>")!, fim = t.specialTokens.id(of: "<|fim_prefix|>")!
        let ids = try plain.encode(text, special: .allow)
        XCTAssertEqual(ids, try t.encode("a") + [eot] + t.encode("b<|fim_prefix|>c"))
        XCTAssertEqual(try plain.decode(ids + [fim]), Array((text + "<|fim_prefix|>").utf8))
        let strict = try t.selectingSpecialTokens(allowed: ["<|endoftext|>"], others: .error)
        XCTAssertThrowsError(try strict.encode(text, special: .allow)) { e in
            XCTAssertEqual((e as! SpecialTokenFound).offset, 15)
        }
        XCTAssertEqual(try strict.encode("x<|endoftext|>", special: .allow), try t.encode("x") + [eot])
        XCTAssertThrowsError(try strict.encodeBatch(["fine", text], threads: 2, special: .allow)) { e in
            XCTAssertEqual((e as! SpecialTokenFoundInBatch).index, 1)
        }
        XCTAssertEqual(try t.selectingSpecialTokens(allowed: [], others: .allow).encode(text, special: .allow),
                       try t.encode(text, special: .allow))
        XCTAssertThrowsError(try t.selectingSpecialTokens(allowed: ["<|nope|>"], others: .plain))
    }
}
