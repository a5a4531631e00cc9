#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parsed vocabularies kept as `RankTable` images, so that a vocabulary is parsed once per machine rather than
/// once per process (every `tok encode` in a shell loop would otherwise spend 20-45 ms decoding base64).
///
/// An image is found by the fingerprint and length of the vocabulary file's bytes, so an edited file simply misses.
/// The directory is `$TOK_CACHE_DIR`, else `$XDG_CACHE_HOME/tok`, else `$HOME/.cache/tok`; `TOK_CACHE_DIR=off`
/// turns the cache off. A missing, unreadable, truncated or damaged image is ignored (and rewritten); failing to
/// write one is not an error. Images are written to a temporary file and renamed into place, so readers never see
/// a partial one.
public enum VocabularyCache {
    /// The cache directory, or nil when caching is off or no directory can be named.
    public static func directory() -> String? {
        if let d = FileBytes.environment("TOK_CACHE_DIR") {
            return d.isEmpty || d == "off" ? nil : d
        }
        if let x = FileBytes.environment("XDG_CACHE_HOME"), x.hasPrefix("/") { return x + "/tok" }
        if let h = FileBytes.environment("HOME"), !h.isEmpty { return h + "/.cache/tok" }
        return nil
    }

    /// The rank table of the `.tiktoken` bytes `data` (read from `path`): from the cache when an intact image is
    /// there, else parsed (errors name `path`) and then cached.
    public static func table(parsing data: UnsafeBufferPointer<UInt8>, path: String) throws(VocabularyError) -> RankTable {
        let fingerprint = Fingerprint64.of(UnsafeRawBufferPointer(data))
        if let cached = cachedTable(fingerprint: fingerprint, length: data.count) { return cached }
        let table = try TiktokenFile.parse(data, name: path)
        if let file = imagePath(fingerprint: fingerprint, length: data.count) {
            write(table.image(sourceFingerprint: fingerprint, sourceLength: data.count), to: file)
        }
        return table
    }

    /// The rank table of the `.tiktoken` file at `path`. To find a cached image the file is only streamed through
    /// a small buffer for its fingerprint (reading o200k's 3.6 MB into one fresh array cost more than the rest of
    /// loading the image); it is read whole only when it has to be parsed.
    public static func table(path: String) throws(VocabularyError) -> RankTable {
        if directory() != nil, let (fingerprint, length) = try streamedFingerprint(path),
           let cached = cachedTable(fingerprint: fingerprint, length: length) {
            return cached
        }
        let data = try FileBytes.contents(of: path)
        return try data.withUnsafeBufferPointer { b in
            Result { () throws(VocabularyError) -> RankTable in try table(parsing: b, path: path) }
        }.get()
    }

    /// Where the image of a vocabulary file with this fingerprint and length lives, if caching is on. The format
    /// version is in the name, so binaries of two versions do not keep replacing each other's image.
    static func imagePath(fingerprint: UInt64, length: Int) -> String? {
        directory().map { "\($0)/\(String(fingerprint, radix: 16))-\(length)-v\(RankTable.imageVersion).tokrank" }
    }

    static func cachedTable(fingerprint: UInt64, length: Int) -> RankTable? {
        guard let file = imagePath(fingerprint: fingerprint, length: length) else { return nil }
        return RankTable(imageFile: file, sourceFingerprint: fingerprint, sourceLength: length)
    }

    /// The fingerprint and length of a regular file, read 256 KB at a time; nil for other kinds of file (a pipe
    /// cannot be read twice). Errors name the file as `FileBytes.contents` does.
    static func streamedFingerprint(_ path: String) throws(VocabularyError) -> (UInt64, Int)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw VocabularyError(file: path, line: nil, reason: systemErrorMessage(errno)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let chunk = 1 << 18
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var hasher = Fingerprint64.Hasher()
        while true {
            // Whole chunks (but the last), so that every piece but the last is a multiple of 32 bytes.
            let got = FileBytes.readFully(fd, buffer, chunk)
            if got < 0 { throw VocabularyError(file: path, line: nil, reason: systemErrorMessage(errno)) }
            hasher.combine(UnsafeRawBufferPointer(start: buffer, count: got))
            if got < chunk { break }
        }
        return (hasher.finish(), hasher.count)
    }

    /// Best effort: creates the directory, writes a temporary file, renames it over `path`.
    static func write(_ bytes: [UInt8], to path: String) {
        guard let slash = path.lastIndex(of: "/") else { return }
        makeDirectories(String(path[..<slash]))
        let temp = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { return }
        var ok = true
        bytes.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = systemWrite(fd, b.baseAddress! + off, b.count - off)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { ok = false; break }
                off += n
            }
        }
        if close(fd) != 0 { ok = false }
        if !ok || rename(temp, path) != 0 { unlink(temp) }
    }

    /// `mkdir -p`, ignoring errors (the write that follows fails if the directory is not there).
    static func makeDirectories(_ dir: String) {
        let bytes = Array(dir.utf8)
        for i in 1...bytes.count where i == bytes.count || bytes[i] == 0x2F {
            _ = mkdir(String(decoding: bytes[0..<i], as: UTF8.self), 0o755)
        }
    }

    static func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
#if canImport(Glibc)
        return Glibc.write(fd, p, n)
#else
        return Darwin.write(fd, p, n)
#endif
    }
}
