import XCTest
@testable import TokCore

final class JSONParsingTests: XCTestCase {
    private func parse(_ text: String) -> JSONValue? {
        Array(text.utf8).withUnsafeBufferPointer { b in try? JSONValue.parse(b) }
    }

    /// Numbers follow RFC 8259's grammar, as Python's `json` does: sidecars and special-token files with `+1`,
    /// `01`, `1.` or `.5` were accepted (any run of digits, signs, dots and e's went to `Double`), and such an id
    /// read as another number than Python reads, or none.
    func testNumbersFollowTheJSONGrammar() {
        for (text, value) in [("0", 0.0), ("-0", 0.0), ("7", 7), ("-12", -12), ("100257", 100257), ("1.5", 1.5),
                              ("-0.25", -0.25), ("1e5", 1e5), ("1E+2", 100), ("2e-1", 0.2), ("10.0e1", 100)] {
            XCTAssertEqual(parse(text)?.numberValue, value, text)
            XCTAssertEqual(parse("[\(text)]")?.arrayValue?.first?.numberValue, value, text)
        }
        for text in ["+1", "01", "-01", "00", "1.", ".5", "-.5", "1.e5", "1e", "1e+", "-", "--1", "1.5.3", "0x10",
                     "[01]", "{\"a\": +1}", "1ee5", "Infinity", "NaN", "- 1"] {
            XCTAssertNil(parse(text), text)
        }
    }
}
