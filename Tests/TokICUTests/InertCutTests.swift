import XCTest
import TokCore
import TokICU
import TokTestSupport

/// Cuts of text that a tokenizer normalizes (`SafeCut` with `asciiOnly` and the normalizer's inert characters): the
/// parts, normalized and encoded apart, give the normalized whole's ids, next to characters that normalization
/// changes, composes or decomposes into white space.
final class InertCutTests: XCTestCase {
    /// Characters that each form changes or joins, and characters it leaves alone, around line feeds, spaces and CJK
    /// punctuation (the places cuts are judged by).
    static let alphabet: [String] = [
        "\n", "\n", " ", " ", "  ", "。", "、", "，", "（", "！",
        "中", "文", "字", "あ", "か\u{3099}", "ｶﾞ", "ｶ", "ﾞ", "\u{3099}",
        "가", "\u{11A8}", "\u{1100}\u{1161}", "\u{1161}", "한",
        "\u{F900}", "\u{2F00}", "㍿", "①", "Ⅻ", "½", "Ａ", "ａ", "ﬁ", "ǅ",
        "e", "e\u{301}", "\u{301}", "\u{308}", "\u{345}", "\u{338}", "=", "/", "x", "7",
        "е", "е\u{308}", "Й", "слово", "ก", "\u{E31}", "\u{E48}", "ไทย",
        "\u{A8}", "\u{B4}", "\u{2002}", "\u{A0}", "\u{3000}", "\u{2028}", "\u{FF0F}", "\u{FE10}", "\u{1E9B}\u{323}",
        "ب", "\u{64B}", "\u{FDFA}", "क", "\u{94D}", "\u{93C}", "\u{958}",
    ]

