/// A failure of `tok train` / `tok count`, described in one line that names the file and, where it applies, the
/// position.
public enum TrainError: Error, CustomStringConvertible, Sendable {
    /// A corpus argument or input file that cannot be used.
    case input(name: String, reason: String)
    /// Bad content at a position of an input: `line` (1-based) and/or `offset` (byte offset in the decompressed
    /// stream).
    case content(name: String, line: Int?, offset: Int?, reason: String)
    /// Options that cannot work together, or a corpus that gives nothing to train on.
    case invalid(String)

    public var description: String {
        switch self {
        case .input(let name, let reason):
            return "\(name): \(reason)"
        case .content(let name, let line, let offset, let reason):
            var at: [String] = []
            if let line { at.append("line \(line)") }
            if let offset { at.append("byte \(offset)") }
            return "\(name)\(at.isEmpty ? "" : " (" + at.joined(separator: ", ") + ")"): \(reason)"
        case .invalid(let message):
            return message
        }
    }
}
