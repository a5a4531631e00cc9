import XCTest
import TokIO
#if canImport(Glibc)
import Glibc
#endif

/// Text with enough variety that zstd output spans many blocks.
private func sampleText(lines: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var out: [UInt8] = []
    let words = ["tokenizer", "byte", "pair", "encoding", "日本語", "naïve", "zstd", "frame", "λόγος", "42", "\t", "🙂"]
    for i in 0..<lines {
        out.append(contentsOf: Array("\(i): ".utf8))
        for _ in 0..<(Int(state % 12) + 1) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            out.append(contentsOf: Array(words[Int(state >> 60) % words.count].utf8))
            out.append(0x20)
        }
        out.append(0x0A)
    }
    return out
}

/// Reads the whole source with reads of `readSize` bytes.
private func readAll(_ src: InputSource, readSize: Int = 1 << 20) throws -> [UInt8] {
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: readSize)
    while true {
        let n = try buf.withUnsafeMutableBytes { try src.read(into: $0) }
        if n == 0 { return out }
        out.append(contentsOf: buf[..<n])
    }
}

/// A skippable zstd frame (magic 0x184D2A5?, little-endian size, payload), which decoders must ignore.
private func skippableFrame(_ payload: [UInt8], magicLowNibble: UInt8 = 0) -> [UInt8] {
    var b: [UInt8] = [0x50 | magicLowNibble, 0x2A, 0x4D, 0x18]
    let n = UInt32(payload.count)
    b += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)]
    return b + payload
}

private func expectError(_ kind: TokIOError.Kind, _ body: () throws -> Void, file: StaticString = #filePath,
                         line: UInt = #line) -> TokIOError? {
    do {
        try body()
        XCTFail("expected \(kind)", file: file, line: line)
    } catch let e as TokIOError {
        XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
        XCTAssertFalse(e.description.contains("\n"), file: file, line: line)
        return e
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
    }
    return nil
}

final class InputSourceTests: XCTestCase {
    override func setUpWithError() throws {
        guard shell("command -v zstd >/dev/null 2>&1") == 0 else { throw XCTSkip("the zstd CLI is not installed") }
    }

    func testPlainFile() throws {
        let dir = ScratchDir()
        let text = sampleText(lines: 1000, seed: 1)
        writeFile(dir.file("plain.txt"), text)
        let src = try InputSource(path: dir.file("plain.txt"))
        XCTAssertFalse(src.isCompressed)
        XCTAssertEqual(src.name, dir.file("plain.txt"))
        XCTAssertEqual(try readAll(src, readSize: 777), text)
        XCTAssertEqual(try readAll(src), [])  // stays at EOF
    }

    func testTinyAndEmptyFiles() throws {
        let dir = ScratchDir()
        for content: [UInt8] in [[], [0x28], [0x28, 0xB5, 0x2F], [0x41, 0x42, 0x43, 0x44, 0x45]] {
            writeFile(dir.file("f"), content)
            let src = try InputSource(path: dir.file("f"))
            XCTAssertFalse(src.isCompressed)
            XCTAssertEqual(try readAll(src), content)
        }
    }

    func testMissingFileAndDirectory() {
        let dir = ScratchDir()
        let missing = expectError(.notFound) { _ = try InputSource(path: dir.file("nope.txt")) }
        XCTAssertTrue(missing?.description.contains("nope.txt") ?? false)
        let directory = expectError(.isDirectory) { _ = try InputSource(path: dir.path) }
        XCTAssertTrue(directory?.description.contains(dir.path) ?? false)
    }

    func testUnreadableFile() throws {
        if geteuid() == 0 { throw XCTSkip("root can read any file") }
        let dir = ScratchDir()
        writeFile(dir.file("secret"), [1, 2, 3])
        chmod(dir.file("secret"), 0)
        _ = expectError(.permissionDenied) { _ = try InputSource(path: dir.file("secret")) }
    }

    func testMultiFrameZstdWithSkippableFrames() throws {
        let dir = ScratchDir()
        let a = sampleText(lines: 3000, seed: 2), b = sampleText(lines: 50, seed: 3), c = Array("last".utf8)
        writeFile(dir.file("a"), a); writeFile(dir.file("b"), b); writeFile(dir.file("c"), c)
        XCTAssertEqual(shell("cd '\(dir.path)' && zstd -q -3 -c a > a.zst && zstd -q -19 -c b > b.zst && zstd -q -c c > c.zst"), 0)
        // A skippable frame first (detection must accept it), one between frames, and one at the very end.
        let stream = skippableFrame(Array("metadata".utf8), magicLowNibble: 0xF) + readFile(dir.file("a.zst"))
            + skippableFrame([]) + readFile(dir.file("b.zst")) + readFile(dir.file("c.zst"))
            + skippableFrame([1, 2, 3], magicLowNibble: 7)
        // No .zst suffix: detection is by content only.
        writeFile(dir.file("data.bin"), stream)
        let src = try InputSource(path: dir.file("data.bin"))
        XCTAssertTrue(src.isCompressed)
        XCTAssertEqual(try readAll(src, readSize: 4096), a + b + c)
        XCTAssertEqual(src.rawBytesRead, stream.count)
    }

    func testEmptyZstdFrame() throws {
        let dir = ScratchDir()
        writeFile(dir.file("empty"), [])
        XCTAssertEqual(shell("cd '\(dir.path)' && zstd -q -c empty > empty.zst"), 0)
        let src = try InputSource(path: dir.file("empty.zst"))
        XCTAssertTrue(src.isCompressed)
        XCTAssertEqual(try readAll(src), [])
    }

