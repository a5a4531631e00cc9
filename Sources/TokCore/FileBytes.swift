#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library's message for `code`, with a lower-case first letter as tok's other messages have
/// ("no such file or directory").
public func systemErrorMessage(_ code: Int32) -> String {
    guard let s = strerror(code) else { return "error \(code)" }
    let m = String(cString: s)
    return m.prefix(1).lowercased() + m.dropFirst()
}

/// Whole-file reading for vocabulary and sidecar files, without Foundation.
public enum FileBytes {
    /// The most that tok reads of a file it needs whole (1 GiB): a vocabulary, a sidecar, a list of inputs. An
    /// endless stream given as one (`-t /dev/zero`) is an error at that size instead of memory growing until the
    /// process is killed; o200k's `.tiktoken` file is 3.6 MB.
    public static let wholeFileLimit = 1 << 30

    /// The contents of `path`, at most `wholeFileLimit` bytes. Throws a one-line error naming the file.
    static func contents(of path: String) throws(VocabularyError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw VocabularyError(file: path, line: nil, reason: systemErrorMessage(errno)) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw VocabularyError(file: path, line: nil, reason: "is a directory")
        }
        // Read straight into the array, sized by fstat; grow if the file turns out longer (a pipe, /proc), but
        // never past one byte over the limit, which is enough to know the file is over it.
        let tooLarge = VocabularyError(file: path, line: nil, reason: "too large: over \(wholeFileLimit >> 30) GiB, which is not a vocabulary or sidecar file")
        if Int(st.st_size) > wholeFileLimit { throw tooLarge }
        var out = [UInt8](repeating: 0, count: max(Int(st.st_size), 0) + 1)
        var count = 0
        while true {
            if count == out.count {
                if count > wholeFileLimit { throw tooLarge }
                out += [UInt8](repeating: 0, count: min(max(out.count, 1 << 16), wholeFileLimit + 1 - out.count))
            }
            let n = out.withUnsafeMutableBytes { readFully(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 { throw VocabularyError(file: path, line: nil, reason: systemErrorMessage(errno)) }
            count += n
            if count < out.count { break }
        }
        out.removeLast(out.count - count)
        return out
    }

    /// A descriptor of the regular file at `path`, open for reading, and its size; nil if it cannot be opened or is
    /// anything but a regular file. The open does not wait: a FIFO would block it until a writer came.
    static func openRegularFile(_ path: String) -> (fd: Int32, size: Int)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { close(fd); return nil }
        return (fd, Int(st.st_size))
    }

    /// Reads from `fd` into `buffer` until `count` bytes or the end of the file, retrying on EINTR. Returns the
    /// bytes read, or -1 on a read error (with `errno` set).
    static func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        var got = 0
        while got < count {
            let n = read(fd, buffer + got, count - got)
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if n == 0 { break }
            got += n
        }
        return got
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// The directory holding the running executable, from /proc/self/exe.
    static func executableDirectory() -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        // Under a directory whose name is not UTF-8, no String names it: search elsewhere rather than a wrong place.
        guard let path = FileNameText.decode(buf[0..<n].map { UInt8(bitPattern: $0) }) else { return nil }
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }

    /// The variable's value; nil when unset or not UTF-8 (a directory in it would be read as another name).
    static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(validatingCString: v)
    }
}
