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

    /// Two strings with one id (as in tiktoken's o200k_harmony): both encode to it, it decodes to the one listed
    /// first whatever the order of ids, a selection treats them as two strings, and a repeated string still fails.
    func testStringsSharingAnID() throws {
        let specials = try SpecialTokens([("<|z|>", 300), ("<|endofprompt|>", 200), ("<|reserved|>", 200), ("<|a|>", 100)])
        XCTAssertEqual(specials.entries.map(\.text), ["<|a|>", "<|endofprompt|>", "<|reserved|>", "<|z|>"])
        XCTAssertEqual(specials.bytes(of: 200).map { Array($0) }, Array("<|endofprompt|>".utf8))
        let swapped = try SpecialTokens([("<|reserved|>", 200), ("<|endofprompt|>", 200)])
        XCTAssertEqual(swapped.bytes(of: 200).map { Array($0) }, Array("<|reserved|>".utf8))
        let t = Tokenizer(name: "shared", ranks: Shipped.cl100k.ranks, pattern: Shipped.cl100k.pattern,
                          preTokenizer: Shipped.cl100k.preTokenizer,
                          specialTokens: try SpecialTokens([("<|endofprompt|>", 200_000), ("<|reserved|>", 200_000)]))
        XCTAssertEqual(try t.encode("<|reserved|><|endofprompt|>", special: .allow), [200_000, 200_000])
        XCTAssertEqual(try t.decode([200_000]), Array("<|endofprompt|>".utf8))
        let strict = try t.selectingSpecialTokens(allowed: ["<|endofprompt|>"], others: .error)
        XCTAssertEqual(try strict.encode("<|endofprompt|>", special: .allow), [200_000])
        XCTAssertThrowsError(try strict.encode("<|endofprompt|> <|reserved|>", special: .allow)) { e in
            XCTAssertEqual((e as! SpecialTokenFound).offset, 16)
        }
        XCTAssertThrowsError(try SpecialTokens([("<|x|>", 1), ("<|x|>", 2)]))
    }

    /// A refused special anywhere in the text is an error, also inside or across an allowed one, as tiktoken's
    /// whole-text search for disallowed specials finds it; also when the text is cut into parallel segments.
    /// Allowed strings are compared by their bytes.
    func testRefusedSpecialInsideOrAcrossAnAllowedOne() throws {
        func tokenizer(_ specials: [(String, UInt32)]) throws -> Tokenizer {
            Tokenizer(name: "custom", ranks: Shipped.cl100k.ranks, pattern: Shipped.cl100k.pattern,
                      preTokenizer: Shipped.cl100k.preTokenizer, specialTokens: try SpecialTokens(specials))
        }
        let across = try tokenizer([("<|a|>", 200_000), ("|>b", 200_001)]).selectingSpecialTokens(allowed: ["<|a|>"], others: .error)
        XCTAssertThrowsError(try across.encode("x<|a|>b", special: .allow)) { e in
            XCTAssertEqual((e as! SpecialTokenFound).offset, 4)
            XCTAssertEqual((e as! SpecialTokenFound).token, "|>b")
        }
        XCTAssertEqual(try across.encode("x<|a|>c", special: .allow), try Shipped.cl100k.encode("x") + [200_000, 66])
        // Back to back, where segments may be cut only at the specials' starts, and "|><|" crosses each one.
        let pairs = try tokenizer([("<|a|>", 200_000), ("|><|", 200_001)]).selectingSpecialTokens(allowed: ["<|a|>"], others: .error)
        let run = Array(String(repeating: "<|a|>", count: 2_000).utf8)
        XCTAssertThrowsError(try pairs.encodeParallel(bytes: run, threads: 2, segmentBytes: 1024, special: .allow)) { e in
            XCTAssertEqual((e as! SpecialTokenFound).offset, 3)
        }
        let long = Array((String(repeating: "word ", count: 400_000) + "<|a|>b" + String(repeating: " word", count: 400_000)).utf8)
        XCTAssertThrowsError(try across.encodeParallel(bytes: long, threads: 2, segmentBytes: 4096, special: .allow)) { e in
            XCTAssertEqual((e as! SpecialTokenFound).offset, 2_000_003)
        }
        let inside = try tokenizer([("<|im_start|>", 200_000), ("<|im_start|>assistant", 200_001)])
            .selectingSpecialTokens(allowed: ["<|im_start|>assistant"], others: .error)
        XCTAssertThrowsError(try inside.encode("<|im_start|>assistant\n", special: .allow))
        let canonical = try tokenizer([("\u{e9}", 200_004), ("e\u{301}", 200_005)])
        XCTAssertEqual(try canonical.selectingSpecialTokens(allowed: ["e\u{301}"], others: .plain).encode("\u{e9}|e\u{301}", special: .allow),
                       try Shipped.cl100k.encode("\u{e9}|") + [200_005])
        XCTAssertThrowsError(try tokenizer([("e\u{301}", 200_005)]).selectingSpecialTokens(allowed: ["\u{e9}"], others: .plain))
    }
}
