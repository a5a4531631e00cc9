import XCTest
import TokCore
import TokTestSupport

final class DecodingTests: XCTestCase {
    /// decode(encode(x)) == x for a million random byte strings, on each shipped vocabulary in turn.
    func testRoundTripOfRandomByteStrings() throws {
        var rng = SeededRandom(seed: 42)
        let pools: [[UInt8]] = [
            Array(0...255),
            Array("  \n\r\tabcXYZ019'’.,;!?-_/\\语言🙂é\u{301}\u{0E01}\u{0627}".utf8),
        ]
        let strings = 1_000_000
        let tokenizers = Shipped.all
        let encoders = tokenizers.map { $0.makeEncoder() }
        var out = TokenBuffer()
        var buf = [UInt8]()
        for i in 0..<strings {
            let pool = pools[i & 1]
            let len = Int(rng.next() % 33)
            buf.removeAll(keepingCapacity: true)
            for _ in 0..<len { buf.append(pool[Int(rng.next() % UInt64(pool.count))]) }
            let k = i % tokenizers.count
            out.removeAll()
            buf.withUnsafeBufferPointer { encoders[k].encodeOrdinary($0, into: &out) }
            let back = try tokenizers[k].decode(out.array)
            if back != buf {
                XCTFail("round trip failed for \(buf) with \(tokenizers[k].name)")
                return
            }
        }
    }

    func testStreamingDecoderHoldsBackSplitCharacters() throws {
        let tok = Shipped.cl100k
        let text = "héllo 语言 🙂👍🏽 done"
        let ids = try tok.encode(text)
        var d = StreamingDecoder(tokenizer: tok)
        var all: [UInt8] = []
        for id in ids {
            var chunk: [UInt8] = []
            try d.append(id, to: &chunk)
            XCTAssertNotNil(String(validating: chunk, as: UTF8.self), "each chunk is valid UTF-8 on its own")
            all += chunk
        }
        try d.finish(to: &all)
        XCTAssertEqual(String(decoding: all, as: UTF8.self), text)
    }

    func testStreamingDecoderErrors() throws {
        let tok = Shipped.cl100k
        // Byte 0xE8 alone (rank of the single byte) is an incomplete character at the end.
        let lone = tok.ranks.rank(of: [0xE8])!
        var d = StreamingDecoder(tokenizer: tok)
        var out: [UInt8] = []
        try d.append(lone, to: &out)
        XCTAssertThrowsError(try d.finish(to: &out))
        var lossy = StreamingDecoder(tokenizer: tok, lossy: true)
        out = []
        try lossy.append(lone, to: &out)
        try lossy.append(tok.ranks.rank(of: Array("a".utf8))!, to: &out)
        try lossy.finish(to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "\u{FFFD}a")
        var bad = StreamingDecoder(tokenizer: tok)
        XCTAssertThrowsError(try bad.append(100256, to: &out)) { e in
            XCTAssertEqual("\(e)", "unknown token id 100256 at position 0")
        }
        XCTAssertThrowsError(try tok.decode([1, 2, 999_999])) { e in
            XCTAssertEqual("\(e)", "unknown token id 999999 at position 2")
        }
    }
}
