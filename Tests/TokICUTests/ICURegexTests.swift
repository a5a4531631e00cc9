import Foundation
import TokCore
import TokICU
import XCTest
import TokTestSupport

final class ICURegexTests: XCTestCase {
    private func pieces(_ pattern: String, _ text: String) throws -> [String] {
        let re = try ICURegexPreTokenizer(pattern: pattern)
        return Array(text.utf8).splitPieces(re).map { String(decoding: $0, as: UTF8.self) }
    }

    func testMatchesAndGapsTile() throws {
        XCTAssertEqual(try pieces(#"\d+"#, "ab12cd345"), ["ab", "12", "cd", "345"])
        XCTAssertEqual(try pieces(#"\d+"#, "12"), ["12"])
        XCTAssertEqual(try pieces(#"\d+"#, "none"), ["none"])
        XCTAssertEqual(try pieces(#"é+"#, "aééb"), ["a", "éé", "b"])
        var ends = [3]
        try ICURegexPreTokenizer(pattern: "x").split(UnsafeBufferPointer(start: nil, count: 0), into: &ends)
        XCTAssertEqual(ends, [3], "empty text appends nothing")
    }

    func testEmptyMatchesAreIgnored() throws {
        XCTAssertEqual(try pieces("x*", "abxxc"), ["ab", "xx", "c"])
        XCTAssertEqual(try pieces(#"\b"#, "a b"), ["a b"])
    }

    /// `$` is the end of the text (as in tiktoken), not also "before a final line terminator" (ICU's default).
    func testDollarIsEndOfText() throws {
        XCTAssertEqual(try pieces("x$", "x\n"), ["x\n"])
        XCTAssertEqual(try pieces("x$", "ax"), ["a", "x"])
        XCTAssertEqual(try pieces(#"\s+$"#, "a \n"), ["a", " \n"])
        XCTAssertEqual(try pieces(#"[$]"#, "a$b"), ["a", "$", "b"])
        XCTAssertEqual(try pieces(#"\$"#, "a$b"), ["a", "$", "b"])
        XCTAssertEqual(try pieces(#"\Q$\E"#, "a$b"), ["a", "$", "b"])
        XCTAssertEqual(try ICURegexPreTokenizer(pattern: #"a$|[$\]]|\$|\Qx$\E"#).icuPattern, #"a\z|[$\]]|\$|\Qx$\E"#)
        XCTAssertEqual(try ICURegexPreTokenizer(pattern: #"[]$]$"#).icuPattern, #"[]$]\z"#)
        // Multi-line mode keeps ICU's meaning of `$`.
        XCTAssertEqual(try ICURegexPreTokenizer(pattern: "(?m)x$").icuPattern, "(?m)x$")
        XCTAssertEqual(try pieces("(?m)x$", "x\ny"), ["x", "\ny"])
        // Only where multi-line mode is on: a scoped (?m:...), the rest of the group of a (?m), until (?-m); not
        // "(?m" inside a class, a (?#...) comment or an (?x) comment, where a "[" opens no class either.
        let rewritten: [(String, String)] = [
            (#"(?m:^x$)|ab$|[\s\S]"#, #"(?m:^x$)|ab\z|[\s\S]"#),
            (#"ab$|[\s\S]|[(?m)]"#, #"ab\z|[\s\S]|[(?m)]"#),
            ("(?x)#[ (?m)\nab$|[\\s\\S]", "(?x)#[ (?m)\nab\\z|[\\s\\S]"),
            (#"(?#(?m[)a$"#, #"(?#(?m[)a\z"#),
            (#"((?m)a$)b$"#, #"((?m)a$)b\z"#),
            (#"(?m)a$(?-m)b$"#, #"(?m)a$(?-m)b\z"#),
            (#"(?im-x)a$"#, #"(?im-x)a$"#),
            (#"(?<n>a$)(?=b$)"#, #"(?<n>a\z)(?=b\z)"#),
        ]
        for (given, icu) in rewritten {
            XCTAssertEqual(try ICURegexPreTokenizer(pattern: given).icuPattern, icu, given)
        }
        XCTAssertEqual(try pieces(#"(?m:^x$)|ab$|[\s\S]"#, "ab\n"), ["a", "b", "\n"])
    }

    func testCompileErrorNamesICUErrorAndPosition() {
        XCTAssertThrowsError(try ICURegexPreTokenizer(pattern: "ab(cd")) { error in
            guard let e = error as? ICURegexError else { return XCTFail("unexpected error \(error)") }
            XCTAssertEqual(e.errorName, "U_REGEX_MISMATCHED_PAREN")
            XCTAssertEqual(e.pattern, "ab(cd")
            XCTAssertNotNil(e.position)
            XCTAssertTrue(e.description.contains("U_REGEX_MISMATCHED_PAREN"), e.description)
        }
        XCTAssertThrowsError(try ICURegexPreTokenizer(pattern: #"éé\p{Nonsense}"#)) { error in
            guard let e = error as? ICURegexError else { return XCTFail("unexpected error \(error)") }
            XCTAssertEqual(e.errorName, "U_REGEX_PROPERTY_SYNTAX")
            // Positions count Unicode scalars of the pattern as given.
            XCTAssertEqual(e.position.map { $0 >= 2 && $0 <= 14 }, true, "\(e)")
            XCTAssertTrue(e.description.contains("position"), e.description)
        }
        XCTAssertThrowsError(try ICURegexPreTokenizer(pattern: "$$a{2,1}")) { error in
            guard let e = error as? ICURegexError else { return XCTFail("unexpected error \(error)") }
            XCTAssertEqual(e.errorName, "U_REGEX_MAX_LT_MIN")
            // The two `$` became `\z` for ICU; the position still refers to the given pattern.
            XCTAssertEqual(e.position.map { $0 >= 3 && $0 <= 8 }, true, "\(e)")
        }
    }

    /// A pattern that backtracks without end is stopped by ICU's budget; inside `PreTokenizationFailure.catching`
    /// that is an error the caller can handle, where the CLI (outside it) exits with the same message.
    func testRunawayBacktrackingIsCatchable() throws {
        let base = try Tokenizer.load(name: "cl100k_base")
        let pattern = "(a|aa)*c"
        let tokenizer = Tokenizer(name: "runaway", ranks: base.ranks, pattern: pattern,
                                  preTokenizer: try ICURegexPreTokenizer(pattern: pattern), specialTokens: base.specialTokens)
        XCTAssertEqual(try PreTokenizationFailure.catching { try tokenizer.encode("aac b") }.count,
                       try base.encode("aac b").count)
        do {
            _ = try PreTokenizationFailure.catching { try tokenizer.encode("xy " + String(repeating: "a", count: 60)) }
            XCTFail("no PreTokenizationError")
        } catch let e as PreTokenizationError {
            XCTAssertTrue(e.message.contains("takes too long"), e.message)
            XCTAssertTrue(e.message.contains("at byte 3 "), e.message)
        }
        // Once a failure is recorded, later texts in the scope are not matched at all (their ids are thrown away):
        // each would spend ICU's whole budget again.
        XCTAssertThrowsError(try PreTokenizationFailure.catching {
            _ = try tokenizer.encode(String(repeating: "a", count: 60))
            XCTAssertTrue(PreTokenizationFailure.hasFailedInScope)
            var ends: [Int] = []
            Array("aac b".utf8).withUnsafeBufferPointer { tokenizer.preTokenizer.split($0, into: &ends) }
            XCTAssertEqual(ends, [5])
        })
        XCTAssertFalse(PreTokenizationFailure.hasFailedInScope)
        // The matcher went back to the pool in a usable state.
        XCTAssertEqual(try PreTokenizationFailure.catching { try tokenizer.encode("aac") }, try base.encode("aac"))
    }

    func testStandardPatternsCompile() throws {
        for p in StandardPattern.allCases {
            let re = try ICURegexPreTokenizer(pattern: p.patternString)
            XCTAssertEqual(re.pattern, p.patternString)
        }
    }

    /// ICU reads ill-formed UTF-8 as U+FFFD; whatever it matches, the pieces must tile the bytes.
    func testInvalidUTF8Tiles() throws {
        var rng = SeededRandom(seed: 42)
        let regexes = try StandardPattern.allCases.map { try ICURegexPreTokenizer(pattern: $0.patternString) }
        for _ in 0..<3_000 {
            let n = Int(rng.next() % 30)
            var bytes: [UInt8] = []
            for _ in 0..<n {
                let r = rng.next()
                bytes.append(r % 3 == 0 ? Array(" 'a1\n!".utf8)[Int(r >> 8) % 6] : UInt8(truncatingIfNeeded: r >> 8))
            }
            for re in regexes {
                var prev = 0
                for e in bytes.splitEnds(re) {
                    XCTAssertGreaterThan(e, prev, "\(bytes)")
                    prev = e
                }
                XCTAssertEqual(prev, bytes.count, "\(bytes)")
            }
        }
    }

    /// Long runs must not hit ICU's backtracking stack limit.
    func testLongInputs() throws {
        let re = try ICURegexPreTokenizer(pattern: StandardPattern.o200k.patternString)
        let text = Array((String(repeating: " ", count: 1_000_000) + "x").utf8)
        XCTAssertEqual(text.splitEnds(re), [999_999, 1_000_001])
    }

    func testConcurrentUse() throws {
        let re = try ICURegexPreTokenizer(pattern: StandardPattern.cl100k.patternString)
        let texts = (0..<64).map { k in Array("Text \(k): it's   \(k * 7919) words,\n\n and more \(k)! ".utf8) }
        let serial = texts.map { $0.splitEnds(re) }
        let results = ConcurrentResults(count: texts.count)
        DispatchQueue.concurrentPerform(iterations: texts.count * 8) { k in
            let i = k % texts.count
            let got = texts[i].splitEnds(re)
            if k < texts.count { results.set(i, got) } else if got != serial[i] { results.fail() }
        }
        XCTAssertEqual(results.values, serial)
        XCTAssertFalse(results.failed)
    }
}

private final class ConcurrentResults: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [[Int]]
    private var failure = false
    init(count: Int) { storage = Array(repeating: [], count: count) }
    func set(_ i: Int, _ v: [Int]) { lock.withLock { storage[i] = v } }
    func fail() { lock.withLock { failure = true } }
    var values: [[Int]] { lock.withLock { storage } }
    var failed: Bool { lock.withLock { failure } }
}
