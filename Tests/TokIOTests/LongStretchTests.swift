import XCTest
import TokCore
@testable import TokIO

/// Input without safe cuts for longer than `EncodePipeline.longStretchBytes`: cut at far piece ends, or its long
/// piece streamed. Small segments make the stretches short enough to test many shapes against whole encodes (the
/// CLI's sizes are tested against tiktoken in the compat suite).
final class LongStretchTests: XCTestCase {
    static let tokenizers = ["cl100k_base", "o200k_base", "llama3"].map { try! Tokenizer.load(name: $0) } + [gpt2]
    /// cl100k's ranks with GPT-2's pattern, which has no `\s*[\r\n]+`.
    static let gpt2 = Tokenizer(name: "gpt2-pattern", ranks: try! Tokenizer.load(name: "cl100k_base").ranks, pattern: "gpt2",
                                preTokenizer: GPT2Scanner(), specialTokens: .none)

    struct Rng {
        var s: UInt64
        mutating func next(_ n: Int) -> Int {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Int((s >> 33) % UInt64(n))
        }
        /// Characters drawn from `alphabet` until there are at least `bytes` bytes.
        mutating func text(_ alphabet: [String], _ bytes: Int) -> [UInt8] {
            var b: [UInt8] = []
            while b.count < bytes { b += Array(alphabet[next(alphabet.count)].utf8) }
            return b
        }
    }

    /// Runs the pipeline over `input`, read in slices of random sizes; returns its output and the largest number
    /// of bytes it held at once.
    func run(_ tokenizer: Tokenizer, _ input: [UInt8], options: EncodeOptions, seed: UInt64) throws -> [UInt8] {
        var rng = Rng(s: seed)
        var at = 0
        var out: [UInt8] = []
        let pipeline = EncodePipeline(tokenizer: tokenizer, options: options)
        _ = try pipeline.run(name: "input", read: { buf in
            let n = min(buf.count, input.count - at, 1 + rng.next(9000))
            for k in 0..<n { buf[k] = input[at + k] }
            at += n
            return n
        }, write: { out += $0 })
        return out
    }

    /// The ids of the whole input, or of each line.
    func expected(_ tokenizer: Tokenizer, _ input: [UInt8], lines: Bool) throws -> [[UInt32]] {
        if !lines { return [try tokenizer.encode(bytes: input)] }
        var parts = input.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if parts.last?.isEmpty == true { parts.removeLast() }
        return try parts.map { try tokenizer.encode(bytes: $0) }
    }

    func shapes() -> [(String, [UInt8])] {
        var rng = Rng(s: 42)
        func random(_ alphabet: [String], _ bytes: Int) -> [UInt8] { rng.text(alphabet, bytes) }
        let letters = (0..<26).map { String(UnicodeScalar(UInt8(97 + $0))) }
        let thai = ["ก", "ข", "ค", "ง", "จ", "า", "ี", "่", "้", "เ", "แ"]
        let han = ["中", "国", "語", "言", "人", "大"]
        var mixed: [UInt8] = []
        for k in 0..<8 {
            mixed += random([["a"], letters, thai, han, ["!", "-", "="], ["\u{0}"], ["A", "b", "É", "\u{301}"], ["7", "8"]][k], 20_000 + rng.next(30_000))
            mixed += Array([" ", "\n\n", "   \t ", "\r\n", "x", ". ", "'s ", "\u{3000}"][k].utf8)
        }
        return [
            ("one letter", Array("two words ".utf8) + [UInt8](repeating: 0x61, count: 100_000) + Array(" tail".utf8)),
            ("NUL bytes", [0x78] + [UInt8](repeating: 0, count: 80_000) + Array("y z\n".utf8)),
            ("random letters", random(letters, 70_000)),
            ("mixed case and marks", Array(" ".utf8) + random(["a", "A", "é", "É", "\u{301}", "ǅ", "ʰ", "b"], 70_000) + Array("'re more".utf8)),
            ("Thai without spaces", random(thai, 90_000)),
            ("Han without punctuation", random(han, 90_000) + Array("。".utf8)),
            ("punctuation", Array("x ".utf8) + random(["!", "?", "-", "=", "<", ">", "/", "\\"], 70_000) + Array("\n\n\nword".utf8)),
            ("punctuation and line feeds", Array("x!".utf8) + random(["\n", "/", "\r\n", "!"], 70_000) + Array("y".utf8)),
            ("line feeds after punctuation", Array("x!".utf8) + [UInt8](repeating: 0x0A, count: 60_000) + Array("y".utf8)),
            ("long piece then white space", [UInt8](repeating: 0x71, count: 60_000) + [UInt8](repeating: 0x20, count: 40_000) + Array("\n  x".utf8)),
            ("white space", [UInt8](repeating: 0x20, count: 50_000) + Array("\n\n".utf8) + [UInt8](repeating: 0x20, count: 30_000) + Array("x".utf8)),
            ("white space of every kind", Array("c".utf8) + random([" ", "\t", "\u{3000}", "\u{00A0}", "\n", "\r\n", "\u{2028}", "\u{0B}", "  "], 60_000) + Array("word".utf8)),
            ("white space without CR or LF", Array("d".utf8) + random([" ", "\t", "\u{3000}", "\u{00A0}", "\u{2028}", "  "], 60_000) + Array("\r\n\r\n text".utf8)),
            ("spaces after a line feed", Array("a\n".utf8) + [UInt8](repeating: 0x20, count: 40_000) + Array("x".utf8)),
            ("spaces and line feeds", Array("b".utf8) + Array(String(repeating: "   \n", count: 15_000).utf8) + Array("x".utf8)),
            ("spaces at the end", Array("e ".utf8) + [UInt8](repeating: 0x20, count: 40_000)),
            ("spaces before a contraction", Array("word".utf8) + [UInt8](repeating: 0x20, count: 40_000) + Array("'s".utf8)),
            ("digits", Array("n ".utf8) + random((0..<10).map(String.init), 60_000) + Array(" z".utf8)),
            ("mixed", mixed),
        ]
    }

