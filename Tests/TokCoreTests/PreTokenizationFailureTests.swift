@testable import TokCore
import XCTest
import TokTestSupport

private struct Unrelated: Error {}

final class PreTokenizationFailureTests: XCTestCase {
    private let tokenizer = Tokenizer(name: "fails-on-x", ranks: Shipped.cl100k.ranks, pattern: "(test)",
                                      preTokenizer: SpaceSplitter(failsOnX: true), specialTokens: Shipped.cl100k.specialTokens)

    /// `expected` is the message, or its start when it ends in "*".
    private func assertFailure(_ expected: String, _ body: () throws -> Void, line: UInt = #line) {
        do {
            try PreTokenizationFailure.catching(body)
            XCTFail("no PreTokenizationError", line: line)
        } catch let e as PreTokenizationError {
            if expected.hasSuffix("*") {
                XCTAssertTrue(e.message.hasPrefix(expected.dropLast()), e.message, line: line)
            } else {
                XCTAssertEqual(e.message, expected, line: line)
            }
            XCTAssertEqual(e.description, e.message, line: line)
        } catch {
            XCTFail("unexpected \(error)", line: line)
        }
        XCTAssertNil(PreTokenizationFailure.currentScope, "the scope ends with catching", line: line)
    }

    func testWithoutFailureTheResultComesBack() throws {
        let ids = try PreTokenizationFailure.catching { try tokenizer.encode("hello world\n") }
        XCTAssertEqual(ids, try Shipped.cl100k.encode(bytes: Array("hello ".utf8)) + (try Shipped.cl100k.encode(bytes: Array("world\n".utf8))))
        XCTAssertEqual(try PreTokenizationFailure.catching { 7 }, 7)
        XCTAssertThrowsError(try PreTokenizationFailure.catching { throw Unrelated() }) { XCTAssertTrue($0 is Unrelated) }
        XCTAssertNil(PreTokenizationFailure.currentScope)
    }

    func testTheFirstFailureIsThrown() {
        assertFailure("X at byte 3") { _ = try tokenizer.encode("ab X cd") }
        assertFailure("X at byte 0") {
            _ = tokenizer.count("X")
            _ = try tokenizer.encode("a X")
        }
        // A failure wins over the body's own error: the body's work stood on made-up pieces.
        assertFailure("X at byte 1") {
            _ = try tokenizer.encode("aX")
            throw Unrelated()
        }
    }

    /// The parallel calls run segments and texts on Dispatch's worker threads, which must report into the scope
    /// of the thread that called them.
    func testWorkerThreadsReportToTheCallersScope() {
        let line = Array("hello world, these are ordinary words\n".utf8)
        var text: [UInt8] = []
        for _ in 0..<20_000 { text += line }
        text += Array("and X here\n".utf8)
        for _ in 0..<100 { text += line }
        let at = "X at byte *"   // of the segment that holds it, or of the whole text on one thread
        for threads in [1, 2, 4] {
            assertFailure(at) { _ = try tokenizer.encodeParallel(bytes: text, threads: threads, segmentBytes: 4096) }
            assertFailure(at) { _ = tokenizer.countParallel(bytes: text, threads: threads, segmentBytes: 4096) }
        }
        var texts = [String](repeating: "some words here", count: 500)
        texts[431] = "one X"
        for threads in [1, 2, 4] {
            assertFailure("X at byte 4") { _ = try tokenizer.encodeBatch(texts, threads: threads) }
            assertFailure("X at byte 4") { _ = tokenizer.countBatch(texts, threads: threads) }
        }
        texts[431] = "fine"
        XCTAssertNoThrow(try PreTokenizationFailure.catching { _ = try tokenizer.encodeBatch(texts, threads: 4) })
    }

    func testScopesNest() throws {
        let ids = try PreTokenizationFailure.catching {
            XCTAssertThrowsError(try PreTokenizationFailure.catching { _ = try tokenizer.encode("X") })
            XCTAssertNotNil(PreTokenizationFailure.currentScope, "the outer scope is back")
            return try tokenizer.encode("fine")
        }
        XCTAssertEqual(ids, try Shipped.cl100k.encode("fine"))
    }
}
