import TokCore
import TokIO

/// Pre-token counts as text: one `piece<TAB>count` line per piece (SentencePiece's TSV input convention), sorted
/// by the pieces' bytes.
///
/// Pieces are escaped so that any byte string survives the round trip: `\\` for a backslash, `\t`, `\n` and `\r`,
/// `\xHH` (two upper-case hex digits) for other control bytes, DEL, bytes that are not part of well-formed UTF-8
/// and the bytes of the line breaks U+0085, U+2028 and U+2029 (which readers such as Python's `splitlines` split
/// at); everything else (printable ASCII and well-formed non-ASCII characters) is written as is.
/// Counts files from several machines (shards of one corpus) add up: `tok train --counts a.tsv b.tsv` sums them.
public enum CountsFile {
    /// The file contents for `counts`.
    public static func contents(of counts: borrowing PieceCounts) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(counts.count * 16)
        for k in counts.sortedByBytes() {
            appendEscaped(counts.piece(k), to: &out)
            out.append(0x09)
            out += Array(String(counts.count(k)).utf8)
            out.append(0x0A)
        }
        return out
    }

    static let hex = Array("0123456789ABCDEF".utf8)

    /// Appends the escaped form of `piece`.
    public static func appendEscaped(_ piece: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var i = 0
        let n = piece.count
        while i < n {
            let b = piece[i]
            switch b {
            case 0x5C: out += [0x5C, 0x5C]; i += 1
            case 0x09: out += [0x5C, UInt8(ascii: "t")]; i += 1
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]; i += 1
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]; i += 1
            case 0x20..<0x7F: out.append(b); i += 1
            case 0x80...:
                // A well-formed character is copied; any other byte is escaped.
                let len = validCharacterLength(piece, i)
                if len > 0 && !isLineBreak(piece, i, len) {
                    out += piece[i..<(i + len)]
                    i += len
                } else {
                    for k in i..<(i + max(len, 1)) {
                        out += [0x5C, UInt8(ascii: "x"), hex[Int(piece[k] >> 4)], hex[Int(piece[k] & 15)]]
                    }
                    i += max(len, 1)
                }
            default:
                out += [0x5C, UInt8(ascii: "x"), hex[Int(b >> 4)], hex[Int(b & 15)]]
                i += 1
            }
        }
    }

    /// Whether the character of `len` bytes at `i` is U+0085, U+2028 or U+2029.
    static func isLineBreak(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ len: Int) -> Bool {
        (len == 2 && p[i] == 0xC2 && p[i + 1] == 0x85)
            || (len == 3 && p[i] == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9))
    }

    /// Length of the well-formed UTF-8 character at `i` (a non-ASCII lead byte), or 0.
    static func validCharacterLength(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        let b0 = p[i]
        let len: Int
        switch b0 {
        case 0xC2...0xDF: len = 2
        case 0xE0...0xEF: len = 3
        case 0xF0...0xF4: len = 4
        default: return 0
        }
        guard i + len <= p.count else { return 0 }
        return isValidUTF8(UnsafeBufferPointer(rebasing: p[i..<(i + len)])) ? len : 0
    }

    /// Reads one counts file (plain or zstd) and adds its counts to `counts`.
    public static func read(path: String, into counts: inout PieceCounts) throws {
        let source = try InputSource(path: path)
        defer { source.close() }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var line = 0
        var piece: [UInt8] = []
        while true {
            let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            pending += chunk[0..<n]
            var start = 0
            while true {
                guard let nl = pending[start...].firstIndex(of: 0x0A) else { break }
                line += 1
                try parseLine(pending[start..<nl], path: source.name, line: line, piece: &piece, into: &counts)
                start = nl + 1
            }
            pending.removeSubrange(0..<start)
            if n == 0 {
                // `tok count` ends every line with a LF: a last line without one is most likely cut short, and its
                // count (or piece) would be read short without a word.
                if !pending.isEmpty {
                    throw TrainError.content(name: source.name, line: line + 1, offset: nil,
                                             reason: "the last line has no line feed: the file looks truncated")
                }
                break
            }
        }
    }

    private static func parseLine(_ l: ArraySlice<UInt8>, path: String, line: Int, piece: inout [UInt8],
                                  into counts: inout PieceCounts) throws {
        var text = l
        if text.last == 0x0D { text = text.dropLast() }
        if text.isEmpty { return }
        guard let tab = text.lastIndex(of: 0x09) else {
            throw TrainError.content(name: path, line: line, offset: nil, reason: "expected piece<TAB>count")
        }
        var count: UInt64 = 0
        let digits = text[(tab + 1)...]
        if digits.isEmpty { throw TrainError.content(name: path, line: line, offset: nil, reason: "missing count") }
        for d in digits {
            guard d >= 0x30 && d <= 0x39 else {
                throw TrainError.content(name: path, line: line, offset: nil, reason: "count is not a whole number")
            }
            let (m, o1) = count.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d - 0x30))
            if o1 || o2 { throw TrainError.content(name: path, line: line, offset: nil, reason: "count too large") }
            count = a
        }
        piece.removeAll(keepingCapacity: true)
        var i = text.startIndex
        while i < tab {
            let b = text[i]
            if b == 0x09 {
                // A third column, or a piece from a writer that did not escape its TAB: neither is read as meant.
                throw TrainError.content(name: path, line: line, offset: nil, reason: "expected piece<TAB>count, found more than one TAB (a TAB in a piece is written \\t)")
            }
            if b != 0x5C { piece.append(b); i += 1; continue }
            guard i + 1 < tab else { throw TrainError.content(name: path, line: line, offset: nil, reason: "dangling backslash") }
            switch text[i + 1] {
            case 0x5C: piece.append(0x5C); i += 2
            case UInt8(ascii: "t"): piece.append(0x09); i += 2
            case UInt8(ascii: "n"): piece.append(0x0A); i += 2
            case UInt8(ascii: "r"): piece.append(0x0D); i += 2
            case UInt8(ascii: "x"):
                guard i + 3 < tab, let h = hexValue(text[i + 2]), let lo = hexValue(text[i + 3]) else {
                    throw TrainError.content(name: path, line: line, offset: nil, reason: "bad \\x escape")
                }
                piece.append(h << 4 | lo)
                i += 4
            default:
                throw TrainError.content(name: path, line: line, offset: nil, reason: "unknown escape")
            }
        }
        if piece.isEmpty { throw TrainError.content(name: path, line: line, offset: nil, reason: "empty piece") }
        if count == 0 { return }
        let (w, o1) = count.multipliedReportingOverflow(by: UInt64(max(piece.count - 1, 1)))
        let (sum, o2) = counts.pairWeight.addingReportingOverflow(w)
        if o1 || o2 || sum > UInt64(Int64.max) {
            throw TrainError.content(name: path, line: line, offset: nil,
                                     reason: "counts too large (counts times piece lengths add up past 2^63, beyond the trainer's pair counts)")
        }
        counts.pairWeight = sum
        piece.withUnsafeBufferPointer { counts.add($0.baseAddress!, $0.count, count: count) }
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