    func testCorruptZstd() throws {
        let dir = ScratchDir()
        writeFile(dir.file("a"), sampleText(lines: 2000, seed: 4))
        XCTAssertEqual(shell("cd '\(dir.path)' && zstd -q -c a > a.zst"), 0)
        var z = readFile(dir.file("a.zst"))
        for k in stride(from: z.count / 3, to: z.count / 3 + 8, by: 1) { z[k] ^= 0x5A }
        writeFile(dir.file("bad.zst"), z)
        let error = expectError(.corruptZstd) { _ = try readAll(try InputSource(path: dir.file("bad.zst"))) }
        XCTAssertNotNil(error?.zstdErrorName)
        XCTAssertNotNil(error?.compressedOffset)
        XCTAssertTrue(error?.description.contains("bad.zst") ?? false)
        XCTAssertTrue(error?.description.contains("compressed byte") ?? false)
        XCTAssertEqual(error?.frameOffset, 0)

        // Damage in a second frame: the error names where that frame starts.
        let good = readFile(dir.file("a.zst"))
        writeFile(dir.file("second.zst"), good + z)
        let second = expectError(.corruptZstd) { _ = try readAll(try InputSource(path: dir.file("second.zst")), readSize: 4099) }
        XCTAssertEqual(second?.frameOffset, good.count)
        XCTAssertGreaterThanOrEqual(second?.compressedOffset ?? 0, good.count)

        // Garbage after a valid frame is corrupt too.
        writeFile(dir.file("trailing.zst"), readFile(dir.file("a.zst")) + Array("not zstd".utf8))
        _ = expectError(.corruptZstd) { _ = try readAll(try InputSource(path: dir.file("trailing.zst"))) }
    }

    func testTruncatedZstd() throws {
        let dir = ScratchDir()
        let text = sampleText(lines: 2000, seed: 5)
        writeFile(dir.file("a"), text)
        XCTAssertEqual(shell("cd '\(dir.path)' && zstd -q -c a > a.zst"), 0)
        let z = readFile(dir.file("a.zst"))
        for cut in [4, 7, z.count / 2, z.count - 1] {
            writeFile(dir.file("cut.zst"), Array(z[..<cut]))
            let error = expectError(.truncatedZstd) { _ = try readAll(try InputSource(path: dir.file("cut.zst"))) }
            XCTAssertEqual(error?.compressedOffset, cut)
        }
        // Two whole frames then half of a third.
        writeFile(dir.file("two.zst"), z + z + Array(z[..<(z.count / 2)]))
        _ = expectError(.truncatedZstd) { _ = try readAll(try InputSource(path: dir.file("two.zst"))) }
    }

    func testLargeZstdInputAcrossManyReads() throws {
        let dir = ScratchDir()
        let text = sampleText(lines: 200_000, seed: 6)  // about 9 MB
        writeFile(dir.file("big"), text)
        XCTAssertEqual(shell("cd '\(dir.path)' && zstd -q -1 -c big > big.zst"), 0)
        // Uneven reads on purpose: output buffer boundaries must not line up with zstd blocks.
        XCTAssertEqual(try readAll(try InputSource(path: dir.file("big.zst")), readSize: 100_003), text)
        XCTAssertEqual(try readAll(try InputSource(path: dir.file("big"))), text)
    }

    func testZstdFromAPipe() throws {
        let dir = ScratchDir()
        let text = sampleText(lines: 30_000, seed: 7)
        writeFile(dir.file("a"), text)
        // A pipe delivers the compressed bytes in small pieces, including the 4-byte magic.
        guard let pipe = popen("zstd -q -c '\(dir.file("a"))'", "r") else { return XCTFail("popen") }
        defer { pclose(pipe) }
        let src = try InputSource(fileDescriptor: fileno(pipe), name: "<pipe>", closeOnDeinit: false)
        XCTAssertTrue(src.isCompressed)
        XCTAssertEqual(try readAll(src, readSize: 65536), text)
    }

    func testChunkReaderKeepsTails() throws {
        let dir = ScratchDir()
        let text = sampleText(lines: 20_000, seed: 8)
        writeFile(dir.file("t"), text)
        XCTAssertEqual(shell("cd '\(dir.path)' && zstd -q -c t > t.zst"), 0)
        for path in [dir.file("t"), dir.file("t.zst")] {
            let reader = ChunkReader(source: try InputSource(path: path), chunkSize: 4096)
            var rebuilt: [UInt8] = []
            var finals = 0
            var round = 0
            while let chunk = try reader.next() {
                XCTAssertEqual(chunk.offset, rebuilt.count)
                if chunk.isFinal { finals += 1 }
                // Keep everything after the last newline, and now and then more than a whole chunk.
                var keep = chunk.bytes.count - (chunk.bytes.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)
                round += 1
                if round % 7 == 0 { keep = min(chunk.bytes.count, 4096 + 100) }
                let done = chunk.isFinal ? chunk.bytes.count : chunk.bytes.count - keep
                rebuilt.append(contentsOf: chunk.bytes[..<done])
                reader.consume(upTo: done)
            }
            XCTAssertEqual(finals, 1)
            XCTAssertEqual(rebuilt, text)
            XCTAssertNil(try reader.next())
        }
    }

    func testChunkReaderOnEmptyInput() throws {
        let dir = ScratchDir()
        writeFile(dir.file("e"), [])
        let reader = ChunkReader(source: try InputSource(path: dir.file("e")))
        let only = try reader.next()
        XCTAssertEqual(only?.isFinal, true)
        XCTAssertEqual(only?.bytes.count, 0)
        XCTAssertNil(try reader.next())
    }
}
