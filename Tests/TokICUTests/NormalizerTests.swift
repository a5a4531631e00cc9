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

    func testInvalidUTF8Throws() {
        XCTAssertThrowsError(try normalized(.nfc, Array("abc".utf8) + [0xE2, 0x28, 0xA1])) { error in
            XCTAssertEqual((error as? ICUNormalizer.Failure)?.kind, .invalidUTF8(offset: 3))
        }
        XCTAssertThrowsError(try normalized(.nfkc, [0xED, 0xA0, 0x80]))  // a surrogate
    }
}
