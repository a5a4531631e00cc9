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

    /// Runs the pipeline over `input`, read in slices of random sizes; returns its output. `pauses`: the input
    /// pauses after about a third of the slices (the pipeline then encodes what it can cut and flushes it).
    static func output(_ tokenizer: Tokenizer, _ input: [UInt8], options: EncodeOptions, seed: UInt64,
                       pauses: Bool = false) throws -> [UInt8] {
        try outputAndFlushes(tokenizer, input, options: options, seed: seed, pauses: pauses).output
    }

    /// `output`, and how many times the pipeline flushed at a pause (slices are shorter when the input pauses, so
    /// that blocks are not full after one).
    static func outputAndFlushes(_ tokenizer: Tokenizer, _ input: [UInt8], options: EncodeOptions, seed: UInt64,
                                 pauses: Bool) throws -> (output: [UInt8], flushes: Int) {
        var rng = Rng(s: seed)
        var pauseRng = Rng(s: seed ^ 0x9E37_79B9)
        var at = 0
        var out: [UInt8] = []
        var flushed = 0
        let pipeline = EncodePipeline(tokenizer: tokenizer, options: options)
        _ = try pipeline.run(name: "input", read: { buf in
            let n = min(buf.count, input.count - at, 1 + rng.next(pauses ? 900 : 9000))
            for k in 0..<n { buf[k] = input[at + k] }
            at += n
            return n
        }, write: { out += $0 }, paused: { pauses && pauseRng.next(3) == 0 }, flush: { flushed += 1 })
        return (out, flushed)
    }

    /// The ids of the whole input, or of each line.
    static func wholeIDs(_ tokenizer: Tokenizer, _ input: [UInt8], lines: Bool) throws -> [[UInt32]] {
        if !lines { return [try tokenizer.encode(bytes: input)] }
        var parts = input.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if parts.last?.isEmpty == true { parts.removeLast() }
        return try parts.map { try tokenizer.encode(bytes: $0) }
    }

    /// `tok encode`'s output for the ids of the whole input or of each line: ids, or with `count` per-line counts
    /// (nothing for the whole input: the pipeline leaves its total to the caller).
    static func formatted(_ ids: [[UInt32]], count: Bool, lines: Bool) -> String {
        count ? (lines ? ids.map { "\($0.count)\n" }.joined() : "")
              : ids.map { $0.map(String.init).joined(separator: " ") + "\n" }.joined()
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
            ("line breaks and slashes after punctuation", Array("x!".utf8) + random(["\n", "\n", "/", "\r"], 70_000) + Array(" y".utf8)),
            ("carriage returns after punctuation", Array("x#".utf8) + [UInt8](repeating: 0x0D, count: 60_000) + Array("\n\ny".utf8)),
            ("long piece then white space", [UInt8](repeating: 0x71, count: 60_000) + [UInt8](repeating: 0x20, count: 40_000) + Array("\n  x".utf8)),
            ("white space", [UInt8](repeating: 0x20, count: 50_000) + Array("\n\n".utf8) + [UInt8](repeating: 0x20, count: 30_000) + Array("x".utf8)),
            ("white space of every kind", Array("c".utf8) + random([" ", "\t", "\u{3000}", "\u{00A0}", "\n", "\r\n", "\u{2028}", "\u{0B}", "  "], 60_000) + Array("word".utf8)),
            ("white space without CR or LF", Array("d".utf8) + random([" ", "\t", "\u{3000}", "\u{00A0}", "\u{2028}", "  "], 60_000) + Array("\r\n\r\n text".utf8)),
            ("spaces after a line feed", Array("a\n".utf8) + [UInt8](repeating: 0x20, count: 40_000) + Array("x".utf8)),
            // The white space after a CR or LF is in its piece if another CR or LF comes before the run ends, else a
            // piece of its own: streamed either way where BPE keeps a token boundary after the CR or LF.
            ("white space of other kinds after a line feed, then a line break", Array("w\n".utf8)
                + random([" ", "\t", "\u{3000}", "\u{00A0}", "  "], 40_000) + Array("\r\n".utf8) + random([" ", "\t"], 20_000) + Array("x".utf8)),
            ("tabs after a CR LF to the end", Array("t\r\n".utf8) + [UInt8](repeating: 0x09, count: 40_000)),
            ("spaces after line feeds, run after run", Array("s".utf8)
                + (0..<6).flatMap { _ in Array("\n".utf8) + [UInt8](repeating: 0x20, count: 3_000 + rng.next(12_000)) } + Array("'s x".utf8)),
            ("spaces and line feeds", Array("b".utf8) + Array(String(repeating: "   \n", count: 15_000).utf8) + Array("x".utf8)),
            ("spaces at the end", Array("e ".utf8) + [UInt8](repeating: 0x20, count: 40_000)),
            ("spaces before a contraction", Array("word".utf8) + [UInt8](repeating: 0x20, count: 40_000) + Array("'s".utf8)),
            ("digits", Array("n ".utf8) + random((0..<10).map(String.init), 60_000) + Array(" z".utf8)),
            // o200k's `[upper]*[lower]+` reads to the end of a run of capitals, marks and letters without case, and
            // gives them back: these are one piece, or end after 洲, only by what ends the run.
            ("capitals after a letter without case", Array("x 亚洲AV".utf8) + [UInt8](repeating: 0x41, count: 60_000) + Array("a end".utf8)),
            ("letters without case inside capitals", [UInt8](repeating: 0x41, count: 30_000) + Array("亚洲AV".utf8)
                + [UInt8](repeating: 0x41, count: 30_000) + Array("a".utf8)),
            ("capitals after a letter without case, then punctuation", Array("亚洲AV".utf8) + [UInt8](repeating: 0x41, count: 60_000) + Array("!".utf8)),
            // BPE keeps a boundary after "中国" and "カナ" before the capitals either way: the capitals are streamed.
            ("capitals after Han, then a lower-case letter", Array("x ".utf8) + Array(String(repeating: "中国", count: 3).utf8)
                + [UInt8](repeating: 0x42, count: 60_000) + Array("b end".utf8)),
            ("capitals after kana, then punctuation", Array(String(repeating: "カナ", count: 6_000).utf8)
                + [UInt8](repeating: 0x51, count: 40_000) + Array("国".utf8) + [UInt8](repeating: 0x51, count: 20_000) + Array("! end".utf8)),
            ("slashes in a punctuation tail", Array("x!\n".utf8) + [UInt8](repeating: 0x2F, count: 60_001) + Array("* end".utf8)),
            ("mixed", mixed),
        ]
    }

    /// Each shape with every standard vocabulary, ids, tokens and counts, whole and per line, one thread and two,
    /// against encoding the whole input (or each line) at once.
    func checkEncodeAsTheWhole(_ shapes: [(String, [UInt8])], invalidUTF8: InvalidUTF8Policy, pauses: Bool = false) throws {
        for tokenizer in Self.tokenizers {
            for (label, input) in shapes {
                for lines in [false, true] {
                    let want = try Self.wholeIDs(tokenizer, input, lines: lines)
                    for (threads, count) in [(1, false), (2, false), (1, true)] {
                        var options = EncodeOptions()
                        options.segmentBytes = 1024
                        options.lines = lines
                        options.threads = threads
                        options.countOnly = count
                        options.invalidUTF8 = invalidUTF8
                        let got = try Self.output(tokenizer, input, options: options, seed: UInt64(input.count + threads),
                                                  pauses: pauses)
                        XCTAssertEqual(String(decoding: got, as: UTF8.self), Self.formatted(want, count: count, lines: lines),
                                       "\(tokenizer.name), \(label), lines \(lines), threads \(threads), count \(count), pauses \(pauses)")
                    }
                }
            }
        }
    }

    /// Every shape, every standard vocabulary, ids, tokens and counts, whole and per line, one thread and two:
    /// the output equals encoding the whole input (or each line) at once.
    func testLongStretchesEncodeAsTheWhole() throws {
        try checkEncodeAsTheWhole(shapes(), invalidUTF8: .error)
    }

    /// A stretch without a cut (LFs and spaces, which cl100k's `\s*[\r\n]+` keeps in one piece) that comes in small
    /// reads, each with a LF, the input pausing after every one: a pause that finds nothing to cut makes the next
    /// wait for twice the bytes, so the stretch is scanned a few times, not once per read (2 MB in 2,000-byte
    /// reads: 2.5 s of CPU against 0.15 s before pauses were acted on).
    func testPausesInAStretchWithoutCutsDoNotRescanIt() throws {
        let input = Array(String(repeating: "\n ", count: 1_000_000).utf8) + Array("x\n".utf8)
        let tokenizer = Self.tokenizers[0]
        var at = 0, flushes = 0
        var out: [UInt8] = []
        _ = try EncodePipeline(tokenizer: tokenizer, options: EncodeOptions()).run(name: "input", read: { buf in
            let n = min(buf.count, input.count - at, 2000)
            for k in 0..<n { buf[k] = input[at + k] }
            at += n
            return n
        }, write: { out += $0 }, paused: { true }, flush: { flushes += 1 })
        XCTAssertLessThan(flushes, 40)
        XCTAssertEqual(String(decoding: out, as: UTF8.self),
                       Self.formatted([try tokenizer.encode(bytes: input)], count: false, lines: false))

        // Lines after such a run are flushed as they come again: a LF before something other than white space
        // ends the wait for twice the bytes (the lines had waited for the end of the input).
        let blank = Array("start\n".utf8) + Array(String(repeating: "\n  ", count: 3000).utf8)
        let lines = (1...5).map { Array("x line \($0)\n".utf8) }
        var reads = stride(from: 0, to: blank.count, by: 30).map { Array(blank[$0..<min($0 + 30, blank.count)]) } + lines
        reads.reverse()
        var afterBlank = 0
        var readLines = 0
        _ = try EncodePipeline(tokenizer: tokenizer, options: EncodeOptions()).run(name: "input", read: { buf in
            guard let chunk = reads.popLast() else { return 0 }
            if reads.count < lines.count { readLines += 1 }
            for k in 0..<chunk.count { buf[k] = chunk[k] }
            return chunk.count
        }, write: { _ in }, paused: { true }, flush: { if readLines > 0 { afterBlank += 1 } })
        XCTAssertGreaterThanOrEqual(afterBlank, lines.count - 1)
    }

    /// Input that pauses now and then (a slow pipe): at each pause the pipeline encodes up to the last cut and
    /// flushes, with segments shorter than usual; the output is still that of the whole.
    func testPausesOfTheInputDoNotChangeTheOutput() throws {
        var rng = Rng(s: 7)
        let words = ["the", "cat", "naïve", "日本語", "Привет", "  ", "'s", "123", "!", "🙂", "\t", "\r\n", "<|endoftext|>"]
        var lines: [UInt8] = []
        while lines.count < 150_000 {
            for _ in 0..<rng.next(12) { lines += Array(words[rng.next(words.count)].utf8) + [0x20] }
            lines += Array(["\n", "\n\n", " \n", "\n  "][rng.next(4)].utf8)
        }
        // A third of the long-stretch shapes: the whole set takes 40 s in a debug build.
        let some = shapes().enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
        try checkEncodeAsTheWhole([("short lines", lines)] + some, invalidUTF8: .error, pauses: true)
        for l in [false, true] {
            var options = EncodeOptions()
            options.segmentBytes = 1024
            options.lines = l
            let flushes = try Self.outputAndFlushes(Self.tokenizers[1], lines, options: options, seed: 3, pauses: true).flushes
            XCTAssertGreaterThan(flushes, 20, "lines \(l)")
        }
    }

    /// `--invalid-utf8 bytes`: long stretches and long pieces holding bytes that are not UTF-8 (runs of 0xFF and of
    /// stray continuation bytes, overlong forms of a space and a letter, surrogates, sequences cut short, code points
    /// above U+10FFFF) among letters, Han, Thai, capitals and white space. The scanners read such a byte as a
    /// character of its own that is neither letter, number nor white space; the output equals encoding the whole.
    func testLongStretchesOfRawBytesEncodeAsTheWhole() throws {
        var rng = Rng(s: 99)
        func random(_ alphabet: [[UInt8]], _ bytes: Int) -> [UInt8] {
            var b: [UInt8] = []
            while b.count < bytes { b += alphabet[rng.next(alphabet.count)] }
            return b
        }
        let invalid: [[UInt8]] = [[0xFF], [0x80], [0xBF, 0xBF], [0xC0, 0xA0], [0xC1, 0x81], [0xED, 0xA0, 0x80], [0xE4, 0xB8],
                                  [0xF0, 0x9F, 0x98], [0xF4, 0x90, 0x80, 0x80], [0xF5], [0xE0, 0x80, 0x80]]
        let valid = ["a", "A", "中", "国", "ก", "า", "\u{301}", "!", "7", " ", "\n", "\u{3000}"].map { Array($0.utf8) }
        let shapes: [(String, [UInt8])] = [
            ("0xFF", Array("x ".utf8) + [UInt8](repeating: 0xFF, count: 60_000) + Array(" y".utf8)),
            ("continuation bytes", Array("x".utf8) + [UInt8](repeating: 0x80, count: 60_000) + Array("\n\ny".utf8)),
            ("letters after 0xFF", [0xFF] + [UInt8](repeating: 0x61, count: 60_000) + Array(" end".utf8)),
            ("capitals after a cut sequence", Array("x ".utf8) + [0xE4, 0xB8] + [UInt8](repeating: 0x41, count: 60_000) + Array("a end".utf8)),
            ("capitals after Han and an invalid byte", Array("亚".utf8) + [0xFF] + Array("洲".utf8)
                + [UInt8](repeating: 0x41, count: 60_000) + Array("!".utf8)),
            ("invalid bytes alone", random(invalid, 70_000)),
            ("invalid bytes in Han and Thai", random(invalid + [Array("中".utf8), Array("ก".utf8), Array("า".utf8)], 70_000)),
            ("invalid bytes in text", random(invalid + valid, 70_000)),
            ("invalid bytes in white space", Array("w".utf8) + random(invalid + [[0x20], [0x20], [0x0A], [0x09]], 70_000)),
            ("white space after invalid bytes", [UInt8](repeating: 0xFF, count: 30_000) + [UInt8](repeating: 0x20, count: 30_000) + [0xC0, 0xA0]),
        ]
        try checkEncodeAsTheWhole(shapes, invalidUTF8: .bytes)
        // Character starts as the scanners read bytes: a continuation byte starts a character unless a well-formed
        // sequence before it covers it.
        let bytes: [UInt8] = [0x61, 0xE4, 0xB8, 0xAD, 0x80, 0xE4, 0xB8, 0x41, 0xC0, 0xA0, 0xF0, 0x9F, 0x98, 0x80, 0xBF]
        let starts = bytes.withUnsafeBufferPointer { b in (0..<b.count).map { EncodePipeline.characterStart(b, atOrAfter: $0) } }
        XCTAssertEqual(starts, [0, 1, 4, 4, 4, 5, 6, 7, 8, 9, 10, 14, 14, 14, 14])
        let before = bytes.withUnsafeBufferPointer { b in (0..<b.count).map { EncodePipeline.characterStart(b, atOrBefore: $0) } }
        XCTAssertEqual(before, [0, 1, 1, 1, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10, 14])
        let white = [UInt8]([0xC0, 0xA0, 0x20]).withUnsafeBufferPointer { b in (0..<3).map { EncodePipeline.isWhiteSpace(b, at: $0) } }
        XCTAssertEqual(white, [false, false, true], "an overlong space is two bytes that are not UTF-8")
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
                    let got = try Self.output(tokenizer, input, options: options, seed: UInt64(k * 8 + k2))
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
        let tails = Self.tokenizers.map { EncodePipeline(tokenizer: $0, options: options).punctuationTail }
        XCTAssertEqual(tails.map(\.lineBreaks), [true, true, true, false])
        XCTAssertEqual(tails.map(\.slash), [false, true, false, false])
        XCTAssertEqual(Self.tokenizers.map { EncodePipeline(tokenizer: $0, options: options).caseRunsLookFar }, [false, true, false, false])
        XCTAssertFalse(EncodePipeline(tokenizer: Self.gpt2, options: options).lineBreaksEndWhiteSpace)
        let thai = Array(String(repeating: "กขา่", count: 2_000).utf8)
        guard case .cuts(let cuts) = stretch(pipeline, thai) else { return XCTFail("Thai is cut at far piece ends") }
        XCTAssertGreaterThan(cuts.last!, thai.count - 64)
        XCTAssertGreaterThanOrEqual(cuts.count, thai.count / 1024 - 1, "about a segment apart")
        // Punctuation pieces that end in a CR or LF are cut after, as other pieces (not streamed one at a time:
        // 12 MB of them had taken minutes).
        let breaks = Array(String(repeating: "!\n\n/\r", count: 5_000).utf8)
        guard case .cuts(let after) = stretch(pipeline, breaks) else { return XCTFail("punctuation with line breaks is cut") }
        XCTAssertGreaterThanOrEqual(after.count, breaks.count / 1024 - 1)
        XCTAssertEqual(stretch(pipeline, Array("\t\t9".utf8) + [UInt8](repeating: 0x20, count: 20_000)), .cuts([3]))
        // With special tokens matched: one at the start is cut off alone; one near the end, or the last bytes,
        // where one could start, are left out of the cuts.
        var special = options
        special.special = .allow
        let allow = EncodePipeline(tokenizer: Self.tokenizers[0], options: special)
        XCTAssertTrue(allow.streamsLongStretches(normalized: false))
        XCTAssertEqual(stretch(allow, Array("<|endoftext|>".utf8) + thai), .cuts([13]))
        guard case .cuts(let before) = stretch(allow, thai + Array("<|endoftext|>".utf8)) else { return XCTFail("Thai is cut") }
        XCTAssertLessThanOrEqual(before.last!, thai.count - 16)
        // llama3's longest special tokens (30 bytes) are longer than the scanners' look-ahead: none of their piece
        // ends is a cut, whole or cut off by the buffer's end.
        let llama3 = EncodePipeline(tokenizer: Self.tokenizers[2], options: special)
        let reserved = Array("<|reserved_special_token_250|>".utf8)
        XCTAssertEqual(reserved.count, Self.tokenizers[2].specialTokens.maxLength)
        for cutOff in [0, 1, 5, 12] {
            guard case .cuts(let cuts) = stretch(llama3, thai + reserved.dropLast(cutOff)) else { return XCTFail("Thai is cut") }
            XCTAssertLessThanOrEqual(cuts.last!, thai.count, "\(cutOff)")
        }
    }

    /// White space after a line feed, with and without another line feed before the run ends, and at the text's end
    /// (one piece with cl100k's pattern, `\s++$`; the white space alone with o200k's), in a vocabulary where "\n" and a
    /// space merge first: BPE does not keep a token boundary after the "\n" ("\n" then spaces is "\n ", ... inside one
    /// piece, but "\n", "  ", ... as two), so the white space cannot be streamed as a piece of its own and is held
    /// until its run ends. The output still equals encoding the whole.
    func testWhiteSpaceAfterALineFeedThatBPEJoinsToItIsHeld() throws {
        var bytes: [UInt8] = [], ends: [Int] = [], ranks: [UInt32] = []
        for b in 0..<256 { bytes.append(UInt8(b)); ends.append(bytes.count); ranks.append(UInt32(b)) }
        for (k, token) in ["\n ", "  ", "    ", "        "].enumerated() {
            bytes += Array(token.utf8); ends.append(bytes.count); ranks.append(UInt32(256 + k))
        }
        let table = try RankTable(bytes: bytes, ends: ends, ranks: ranks)
        let spaces = [UInt8](repeating: 0x20, count: 40_000)
        for (pattern, scanner) in [("cl100k", Cl100kScanner() as any PreTokenizer), ("o200k", O200kScanner())] {
            let joining = Tokenizer(name: "line-feed-joins-spaces", ranks: table, pattern: pattern, preTokenizer: scanner,
                                    specialTokens: .none)
            XCTAssertEqual(try joining.encode(bytes: Array("\n    \n".utf8)), [256, 257, 32, 10], pattern)
            XCTAssertEqual(try joining.encode(bytes: Array("\n    x".utf8)), [10, 257, 32, 32, 120], pattern)
            XCTAssertEqual(try joining.encode(bytes: Array("\n    ".utf8)), pattern == "cl100k" ? [256, 257, 32] : [10, 258])
            for input in [Array("a\n".utf8) + spaces + Array("x".utf8), Array("a\n".utf8) + spaces + Array("\n\nx".utf8),
                          Array("a\n".utf8) + spaces, Array("a\r\n".utf8) + spaces + Array("\r".utf8) + spaces] {
                for threads in [1, 2] {
                    var options = EncodeOptions()
                    options.segmentBytes = 1024
                    options.threads = threads
                    let got = try Self.output(joining, input, options: options, seed: UInt64(threads))
                    let want = try joining.encode(bytes: input).map(String.init).joined(separator: " ") + "\n"
                    // Not the texts themselves in the message: tens of thousands of ids.
                    XCTAssertTrue(got == Array(want.utf8), "\(pattern), \(input.count) bytes, threads \(threads)")
                }
            }
        }
    }

    /// Long stretches and long pieces with special tokens matched (`--special allow`): special tokens at a
    /// stretch's start, inside and at the end of long pieces, back to back, in white space, and prefixes of them
    /// that are not one; llama3's are longer than the scanners' look-ahead. With `--special error`, the error
    /// names the first one's offset.
    func testLongStretchesWithSpecialTokensEncodeAsTheWhole() throws {
        var rng = Rng(s: 7)
        let letters = (0..<26).map { String(UnicodeScalar(UInt8(97 + $0))) }
        let thai = ["ก", "ข", "ค", "า", "ี", "่", "เ"]
        for tokenizer in Self.tokenizers where !tokenizer.specialTokens.isEmpty {
            let names = tokenizer.specialTokens.entries.map(\.text)
            let longest = names.max { $0.utf8.count < $1.utf8.count }!
            let a = names[0], b = names[names.count - 1]
            // Runs of 50 KB: the pipeline decides on a stretch after 16 KB without a cut (segments of 1 KB), before
            // the special token after it is read. A run of punctuation, NUL bytes or white space goes on into "<|"
            // unless the special token is matched.
            let n = 50_000
            let parts: [[UInt8]] = [
                Array(a.utf8), [UInt8](repeating: 0x61, count: n), Array(b.utf8), [UInt8](repeating: 0x21, count: n),
                Array(longest.utf8), Array(longest.utf8), rng.text(thai, n), Array(longest.dropLast().utf8),
                rng.text(letters, n), Array(a.utf8), [UInt8](repeating: 0, count: n), Array(b.utf8), Array("\n".utf8),
                [UInt8](repeating: 0x20, count: n), Array(b.utf8), [UInt8](repeating: 0x20, count: n),
                Array(longest.dropFirst().utf8), rng.text(["中", "国", "語"], n), Array(longest.utf8),
                rng.text(["!", "-", "\u{0}"], n), Array(longest.utf8), rng.text(["\n", " ", "\t"], n), Array(a.utf8),
            ]
            let input = parts.flatMap { $0 }
            let want = try tokenizer.encode(bytes: input, special: .allow)
            for (threads, lines) in [(1, false), (2, false), (1, true)] {
                var options = EncodeOptions()
                options.segmentBytes = 1024
                options.special = .allow
                options.threads = threads
                options.lines = lines
                let got = try Self.output(tokenizer, input, options: options, seed: UInt64(threads))
                let whole = lines ? try expectedAllowing(tokenizer, input) : want.map(String.init).joined(separator: " ") + "\n"
                XCTAssertEqual(String(decoding: got, as: UTF8.self), whole, "\(tokenizer.name), threads \(threads), lines \(lines)")
            }
            var error = EncodeOptions()
            error.segmentBytes = 1024
            error.special = .error
            let late = [UInt8](repeating: 0x61, count: 40_000) + Array(longest.utf8) + [UInt8](repeating: 0x61, count: 40_000)
            XCTAssertThrowsError(try Self.output(tokenizer, late, options: error, seed: 3)) { e in
                guard case EncodeFailure.specialToken(_, let token, let offset, false) = e else { return XCTFail("\(e)") }
                XCTAssertEqual(token, longest)
                XCTAssertEqual(offset, 40_000)
            }
        }
    }

    /// Each line's ids with special tokens allowed, one output line per input line.
    func expectedAllowing(_ tokenizer: Tokenizer, _ input: [UInt8]) throws -> String {
        var parts = input.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if parts.last?.isEmpty == true { parts.removeLast() }
        return try parts.map { try tokenizer.encode(bytes: $0, special: .allow).map(String.init).joined(separator: " ") + "\n" }.joined()
    }
}
