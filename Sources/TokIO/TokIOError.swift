#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import TokCore

/// A failure to read or write a file, standard input or standard output.
///
/// `description` is a single line that names the file (and, for zstd input, the compressed byte offset and zstd's
/// own error name), ready to print after a program-name prefix. Match kinds with `error.kind`, or catch a broken
/// pipe directly: `catch TokIOError.brokenPipe { … }`.
public struct TokIOError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The path does not exist.
        case notFound
        /// The path exists but may not be opened (permissions).
        case permissionDenied
        /// The path is a directory, not a file.
        case isDirectory
        /// `read(2)` (or `open(2)`/`fstat(2)`) failed for another reason.
        case readFailed
        /// `write(2)`, `fsync(2)`, `rename(2)` or creating an output file failed.
        case writeFailed
        /// The reader of a pipe we write to has gone (EPIPE, after `ignoreSIGPIPE()`). Not worth a message.
        case brokenPipe
        /// zstd rejected the compressed data.
        case corruptZstd
        /// The compressed input ended in the middle of a zstd frame.
        case truncatedZstd
    }

    /// What went wrong.
    public let kind: Kind
    /// The file's path as given, or a name such as `<stdin>`.
    public let name: String
    /// The `errno` value behind the failure, when there is one.
    public let errno: Int32?
    /// For zstd failures: how many compressed bytes had been handed to zstd when it reported the failure (for a
    /// truncated input, where the input ends). zstd buffers input and checks a frame's checksum only at its end, so
    /// for corrupt data this says little about where the damage is: it can be on either side of it.
    public let compressedOffset: Int?
    /// For corrupt zstd data: the compressed offset where the frame holding the damage starts.
    public let frameOffset: Int?
    /// For zstd failures: `ZSTD_getErrorName` of the error code.
    public let zstdErrorName: String?

    /// An error of `kind` about the file `name`, with the details `description` reports for that kind.
    public init(kind: Kind, name: String, errno: Int32? = nil, compressedOffset: Int? = nil, frameOffset: Int? = nil,
                zstdErrorName: String? = nil) {
        self.kind = kind
        self.name = name
        self.errno = errno
        self.compressedOffset = compressedOffset
        self.frameOffset = frameOffset
        self.zstdErrorName = zstdErrorName
    }

    /// A broken-pipe error, for pattern matching: `catch TokIOError.brokenPipe`.
    public static let brokenPipe = TokIOError(kind: .brokenPipe, name: "<stdout>", errno: EPIPE)

    /// Matches any `TokIOError` of the same kind as `pattern`, so `catch TokIOError.brokenPipe` works whatever the
    /// file name.
    public static func ~= (pattern: TokIOError, value: any Error) -> Bool {
        (value as? TokIOError)?.kind == pattern.kind
    }

    /// Whether this is a broken pipe, which a command-line tool should end on quietly.
    public var isBrokenPipe: Bool { kind == .brokenPipe }

    /// Builds an error from an `errno` value, choosing the kind from it.
    static func fromErrno(_ code: Int32, name: String, reading: Bool) -> TokIOError {
        let kind: Kind
        switch code {
        case ENOENT: kind = .notFound
        case EACCES, EPERM: kind = .permissionDenied
        case EISDIR: kind = .isDirectory
        case EPIPE: kind = .brokenPipe
        default: kind = reading ? .readFailed : .writeFailed
        }
        return TokIOError(kind: kind, name: name, errno: code)
    }

    public var description: String {
        let file = Self.quoted(name)
        let reason = errno.map { Self.systemMessage($0) }
        switch kind {
        case .notFound: return "\(file): no such file or directory"
        case .permissionDenied: return "\(file): permission denied"
        case .isDirectory: return "\(file): is a directory"
        case .brokenPipe: return "\(file): broken pipe"
        case .readFailed where errno == EFBIG:
            return "\(file): too large: over \(FileBytes.wholeFileLimit >> 30) GiB, which tok does not read into memory whole"
        case .readFailed: return "\(file): read error: \(reason ?? "unknown error")"
        case .writeFailed: return "\(file): write error: \(reason ?? "unknown error")"
        case .corruptZstd:
            // Where zstd noticed says little of where the damage is (see compressedOffset): name the frame that holds it.
            return "\(file): corrupt zstd data in the frame that starts at compressed byte \(frameOffset ?? 0): \(zstdErrorName ?? "unknown error")"
        case .truncatedZstd:
            return "\(file): truncated zstd data: input ends inside a frame at compressed byte \(compressedOffset ?? 0)"
        }
    }

    private static func systemMessage(_ code: Int32) -> String { systemErrorMessage(code) }

    /// Keeps the description on one line even for file names with control characters.
    private static func quoted(_ name: String) -> String {
        name.isEmpty ? "\"\" (an empty file name)" : FileNameText.escapingControlCharacters(name)
    }
}
