import XCTest
import TokCore

final class TiktokenFileTests: XCTestCase {
    private func parse(_ s: String) throws -> RankTable {
        var s = s
        return try s.withUTF8 { try TiktokenFile.parse($0, name: "test.tiktoken") }
    }

    private func allBytes(upTo extra: String = "") -> String {
        var s = ""
        for b in 0..<256 {
            s += String(decoding: Base64Test.encode([UInt8(b)]), as: UTF8.self) + " \(b)\n"
        }
        return s + extra
    }

    func testParsesAllBytesAndMerges() throws {
        let t = try parse(allBytes(upTo: "aGk= 256\n\nYWJj 257\r\n"))   // "hi", "abc", a blank line, CRLF
        XCTAssertEqual(t.rank(of: Array("hi".utf8)), 256)
        XCTAssertEqual(t.rank(of: Array("abc".utf8)), 257)
        XCTAssertEqual(t.rank(of: [0xFF]), 255)
    }

    /// What tiktoken's `token, rank = line.split()` and `int(rank)` accept: runs of spaces or tabs, blanks around
    /// the fields, a "+" on the rank (tok refused all of these).
    func testFieldsSeparatedAsTiktokenSplitsThem() throws {
        let t = try parse(allBytes(upTo: "aGk=  256\n\tYWJj\t257 \n YWI= +258\r\n"))
        XCTAssertEqual(t.rank(of: Array("hi".utf8)), 256)
        XCTAssertEqual(t.rank(of: Array("abc".utf8)), 257)
        XCTAssertEqual(t.rank(of: Array("ab".utf8)), 258)
        XCTAssertThrowsError(try parse(allBytes(upTo: "aGk= 256 7\n")))
        XCTAssertThrowsError(try parse(allBytes(upTo: "aGk= -256\n")))
        XCTAssertThrowsError(try parse(allBytes(upTo: "aGk= ++256\n")))
    }

    func testRoundTripSerialization() throws {
        let t = try parse(allBytes(upTo: "aGk= 256\n"))
        let text = TiktokenFile.serialize(t)
        let t2 = try text.withUnsafeBufferPointer { try TiktokenFile.parse($0, name: "x") }
        XCTAssertEqual(t2.count, t.count)
        XCTAssertEqual(t2.rank(of: Array("hi".utf8)), 256)
    }

    func testErrorsNameTheLine() {
        func message(_ s: String) -> String {
            do { _ = try parse(s); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message(allBytes(upTo: "aGk=\n")), "test.tiktoken:257: expected 'base64 rank', found one field")
        XCTAssertEqual(message(allBytes(upTo: "a!k= 256\n")), "test.tiktoken:257: invalid base64 token")
        XCTAssertEqual(message(allBytes(upTo: "aGk= x\n")), "test.tiktoken:257: invalid rank (expected a decimal number below 2^32-1)")
        XCTAssertTrue(message(allBytes(upTo: "aGk= 256\naGk= 257\n")).contains("repeats the token of rank 256"))
        XCTAssertTrue(message(allBytes(upTo: "aGk= 5\n")).contains("rank 5 appears twice"))
        XCTAssertTrue(message("YQ== 0\n").contains("no token for the single byte 0x0"))
        XCTAssertEqual(message(""), "test.tiktoken: the file is empty")
        // Ranks index tables: one far above the number of tokens is refused (it took 655 MB at 50,000,000 and
        // aborted at 4,294,967,294), on its line; a rank within the bound loads.
        XCTAssertEqual(message(allBytes(upTo: "aGk= 50000000\nYWJj 300\n")),
                       "test.tiktoken:257: rank 50000000 is far above the number of tokens (258); ranks must stay below 69664 (16 per token plus 65,536)")
        XCTAssertTrue(message(allBytes(upTo: "aGk= 4294967294\n")).contains("test.tiktoken:257: rank 4294967294 is far above"))
        XCTAssertEqual(message(allBytes(upTo: "aGk= 69000\n")), "no error")
    }

    func testShippedVocabulariesLoad() throws {
        XCTAssertEqual(Shipped.cl100k.ranks.count, 100256)
        XCTAssertEqual(Shipped.o200k.ranks.count, 199998)
        XCTAssertEqual(Shipped.llama3.ranks.count, 128000)
        XCTAssertEqual(Shipped.cl100k.specialTokens.id(of: "<|endoftext|>"), 100257)
        XCTAssertEqual(Shipped.o200k.specialTokens.id(of: "<|endofprompt|>"), 200018)
        XCTAssertEqual(Shipped.llama3.specialTokens.entries.count, 256)
        XCTAssertEqual(Shipped.cl100k.vocabularySize, 100277)
        XCTAssertEqual(Shipped.o200k.vocabularySize, 200019)
    }

    func testUnknownNameIsAClearError() {
        XCTAssertThrowsError(try Tokenizer.load(name: "nope")) { e in
            XCTAssertTrue("\(e)".contains("unknown tokenizer name"))
        }
    }
}

/// Independent base64 encoder for building test files.
enum Base64Test {
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        let a = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = Int(bytes[i]), b1 = i + 1 < bytes.count ? Int(bytes[i + 1]) : 0, b2 = i + 2 < bytes.count ? Int(bytes[i + 2]) : 0
            out.append(a[b0 >> 2]); out.append(a[(b0 & 3) << 4 | b1 >> 4])
            out.append(i + 1 < bytes.count ? a[(b1 & 15) << 2 | b2 >> 6] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? a[b2 & 63] : UInt8(ascii: "="))
            i += 3
        }
        return out
    }
}
