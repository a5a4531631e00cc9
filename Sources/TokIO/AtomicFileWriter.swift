#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import TokCore

/// Writes a file so that readers see either the old file or the complete new one, never a partial file.
///
/// Output goes to a hidden temporary file in the destination's directory (the same file system, so that the final
/// `rename(2)` is atomic). `commit()` flushes, `fsync`s, and renames it over the destination. If the writer is
/// discarded, deinitialized without a commit, or any step fails, the temporary file is unlinked and the destination
/// is left untouched. A process killed by a signal cannot run that cleanup; call
/// `removeTemporaryFilesOnSignal()` once at startup so that SIGINT, SIGTERM and SIGHUP remove the temporary files
/// too. (SIGKILL may still leave a hidden temporary file, but never a partial destination.)
///
/// The new file gets the permissions of the file it replaces, or the usual `0666 & ~umask` for a new file. A
/// destination that is a device, FIFO or socket is written directly (renaming would replace the node with a
/// regular file), and so is one of the process's open descriptors named by path (`/dev/stdout`, `/dev/fd/N`,
/// `/proc/self/fd/N`, or a link to one); a symbolic link has its target replaced or created, atomically.
public final class AtomicFileWriter {
    /// The destination path (for a symbolic link, the file at the end of its chain of links).
    public let path: String
    /// The temporary file being written; it becomes `path` on `commit()`. Equal to `path` when writing directly.
    public let temporaryPath: String
    /// Whether the output goes straight to the destination: a device, FIFO or socket (`-o /dev/null`, a named
    /// pipe), which a rename would replace by a regular file, or an open descriptor named by path (`/dev/stdout`).
    public let direct: Bool
    private let fd: Int32
    private let writer: OutputWriter
    private var state: State = .open
    /// Where the temporary path sits in the signal-handler registry, if there was room.
    private var signalCleanupSlot: Int?

    private enum State { case open, sealed, committed, discarded }

