import XCTest
import TokCore
import TokICU

private func normalized(_ form: ICUNormalizer.Form, _ bytes: [UInt8]) throws -> [UInt8] {
    try bytes.withUnsafeBufferPointer { try ICUNormalizer(form).normalize($0) }
}

private func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

final class NormalizerTests: XCTestCase {
    func testCompositionForms() throws {
        let input = "e\u{301}\u{FB01}\u{2460}\u{FF21}"  // e + combining acute, ﬁ, ①, Ａ
        XCTAssertEqual(scalars(try ICUNormalizer(.nfc).normalize(input)), [0xE9, 0xFB01, 0x2460, 0xFF21])
        XCTAssertEqual(scalars(try ICUNormalizer(.nfkc).normalize(input)), [0xE9, 0x66, 0x69, 0x31, 0x41])
        XCTAssertEqual(scalars(try ICUNormalizer(.nfd).normalize(input)), [0x65, 0x301, 0xFB01, 0x2460, 0xFF21])
        XCTAssertEqual(scalars(try ICUNormalizer(.nfkd).normalize(input)), [0x65, 0x301, 0x66, 0x69, 0x31, 0x41])
    }

    func testHangulRoundTrip() throws {
        let decomposed = try ICUNormalizer(.nfd).normalize("한국어")
        XCTAssertEqual(decomposed.unicodeScalars.count, 8)
        XCTAssertEqual(try ICUNormalizer(.nfc).normalize(decomposed), "한국어")
    }

    func testUnchangedInputs() throws {
        for form in ICUNormalizer.Form.allCases {
            XCTAssertEqual(try normalized(form, []), [])
            let ascii = Array("plain ASCII text, 123\n".utf8)
            XCTAssertEqual(try normalized(form, ascii), ascii)
        }
        let composed = Array("déjà vu, 日本語, Ελληνικά".utf8)
        XCTAssertEqual(try normalized(.nfc, composed), composed)
    }

    func testLargeExpansion() throws {
        // U+FDFA expands to 18 code points under NFKD: more than the first output buffer holds.
        let s = String(repeating: "\u{FDFA}", count: 3)
        XCTAssertEqual(try ICUNormalizer(.nfkd).normalize(s).unicodeScalars.count, 54)
        XCTAssertEqual(try ICUNormalizer(.nfkc).normalize(s).unicodeScalars.count, 54)
    }

    /// Text longer than ICU takes at once (64 MiB) is normalized in pieces cut where each normalizes alone: the
    /// result is the text's lines normalized one by one (normalization never crosses a line feed). Without such a
    /// place within the limit, it is refused.
    func testTextOverTheLimitIsNormalizedInPieces() throws {
        let unit = "e\u{301}x\u{308}ﬁＡ中\u{E33}ก\u{301}\u{323}"
        let lines = 1 + (64 << 20) / (unit.utf8.count * 20 + 1)
        let line = String(repeating: unit, count: 20) + "\n"
        let text = Array(String(repeating: line, count: lines).utf8)
        XCTAssertGreaterThan(text.count, 64 << 20)
        for form in [ICUNormalizer.Form.nfc, .nfkc] {
            let want = try normalized(form, Array(line.utf8))
            let got = try normalized(form, text)
            XCTAssertEqual(got.count, want.count * lines, "\(form)")
            XCTAssertTrue(got.prefix(want.count * 3).elementsEqual(want + want + want), "\(form)")
            XCTAssertTrue(got.suffix(want.count).elementsEqual(want), "\(form)")
        }
        let marks = Array(("x" + String(repeating: "\u{301}", count: 32 << 20)).utf8)
        XCTAssertThrowsError(try normalized(.nfc, marks)) { error in
            XCTAssertEqual((error as? ICUNormalizer.Failure)?.kind, .inputTooLarge)
        }
    }

    /// The characters before which each form always has a boundary (ICU's `hasBoundaryBefore`), which the streaming
    /// normalizer cuts before: every ASCII character, every inert one, starters such as a leading jamo; not a
    /// combining mark, nor a vowel jamo that joins the syllable before it.
    func testBoundaryBeforeCharacters() throws {
        for form in ICUNormalizer.Form.allCases {
            let n = ICUNormalizer(form)
            let before = try XCTUnwrap(n.boundaryBeforeCharacters), inert = try XCTUnwrap(n.inertCharacters)
            for c in UInt32(0)..<0x80 { XCTAssertTrue(before.contains(c), "\(form) \(c)") }
            for c in UInt32(0)..<0x10000 where inert.contains(c) { XCTAssertTrue(before.contains(c), "\(form) \(c)") }
            XCTAssertFalse(before.contains(0x301), "\(form)")
            XCTAssertEqual(before.contains(0x1161), form == .nfd || form == .nfkd, "\(form)")
            XCTAssertTrue(before.contains(0x1100), "\(form)")
        }
    }

    func testInvalidUTF8Throws() {
        XCTAssertThrowsError(try normalized(.nfc, Array("abc".utf8) + [0xE2, 0x28, 0xA1])) { error in
            XCTAssertEqual((error as? ICUNormalizer.Failure)?.kind, .invalidUTF8(offset: 3))
        }
        XCTAssertThrowsError(try normalized(.nfkc, [0xED, 0xA0, 0x80]))  // a surrogate
    }
}
