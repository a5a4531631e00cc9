import CZstd
import TokCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Something that produces bytes in order, like `read(2)`.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes into `buffer`; returns how many were read, 0 only at end of input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// An input file or standard input, transparently decompressed when it is zstd.
///
/// zstd is recognised by its magic bytes (a zstd frame, `28 B5 2F FD`, or a skippable frame, `5? 2A 4D 18`), never
/// by the file name. Compressed input is decompressed as a stream, frame after frame, with a bounded amount of
/// memory: it is never decompressed whole into memory or onto disk. Skippable frames are skipped.
///
/// Not thread-safe: one reader at a time.
public final class InputSource: ByteSource {
    /// The path as given, or `<stdin>` for `-`.
    public let name: String
    /// Whether the input is zstd-compressed (known once the source is opened).
    public private(set) var isCompressed = false
    /// How many bytes have been read from the file itself (compressed bytes for zstd input).
    public private(set) var rawBytesRead = 0

    private var fd: Int32
    private let ownsDescriptor: Bool
    private var isClosed = false
    /// Raw bytes read from `fd` but not yet handed on: the probe for magic bytes, then zstd's input.
    private let staging: UnsafeMutableRawBufferPointer
    private let stagingAllocation: UnsafeMutableRawBufferPointer
    private var stagingStart = 0
    private var stagingEnd = 0
    private var rawEOF = false
    private var dctx: OpaquePointer?
    /// The last `ZSTD_decompressStream` result: 0 exactly when the decoder stands between frames.
    private var zstdPending = 0
    /// Absolute file offset of `staging[0]`, for error messages.
    private var stagingFileOffset = 0
    /// Absolute file offset where the frame being decoded starts: damage that zstd finds lies between it and the
    /// point of detection (a checksum failure is only found at the frame's end).
    private var frameFileOffset = 0

    /// The name of standard input (`-`) in messages.
    public static let standardInputName = "<stdin>"

    /// Size of each `read(2)` on the underlying file.
    public static let readSize = 1 << 20

    /// Opens `path`, or standard input when `path` is `-`.
    ///
    /// Throws `TokIOError` (`.notFound`, `.permissionDenied`, `.isDirectory`, `.readFailed`) naming the path.
    /// An empty file is not an error: it simply reads as empty.
    public convenience init(path: String) throws {
        if path == "-" {
            try self.init(fileDescriptor: STDIN_FILENO, name: Self.standardInputName, closeOnDeinit: false)
            return
        }
        let fd = openRetryingInterrupts(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw TokIOError.fromErrno(errno, name: path, reading: true) }
        // From here on the descriptor belongs to the source, which closes it also when init throws.
        try self.init(fileDescriptor: fd, name: path, closeOnDeinit: true)
    }

