/// Reading and writing the `.tiktoken` vocabulary format: one `base64(token bytes) SP rank` entry per line.
///
/// The format carries neither the pre-tokenization pattern nor the special tokens; those come from a sidecar
/// JSON file or from the caller (see `TokenizerSpec`).
public enum TiktokenFile {
    /// Parses `.tiktoken` text. `name` is used in error messages.
    ///
    /// Follows tiktoken's loader (`token, rank = line.split()`): blank lines are skipped, each other line holds
    /// exactly two fields separated by spaces or tabs (leading and trailing ones allowed), the rank a decimal
    /// number with an optional "+". In addition every byte value must have a single-byte token, since byte-level
    /// BPE cannot encode arbitrary input otherwise.
    public static func parse(_ data: UnsafeBufferPointer<UInt8>, name: String) throws(VocabularyError) -> RankTable {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count * 3 / 5)
        var ends: [Int] = []
        var ranks: [UInt32] = []
        ends.reserveCapacity(data.count / 14)
        ranks.reserveCapacity(data.count / 14)
        guard let base = data.baseAddress, data.count > 0 else {
            throw VocabularyError(file: name, line: nil, reason: "the file is empty")
        }
        var pos = 0, line = 0
        var maxRank: UInt64 = 0, maxRankLine = 0
        let n = data.count
        while pos < n {
            line += 1
            var eol = pos
            while eol < n && base[eol] != 0x0A { eol += 1 }
            var end = eol
            if end > pos && base[end - 1] == 0x0D { end -= 1 }   // tolerate CRLF files
            defer { pos = eol + 1 }
            func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
            var start = pos
            while start < end && isBlank(base[start]) { start += 1 }
            while end > start && isBlank(base[end - 1]) { end -= 1 }
            if end == start { continue }
            var sp = start
            while sp < end && !isBlank(base[sp]) { sp += 1 }
            guard sp < end else {
                throw VocabularyError(file: name, line: line, reason: "expected 'base64 rank', found one field")
            }
            let before = bytes.count
            guard Base64.decode(base + start, sp - start, into: &bytes) else {
                throw VocabularyError(file: name, line: line, reason: "invalid base64 token")
            }
            var r: UInt64 = 0, digits = 0
            var q = sp
            while q < end && isBlank(base[q]) { q += 1 }
            if q < end && base[q] == UInt8(ascii: "+") { q += 1 }
            while q < end && base[q] >= 0x30 && base[q] <= 0x39 {
                r = r * 10 + UInt64(base[q] - 0x30)
                digits += 1
                if r > UInt64(UInt32.max - 1) { break }
                q += 1
            }
            guard digits > 0, q == end else {
                throw VocabularyError(file: name, line: line, reason: "invalid rank (expected a decimal number below 2^32-1)")
            }
            if bytes.count == before {
                throw VocabularyError(file: name, line: line, reason: "empty token")
            }
            ends.append(bytes.count)
            ranks.append(UInt32(r))
            if r >= maxRank { maxRank = r; maxRankLine = line }
        }
        if ranks.isEmpty { throw VocabularyError(file: name, line: nil, reason: "no tokens") }
        if ranks.count > 1 << 26 { throw VocabularyError(file: name, line: nil, reason: "too many tokens") }
        // Tables are indexed by rank, so their size follows the largest rank, not the number of tokens: a stray
        // rank of 4 billion would make a 2 KB file need 17 GB.
        if maxRank >= Self.rankLimit(tokens: ranks.count) {
            throw VocabularyError(file: name, line: maxRankLine, reason: "rank \(maxRank) is far above the number of tokens (\(ranks.count)); ranks must stay below \(Self.rankLimit(tokens: ranks.count)) (16 per token plus 65,536)")
        }
        let table: RankTable
        do {
            table = try RankTable(bytes: bytes, ends: ends, ranks: ranks)
        } catch {
            switch error {
            case .emptyKey(let i):
                throw VocabularyError(file: name, line: nil, reason: "empty token at entry \(i + 1)")
            case .duplicateKey(let i, let rank, let other):
                throw VocabularyError(file: name, line: nil, reason: "token of rank \(rank) (entry \(i + 1)) repeats the token of rank \(other)")
            case .duplicateRank(let i, let rank):
                throw VocabularyError(file: name, line: nil, reason: "rank \(rank) appears twice (entry \(i + 1))")
            }
        }
        if let b = table.firstMissingSingleByte() {
            throw VocabularyError(file: name, line: nil, reason: "no token for the single byte 0x\(String(b, radix: 16, uppercase: true)); byte-level BPE needs all 256")
        }
        return table
    }

    /// The bound on ranks for a vocabulary of `tokens` entries: ranks are array indices, so they must be about
    /// as dense as real vocabularies' (whose ranks run from 0 without gaps).
    public static func rankLimit(tokens: Int) -> UInt64 { UInt64(tokens) * 16 + 65_536 }

    /// Serializes a table in `.tiktoken` format, ordered by rank.
    public static func serialize(_ table: RankTable) -> [UInt8] {
        var out: [UInt8] = []
        for r in 0..<table.rankLimit {
            guard let b = table.bytes(ofRank: UInt32(r)) else { continue }
            out += Base64.encode(b)
            out.append(0x20)
            out += Array(String(r).utf8)
            out.append(0x0A)
        }
        return out
    }
}

/// A vocabulary file that could not be read, with the file name and, when known, the 1-based line.
public struct VocabularyError: Error, CustomStringConvertible, Sendable {
    /// The file's name as given (or a description such as "special tokens").
    public var file: String
    /// The 1-based line, when the error is on one.
    public var line: Int?
    /// What is wrong, for the message.
    public var reason: String
    /// An error in `file` (at `line`, if known).
    public init(file: String, line: Int?, reason: String) {
        self.file = file; self.line = line; self.reason = reason
    }
    public var description: String {
        if let line { return "\(file):\(line): \(reason)" }
        return "\(file): \(reason)"
    }
}
