import TokCore

/// A list of input paths read from a file (`tok encode --files-from`).
///
/// Thousands of paths on the command line cost the argument parser time that grows with the square of their
/// number (4,000 files: about 1 s); a list file is read in one pass, and holds more paths than a command line.
public enum InputList {
    /// The paths listed in `path` (`-`: standard input; plain or zstd): one per line (a CR before the LF is not
    /// part of the name), or, when the list holds a NUL byte (`find -print0`), separated by NUL bytes. Empty
    /// entries are skipped.
    /// A name that is not UTF-8 is an `InputListError` (see `FileNameText`).
    public static func paths(from path: String) throws -> [String] {
        let bytes = try InputSource.contents(of: path)
        let separator: UInt8 = bytes.contains(0) ? 0 : 0x0A
        var out: [String] = []
        for (k, line) in bytes.split(separator: separator, omittingEmptySubsequences: true).enumerated() {
            // A list written on Windows ends its lines in CR LF.
            let entry = separator == 0x0A && line.last == 0x0D ? line.dropLast() : line[...]
            if entry.isEmpty { continue }
            guard let name = FileNameText.decode(entry) else {
                throw InputListError(list: path == "-" ? "<stdin>" : path, entry: k + 1, reason: FileNameText.notUTF8(entry))
            }
            out.append(name)
        }
        return out
    }
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
