import XCTest
import TokICU
final class TokICUSmokeTests: XCTestCase { func testLinks() { XCTAssertTrue(true) } }
