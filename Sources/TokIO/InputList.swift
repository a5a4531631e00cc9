import TokCore

/// A list of input paths read from a file (`tok encode --files-from`).
///
/// A list file is read in one pass, and holds more paths than a command line.
public enum InputList {
    /// The paths listed in `path` (`-`: standard input; plain or zstd): one per line (a CR before the LF is not
    /// part of the name, nor a byte order mark at the start), or, when the list holds a NUL byte (`find -print0`), separated by NUL bytes. Empty
    /// entries are skipped.
    /// A name that is not UTF-8 is an `InputListError` (see `FileNameText`).
    public static func paths(from path: String) throws -> [String] {
        var bytes = try InputSource.contents(of: path)[...]
        // As a Windows editor writes a list: a byte order mark first, CR LF line ends.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let separator: UInt8 = bytes.contains(0) ? 0 : 0x0A
        var out: [String] = []
        let entries = bytes.split(separator: separator, omittingEmptySubsequences: true)
            .map { separator == 0x0A && $0.last == 0x0D ? $0.dropLast() : $0 }
            .filter { !$0.isEmpty }
        for (k, entry) in entries.enumerated() {
            guard let name = FileNameText.decode(entry) else {
                throw InputListError(list: path == "-" ? "<stdin>" : path, entry: k + 1, reason: FileNameText.notUTF8(entry))
            }
            out.append(name)
        }
        return out
    }
}

/// A file name that cannot be used (see `FileNameText`).
public struct FileNameError: Error, CustomStringConvertible, Sendable {
    /// The name as given.
    public var name: String
    /// What is wrong with it.
    public var reason: String
    public var description: String { "\(name): \(reason)" }
}

/// An entry of a `--files-from` list that cannot be used.
public struct InputListError: Error, CustomStringConvertible, Sendable {
    /// The list's name.
    public var list: String
    /// The 1-based index of the entry among the list's non-empty entries.
    public var entry: Int
    /// What is wrong with it.
    public var reason: String
    public var description: String { "\(list): entry \(entry): \(reason)" }
}