    /// Reads from an already open descriptor (for example one end of a pipe).
    ///
    /// - Parameter closeOnDeinit: whether this source owns `fd` and closes it when done.
    public init(fileDescriptor fd: Int32, name: String, closeOnDeinit: Bool) throws {
        self.fd = fd
        self.name = name
        self.ownsDescriptor = closeOnDeinit
        stagingAllocation = ScratchBuffers.take(capacity: Self.readSize)
        // A kept buffer may be larger: reads stay the size they always were.
        staging = UnsafeMutableRawBufferPointer(rebasing: stagingAllocation[..<Self.readSize])
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = errno
            releaseResources()
            throw TokIOError.fromErrno(e, name: name, reading: true)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            releaseResources()
            throw TokIOError(kind: .isDirectory, name: name, errno: EISDIR)
        }
        do {
            try probe()
        } catch {
            releaseResources()
            throw error
        }
    }

    deinit { releaseResources() }

    /// Closes the file early; later reads return 0.
    public func close() { releaseResources() }

    /// Idempotent: runs from `close()`, from a failing init and again from deinit.
    private func releaseResources() {
        if isClosed { return }
        isClosed = true
        if ownsDescriptor && fd >= 0 { _ = posixClose(fd) }
        fd = -1
        if let d = dctx { ZSTD_freeDCtx(d); dctx = nil }
        ScratchBuffers.give(stagingAllocation)
        stagingStart = 0
        stagingEnd = 0
    }

    /// One `read(2)` into `buffer`, retrying on EINTR; 0 at end of file.
    private func rawRead(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard fd >= 0, buffer.count > 0 else { return 0 }
        while true {
            let n = posixRead(fd, buffer.baseAddress, buffer.count)
            if n >= 0 {
                rawBytesRead += n
                return n
            }
            if errno == EINTR { continue }
            throw TokIOError.fromErrno(errno, name: name, reading: true)
        }
    }

    /// Reads the first bytes (up to 4, fewer when they already rule out zstd's magic or the input is shorter)
    /// and decides between plain and zstd. Stopping early matters on a pipe: a first line of 3 bytes ("64\n")
    /// would otherwise wait for whatever comes next.
    private func probe() throws {
        func mayBeMagic() -> Bool {
            let b = staging
            let frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD], skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18]
            var f = true, k = true
            for i in 0..<min(stagingEnd, 4) {
                f = f && b[i] == frame[i]
                k = k && (i == 0 ? b[i] & 0xF0 == 0x50 : b[i] == skippable[i])
            }
            return f || k
        }
        while stagingEnd < 4 && mayBeMagic() {
            let n = try rawRead(UnsafeMutableRawBufferPointer(rebasing: staging[stagingEnd...]))
            if n == 0 { rawEOF = true; break }
            stagingEnd += n
        }
        guard stagingEnd >= 4 else { return }
        let b = staging
        let isFrame = b[0] == 0x28 && b[1] == 0xB5 && b[2] == 0x2F && b[3] == 0xFD
        let isSkippable = b[0] & 0xF0 == 0x50 && b[1] == 0x2A && b[2] == 0x4D && b[3] == 0x18
        guard isFrame || isSkippable else { return }
        guard let d = ZSTD_createDCtx() else {
            throw TokIOError(kind: .readFailed, name: name, zstdErrorName: "cannot allocate a zstd decoder")
        }
        // zstd's default limit is a 128 MB window (`ZSTD_WINDOWLOG_LIMIT_DEFAULT`), which refuses valid frames
        // written with `zstd --long=28` and up, as large corpora often are; allow the largest window zstd writes
        // (2 GB), which memory holds only when a frame asks for it.
        _ = ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 31)
        dctx = d
        isCompressed = true
    }

    /// The whole (decompressed) contents of `path` (`-` for standard input), for files that fit in memory. More
    /// than `limit` bytes (an endless stream such as `/dev/zero`, or a file that is not what was meant) is an error
    /// of kind `.readFailed` with `errno` `EFBIG`, rather than memory growing until the process dies.
    public static func contents(of path: String, limit: Int = FileBytes.wholeFileLimit) throws -> [UInt8] {
        let src = try InputSource(path: path)
        defer { src.close() }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try src.read(into: $0) }
            if n == 0 { return out }
            if n > limit - out.count { throw TokIOError(kind: .readFailed, name: path, errno: EFBIG) }
            out += chunk[0..<n]
        }
    }

    /// Reads up to `buffer.count` bytes of (decompressed) input into `buffer`; returns 0 only at end of input.
    ///
    /// Plain input is read with one `read(2)` per call straight into `buffer` (pass ≥ 1 MiB for throughput).
    /// Compressed input fills `buffer` unless that would mean waiting for more compressed input.
    ///
    /// Throws `TokIOError` with kind `.readFailed`, `.corruptZstd` or `.truncatedZstd`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0, !isClosed else { return 0 }
        if dctx != nil { return try readCompressed(into: buffer) }
        // Serve the probed bytes first, then read directly into the caller's buffer.
        if stagingStart < stagingEnd {
            let n = min(buffer.count, stagingEnd - stagingStart)
            buffer.baseAddress!.copyMemory(from: staging.baseAddress! + stagingStart, byteCount: n)
            stagingStart += n
            return n
        }
        if rawEOF { return 0 }
        let n = try rawRead(buffer)
        if n == 0 { rawEOF = true }
        return n
    }

    /// Whether the producer has paused: no bytes are staged and none come on the descriptor (a pipe, a terminal)
    /// within `milliseconds`. Never true for a regular file or at the end of input. Encoding checks it to write
    /// what it has before it waits, so that `tail -f log | tok encode --lines` keeps up with the log. (A pipe
    /// that a fast producer has not refilled yet is not a pause: treating it as one made two threads wait for
    /// each other's segments at every such moment, 30% slower on `cat FILE | tok encode --threads 2`.)
    public func inputPaused(milliseconds: Int32 = 10) -> Bool {
        guard !isClosed, !rawEOF, stagingStart == stagingEnd, fd >= 0 else { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let r = poll(&p, 1, milliseconds)
            if r >= 0 { return r == 0 }
            if errno != EINTR { return false }
        }
    }

    /// One `ZSTD_decompressStream` call on `staging[stagingStart..<stagingEnd]` (when that is empty, it flushes what
    /// the decoder holds), which keeps `stagingStart`, `zstdPending` and where the current frame starts up to date.
    private func decompress(_ d: OpaquePointer, _ output: inout ZSTD_outBuffer) throws {
        var input = ZSTD_inBuffer(src: staging.baseAddress!, size: stagingEnd, pos: stagingStart)
        let ret = ZSTD_decompressStream(d, &output, &input)
        stagingStart = input.pos
        if ZSTD_isError(ret) != 0 {
            throw TokIOError(kind: .corruptZstd, name: name, compressedOffset: stagingFileOffset + stagingStart,
                             frameOffset: frameFileOffset, zstdErrorName: String(cString: ZSTD_getErrorName(ret)))
        }
        zstdPending = ret
        if ret == 0 { frameFileOffset = stagingFileOffset + stagingStart }
    }

    private func readCompressed(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let d = dctx else { return 0 }
        var output = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        while output.pos < output.size {
            if stagingStart == stagingEnd {
                if !rawEOF {
                    // Hand back what we have rather than block on a pipe while holding decompressed data.
                    if output.pos > 0 { break }
                    // The decoder may hold the rest of a block it decoded when the last caller's buffer was full:
                    // flush it (the staged input is used up) before waiting on the pipe.
                    if zstdPending != 0 {
                        try decompress(d, &output)
                        if output.pos > 0 { break }
                    }
                    stagingFileOffset += stagingEnd
                    stagingStart = 0
                    stagingEnd = 0
                    let n = try rawRead(staging)
                    if n == 0 { rawEOF = true } else { stagingEnd = n }
                }
                // Between frames with nothing left to read: a clean end. (Calling the decoder again here would
                // report the size of the next frame header it is waiting for.)
                if rawEOF && stagingStart == stagingEnd && zstdPending == 0 { break }
            }
            let outputBefore = output.pos
            let inputBefore = stagingStart
            try decompress(d, &output)
            if rawEOF && stagingStart == stagingEnd && inputBefore == stagingStart && outputBefore == output.pos {
                // Input exhausted, nothing left to flush, yet the decoder still expects more of the frame.
                if zstdPending != 0 {
                    throw TokIOError(kind: .truncatedZstd, name: name, compressedOffset: stagingFileOffset + stagingEnd)
                }
                break
            }
        }
        return output.pos
    }
}

// The class has members named `close` and `read`, which hide the C functions inside it.
private func posixClose(_ fd: Int32) -> Int32 { close(fd) }
private func posixRead(_ fd: Int32, _ buf: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buf, count) }
