import XCTest
@testable import TokCore
final class TokCoreSmokeTests: XCTestCase { func testLinks() { XCTAssertTrue(true) } }
