import XCTest
@testable import TokIO
#if canImport(Glibc)
import Glibc
#endif

private func makeScratchDir() -> String { String(cString: mkdtemp(strdup("/tmp/tok-atomic-XXXXXX"))!) }

private func removeTree(_ path: String) {
    if let f = popen("rm -rf '\(path)'", "r") { pclose(f) }
}

private func contents(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while case let n = fread(&buf, 1, buf.count, f), n > 0 { out.append(contentsOf: buf[..<n]) }
    return out
}

private func entries(_ dir: String) -> [String] {
    guard let d = opendir(dir) else { return [] }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

final class AtomicFileWriterTests: XCTestCase {
    func testCommitWritesContentAndLeavesNoTemporaryFile() throws {
        let dir = makeScratchDir()
        defer { removeTree(dir) }
        let path = dir + "/out.txt"
        let w = try AtomicFileWriter(path: path)
        XCTAssertTrue(w.temporaryPath.hasPrefix(dir + "/."))
        var expected: [UInt8] = []
        for i in 0..<50_000 {
            let line = "line \(i)\n"
            try w.write(string: line)
            expected += Array(line.utf8)
        }
        let blob = [UInt8](repeating: 0x61, count: 3 << 20)  // larger than the buffer
        try w.write(bytes: blob)
        expected += blob
        XCTAssertNil(contents(path), "nothing visible before commit")
        try w.commit()
        XCTAssertEqual(contents(path), expected)
        XCTAssertEqual(entries(dir), ["out.txt"])
    }

    func testReplacesExistingFileKeepingItsMode() throws {
        let dir = makeScratchDir()
        defer { removeTree(dir) }
        let path = dir + "/out.txt"
        let f = fopen(path, "wb")!
        fputs("old", f)
        fclose(f)
        chmod(path, 0o640)
        let w = try AtomicFileWriter(path: path)
        try w.write(string: "new")
        XCTAssertEqual(contents(path), Array("old".utf8))
        try w.commit()
        XCTAssertEqual(contents(path), Array("new".utf8))
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o640)
    }

    func testDiscardAndDeinitLeaveNothing() throws {
        let dir = makeScratchDir()
        defer { removeTree(dir) }
        do {
            let w = try AtomicFileWriter(path: dir + "/a")
            try w.write(string: "partial")
            w.discard()
            w.discard()  // idempotent
        }
        do {
            let w = try AtomicFileWriter(path: dir + "/b")
            try w.write(bytes: [UInt8](repeating: 1, count: 5 << 20))
            // Dropped without commit(), like a run that failed with an error.
        }
        XCTAssertEqual(entries(dir), [])
    }

    func testMissingDirectoryFails() {
        XCTAssertThrowsError(try AtomicFileWriter(path: "/nonexistent-tok-dir/x")) { error in
            XCTAssertEqual((error as? TokIOError)?.kind, .notFound)
            XCTAssertTrue("\(error)".contains("/nonexistent-tok-dir/x"))
        }
    }

    /// A write that fails half way (file size limit) must leave neither the destination nor a temporary file.
    func testFailedWriteLeavesNoPartialFile() throws {
        let dir = makeScratchDir()
        defer { removeTree(dir) }
        let path = dir + "/out.bin"
        var old = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)  // get EFBIG instead of being killed
        var limit = old
        limit.rlim_cur = 1 << 20
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit), 0)
        defer {
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
            signal(SIGXFSZ, previousHandler)
        }
        let w = try AtomicFileWriter(path: path)
        XCTAssertThrowsError(try {
            for _ in 0..<8 { try w.write(bytes: [UInt8](repeating: 7, count: 512 << 10)) }
            try w.commit()
        }()) { error in
            XCTAssertEqual((error as? TokIOError)?.kind, .writeFailed, "\(error)")
            XCTAssertTrue("\(error)".contains("out.bin"))
        }
        XCTAssertEqual(entries(dir), [])
    }

    func testDescriptorNamesAreWrittenThroughTheDescriptor() throws {
        let dir = makeScratchDir()
        defer { removeTree(dir) }
        XCTAssertEqual(AtomicFileWriter.descriptorNumber(named: "/dev/stdout"), 1)
        XCTAssertEqual(AtomicFileWriter.descriptorNumber(named: "/dev/fd/7"), 7)
        XCTAssertEqual(AtomicFileWriter.descriptorNumber(named: "/proc/self/fd/12"), 12)
        XCTAssertEqual(AtomicFileWriter.descriptorNumber(named: "/proc/\(getpid())/fd/3"), 3)
        XCTAssertNil(AtomicFileWriter.descriptorNumber(named: "/proc/1/fd/3"))
        XCTAssertNil(AtomicFileWriter.descriptorNumber(named: "/dev/fd/x"))
        XCTAssertNil(AtomicFileWriter.descriptorNumber(named: dir + "/fd/3"))
        // A file opened for appending, written through /proc/self/fd/N and a link to it: appended, not replaced.
        let path = dir + "/log.txt"
        let f = fopen(path, "wb")!
        fputs("old\n", f)
        fclose(f)
        let fd = open(path, O_WRONLY | O_APPEND)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertEqual(symlink("/proc/self/fd/\(fd)", dir + "/link"), 0)
        for name in ["/proc/self/fd/\(fd)", dir + "/link"] {
            let w = try AtomicFileWriter(path: name)
            XCTAssertTrue(w.direct)
            try w.write(string: "new\n")
            try w.commit()
        }
        XCTAssertEqual(contents(path), Array("old\nnew\nnew\n".utf8))
        XCTAssertEqual(entries(dir), ["link", "log.txt"])
    }

    func testDanglingLinkGetsItsTargetAtomically() throws {
        let dir = makeScratchDir()
        defer { removeTree(dir) }
        XCTAssertEqual(symlink("sub/target.txt", dir + "/link"), 0)
        XCTAssertEqual(mkdir(dir + "/sub", 0o755), 0)
        XCTAssertEqual(symlink("../link", dir + "/sub/outer"), 0)   // a chain: sub/outer -> link -> sub/target.txt
        let w = try AtomicFileWriter(path: dir + "/sub/outer")
        XCTAssertFalse(w.direct)
        XCTAssertEqual(w.path, dir + "/sub/../sub/target.txt")
        try w.write(string: "partial")
        w.discard()
        XCTAssertEqual(entries(dir + "/sub"), ["outer"], "a failed run leaves no target file")
        let w2 = try AtomicFileWriter(path: dir + "/sub/outer")
        try w2.write(string: "whole")
        try w2.commit()
        XCTAssertEqual(contents(dir + "/sub/target.txt"), Array("whole".utf8))
        var st = stat()
        XCTAssertEqual(lstat(dir + "/link", &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFLNK)
        // A cycle of links is an error, not a hang.
        XCTAssertEqual(symlink("b", dir + "/a"), 0)
        XCTAssertEqual(symlink("a", dir + "/b"), 0)
        XCTAssertThrowsError(try AtomicFileWriter(path: dir + "/a"))
    }
}

final class AtomicFileWriterSignalTests: XCTestCase {
    /// A child process killed by SIGINT in the middle of writing leaves no temporary file behind.
    func testSignalRemovesTemporaryFile() throws {
        let dir = makeScratchDir()
        defer { removeTree(dir) }
        AtomicFileWriter.removeTemporaryFilesOnSignal()
        let w = try AtomicFileWriter(path: dir + "/out.txt")
        try w.write(string: "partial")
        XCTAssertEqual(entries(dir).count, 1)
        // The child only raises the signal: the handler it inherited does the cleanup (async-signal-safe calls).
        let pid = fork()
        if pid == 0 {
            raise(SIGINT)
            _exit(3)  // not reached: the handler re-raises with the default action
        }
        var status: Int32 = 0
        XCTAssertEqual(waitpid(pid, &status, 0), pid)
        XCTAssertEqual(status & 0x7F, SIGINT, "child should die from SIGINT")
        XCTAssertEqual(entries(dir), [])
        XCTAssertThrowsError(try w.commit())  // the temporary file is gone, so the rename fails
        XCTAssertEqual(entries(dir), [])
    }
}
