import XCTest
@testable import TokCore
import TokTestSupport
#if canImport(Glibc)
import Glibc
#endif

final class RankTableImageTests: XCTestCase {
    private func temporaryFile(_ bytes: [UInt8]) -> String {
        let path = NSTemporaryDirectory() + "tok-image-\(UInt32.random(in: 0...UInt32.max)).tokrank"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// An image read back (copied, and mapped from a file) answers every lookup as the parsed table does.
    func testImageRoundTrip() throws {
        let table = Shipped.o200k.ranks
        let image = table.image(sourceFingerprint: 42, sourceLength: 7)
        let copied = try XCTUnwrap(image.withUnsafeBytes { RankTable(image: $0, sourceFingerprint: 42, sourceLength: 7) })
        let mapped = try XCTUnwrap(RankTable(imageFile: temporaryFile(image), sourceFingerprint: 42, sourceLength: 7))
        for t in [copied, mapped] {
            XCTAssertEqual(t.count, table.count)
            XCTAssertEqual(t.rankLimit, table.rankLimit)
            XCTAssertEqual(t.maxKeyLength, table.maxKeyLength)
            for r in stride(from: UInt32(0), to: UInt32(table.rankLimit), by: 7) {
                let b = Array(try XCTUnwrap(table.bytes(ofRank: r)))
                XCTAssertEqual(t.bytes(ofRank: r).map(Array.init), b)
                XCTAssertEqual(t.rank(of: b), r)
                XCTAssertEqual(t.rank(of: b + [0x00, 0xFF]), table.rank(of: b + [0x00, 0xFF]))
            }
            // The image carries the spanning-token filter, bit for bit, and a model of it starts with it built.
            let built = SpanningTokenFilter(table: table)
            defer { built.deallocate() }
            let bits = try XCTUnwrap(t.spanningBits)
            XCTAssertEqual(t.spanningWords, built.words)
            XCTAssertTrue((0..<built.words).allSatisfy { bits[$0] == built.bits[$0] })
            XCTAssertNotNil(BPEModel(table: t).builtSpanningTokenFilter())
        }
    }

    /// Wrong fingerprint or length, truncation, any damaged byte, or a file that is not an image: refused, no crash.
    func testDamagedImagesAreRefused() {
        let image = Shipped.cl100k.ranks.image(sourceFingerprint: 1, sourceLength: 2)
        func accepted(_ bytes: [UInt8], fingerprint: UInt64 = 1, length: Int = 2) -> Bool {
            bytes.withUnsafeBytes { RankTable(image: $0, sourceFingerprint: fingerprint, sourceLength: length) } != nil
        }
        XCTAssertTrue(accepted(image))
        XCTAssertFalse(accepted(image, fingerprint: 3))
        XCTAssertFalse(accepted(image, length: 3))
        XCTAssertFalse(accepted(Array(image.dropLast(1))))
        XCTAssertFalse(accepted(Array(image.prefix(96))))
        XCTAssertFalse(accepted([]))
        XCTAssertFalse(accepted(image + [0]))
        var rng = SeededRandom(seed: 5)
        for _ in 0..<40 {
            var bad = image
            let i = Int.random(in: 0..<bad.count, using: &rng)
            bad[i] ^= UInt8.random(in: 1...255, using: &rng)
            XCTAssertFalse(accepted(bad), "byte \(i) changed")
        }
        XCTAssertNil(RankTable(imageFile: temporaryFile(Array(image.prefix(image.count / 2))), sourceFingerprint: 1, sourceLength: 2))
        XCTAssertNil(RankTable(imageFile: "/nonexistent/x.tokrank", sourceFingerprint: 1, sourceLength: 2))
        XCTAssertNil(RankTable(imageFile: NSTemporaryDirectory(), sourceFingerprint: 1, sourceLength: 2))
    }
}