    func text(_ rng: inout SeededRandom, characters: Int) -> [UInt8] {
        var s = ""
        for _ in 0..<characters { s += Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))] }
        return Array(s.utf8)
    }

    func tokenizer(_ form: ICUNormalizer.Form) throws -> Tokenizer {
        let base = try Tokenizer.load(name: "o200k_base")
        return Tokenizer(name: "o200k-\(form)", ranks: base.ranks, pattern: base.pattern, preTokenizer: base.preTokenizer,
                         specialTokens: .none, normalizer: ICUNormalizer(form))
    }

    /// The cuts of `text` that `isCut` allows (`inert` nil and `asciiOnly` false: every cut of unnormalized text),
    /// and how many of them fail: their parts, normalized and encoded apart, differ from the whole.
    func failingCuts(_ t: Tokenizer, _ text: [UInt8], asciiOnly: Bool, inert: InertCharacters?) throws -> (cuts: Int, failing: Int) {
        let whole = try t.encode(bytes: text)
        let normalizer = t.normalizer!
        let normalizedWhole = try text.withUnsafeBufferPointer { try normalizer.normalize($0) }
        var cuts = 0, failing = 0
        try text.withUnsafeBufferPointer { b in
            for i in 1..<b.count where SafeCut.isCut(b.baseAddress!, i, b.count, rule: .standard, asciiOnly: asciiOnly, inert: inert) {
                cuts += 1
                let left = UnsafeBufferPointer(rebasing: b[..<i]), right = UnsafeBufferPointer(rebasing: b[i...])
                let normalized = try normalizer.normalize(left) + normalizer.normalize(right)
                let parts = try t.encode(bytes: Array(left)) + t.encode(bytes: Array(right))
                if normalized != normalizedWhole || parts != whole {
                    failing += 1
                }
            }
        }
        return (cuts, failing)
    }

    func testCutsNextToInertCharactersKeepTheNormalizedEncoding() throws {
        for form in [ICUNormalizer.Form.nfc, .nfkc] {
            let t = try tokenizer(form)
            let inert = try XCTUnwrap(t.normalizer?.inertCharacters, "\(form)")
            var rng = SeededRandom(seed: form == .nfc ? 1 : 2)
            var inertCuts = 0, asciiCuts = 0, anyCuts = 0, anyFailing = 0
            for _ in 0..<60 {
                let s = text(&rng, characters: 300)
                let withInert = try failingCuts(t, s, asciiOnly: true, inert: inert)
                XCTAssertEqual(withInert.failing, 0, "\(form): \(String(decoding: s, as: UTF8.self).debugDescription)")
                inertCuts += withInert.cuts
                asciiCuts += try failingCuts(t, s, asciiOnly: true, inert: nil).cuts
                let any = try failingCuts(t, s, asciiOnly: false, inert: nil)
                anyCuts += any.cuts
                anyFailing += any.failing
            }
            // The inert characters add cuts to the ASCII ones. Under NFKC, cutting wherever unnormalized text allows
            // would break the encoding here (the text is built to: "\u{A8}" becomes a space and a mark, "\u{A0}" a
            // space), so the test can tell a wrong set from a right one; NFC only composes a character with marks
            // that follow it, which no cut separates, and changes no character's class.
            XCTAssertGreaterThan(inertCuts, asciiCuts + asciiCuts / 2, "\(form)")
            XCTAssertGreaterThan(anyCuts, inertCuts, "\(form)")
            if form == .nfkc { XCTAssertGreaterThan(anyFailing, 0) }
        }
    }

    func testInertCharactersOfEachForm() throws {
        let nfc = try XCTUnwrap(ICUNormalizer(.nfc).inertCharacters)
        let nfkc = try XCTUnwrap(ICUNormalizer(.nfkc).inertCharacters)
        for c in ["中", "あ", "ก", "。", "Б"] {
            XCTAssertTrue(nfc.contains(c.unicodeScalars.first!.value), c)
            XCTAssertTrue(nfkc.contains(c.unicodeScalars.first!.value), c)
        }
        // Composed with marks that may follow, changed, or joined with a following final consonant.
        for c in ["e", "е", "か", "가", "\u{F900}", "\u{301}"] {
            XCTAssertFalse(nfc.contains(c.unicodeScalars.first!.value), c)
        }
        // Compatibility forms change only under NFKC.
        for c in ["，", "Ａ", "①", "\u{A0}"] {
            XCTAssertTrue(nfc.contains(c.unicodeScalars.first!.value), c)
            XCTAssertFalse(nfkc.contains(c.unicodeScalars.first!.value), c)
        }
        XCTAssertFalse(nfc.contains(0x1F600), "only the BMP")
        let both = nfc.intersection(nfkc)
        for cp in stride(from: UInt32(0), to: 0x10000, by: 7) {
            XCTAssertEqual(both.contains(cp), nfc.contains(cp) && nfkc.contains(cp), "U+\(String(cp, radix: 16))")
        }
        // Well-formed characters only.
        let bytes: [UInt8] = [0xE4, 0xB8, 0xAD, 0xE0, 0x80, 0xAD, 0xE4, 0xB8]
        bytes.withUnsafeBufferPointer { b in
            XCTAssertTrue(nfc.startsInert(b.baseAddress!, 0, b.count))
            XCTAssertTrue(nfc.endsInert(b.baseAddress!, 3))
            XCTAssertFalse(nfc.startsInert(b.baseAddress!, 3, b.count), "overlong")
            XCTAssertFalse(nfc.startsInert(b.baseAddress!, 6, b.count), "cut off")
        }
    }

    /// Chinese lines under a normalizer are cut after each line feed (they were not: only cuts next to ASCII were
    /// allowed, so a file of Chinese lines was encoded as one segment).
    func testChineseLinesAreCutUnderANormalizer() throws {
        let t = try tokenizer(.nfkc)
        let lines = Array(String(repeating: "中文字。\n文字中，\n", count: 4000).utf8)
        let segments = lines.withUnsafeBufferPointer {
            Tokenizer.segments(of: $0, target: 4096, asciiOnly: true, inert: t.normalizer?.inertCharacters, specials: nil)
        }
        XCTAssertGreaterThan(segments.count, lines.count / 8192)
        XCTAssertEqual(try lines.withUnsafeBufferPointer { try t.encodeParallel(bytes: $0, threads: 2, segmentBytes: 4096) },
                       try t.encode(bytes: lines))
    }
}