    /// Every shape, every standard vocabulary, ids, tokens and counts, whole and per line, one thread and two:
    /// the output equals encoding the whole input (or each line) at once.
    func testLongStretchesEncodeAsTheWhole() throws {
        for tokenizer in Self.tokenizers {
            for (label, input) in shapes() {
                for lines in [false, true] {
                    let want = try expected(tokenizer, input, lines: lines)
                    for (threads, count) in [(1, false), (2, false), (1, true)] {
                        var options = EncodeOptions()
                        options.segmentBytes = 1024
                        options.lines = lines
                        options.threads = threads
                        options.countOnly = count
                        let got = try run(tokenizer, input, options: options, seed: UInt64(input.count + threads))
                        let text = count ? (lines ? want.map { "\($0.count)\n" }.joined() : "")
                            : want.map { $0.map(String.init).joined(separator: " ") + "\n" }.joined()
                        XCTAssertEqual(String(decoding: got, as: UTF8.self), text,
                                       "\(tokenizer.name), \(label), lines \(lines), threads \(threads), count \(count)")
                    }
                }
            }
        }
    }

    /// Two long stretches of different kinds, each ended by white space or punctuation (tabs and spaces before digits
    /// among them), for every pair: a cut after a piece of white space would change the piece before it ("\t\t9" is
    /// "\t", "\t", "9", but "\t\t" at the end of a text is one piece), so far piece ends are cuts only after text.
    func testPairsOfStretchesEncodeAsTheWhole() throws {
        var rng = Rng(s: 42)
        func random(_ alphabet: [String], _ bytes: Int) -> [UInt8] { rng.text(alphabet, bytes) }
        let letters = (0..<26).map { String(UnicodeScalar(UInt8(97 + $0))) }
        let kinds: [[String]] = [["a"], letters, ["ก", "ข", "ค", "า", "ี", "่", "เ"], ["中", "国", "語", "言"], ["!", "-", "="],
                                 ["\u{0}"], ["A", "b", "É", "\u{301}"], ["7", "8", "\t\t9", "  1"]]
        let joins = ["  ", "\n\n", "   \t ", "\r\n", "\t\t", ". ", "'s ", "\u{3000}\u{3000}"]
        var options = EncodeOptions()
        options.segmentBytes = 1024
        for tokenizer in Self.tokenizers {
            for k in 0..<kinds.count {
                for k2 in 0..<kinds.count {
                    let input = random(kinds[k], 20_000) + Array(joins[k].utf8) + random(kinds[k2], 20_000) + Array(joins[k2].utf8)
                    let got = try run(tokenizer, input, options: options, seed: UInt64(k * 8 + k2))
                    let want = try tokenizer.encode(bytes: input).map(String.init).joined(separator: " ") + "\n"
                    XCTAssertEqual(String(decoding: got, as: UTF8.self), want, "\(tokenizer.name), kinds \(k) then \(k2)")
                }
            }
        }
    }

    /// The stretches are cut or streamed, not held: what each shape does with small segments.
    func testLongStretchesAreCutOrStreamed() throws {
        var options = EncodeOptions()
        options.segmentBytes = 1024
        let pipeline = EncodePipeline(tokenizer: Self.tokenizers[0], options: options)
        let text = Array("words ".utf8) + [UInt8](repeating: 0x61, count: 20_000)
        let stretch: (EncodePipeline, [UInt8]) -> EncodePipeline.LongStretch = { p, b in
            b.withUnsafeBufferPointer { p.longStretch($0) }
        }
        XCTAssertEqual(stretch(pipeline, text), .cuts([5]))
        XCTAssertEqual(stretch(pipeline, Array(text.dropFirst(5))), .longPiece(whiteSpace: false))
        XCTAssertEqual(stretch(pipeline, [UInt8](repeating: 0x20, count: 20_000)), .longPiece(whiteSpace: true))
        XCTAssertEqual(stretch(pipeline, Array("x!".utf8) + [UInt8](repeating: 0x0A, count: 20_000)), .cuts([1]))
        XCTAssertEqual(stretch(pipeline, Array("!".utf8) + [UInt8](repeating: 0x0A, count: 20_000)), .longPiece(whiteSpace: false))
        XCTAssertEqual(stretch(pipeline, Array("word".utf8) + [UInt8](repeating: 0x20, count: 20_000)), .cuts([4]))
        XCTAssertTrue(pipeline.lineBreaksEndWhiteSpace)
        XCTAssertFalse(EncodePipeline(tokenizer: Self.gpt2, options: options).lineBreaksEndWhiteSpace)
        let thai = Array(String(repeating: "กขา่", count: 2_000).utf8)
        guard case .cuts(let cuts) = stretch(pipeline, thai) else { return XCTFail("Thai is cut at far piece ends") }
        XCTAssertGreaterThan(cuts.last!, thai.count - 64)
        XCTAssertGreaterThanOrEqual(cuts.count, thai.count / 1024 - 1, "about a segment apart")
        var special = options
        special.special = .allow
        XCTAssertFalse(EncodePipeline(tokenizer: Self.tokenizers[0], options: special).streamsLongStretches)
    }
}
