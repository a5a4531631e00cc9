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

    /// The rank table of the `.tiktoken` file at `path`. To find a cached image the file's fingerprint is taken
    /// from its note (`fileFingerprint`) or, failing that, from streaming the file through a small buffer (reading
    /// o200k's 3.6 MB into one fresh array cost more than the rest of loading the image); the file is read whole
    /// only when it has to be parsed.
    public static func table(path: String) throws(VocabularyError) -> RankTable {
        if directory() != nil, let (fingerprint, length) = try fileFingerprint(path),
           let cached = cachedTable(fingerprint: fingerprint, length: length) {
            return cached
        }
        let data = try FileBytes.contents(of: path)
        return try data.withUnsafeBufferPointer { b in
            Result { () throws(VocabularyError) -> RankTable in try table(parsing: b, path: path) }
        }.get()
    }

    /// The fingerprint and length of the regular file at `path`; nil for other kinds of file (a pipe cannot be read
    /// twice). Errors name the file as `FileBytes.contents` does.
    ///
    /// Hashing o200k's 3.6 MB costs about 2 ms a process, so the result is kept in a note named by what `stat` says
    /// of the file: device, inode, size, modification and change times. Every write to a file sets its change time
    /// to the present, so a note never outlives the bytes it describes. A note is written only for a file last
    /// changed more than two seconds ago, and only if the file's `stat` is the same after hashing: a second write
    /// within the same clock tick as the first could otherwise leave the times as they were (git's "racily clean"
    /// index entries).
    static func fileFingerprint(_ path: String, now: Int64 = Int64(time(nil))) throws(VocabularyError) -> (UInt64, Int)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw VocabularyError(file: path, line: nil, reason: systemErrorMessage(errno)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let identity = FileIdentity(st)
        let note = notePath(identity)
        if let note, let known = readNote(note, identity: identity) { return known }
        let (fingerprint, length) = try streamedFingerprint(fd, path: path)
        var after = stat()
        if let note, fstat(fd, &after) == 0, FileIdentity(after) == identity, length == identity.size,
           identity.lastChange + 2 < now {
            write(noteBytes(identity, fingerprint: fingerprint, length: length), to: note)
        }
        return (fingerprint, length)
    }

    /// The fingerprint and length of a regular file, read 256 KB at a time; nil for other kinds of file.
    static func streamedFingerprint(_ path: String) throws(VocabularyError) -> (UInt64, Int)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw VocabularyError(file: path, line: nil, reason: systemErrorMessage(errno)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return try streamedFingerprint(fd, path: path)
    }

    static func streamedFingerprint(_ fd: Int32, path: String) throws(VocabularyError) -> (UInt64, Int) {
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

    static let noteMagic: UInt64 = 0x3154_4F4E_4B4F_5454   // "TTOKNOT1"

    /// Where the note of a file with this identity lives, if caching is on.
    static func notePath(_ identity: FileIdentity) -> String? {
        directory().map { "\($0)/\(String(identity.key, radix: 16)).toknote" }
    }

    /// A note: magic, the identity's words, the fingerprint, the length and a checksum of all of them.
    static func noteBytes(_ identity: FileIdentity, fingerprint: UInt64, length: Int) -> [UInt8] {
        var words = [noteMagic] + identity.words + [fingerprint, UInt64(length)]
        words.append(words.withUnsafeBytes { Fingerprint64.of($0) })
        return words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w.littleEndian >> (8 * UInt64($0))) } }
    }

    /// The fingerprint and length a note holds, if it is whole and describes this very file.
    static func readNote(_ path: String, identity: FileIdentity) -> (UInt64, Int)? {
        let count = identity.words.count + 4
        guard let (fd, _) = FileBytes.openRegularFile(path) else { return nil }
        defer { close(fd) }
        var words = [UInt64](repeating: 0, count: count + 1)   // one more, to see a longer file
        let got = words.withUnsafeMutableBytes { FileBytes.readFully(fd, $0.baseAddress!, $0.count) }
        guard got == count * 8 else { return nil }
        words.removeLast()
        words = words.map { UInt64(littleEndian: $0) }
        let sum = words.withUnsafeBytes { Fingerprint64.of(UnsafeRawBufferPointer(rebasing: $0.dropLast(8))) }
        guard words[0] == noteMagic, Array(words[1..<(count - 3)]) == identity.words, words[count - 1] == sum,
              words[count - 2] == UInt64(identity.size) else { return nil }
        return (words[count - 3], identity.size)
    }

    /// Where the image of a vocabulary file with this fingerprint and length lives, if caching is on. The format
    /// version is in the name, so binaries of two versions do not keep replacing each other's image.
    static func imagePath(fingerprint: UInt64, length: Int) -> String? {
        directory().map { "\($0)/\(String(fingerprint, radix: 16))-\(length)-v\(RankTable.imageVersion).tokrank" }
    }

    static func cachedTable(fingerprint: UInt64, length: Int) -> RankTable? {
        guard let file = imagePath(fingerprint: fingerprint, length: length) else { return nil }
        guard let table = RankTable(imageFile: file, sourceFingerprint: fingerprint, sourceLength: length),
              table.firstMissingSingleByte() == nil else { return nil }
        return table
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

/// What `stat` says of a file that any change to its bytes would change.
struct FileIdentity: Equatable {
    let words: [UInt64]
    let size: Int
    /// The later of the modification and change times, in whole seconds.
    let lastChange: Int64

    init(_ st: stat) {
#if canImport(Darwin)
        let m = st.st_mtimespec, c = st.st_ctimespec
#else
        let m = st.st_mtim, c = st.st_ctim
#endif
        words = [UInt64(truncatingIfNeeded: st.st_dev), UInt64(truncatingIfNeeded: st.st_ino),
                 UInt64(truncatingIfNeeded: st.st_size),
                 UInt64(truncatingIfNeeded: m.tv_sec), UInt64(truncatingIfNeeded: m.tv_nsec),
                 UInt64(truncatingIfNeeded: c.tv_sec), UInt64(truncatingIfNeeded: c.tv_nsec)]
        size = Int(st.st_size)
        lastChange = max(Int64(m.tv_sec), Int64(c.tv_sec))
    }

    /// The note's name.
    var key: UInt64 { words.withUnsafeBytes { Fingerprint64.of($0) } }
}
