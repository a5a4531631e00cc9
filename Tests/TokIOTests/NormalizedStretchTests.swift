import XCTest
import Synchronization
import TokCore
import TokICU
@testable import TokIO

/// Long stretches without a safe cut in text that a vocabulary normalizes (Thai without spaces under NFKC): from
/// the first such stretch on, `EncodePipeline.run` normalizes its input as it reads it (`StreamingNormalizer`) and
/// cuts and streams it as text without a normalizer. Small segments make 16 KB a long stretch.
final class NormalizedStretchTests: XCTestCase {
    typealias Rng = LongStretchTests.Rng

    /// Characters each form changes, composes or leaves alone; few of them are inert under NFKC.
    static let marks = ["\u{301}", "\u{308}", "\u{323}", "\u{E48}", "\u{E33}", "\u{3099}", "ﾞ"]

    /// A normalizer that records the longest text it was given: one normalizing a stretch whole is given all of it.
    final class Recording: TextNormalizer {
        let icu: ICUNormalizer
        let longestText = Mutex(0)
        init(_ form: ICUNormalizer.Form) { icu = ICUNormalizer(form) }
        var name: String { icu.name }
        var inertCharacters: InertCharacters? { icu.inertCharacters }
        var boundaryBeforeCharacters: InertCharacters? { icu.boundaryBeforeCharacters }
        var longest: Int { longestText.withLock { $0 } }
        func normalize(_ text: UnsafeBufferPointer<UInt8>) throws -> [UInt8] {
            longestText.withLock { $0 = max($0, text.count) }
            return try icu.normalize(text)
        }
    }

    func tokenizer(_ base: String, _ normalizer: any TextNormalizer) throws -> Tokenizer {
        let t = try Tokenizer.load(name: base)
        return Tokenizer(name: "\(base)-\(normalizer.name)", ranks: t.ranks, pattern: t.pattern, preTokenizer: t.preTokenizer,
                         specialTokens: t.specialTokens, normalizer: normalizer)
    }

    func shapes() -> [(String, [UInt8])] {
        var rng = Rng(s: 7)
        let thai = ["ก", "ข", "ค", "ง", "จ", "า", "ี", "่", "้", "เ", "แ", "\u{E33}", "\u{E33}"]
        let han = ["中", "国", "語", "言", "Ａ", "①", "ｶ", "ﾞ", "\u{FF0F}", "\u{F900}"]
        let latin = ["a", "e", "e\u{301}", "\u{301}", "\u{308}", "ﬁ", "ǅ", "o\u{323}\u{302}"]
        var mixed: [UInt8] = []
        for k in 0..<5 {
            mixed += rng.text([thai, han, latin, Self.marks, ["x", "y", " ", "\n", "。"]][k], 18_000 + rng.next(6_000))
        }
        return [
            ("Thai without spaces", Array(" เริ่ม".utf8) + rng.text(thai, 60_000) + Array(" end\n".utf8)),
            ("Han and fullwidth forms", rng.text(han, 60_000) + Array("。".utf8)),
            ("letters and marks", rng.text(latin, 50_000) + Array(" z".utf8)),
            // No inert character at all: the places are before the ASCII letters and the leading jamo.
            ("letters, marks and jamo that compose", rng.text(["e\u{301}", "<\u{338}", "\u{1100}\u{1161}", "a\u{308}\u{323}"], 50_000)),
            ("marks only, then text", Array("x".utf8) + rng.text(Self.marks, 30_000) + Array("中文 and more\nlines".utf8)),
            ("a long stretch, then text with cuts", rng.text(thai, 40_000) + rng.text(["word ", "ｶﾞ ", "e\u{301} ", "\n", "、"], 30_000)),
            ("mixed", mixed),
        ]
    }

    func run(_ tokenizer: Tokenizer, _ input: [UInt8], options: EncodeOptions, seed: UInt64) throws -> String {
        String(decoding: try LongStretchTests.output(tokenizer, input, options: options, seed: seed), as: UTF8.self)
    }

