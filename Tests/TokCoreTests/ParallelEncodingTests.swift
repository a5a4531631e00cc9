import XCTest
import TokCore
import TokTestSupport

final class ParallelEncodingTests: XCTestCase {
    /// Mixed-script text with lines, long runs and the vocabulary's special strings scattered in it.
    private func text(_ tok: Tokenizer, bytes: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        let words = ["the", " quick", " brown", "\n", "  ", "日本語の", "テキスト", " Привет", " мир", " مرحبا", " नमस्ते",
                     " สวัสดีครับ", " 🙂🇫🇷", "1234567", "'s", " can't", "\r\n", "\t", String(repeating: "=", count: 70),
                     String(repeating: "a", count: 300), " é\u{301}"]
        let specials = tok.specialTokens.entries.map(\.text).prefix(3)
        var out: [UInt8] = []
        while out.count < bytes {
            if !specials.isEmpty && UInt64.random(in: 0..<500, using: &rng) == 0 {
                out += Array(specials[Int.random(in: 0..<specials.count, using: &rng)].utf8)
            } else {
                out += Array(words[Int.random(in: 0..<words.count, using: &rng)].utf8)
            }
        }
        return out
    }

    /// Segments are encoded on several threads and joined in place: the ids must be those of one thread, for
    /// every special-token policy, and with `.error` the failure must be the first special string in the text.
    func testParallelEncodingEqualsOneThread() throws {
        for (k, tok) in Shipped.all.enumerated() {
            let bytes = text(tok, bytes: 600_000, seed: UInt64(k + 1))
            try bytes.withUnsafeBufferPointer { b in
                for policy in [SpecialTokenPolicy.plain, .allow] {
                    let one = try tok.encode(bytes: b, special: policy)
                    XCTAssertGreaterThan(one.count, 50_000)
                    for (threads, segment) in [(2, 1 << 20), (2, 4096), (3, 10_000), (8, 1500)] {
                        let many = try tok.encodeParallel(bytes: b, threads: threads, segmentBytes: segment, special: policy)
                        XCTAssertEqual(many, one, "\(tok.name) \(policy) \(threads) threads, segments of \(segment)")
                    }
                }
                var first: SpecialTokenFound?
                do { _ = try tok.encode(bytes: b, special: .error) } catch let e as SpecialTokenFound { first = e }
                let want = try XCTUnwrap(first, "\(tok.name): the text has special strings")
                do {
                    _ = try tok.encodeParallel(bytes: b, threads: 3, segmentBytes: 4096, special: .error)
                    XCTFail("\(tok.name): no error")
                } catch let e as SpecialTokenFound {
                    XCTAssertEqual(e.offset, want.offset)
                    XCTAssertEqual(e.token, want.token)
                }
            }
        }
    }
}
