import XCTest
import TokIO
#if canImport(Glibc)
import Glibc
#endif

private func readAll(fd: Int32) -> [UInt8] {
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return out }
        out.append(contentsOf: buf[..<n])
    }
}

final class OutputWriterTests: XCTestCase {
    func testBufferedWritesArriveInOrder() throws {
        let path = String(cString: mkdtemp(strdup("/tmp/tok-out-XXXXXX"))!) + "/out"
        defer { unlink(path); rmdir(String(path.dropLast(4))) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var expected: [UInt8] = []
        do {
            let w = OutputWriter(fileDescriptor: fd, name: path, bufferSize: 1000, closeOnDeinit: true)
            for i in 0..<5000 {
                switch i % 4 {
                case 0: try w.write(string: "n\(i) é ")
                case 1: try w.write(byte: UInt8(i & 0x7F)); expected.append(UInt8(i & 0x7F)); continue
                case 2:
                    let blob = [UInt8](repeating: UInt8(i & 0xFF), count: i % 3000)  // sometimes > buffer
                    try w.write(bytes: blob); expected += blob; continue
                default: try w.write(string: "\n")
                }
                expected += Array((i % 4 == 0 ? "n\(i) é " : "\n").utf8)
            }
            try w.close()
        }
        let rfd = open(path, O_RDONLY)
        defer { close(rfd) }
        XCTAssertEqual(readAll(fd: rfd), expected)
    }

    func testBrokenPipeIsADistinctError() throws {
        ignoreSIGPIPE()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        close(fds[0])  // the reader is gone, like `head -1` after its first line
        let w = OutputWriter(fileDescriptor: fds[1], name: "<stdout>", closeOnDeinit: true)
        try w.write(string: "buffered, not yet written\n")
        do {
            try w.flush()
            XCTFail("expected EPIPE")
        } catch TokIOError.brokenPipe {
            // The CLI exits quietly here.
        }
        // Sticky: later writes fail the same way without touching the descriptor again.
        XCTAssertThrowsError(try w.write(bytes: [UInt8](repeating: 0, count: 2 << 20))) { error in
            XCTAssertTrue((error as? TokIOError)?.isBrokenPipe ?? false)
        }
    }

    func testLargeWriteThroughAPipeWithPartialWrites() throws {
        ignoreSIGPIPE()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        // A pipe holds 64 KiB: a 4 MiB write only completes through many partial writes while a reader drains it.
        let payload = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let readFD = fds[0]
        var thread = pthread_t()
        let box = Unmanaged.passRetained(ReadBox(fd: readFD))
        XCTAssertEqual(pthread_create(&thread, nil, { arg in
            let box = Unmanaged<ReadBox>.fromOpaque(arg!).takeUnretainedValue()
            box.data = readAll(fd: box.fd)
            return nil
        }, box.toOpaque()), 0)
        let w = OutputWriter(fileDescriptor: fds[1], name: "<pipe>")
        try w.write(bytes: payload)
        try w.flush()
        close(fds[1])
        pthread_join(thread, nil)
        let received = box.takeRetainedValue().data
        close(readFD)
        XCTAssertEqual(received.count, payload.count)
        XCTAssertTrue(received == payload)
    }
}

private final class ReadBox: @unchecked Sendable {
    let fd: Int32
    var data: [UInt8] = []
    init(fd: Int32) { self.fd = fd }
}
