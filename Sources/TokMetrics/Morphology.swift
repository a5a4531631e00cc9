import TokCore
import TokIO

/// A gold morphological segmentation: one `word<TAB>morph morph ...` line per word, the morphs concatenating to
/// the word.
public struct GoldSegmentation: Sendable {
    /// One word of the segmentation and its morphs.
    public struct Entry: Sendable {
        /// The word's UTF-8 bytes.
        public var word: [UInt8]
        /// Byte offsets inside the word where a morph ends and the next begins.
        public var boundaries: [Int]
        /// Each morph as a start, end pair of byte offsets.
        public var morphs: [(Int, Int)]
    }

    /// The words in file order (empty lines and lines starting with `#` skipped).
    public var entries: [Entry]

    /// Reads a segmentation file (plain or zstd). Throws naming the file and line of a line whose morphs do not
    /// spell its word.
    public init(path: String) throws {
        entries = []
        var lineNumber = 0
        for line in try TextLines.read(path) {
            lineNumber += 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw EvalError.content(name: path, line: lineNumber, reason: "expected word<TAB>morph morph ...")
            }
            let word = Array(parts[0].utf8)
            let morphs = parts[1].split(separator: " ").map { Array($0.utf8) }
            // joined, not reduce(+): that copied a growing array once per morph (quadratic in a word's morphs).
            guard !word.isEmpty, Array(morphs.joined()) == word else {
                throw EvalError.content(name: path, line: lineNumber, reason: "the morphs do not spell the word")
            }
            var e = Entry(word: word, boundaries: [], morphs: [])
            var pos = 0
            for (k, m) in morphs.enumerated() {
                e.morphs.append((pos, pos + m.count))
                pos += m.count
                if k < morphs.count - 1 { e.boundaries.append(pos) }
            }
            entries.append(e)
        }
        if entries.isEmpty { throw EvalError.content(name: path, line: nil, reason: "no segmented words (an empty file scores nothing)") }
    }

    /// `e` with each morph normalized by `n` (a morph the normalizer refuses is kept as it is).
    static func normalized(_ e: Entry, _ n: any TextNormalizer) -> Entry {
        var out = Entry(word: [], boundaries: [], morphs: [])
        for (k, (a, b)) in e.morphs.enumerated() {
            let m = Array(e.word[a..<b])
            let nm = m.withUnsafeBufferPointer { (try? n.normalize($0)) ?? m }
            out.morphs.append((out.word.count, out.word.count + nm.count))
            out.word += nm
            if k < e.morphs.count - 1 { out.boundaries.append(out.word.count) }
        }
        return out
    }

    /// Morpheme-boundary precision, recall, F1 and %Pure of a tokenizer, each word encoded on its own after a
    /// space (as it appears in running text); the space's bytes are not part of the word. A tokenizer with a
    /// normalizer sees the word as the concatenation of its normalized morphs, whose boundaries are the gold ones.
    /// A score over nothing (precision when no token boundary falls inside a word, recall when no word has two
    /// morphs) is undefined: nil, not 0.
    public func scores(_ tokenizer: Tokenizer) -> (precision: Double?, recall: Double?, f1: Double?, pure: Double?) {
        var predicted = 0, gold = 0, hit = 0, tokens = 0, pureTokens = 0
        tokenizer.withEncoder { enc in
            var out = TokenBuffer(capacity: 64)
            for raw in entries {
                out.removeAll()
                let e = tokenizer.normalizer.map { GoldSegmentation.normalized(raw, $0) } ?? raw
                let text = [0x20] + e.word
                text.withUnsafeBufferPointer { enc.encodeOrdinary($0, into: &out) }
                // Token spans relative to the word (the leading space is byte -1).
                var spans: [(Int, Int)] = []
                var pos = -1
                for id in out.ids {
                    let len = tokenizer.tokenBytes(id)?.count ?? 0
                    let s = max(pos, 0), t = pos + len
                    if t > s { spans.append((s, t)) }
                    pos += len
                }
                let cuts = Set(spans.dropLast().map { $0.1 })
                let goldCuts = Set(e.boundaries)
                predicted += cuts.count
                gold += goldCuts.count
                hit += cuts.intersection(goldCuts).count
                tokens += spans.count
                // Spans and morphs both run left to right: one walk, not a search of the morphs per token.
                var m = 0
                for sp in spans {
                    while m < e.morphs.count && e.morphs[m].0 < sp.0 { m += 1 }
                    if m < e.morphs.count && e.morphs[m] == sp { pureTokens += 1 }
                }
            }
        }
        let p = predicted == 0 ? nil : Double(hit) / Double(predicted)
        let r = gold == 0 ? nil : Double(hit) / Double(gold)
        let f = p.flatMap { p in r.map { r in p + r == 0 ? 0 : 2 * p * r / (p + r) } }
        return (p, r, f, tokens == 0 ? nil : Double(pureTokens) / Double(tokens))
    }
}

