/// A list of input paths read from a file (`tok encode --files-from`).
///
/// Thousands of paths on the command line cost the argument parser time that grows with the square of their
/// number (4,000 files: about 1 s); a list file is read in one pass, and holds more paths than a command line.
public enum InputList {
    /// The paths listed in `path` (`-`: standard input; plain or zstd): one per line, or, when the list holds a
    /// NUL byte (`find -print0`), separated by NUL bytes. Empty entries are skipped.
    public static func paths(from path: String) throws -> [String] {
        let bytes = try InputSource.contents(of: path)
        let separator: UInt8 = bytes.contains(0) ? 0 : 0x0A
        return bytes.split(separator: separator, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
    }
}