    /// Every shape under NFC and NFKC, with the o200k and cl100k patterns, ids and counts, whole and per line, one
    /// thread and two: the output equals encoding the whole input (or each line) at once, which normalizes it whole;
    /// and the long stretches were not normalized whole.
    func testLongStretchesUnderANormalizerEncodeAsTheWhole() throws {
        for form in [ICUNormalizer.Form.nfc, .nfkc] {
            for base in ["o200k_base", "cl100k_base"] {
                for (label, input) in shapes() {
                    for lines in [false, true] {
                        for (threads, count) in [(1, false), (2, false), (1, true)] {
                            let recording = Recording(form)
                            let t = try tokenizer(base, recording)
                            let want = try LongStretchTests.wholeIDs(tokenizer(base, ICUNormalizer(form)), input, lines: lines)
                            var options = EncodeOptions()
                            options.segmentBytes = 1024
                            options.lines = lines
                            options.threads = threads
                            options.countOnly = count
                            let got = try run(t, input, options: options, seed: UInt64(input.count + threads))
                            let text = LongStretchTests.formatted(want, count: count, lines: lines)
                            let what = "\(form) \(base), \(label), lines \(lines), threads \(threads), count \(count)"
                            XCTAssertEqual(got, text, what)
                            if !lines { XCTAssertLessThan(recording.longest, 40_000, what) }
                        }
                    }
                }
            }
        }
    }

    /// Invalid UTF-8 after the switch: an error naming the input's offset, after the tokens of the text before
    /// it; or, with `--invalid-utf8 replace`, U+FFFD normalized with the rest.
    func testInvalidUTF8AfterALongStretch() throws {
        var rng = Rng(s: 9)
        let thai = ["ก", "ข", "า", "่", "\u{E33}"]
        let stretch = rng.text(thai, 40_000)
        let t = try tokenizer("o200k_base", Recording(.nfkc))
        for bad: [UInt8] in [[0xFF], [0xE0, 0xB8], [0xE0, 0xB8, 0x41], [0xC3]] {
            for tail in [[], Array("ขา".utf8)] {
                let input = stretch + bad + tail
                var options = EncodeOptions()
                options.segmentBytes = 1024
                XCTAssertThrowsError(try run(t, input, options: options, seed: 3)) { error in
                    XCTAssertEqual("\(error)", "input: invalid UTF-8 at byte offset \(stretch.count) (use --invalid-utf8 replace or bytes to go on)")
                }
                options.invalidUTF8 = .replace
                let repaired = Array(String(decoding: input, as: UTF8.self).utf8)
                let want = try t.encode(bytes: repaired).map(String.init).joined(separator: " ") + "\n"
                XCTAssertEqual(try run(t, input, options: options, seed: 4), want, "\(bad) \(tail)")
            }
        }
    }

    /// The streaming normalizer alone: random text fed in chunks cut anywhere (inside characters too) gives the
    /// normalized whole, under each form, with and without places to cut for thousands of bytes.
    func testStreamingNormalizerGivesTheNormalizedWhole() throws {
        var rng = Rng(s: 11)
        let alphabet = ["a", " ", "x\n", "中", "ก", "\u{E33}", "е\u{308}", "Ａ", "ｶﾞ", "가", "\u{11A8}", "\u{1100}\u{1161}",
                        "\u{F900}", "ﬁ", "\u{2002}", "\u{A0}", "<", "\u{338}", "\u{1E9B}\u{323}", "क\u{93C}", "🙂"]
        for form in ICUNormalizer.Form.allCases {
            let icu = ICUNormalizer(form)
            for round in 0..<60 {
                let composing = ["e\u{301}", "<\u{338}", "\u{1100}\u{1161}", "\u{1100}", "\u{1161}", "\u{11A8}", "o\u{323}\u{302}"]
                var text = rng.text([Self.marks, alphabet, composing][round % 3], 500 + rng.next(5_000))
                if round % 5 == 0 { text = rng.text(alphabet, 2_000) + rng.text(Self.marks, 3_000) + rng.text(alphabet, 2_000) }
                let want = try text.withUnsafeBufferPointer { try icu.normalize($0) }
                let n = StreamingNormalizer(icu, start: 0)
                var out = GrowableBytes(capacity: 16)
                var at = 0
                try text.withUnsafeBufferPointer { b in
                    while at < b.count {
                        let k = min(b.count - at, 1 + rng.next(round % 2 == 0 ? 8 : 700))
                        try n.feed(UnsafeBufferPointer(rebasing: b[at..<(at + k)]), final: at + k == b.count, into: &out)
                        at += k
                    }
                }
                XCTAssertEqual(Array(UnsafeBufferPointer(start: out.base, count: out.count)), want, "\(form) round \(round)")
            }
        }
    }
}
