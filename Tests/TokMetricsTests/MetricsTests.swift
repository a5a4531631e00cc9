import XCTest
@testable import TokMetrics
import TokCore

final class MetricsTests: XCTestCase {
    func testGiniByHand() {
        XCTAssertEqual(Evaluation.gini([1, 1, 1]), 0, accuracy: 1e-12)
        // Pairs: |1-3| twice = 4, over 2 * 2^2 * 2 = 16.
        XCTAssertEqual(Evaluation.gini([1, 3]), 0.25, accuracy: 1e-12)
        // Sum over pairs of [1,2,3,6]: 2*(1+2+5+1+4+3) = 32; 2 n^2 mean = 2*16*3 = 96.
        XCTAssertEqual(Evaluation.gini([1, 2, 3, 6]), 32.0 / 96.0, accuracy: 1e-12)
    }
}
