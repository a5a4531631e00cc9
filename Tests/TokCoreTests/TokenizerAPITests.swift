import Dispatch
import XCTest
import TokCore
import TokTestSupport

/// What an embedder of TokCore relies on beyond encoding: counting with a normalizer, sidecar settings that
/// TokCore cannot carry out alone, token bytes that outlive their tokenizer, and bounds on ids.
final class TokenizerAPITests: XCTestCase {
    /// A normalizer that makes every "X" three tokens' worth of text, so that counting without it is visibly wrong.
    struct Expanding: TextNormalizer {
        var name: String { "expand-x" }
        func normalize(_ text: UnsafeBufferPointer<UInt8>) throws -> [UInt8] {
            var out: [UInt8] = []
            for b in text { if b == UInt8(ascii: "X") { out += Array("x x x".utf8) } else { out.append(b) } }
            return out
        }
    }

    func testCountAppliesTheNormalizerAsEncodeDoes() {
        let base = Shipped.cl100k
        let t = Tokenizer(name: "n", ranks: base.ranks, pattern: base.pattern, preTokenizer: base.preTokenizer,
                          specialTokens: base.specialTokens, normalizer: Expanding())
        let text = "XXXX and more XX text"
        let ids = try! t.encode(text)
        let normalized = try! Array(text.utf8).withUnsafeBufferPointer { try Expanding().normalize($0) }
        XCTAssertEqual(ids, try! base.encode(bytes: normalized))
        XCTAssertEqual(t.count(text), ids.count)
        let long = String(repeating: text + "\n", count: 20_000)
        let longIDs = try! t.encode(long)
        Array(long.utf8).withUnsafeBufferPointer { b in
            XCTAssertEqual(t.countParallel(bytes: b, threads: 2, segmentBytes: 4096), longIDs.count)
            XCTAssertEqual(try! t.encodeParallel(bytes: b, threads: 2, segmentBytes: 4096), longIDs)
            XCTAssertEqual(t.withEncoder { $0.count(b) }, longIDs.count)
        }
    }

    func testSidecarSettingsTokCoreCannotRunAreErrors() throws {
        let dir = NSTemporaryDirectory() + "tokapi-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let vocab = dir + "/v.tiktoken"
        try Data(TiktokenFile.serialize(Shipped.cl100k.ranks)).write(to: URL(fileURLWithPath: vocab))
        let pattern = Shipped.cl100k.pattern
        func sidecar(_ extra: String) throws {
            let json = "{\"pat_str\": \(JSONValue.quote(pattern)), \"special_tokens\": {}\(extra)}"
            try Data(json.utf8).write(to: URL(fileURLWithPath: dir + "/v.json"))
        }
        try sidecar(", \"normalizer\": \"nfkc\"")
        XCTAssertThrowsError(try Tokenizer.load(contentsOf: vocab)) { e in
            XCTAssertTrue("\(e)".contains("normalized (nfkc)"), "\(e)")
        }
        let t = try Tokenizer.load(contentsOf: vocab, normalizer: Expanding())
        XCTAssertEqual(t.count("X"), 3)   // "x", " x", " x"; without the normalizer 1
        try sidecar(", \"pretokenizer\": \"icu-words\"")
        XCTAssertThrowsError(try Tokenizer.load(contentsOf: vocab)) { e in
            XCTAssertTrue("\(e)".contains("icu-words"), "\(e)")
        }
        XCTAssertNoThrow(try Tokenizer.load(contentsOf: vocab, preTokenizer: Shipped.cl100k.preTokenizer))
        try sidecar("")
        XCTAssertEqual(try Tokenizer.load(contentsOf: vocab).normalizer == nil, true)
    }

    func testTokenBytesCopiesOutliveTheTokenizer() throws {
        func grab() throws -> [UInt8]? { try Tokenizer.load(name: "cl100k_base").bytes(of: 9906) }
        XCTAssertEqual(try grab(), Array("Hello".utf8))
        XCTAssertEqual(Shipped.cl100k.bytes(of: 100257), Array("<|endoftext|>".utf8))
        XCTAssertNil(Shipped.cl100k.bytes(of: 100256))
    }

