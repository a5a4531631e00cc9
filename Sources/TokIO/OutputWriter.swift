#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered writer for standard output or any file descriptor.
///
/// Bytes collect in a large buffer (1 MiB by default) and go out in big `write(2)` calls, retried on EINTR and
/// continued after partial writes. When the reader of a pipe has gone, and `ignoreSIGPIPE()` was called so that the
/// process is not killed, writes fail with `TokIOError.brokenPipe`, which a command-line tool should treat as a
/// quiet exit. Errors are sticky: after the first failure every later write or flush throws it again and buffered
/// bytes are dropped.
///
/// Not thread-safe. Call `flush()` before the process exits; `deinit` flushes too, but cannot report errors.
public final class OutputWriter {
    /// The name used in error messages, such as `<stdout>` or a path.
    public let name: String
    /// The descriptor written to.
    public let fileDescriptor: Int32
    private let closeOnDeinit: Bool
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    private var failure: TokIOError?
    private var isClosed = false

    /// A writer for standard output.
    public static func standardOutput(bufferSize: Int = 1 << 20) -> OutputWriter {
        OutputWriter(fileDescriptor: STDOUT_FILENO, name: "<stdout>", bufferSize: bufferSize)
    }

    /// - Parameters:
    ///   - fileDescriptor: an open descriptor to write to.
    ///   - name: how errors name the destination.
    ///   - bufferSize: bytes collected before a `write(2)`.
    ///   - closeOnDeinit: whether the writer owns `fileDescriptor` and closes it in `close()` or `deinit`.
    public init(fileDescriptor: Int32, name: String, bufferSize: Int = 1 << 20, closeOnDeinit: Bool = false) {
        precondition(bufferSize > 0, "bufferSize must be positive")
        self.fileDescriptor = fileDescriptor
        self.name = name
        self.closeOnDeinit = closeOnDeinit
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        try? flush()
        if closeOnDeinit && !isClosed { _ = posixClose(fileDescriptor) }
        buffer.deallocate()
    }

    /// Appends raw bytes.
    public func write(bytes: UnsafeRawBufferPointer) throws {
        if let f = failure { throw f }
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        if bytes.count <= buffer.count - used {
            (buffer.baseAddress! + used).copyMemory(from: src, byteCount: bytes.count)
            used += bytes.count
            return
        }
        try flush()
        if bytes.count >= buffer.count {
            // Larger than the buffer: copying it through would only add work.
            try writeAll(src, bytes.count)
        } else {
            buffer.baseAddress!.copyMemory(from: src, byteCount: bytes.count)
            used = bytes.count
        }
    }

    /// Appends the bytes of `bytes`.
    public func write(bytes: UnsafeBufferPointer<UInt8>) throws {
        try write(bytes: UnsafeRawBufferPointer(bytes))
    }

    /// Appends the bytes of an array.
    public func write(bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write(bytes: $0) }
    }

    /// Appends the UTF-8 encoding of `string`.
    public func write(string: String) throws {
        var s = string
        try s.withUTF8 { try write(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Appends one byte.
    public func write(byte: UInt8) throws {
        if let f = failure { throw f }
        if used == buffer.count { try flush() }
        buffer[used] = byte
        used += 1
    }

    /// Writes out everything buffered.
    public func flush() throws {
        if let f = failure { throw f }
        guard used > 0 else { return }
        let n = used
        used = 0
        try writeAll(buffer.baseAddress!, n)
    }

    /// Flushes, then closes the descriptor if the writer owns it.
    public func close() throws {
        defer {
            if closeOnDeinit && !isClosed { isClosed = true; _ = posixClose(fileDescriptor) }
        }
        try flush()
    }

    /// Forgets buffered bytes and fails later writes, for an owner that closed the descriptor behind our back
    /// (`AtomicFileWriter.discard()`): a later flush must not write into whatever file reuses that number.
    func abandon() {
        used = 0
        isClosed = true
        if failure == nil { failure = TokIOError(kind: .writeFailed, name: name, errno: EBADF) }
    }

    private func writeAll(_ start: UnsafeRawPointer, _ count: Int) throws {
        var p = start
        var left = count
        while left > 0 {
            let n = posixWrite(fileDescriptor, p, left)
            if n > 0 {
                p += n
                left -= n
                continue
            }
            let code = n < 0 ? errno : EIO  // write(2) returning 0 for a non-empty request should not happen
            if code == EINTR { continue }
            let error = TokIOError.fromErrno(code, name: name, reading: false)
            failure = error
            throw error
        }
    }
}

// The class has members named `write` and `close`, which hide the C functions inside it.
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
private func posixClose(_ fd: Int32) -> Int32 { close(fd) }