    /// Creates the temporary file next to `path` (or opens `path` itself when it is not a regular file).
    ///
    /// Throws `TokIOError` naming `path` when the directory does not exist or is not writable.
    public init(path given: String) throws {
        var path = given
        var directFD: Int32? = nil
        switch try Self.destination(of: given) {
        case .descriptor(let n):
            // `-o /dev/stdout` when standard output is a file: writing through the descriptor keeps what the
            // shell put there (`>>`, or earlier output of a `{ ...; } > file` group); renaming a temporary file over
            // the file the link resolves to would replace it, and reopening it would truncate it.
            let fd = fcntl(n, F_DUPFD_CLOEXEC, 0)
            guard fd >= 0 else { throw TokIOError.fromErrno(errno, name: given, reading: false) }
            directFD = fd
        case .path(let resolved):
            // The end of a chain of symbolic links, existing or not: its file is replaced (or created) atomically,
            // and the links keep pointing at it.
            path = resolved
            var st = stat()
            if stat(path, &st) == 0 {
                // A directory cannot be replaced by the file: say so now (renaming onto "." failed with EBUSY).
                if (st.st_mode & S_IFMT) == S_IFDIR { throw TokIOError.fromErrno(EISDIR, name: given, reading: false) }
                if (st.st_mode & S_IFMT) != S_IFREG {
                    let fd = openRetryingInterrupts(given, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
                    guard fd >= 0 else { throw TokIOError.fromErrno(errno, name: given, reading: false) }
                    directFD = fd
                }
            }
        }
        self.path = path
        self.direct = directFD != nil
        if let fd = directFD {
            self.fd = fd
            temporaryPath = given
            writer = OutputWriter(fileDescriptor: fd, name: given)
            return
        }
        let (dir, base) = Self.split(path)
        var created: (Int32, String)?
        var lastError: Int32 = 0
        // O_EXCL with a random name: safe against collisions and symlink tricks, and unlike mkstemp(3) the
        // kernel applies the umask, so a new file gets ordinary permissions. The destination's name is kept only
        // while short, so that the temporary name never exceeds NAME_MAX when the destination's does not.
        let stem = base.utf8.count <= 64 ? base : "tok"
        for _ in 0..<100 {
            let candidate = dir + "/." + stem + ".tmp" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let fd = openRetryingInterrupts(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 { created = (fd, candidate); break }
            lastError = errno
            if lastError != EEXIST { break }
        }
        guard let (fd, tmp) = created else {
            throw TokIOError.fromErrno(lastError, name: path, reading: false)
        }
        self.fd = fd
        temporaryPath = tmp
        writer = OutputWriter(fileDescriptor: fd, name: path)
        signalCleanupSlot = SignalCleanup.register(tmp)
        // Keep the permissions of the file being replaced.
        var st = stat()
        if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG {
            _ = fchmod(fd, st.st_mode & 0o7777)
        }
    }

    deinit { discard() }

    /// Appends raw bytes.
    public func write(bytes: UnsafeRawBufferPointer) throws { try guarded { try writer.write(bytes: bytes) } }
    /// Appends bytes.
    public func write(bytes: UnsafeBufferPointer<UInt8>) throws { try guarded { try writer.write(bytes: bytes) } }
    /// Appends bytes.
    public func write(bytes: [UInt8]) throws { try guarded { try writer.write(bytes: bytes) } }
    /// Appends the UTF-8 encoding of `string`.
    public func write(string: String) throws { try guarded { try writer.write(string: string) } }

    /// Makes the new content visible at `path`: flush, `fsync`, `rename` over the destination, then `fsync` the
    /// directory so that the rename itself survives a crash. On failure the temporary file is removed.
    public func commit() throws {
        try seal()
        if state == .sealed { try publish() }
    }

    /// Commits several files as a set: all are written out first, then renamed into place; if a rename fails,
    /// the files already renamed are put back as they were (the old file, or none), so that a failure leaves the
    /// set as it was before. (A crash between two renames can still leave part of the set new.)
    public static func commitAll(_ writers: [AtomicFileWriter]) throws {
        do {
            for w in writers { try w.seal() }
        } catch {
            for w in writers { w.discard() }
            throw error
        }
        var backups: [String?] = []   // by writer: a hard link to the file it replaces, if any
        var published = 0
        do {
            for w in writers where w.state == .sealed {
                var st = stat()
                if stat(w.path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
                    throw TokIOError.fromErrno(EISDIR, name: w.path, reading: false)
                }
            }
            for w in writers {
                var st = stat()
                guard w.state == .sealed, lstat(w.path, &st) == 0 else { backups.append(nil); continue }
                // Best effort: a file system without hard links gets no way back for this file.
                let b = w.temporaryPath + ".old"
                backups.append(link(w.path, b) == 0 ? b : nil)
            }
            for (k, w) in writers.enumerated() {
                if w.state == .sealed { try w.publish() }
                published = k + 1
            }
        } catch {
            for k in 0..<published where !writers[k].direct {
                if let b = backups[k] { _ = rename(b, writers[k].path) } else { _ = unlink(writers[k].path) }
            }
            for k in published..<backups.count { if let b = backups[k] { _ = unlink(b) } }
            for w in writers { w.discard() }
            throw error
        }
        for case let b? in backups { _ = unlink(b) }
    }

    /// The first half of `commit()`: flush, `fsync` and close the temporary file (a direct destination is then
    /// done). Nothing is visible at `path` yet.
    private func seal() throws {
        if direct {
            try guarded { try writer.flush() }
            state = .committed
            writer.abandon()
            if close(fd) != 0 && errno != EINTR { throw TokIOError.fromErrno(errno, name: path, reading: false) }
            return
        }
        try guarded {
            try writer.flush()
            if fsync(fd) != 0 { throw TokIOError.fromErrno(errno, name: path, reading: false) }
        }
        state = .sealed
        writer.abandon()  // already flushed; the writer must never touch the descriptor once it is closed
        let closeResult = close(fd)
        let closeErrno = errno
        if closeResult != 0 && closeErrno != EINTR {
            discard()
            throw TokIOError.fromErrno(closeErrno, name: path, reading: false)
        }
    }

    /// The second half of `commit()`: rename the sealed temporary file over `path`.
    private func publish() throws {
        if rename(temporaryPath, path) != 0 {
            let e = errno
            discard()
            throw TokIOError.fromErrno(e, name: path, reading: false)
        }
        state = .committed
        releaseSignalCleanupSlot()
        // Best effort: some file systems refuse fsync on a directory.
        let dfd = open(Self.split(path).dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            _ = close(dfd)
        }
    }

    /// Abandons the output: removes the temporary file and leaves the destination as it was. Idempotent; does
    /// nothing after `commit()`.
    public func discard() {
        guard state == .open || state == .sealed else { return }
        if state == .open {
            writer.abandon()
            _ = close(fd)
        }
        state = .discarded
        if !direct { _ = unlink(temporaryPath) }
        releaseSignalCleanupSlot()
    }

    private func releaseSignalCleanupSlot() {
        if let slot = signalCleanupSlot { SignalCleanup.unregister(slot) }
        signalCleanupSlot = nil
    }

    /// Installs handlers for SIGINT, SIGTERM and SIGHUP that unlink the temporary file of every writer not yet
    /// committed or discarded, then let the signal end the process as it would have. Call once, early.
    public static func removeTemporaryFilesOnSignal() {
        SignalCleanup.install()
    }

    /// Unlinks the temporary file of every writer not yet committed or discarded, for a process about to `exit`
    /// without unwinding (see `PreTokenizationFailure`). Those writers must not be used afterwards.
    public static func removeTemporaryFilesBeforeExit() {
        SignalCleanup.unlinkAll()
    }

    /// Runs `body`; if it throws, discards the temporary file before rethrowing.
    private func guarded(_ body: () throws -> Void) throws {
        guard state == .open else {
            // Use after a failure (which discarded) or after commit(): refuse rather than write to a closed fd.
            throw TokIOError(kind: .writeFailed, name: path, errno: EBADF)
        }
        do {
            try body()
        } catch {
            discard()
            throw error
        }
    }

    /// Where output for `given` must go.
    enum Destination: Equatable {
        /// An open descriptor of this process, named through `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N` (or a
        /// link to one).
        case descriptor(Int32)
        /// The path at the end of `given`'s chain of symbolic links (`given` itself when it is no link), which
        /// may not exist yet.
        case path(String)
    }

    /// Follows `given`'s symbolic links one at a time (as `realpath(3)` would, but also through links whose target
    /// does not exist yet, and stopping at descriptor names, which the kernel resolves to whatever file the
    /// descriptor has open).
    static func destination(of given: String) throws -> Destination {
        var current = given
        for _ in 0..<40 {
            let absolute = lexicallyAbsolute(current)
            if let n = descriptorNumber(named: absolute) { return .descriptor(n) }
            // Links under /proc (another process's descriptors, `/proc/PID/cwd`) are the kernel's to follow: their
            // text ("pipe:[123]") is no path.
            if absolute.hasPrefix("/proc/") { return .path(current) }
            var st = stat()
            guard lstat(current, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return .path(current) }
            var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = buffer.withUnsafeMutableBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { readlink(current, $0, b.count - 1) }
            }
            guard count > 0 else { throw TokIOError.fromErrno(count < 0 ? errno : ENOENT, name: given, reading: false) }
            // A target that is not UTF-8 would be read as another name (with U+FFFD) and a different file written.
            guard let target = FileNameText.decode(buffer[..<count]) else {
                throw FileNameError(name: given, reason: "a symbolic link to \"\(FileNameText.describe(buffer[..<count]))\", a name that is not UTF-8; tok takes UTF-8 file names only")
            }
            current = target.hasPrefix("/") ? target : split(current).dir + "/" + target
        }
        throw TokIOError.fromErrno(ELOOP, name: given, reading: false)
    }

    /// Whether output to `path` could not be a file of its own: one of the process's descriptors named by path, or
    /// an existing device, FIFO or socket (for `tok train -o`, whose path is a prefix of several file names).
    public static func namesDescriptorOrDevice(_ path: String) -> Bool {
        if case .descriptor? = try? destination(of: path) { return true }
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        let kind = st.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFDIR
    }

    /// `path` made absolute (against the working directory) with its "." and ".." components taken out by name,
    /// so that `/dev/./fd/1`, `../../proc/self/fd/1` or `1` inside `/dev/fd` are recognised as descriptor names.
    /// (By name only: a ".." after a symbolic link to a directory is not where the kernel would go, which matters
    /// only for paths that would then look like a descriptor's name.)
    static func lexicallyAbsolute(_ path: String) -> String {
        var full = path
        if !path.hasPrefix("/"), let cwd = getcwd(nil, 0) {
            full = String(cString: cwd) + "/" + path
            free(cwd)
        }
        var parts: [Substring] = []
        for c in full.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { _ = parts.popLast(); continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The descriptor that `path` names in this process: `/dev/stdin`, `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`,
    /// `/proc/self/fd/N`, `/proc/thread-self/fd/N` or `/proc/PID/fd/N` with this process's PID; else nil.
    static func descriptorNumber(named path: String) -> Int32? {
        switch path {
        case "/dev/stdin": return 0
        case "/dev/stdout": return 1
        case "/dev/stderr": return 2
        default: break
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].isEmpty, let n = Int32(parts[parts.count - 1]), n >= 0,
              parts[parts.count - 2] == "fd" else { return nil }
        if parts.count == 4 { return parts[1] == "dev" ? n : nil }
        guard parts.count == 5, parts[1] == "proc" else { return nil }
        let process = parts[2]
        return process == "self" || process == "thread-self" || process == Substring(String(getpid())) ? n : nil
    }

    /// Splits a path into its directory ("." when there is none) and last component.
    static func split(_ path: String) -> (dir: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }
}

/// Temporary paths of open writers, readable from a signal handler: a fixed table of C strings, so the handler
/// neither allocates nor locks (only async-signal-safe calls: unlink, signal, raise).
private enum SignalCleanup {
    static let capacity = 64
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        return p
    }()
    nonisolated(unsafe) static let registryLock: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()
    nonisolated(unsafe) static var installed = false

    /// Records `path`; returns its slot, or nil when the table is full (the file then lacks signal cleanup).
    static func register(_ path: String) -> Int? {
        pthread_mutex_lock(registryLock)
        defer { pthread_mutex_unlock(registryLock) }
        for i in 0..<capacity where slots[i] == nil {
            slots[i] = strdup(path)
            return i
        }
        return nil
    }

    static func unregister(_ slot: Int) {
        pthread_mutex_lock(registryLock)
        let p = slots[slot]
        // Clear before freeing so that a handler never sees freed memory through the table.
        slots[slot] = nil
        pthread_mutex_unlock(registryLock)
        free(p)
    }

    static func unlinkAll() {
        pthread_mutex_lock(registryLock)
        defer { pthread_mutex_unlock(registryLock) }
        for i in 0..<capacity { if let p = slots[i] { _ = unlink(p) } }
    }

    static func install() {
        pthread_mutex_lock(registryLock)
        defer { pthread_mutex_unlock(registryLock) }
        if installed { return }
        installed = true
        _ = slots  // initialize the table now, never inside the handler
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            _ = signal(sig) { sig in
                for i in 0..<SignalCleanup.capacity {
                    if let p = SignalCleanup.slots[i] { _ = unlink(p) }
                }
                _ = signal(sig, SIG_DFL)
                _ = raise(sig)
            }
        }
    }
}