/// A lexicon of valid words and morphemes, one per line.
public struct Lexicon: Sendable {
    /// The words and morphemes, trimmed of white space.
    public var entries: Set<String>

    /// Reads a lexicon file (UTF-8, plain or zstd): one entry per line; empty lines and lines starting with `#` are
    /// skipped.
    public init(path: String) throws {
        entries = []
        for line in try TextLines.read(path) {
            let t = line.trimmingWhitespace
            if !t.isEmpty && !t.hasPrefix("#") { entries.insert(t) }
        }
        if entries.isEmpty { throw EvalError.content(name: path, line: nil, reason: "no entries (an empty lexicon scores nothing)") }
    }

    /// The share of the token types with nonzero count in `idCounts` that are in the lexicon, as written or in
    /// lower case, after white space is stripped. Types that are only white space are left out; types that are
    /// not well-formed UTF-8 count as invalid.
    public func validity(_ tokenizer: Tokenizer, idCounts: [UInt64]) -> Double {
        var types = 0, valid = 0
        for (id, c) in idCounts.enumerated() where c > 0 {
            guard let b = tokenizer.tokenBytes(UInt32(id)) else { continue }
            guard isValidUTF8(b) else { types += 1; continue }
            let s = String(decoding: b, as: UTF8.self).trimmingWhitespace
            if s.isEmpty { continue }
            types += 1
            if entries.contains(s) || entries.contains(s.lowercased()) { valid += 1 }
        }
        return types == 0 ? 0 : Double(valid) / Double(types)
    }
}

extension String {
    /// Without leading and trailing white space.
    var trimmingWhitespace: String {
        let u = unicodeScalars
        guard let a = u.firstIndex(where: { !$0.properties.isWhitespace }),
              let b = u.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(u[a...b])
    }
}

/// Lines of a small UTF-8 text file, plain or zstd.
enum TextLines {
    static func read(_ path: String) throws -> [String] {
        let data = try InputSource.contents(of: path)
        if let bad = data.withUnsafeBufferPointer({ firstInvalidUTF8Offset($0) }) {
            throw EvalError.content(name: path, line: nil, reason: "invalid UTF-8 at byte \(bad)")
        }
        // Split the bytes, not the String: "\r\n" is one Character, so a CRLF file had no "\n" to split at.
        return data.split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self) }
    }

    /// Number of lines (a last line without a line feed counts).
    static func count(_ path: String) throws -> Int {
        let src = try InputSource(path: path)
        defer { src.close() }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var lines = 0
        var last: UInt8 = 0x0A
        while true {
            let n = try chunk.withUnsafeMutableBytes { try src.read(into: $0) }
            if n == 0 { break }
            for b in chunk[0..<n] where b == 0x0A { lines += 1 }
            last = chunk[n - 1]
        }
        return last == 0x0A ? lines : lines + 1
    }
}

/// A failure of `tok eval`, in one line naming the file and, where it applies, the line.
public enum EvalError: Error, CustomStringConvertible, Sendable {
    case content(name: String, line: Int?, reason: String)
    case invalid(String)

    public var description: String {
        switch self {
        case .content(let name, let line, let reason): return "\(name)\(line.map { " (line \($0))" } ?? ""): \(reason)"
        case .invalid(let m): return m
        }
    }
}
