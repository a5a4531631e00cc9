import XCTest
@testable import TokCore
import TokTestSupport
#if canImport(Glibc)
import Glibc
#endif

final class RankTableImageTests: XCTestCase {
    private func temporaryFile(_ bytes: [UInt8]) -> String {
        let path = NSTemporaryDirectory() + "tok-image-\(UInt32.random(in: 0...UInt32.max)).tokrank"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)), path)
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

    /// A forged image (right checksum) whose slot points outside the arena is refused: lookups follow slot tags
    /// without looking at the rank's own entries.
    func testForgedSlotOutsideTheArenaIsRefused() throws {
        var image = Shipped.cl100k.ranks.image(sourceFingerprint: 1, sourceLength: 2)
        let hw = RankTable.imageHeaderWords
        func word(_ k: Int) -> UInt64 { image.withUnsafeBytes { $0.load(fromByteOffset: k * 8, as: UInt64.self) } }
        let capacity = Int(word(5)), arenaBytes = word(8)
        // The first used slot: its tag (offset 8 in the 16-byte slot) gets an arena offset past the end.
        let slot = try XCTUnwrap((0..<capacity).first { k in
            image.withUnsafeBytes { $0.load(fromByteOffset: hw * 8 + k * 16 + 8, as: UInt32.self) } != 0
        })
        image.withUnsafeMutableBytes { b in
            let at = hw * 8 + slot * 16 + 8
            let tag = b.load(fromByteOffset: at, as: UInt32.self)
            b.storeBytes(of: (tag & 0xFF) | UInt32(arenaBytes) << 8, toByteOffset: at, as: UInt32.self)
            let payload = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(b)[(hw * 8)...])
            b.storeBytes(of: Fingerprint64.of(payload), toByteOffset: 10 * 8, as: UInt64.self)
        }
        XCTAssertNil(image.withUnsafeBytes { RankTable(image: $0, sourceFingerprint: 1, sourceLength: 2) })
    }

    /// A table parsed from `tokens` (rank = index, except where `ranks` says otherwise) and its image.
    private func imageOf(_ tokens: [[UInt8]], ranks: [Int: Int] = [:]) throws -> [UInt8] {
        var text: [UInt8] = []
        for (r, t) in tokens.enumerated() {
            text += t.withUnsafeBufferPointer { Base64.encode($0) } + Array(" \(ranks[r] ?? r)\n".utf8)
        }
        let table = try text.withUnsafeBufferPointer { try TiktokenFile.parse($0, name: "forge") }
        return table.image(sourceFingerprint: 1, sourceLength: 2)
    }

    /// Header word `k` of `image`, and the slot section's byte offset of slot `i`.
    private func word(_ image: [UInt8], _ k: Int) -> UInt64 { image.withUnsafeBytes { $0.load(fromByteOffset: k * 8, as: UInt64.self) } }
    private func slotOffset(_ i: Int) -> Int { RankTable.imageHeaderWords * 8 + i * 16 }

    /// Sets the checksum of a changed image, as a forger would.
    private func resealed(_ image: [UInt8]) -> [UInt8] {
        var image = image
        image.withUnsafeMutableBytes { b in
            let payload = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(b)[(RankTable.imageHeaderWords * 8)...])
            b.storeBytes(of: Fingerprint64.of(payload), toByteOffset: 10 * 8, as: UInt64.self)
        }
        return image
    }

    private func loads(_ image: [UInt8]) -> Bool {
        image.withUnsafeBytes { RankTable(image: $0, sourceFingerprint: 1, sourceLength: 2) } != nil
    }

    /// A forged image whose slot answers with a rank that has no token (a gap in the ranks) is refused: lookups
    /// would give an id that does not decode. (Accepted before: slots were only checked against the rank limit.)
    func testForgedSlotWithARankWithoutATokenIsRefused() throws {
        let bytes = (0...255).map { [UInt8($0)] }
        var image = try imageOf(bytes + [Array("hello".utf8), Array("zz".utf8)], ranks: [257: 300])
        XCTAssertTrue(loads(image))
        let capacity = Int(word(image, 5))
        let slot = try XCTUnwrap((0..<capacity).first { i in
            image.withUnsafeBytes { $0.load(fromByteOffset: slotOffset(i) + 8, as: UInt32.self) != 0
                                    && $0.load(fromByteOffset: slotOffset(i) + 12, as: UInt32.self) == 256 }
        })
        image.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(280), toByteOffset: slotOffset(slot) + 12, as: UInt32.self) }
        XCTAssertFalse(loads(resealed(image)))
    }

    /// A forged image of a large arena (16 MiB and more, where slot tags do not hold key offsets) whose empty slots
    /// are filled with copies of a used one, and every filter bit set, is refused: a lookup of a missing key would
    /// probe for ever. (Accepted before: used slots were not counted there.)
    func testForgedFullSlotsAreRefused() throws {
        let bytes = (0...255).map { [UInt8($0)] }
        let long = (0..<280).map { k in [UInt8(k & 0xFF), UInt8(k >> 8)] + [UInt8](repeating: 0x7A, count: 60_000) }
        var image = try imageOf(bytes + long)
        XCTAssertGreaterThanOrEqual(word(image, 8), 1 << 24, "not a large arena")
        XCTAssertTrue(loads(image))
        let capacity = Int(word(image, 5))
        let isUsed = { (i: Int) in image.withUnsafeBytes { $0.load(fromByteOffset: self.slotOffset(i) + 8, as: UInt32.self) != 0 } }
        let used = try XCTUnwrap((0..<capacity).first(where: isUsed))
        let copy = Array(image[slotOffset(used)..<slotOffset(used + 1)])
        for i in 0..<capacity where !isUsed(i) { image.replaceSubrange(slotOffset(i)..<slotOffset(i + 1), with: copy) }
        var filter = RankTable.imageHeaderWords * 8
        let sections = RankTable.imageSections(header: { self.word(image, $0) })
        for len in sections.prefix(4) { filter += RankTable.padded(len) }
        for k in filter..<(filter + sections[4]) { image[k] = 0xFF }
        XCTAssertFalse(loads(resealed(image)))
    }

    /// A cached image without one of the 256 single bytes, which every `.tiktoken` file must have, is not used (the
    /// vocabulary is parsed again and the image rewritten): with it, encoding had given id 4294967295 for that byte.
    func testCachedImageWithoutASingleByteIsNotUsed() throws {
        let dir = NSTemporaryDirectory() + "tok-images-\(UInt32.random(in: 0...UInt32.max))"
        XCTAssertEqual(mkdir(dir, 0o755), 0)
        setenv("TOK_CACHE_DIR", dir, 1)
        addTeardownBlock {
            unsetenv("TOK_CACHE_DIR")
            try? FileManager.default.removeItem(atPath: dir)
        }
        func table(_ tokens: [[UInt8]]) throws -> RankTable {
            try RankTable(bytes: tokens.flatMap { $0 }, ends: tokens.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1.count) },
                          ranks: (0..<tokens.count).map { UInt32($0) })
        }
        let path = try XCTUnwrap(VocabularyCache.imagePath(fingerprint: 9, length: 10))
        var tokens = (0...255).map { [UInt8($0)] } + [Array("ab".utf8)]
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(try table(tokens).image(sourceFingerprint: 9, sourceLength: 10))))
        XCTAssertNotNil(VocabularyCache.cachedTable(fingerprint: 9, length: 10))
        tokens[0x61] = Array("abc".utf8)
        let forged = try table(tokens)
        XCTAssertEqual(forged.firstMissingSingleByte(), 0x61)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(forged.image(sourceFingerprint: 9, sourceLength: 10))))
        XCTAssertNil(VocabularyCache.cachedTable(fingerprint: 9, length: 10))
    }

    /// The fingerprint of a file streamed in 256 KB reads is the fingerprint of its bytes, at every length around
    /// the read and lane sizes; files that cannot be read twice are not streamed.
    func testStreamedFingerprintIsTheWholeFingerprint() throws {
        var rng = SeededRandom(seed: 11)
        for length in [0, 1, 31, 32, 33, 63, 1 << 18 - 1, 1 << 18, 1 << 18 + 1, 3 << 18 + 17, 1 << 20] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let path = temporaryFile(bytes)
            let streamed = try XCTUnwrap(try VocabularyCache.streamedFingerprint(path))
            XCTAssertEqual(streamed.0, bytes.withUnsafeBytes { Fingerprint64.of($0) }, "\(length)")
            XCTAssertEqual(streamed.1, length)
            // Pieces of 32 bytes and a ragged last one.
            var h = Fingerprint64.Hasher()
            bytes.withUnsafeBytes { b in
                var i = 0
                while i < b.count {
                    let n = min(32 * Int.random(in: 1...9, using: &rng), b.count - i)
                    h.combine(UnsafeRawBufferPointer(rebasing: b[i..<(i + n)]))
                    i += n
                }
            }
            XCTAssertEqual(h.finish(), streamed.0, "\(length)")
        }
        XCTAssertThrowsError(try VocabularyCache.streamedFingerprint("/nonexistent/x.tiktoken"))
        XCTAssertNil(try VocabularyCache.streamedFingerprint("/dev/null"))
    }

    /// A file's fingerprint is kept in a note named by its `stat` identity: a note is used only for that very file
    /// (same device, inode, size and times) and only if whole; any write to the file misses it; a file changed in the
    /// last two seconds gets no note.
    func testFingerprintNotes() throws {
        let dir = NSTemporaryDirectory() + "tok-notes-\(UInt32.random(in: 0...UInt32.max))"
        setenv("TOK_CACHE_DIR", dir, 1)
        addTeardownBlock {
            unsetenv("TOK_CACHE_DIR")
            try? FileManager.default.removeItem(atPath: dir)
        }
        func notes() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".toknote") }.sorted()
        }
        var rng = SeededRandom(seed: 3)
        let bytes = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let path = temporaryFile(bytes)
        let truth = (bytes.withUnsafeBytes { Fingerprint64.of($0) }, bytes.count)
        let later = Int64(time(nil)) + 60

        // Changed just now: the right answer and no note.
        XCTAssertTrue(try XCTUnwrap(VocabularyCache.fileFingerprint(path)) == truth)
        XCTAssertEqual(notes(), [])
        // A minute on: a note, then answers from it.
        XCTAssertTrue(try XCTUnwrap(VocabularyCache.fileFingerprint(path, now: later)) == truth)
        XCTAssertEqual(notes().count, 1)
        let notePath = dir + "/" + notes()[0]
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        let identity = FileIdentity(st)
        XCTAssertTrue(try XCTUnwrap(VocabularyCache.readNote(notePath, identity: identity)) == truth)
        // A note with another fingerprint (and its own checksum) is believed: proof that the note is what answers.
        let forged = VocabularyCache.noteBytes(identity, fingerprint: 77, length: bytes.count)
        XCTAssertTrue(FileManager.default.createFile(atPath: notePath, contents: Data(forged)))
        XCTAssertTrue(try XCTUnwrap(VocabularyCache.fileFingerprint(path, now: later)) == (77, bytes.count))
        // Any damaged byte, a short or a long note: ignored (and written again).
        for i in stride(from: 0, to: forged.count, by: 5) {
            var bad = forged
            bad[i] ^= 0x10
            XCTAssertTrue(FileManager.default.createFile(atPath: notePath, contents: Data(bad)))
            XCTAssertNil(VocabularyCache.readNote(notePath, identity: identity), "byte \(i)")
        }
        for bad in [Array(forged.dropLast()), forged + [0], []] {
            XCTAssertTrue(FileManager.default.createFile(atPath: notePath, contents: Data(bad)))
            XCTAssertTrue(try XCTUnwrap(VocabularyCache.fileFingerprint(path, now: later)) == truth)
            XCTAssertTrue(try XCTUnwrap(VocabularyCache.readNote(notePath, identity: identity)) == truth)
        }
        // The same bytes written again (same size): a new change time, so the old note does not apply.
        XCTAssertTrue(FileManager.default.createFile(atPath: notePath, contents: Data(forged)))
        usleep(20_000)
        let fd = open(path, O_WRONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress!, 1) }
        close(fd)
        XCTAssertTrue(try XCTUnwrap(VocabularyCache.fileFingerprint(path, now: later)) == truth)
        // Another file with the same bytes has its own note.
        let other = temporaryFile(bytes)
        XCTAssertTrue(try XCTUnwrap(VocabularyCache.fileFingerprint(other, now: later)) == truth)
        XCTAssertEqual(notes().count, 3)
        XCTAssertThrowsError(try VocabularyCache.fileFingerprint("/nonexistent/x.tiktoken"))
        XCTAssertNil(try VocabularyCache.fileFingerprint("/dev/null"))
    }
}
