import XCTest
@testable import TokIO
final class TokIOSmokeTests: XCTestCase { func testLinks() { XCTAssertTrue(true) } }