    /// One tokenizer shared by many threads at once (its encoder pool, the model's lazily learnt facts), with
    /// `clearCaches` and `releaseScratch` running meanwhile: every result equals the one-thread encoding.
    func testSharedTokenizerUnderConcurrency() {
        let tok = Shipped.o200k
        let texts = (0..<16).map { k in
            (0..<200).map { i in "Текст \(k * 1000 + i) 日本語のテキスト 😀 word\(i % 7) naïve café\n" }.joined()
        }
        let expected = texts.map { try! tok.encode($0) }
        nonisolated(unsafe) var wrong = 0
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 16) { k in
            for round in 0..<10 {
                if k == 0 && round % 3 == 0 { tok.clearCaches() }
                if k == 1 && round % 4 == 0 { tok.releaseScratch() }
                let ids = try! tok.encode(texts[(k + round) % 16])
                if ids != expected[(k + round) % 16] { lock.lock(); wrong += 1; lock.unlock() }
            }
        }
        XCTAssertEqual(wrong, 0)
    }

    func testSpecialTokenIdsAreBounded() {
        XCTAssertThrowsError(try SpecialTokens([("<|x|>", UInt32.max)])) { e in
            XCTAssertTrue("\(e)".contains("above the largest allowed"), "\(e)")
        }
        XCTAssertNoThrow(try SpecialTokens([("<|x|>", SpecialTokens.idLimit - 1)]))
    }

    /// Model names load the vocabulary tiktoken maps them to (the full table is checked against tiktoken by the
    /// compat suite); names of vocabularies tok does not ship, and unknown names, are errors.
    func testModelNamesLoadTheirVocabulary() throws {
        XCTAssertEqual(Tokenizer.vocabularyName(forModel: "gpt-4o"), "o200k_base")
        XCTAssertEqual(Tokenizer.vocabularyName(forModel: "ft:gpt-4o-mini:org"), "o200k_base")
        XCTAssertEqual(Tokenizer.vocabularyName(forModel: "ft:gpt-4:org"), "cl100k_base")
        XCTAssertEqual(Tokenizer.vocabularyName(forModel: "gpt-3.5-turbo-16k"), "cl100k_base")
        XCTAssertNil(Tokenizer.vocabularyName(forModel: "gpt-40"))
        let t = try Tokenizer.load(model: "gpt-4o-2024-08-06")
        XCTAssertEqual(try t.encode("hello world"), try Tokenizer.load(name: "o200k_base").encode("hello world"))
        XCTAssertThrowsError(try Tokenizer.load(model: "text-davinci-003")) { e in
            XCTAssertTrue("\(e)".contains("p50k_base"), "\(e)")
        }
        XCTAssertThrowsError(try Tokenizer.load(model: "not-a-model"))
    }

    /// Batch encoding, counting and decoding give what one call per text gives, on any number of threads, for a
    /// batch of many short texts and a few long ones; the reported failure is the lowest-indexed one.
    func testBatchesEqualOneCallPerText() throws {
        var rng = SeededRandom(seed: 11)
        let parts = ["Hello", " world", "Привет", " 你好", "🤖", " don't", "\n", "  ", "123", "ünïcode", "<|endoftext|>"]
        var texts: [String] = []
        for k in 0..<3_000 {
            let n = k % 500 == 0 ? 20_000 : Int(rng.next() % 12)
            texts.append((0..<n).map { _ in parts[Int(rng.next() % UInt64(parts.count))] }.joined())
        }
        texts.append("")
        for t in Shipped.all {
            let want = try texts.map { try t.encode($0) }
            for threads in [1, 2, 8] {
                XCTAssertEqual(try t.encodeBatch(texts, threads: threads), want, "\(t.name) \(threads) threads")
                XCTAssertEqual(t.countBatch(texts, threads: threads), want.map(\.count))
            }
            XCTAssertEqual(try t.encodeBatch(texts, threads: 2, special: .allow), try texts.map { try t.encode($0, special: .allow) })
            XCTAssertEqual(try t.decodeBatch(want), texts.map { Array($0.utf8) })
            XCTAssertEqual(try t.encodeBatch([], threads: 4), [])
        }
        let t = Shipped.cl100k
        let first = texts.firstIndex { $0.contains("<|endoftext|>") }!
        XCTAssertThrowsError(try t.encodeBatch(texts, threads: 2, special: .error)) { e in
            let f = e as! SpecialTokenFoundInBatch
            XCTAssertEqual(f.index, first)
            XCTAssertEqual(f.found.offset, Array(texts[first].utf8).firstRange(of: Array("<|endoftext|>".utf8))!.lowerBound)
        }
        XCTAssertThrowsError(try t.decodeBatch([[1, 2], [3, 999_999], [999_998]])) { e in
            let u = e as! UnknownTokenIDInBatch
            XCTAssertEqual(u.index, 1)
            XCTAssertEqual(u.unknown.id, 999_999)
            XCTAssertEqual(u.unknown.position, 1)
        }
    }
}

/// Compiles only while `import TokCore` leaves Swift's `Encoder` (the `Codable` protocol) visible: a public TokCore
/// class of that name hid it, so an embedder's `encode(to encoder: Encoder)` stopped compiling, or silently stopped
/// being the `Codable` witness.
private struct CodableProbe: Encodable {
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(1)
    }
}
