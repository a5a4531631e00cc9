import TokCore

/// The result of training: ordinary tokens by id (0-255 the bytes, then merged tokens in the order they were
/// learned), the merges as learned, special tokens after the ordinary ids, and how the text is pre-tokenized.
public struct TrainedVocabulary: Sendable {
    /// Bytes of each ordinary token; the index is its id and its rank.
    public var tokens: [[UInt8]]
    /// Merges as (left id, right id), in the order they were learned.
    public var merges: [(left: UInt32, right: UInt32)]
    /// Special tokens with their ids (after every ordinary id).
    public var specialTokens: [(text: String, id: UInt32)]
    /// The pre-tokenization regex (ICU syntax; for `icu-words` vocabularies, empty).
    public var pattern: String
    /// `icu-words` when pieces came from UAX #29 word breaks instead of `pattern`.
    public var preTokenizer: String?
    /// The Unicode normalization applied to the training text (`nfc`, `nfkc`, ...), if any.
    public var normalization: String?

    /// A vocabulary from its parts; the special tokens get the ids after the last ordinary token, in the order given.
    public init(tokens: [[UInt8]], merges: [(left: UInt32, right: UInt32)], specialTokens: [String], pattern: String,
                preTokenizer: String? = nil, normalization: String? = nil) {
        self.tokens = tokens
        self.merges = merges
        self.specialTokens = specialTokens.enumerated().map { ($0.element, UInt32(tokens.count + $0.offset)) }
        self.pattern = pattern
        self.preTokenizer = preTokenizer
        self.normalization = normalization
    }

    /// The vocabulary a trainer ended with.
    public init(trainer: BPETrainer, specialTokens: [String], pattern: String, preTokenizer: String? = nil,
                normalization: String? = nil) {
        let tokens = (0..<trainer.tokenCount).map { Array(trainer.bytes(of: UInt32($0))) }
        self.init(tokens: tokens, merges: trainer.merges.map { ($0.left, $0.right) }, specialTokens: specialTokens,
                  pattern: pattern, preTokenizer: preTokenizer, normalization: normalization)
    }

    // MARK: File contents

    /// The `.tiktoken` file: `base64(bytes) rank` per line, by rank.
    public func tiktokenFile() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(tokens.count * 16)
        for (id, t) in tokens.enumerated() {
            t.withUnsafeBufferPointer { out += Base64.encode($0) }
            out.append(0x20)
            out += Array(String(id).utf8)
            out.append(0x0A)
        }
        return out
    }

    /// The sidecar JSON next to the `.tiktoken` file (read by `tok encode -t FILE`).
    public func sidecarFile() -> [UInt8] {
        var s = "{\n  \"pat_str\": " + JSONValue.quote(pattern) + ",\n  \"special_tokens\": {"
        s += specialTokens.map { "\n    " + JSONValue.quote($0.text) + ": " + String($0.id) }.joined(separator: ",")
        s += specialTokens.isEmpty ? "}" : "\n  }"
        if let preTokenizer { s += ",\n  \"pretokenizer\": " + JSONValue.quote(preTokenizer) }
        if let normalization { s += ",\n  \"normalizer\": " + JSONValue.quote(normalization) }
        s += ",\n  \"n_vocab\": " + String(tokens.count + specialTokens.count) + "\n}\n"
        return Array(s.utf8)
    }

    /// For every merged token, the two tokens tiktoken's rule merges into it: BPE on its bytes with only the lower
    /// ranks. These are the merges an HF BPE model needs to give the same ids as the rank table; they are the
    /// learned merges except where a later merge re-made an existing token's bytes. Nil for a token that does not
    /// split in two (impossible for a vocabulary trained by `BPETrainer`).
    public func rankMerges() -> [(left: UInt32, right: UInt32)]? {
        var bytes: [UInt8] = [], ends: [Int] = [], ranks: [UInt32] = []
        for (i, t) in tokens.enumerated() { bytes += t; ends.append(bytes.count); ranks.append(UInt32(i)) }
        guard let table = try? RankTable(bytes: bytes, ends: ends, ranks: ranks) else { return nil }
        var out: [(left: UInt32, right: UInt32)] = []
        out.reserveCapacity(max(0, tokens.count - 256))
        for id in 256..<tokens.count {
            let t = tokens[id]
            guard let parts = t.withUnsafeBufferPointer({ splitBelow($0, rank: UInt32(id), table) }), parts.count == 2 else {
                return nil
            }
            out.append((parts[0], parts[1]))
        }
        return out
    }

    /// BPE on `t` with ranks below `rank` (tiktoken's rule: the lowest-ranked pair first, the leftmost of equal
    /// ones), as token ids. A heap of pair ranks with stale entries skipped, so that a long token (training on a
    /// run of one character makes tokens of many kilobytes) costs O(n log n) lookups, not a pass per merge.
    private func splitBelow(_ t: UnsafeBufferPointer<UInt8>, rank limit: UInt32, _ table: RankTable) -> [UInt32]? {
        guard let p = t.baseAddress else { return nil }
        let n = t.count
        var next = Array(1...n)        // start of the next part (n past the last)
        var prev = Array(-1..<(n - 1)) // start of the previous part (-1 before the first)
        var pairRank = [UInt32](repeating: .max, count: n)   // rank of the part at i merged with the next one
        var heap = MinHeap()
        func rankAt(_ i: Int) -> UInt32 {
            let j = next[i]
            guard j < n else { return .max }
            let v = table.rank(p + i, next[j] - i)
            return v < limit ? v : .max
        }
        for i in 0..<n {
            pairRank[i] = rankAt(i)
            if pairRank[i] != .max { heap.push(UInt64(pairRank[i]) << 32 | UInt64(i)) }
        }
        while let top = heap.pop() {
            let r = UInt32(top >> 32), i = Int(top & 0xFFFF_FFFF)
            guard pairRank[i] == r, next[i] < n else { continue }   // stale: the part changed since
            let j = next[i]
            pairRank[j] = .max
            next[i] = next[j]
            if next[i] < n { prev[next[i]] = i }
            pairRank[i] = rankAt(i)
            if pairRank[i] != .max { heap.push(UInt64(pairRank[i]) << 32 | UInt64(i)) }
            let h = prev[i]
            if h >= 0 {
                pairRank[h] = rankAt(h)
                if pairRank[h] != .max { heap.push(UInt64(pairRank[h]) << 32 | UInt64(h)) }
            }
        }
        var ids: [UInt32] = []
        var i = 0
        while i < n {
            let v = table.rank(p + i, next[i] - i)
            if v == .max { return nil }
            ids.append(v)
            i = next[i]
        }
        return ids
    }

    /// The regex for HF `tokenizers` (Oniguruma): a standard pattern in the form that splits the same there.
    var hfPattern: String { StandardPattern(pattern: pattern)?.oniguramaPatternString ?? pattern }

    private func hfString(_ id: UInt32) -> String { ByteLevelAlphabet.encode(tokens[Int(id)]) }

    /// HF `tokenizer.json`: a byte-level BPE model with the rank merges (`rankMerges()`), `ignore_merges` (whole
    /// pieces that are tokens win, as in tiktoken), a Split pre-tokenizer with the pattern, and the special tokens
    /// as added tokens. Nil when the vocabulary cannot be expressed (pieces from ICU word breaks, which HF has no
    /// pre-tokenizer for).
    public func hfTokenizerFile(merges: [(left: UInt32, right: UInt32)]) -> [UInt8]? {
        guard preTokenizer == nil else { return nil }
        var s = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ["
        s += specialTokens.map {
            "\n    {\"id\": \($0.id), \"content\": \(JSONValue.quote($0.text)), \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}"
        }.joined(separator: ",")
        s += specialTokens.isEmpty ? "],\n" : "\n  ],\n"
        if let normalization {
            s += "  \"normalizer\": {\"type\": \(JSONValue.quote(normalization.uppercased()))},\n"
        } else {
            s += "  \"normalizer\": null,\n"
        }
        s += "  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": "
        s += JSONValue.quote(hfPattern)
        s += "}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}]},\n"
        s += "  \"post_processor\": null,\n"
        s += "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n"
        s += "  \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, \"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": true,\n"
        s += "    \"vocab\": {"
        var first = true
        for id in 0..<tokens.count {
            s += (first ? "\n      " : ",\n      ") + JSONValue.quote(hfString(UInt32(id))) + ": " + String(id)
            first = false
        }
        s += "\n    },\n    \"merges\": ["
        first = true
        for m in merges {
            s += (first ? "\n      [" : ",\n      [") + JSONValue.quote(hfString(m.left)) + ", " + JSONValue.quote(hfString(m.right)) + "]"
            first = false
        }
        s += "\n    ]\n  }\n}\n"
        return Array(s.utf8)
    }

    /// GPT-2 style `vocab.json` (token string in the byte-level alphabet to id, special tokens included).
    public func vocabJSONFile() -> [UInt8] {
        var s = "{"
        var first = true
        for id in 0..<tokens.count {
            s += (first ? "\n  " : ",\n  ") + JSONValue.quote(hfString(UInt32(id))) + ": " + String(id)
            first = false
        }
        for sp in specialTokens {
            s += ",\n  " + JSONValue.quote(sp.text) + ": " + String(sp.id)
        }
        s += "\n}\n"
        return Array(s.utf8)
    }

    /// The first line of `mergesTextFile` (1-based) that HF's reader skips as a header because it starts with
    /// `#version` (a merge whose left token does), and how many such lines there are; nil if none.
    public func mergesHFSkips(_ merges: [(left: UInt32, right: UInt32)]) -> (line: Int, count: Int)? {
        var first: Int? = nil, count = 0
        // "#version" is printable ASCII, which the byte-level alphabet keeps as it is: the token's bytes tell.
        let header = Array("#version".utf8)
        for (k, m) in merges.enumerated() where tokens[Int(m.left)].starts(with: header) {
            if first == nil { first = k + 2 }
            count += 1
        }
        return first.map { ($0, count) }
    }

    /// GPT-2 style `merges.txt`: a version line, then `left right` per merge (`rankMerges()`), in rank order.
    public func mergesTextFile(merges: [(left: UInt32, right: UInt32)]) -> [UInt8] {
        var s = "#version: 0.2\n"
        for m in merges { s += hfString(m.left) + " " + hfString(m.right) + "\n" }
        return Array(s.utf8)
    }
}

/// A binary min-heap of 64-bit keys (rank in the high half, position in the low: the leftmost of equal ranks
/// comes first).
private struct MinHeap {
    private var a: [UInt64] = []

    mutating func push(_ x: UInt64) {
        a.append(x)
        var i = a.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if a[parent] <= x { break }
            a[i] = a[parent]
            i = parent
        }
        a[i] = x
    }

    mutating func pop() -> UInt64? {
        guard let last = a.popLast() else { return nil }
        guard !a.isEmpty else { return last }
        let top = a[0]
        var i = 0
        let n = a.count
        while true {
            var c = 2 * i + 1
            if c >= n { break }
            if c + 1 < n && a[c + 1] < a[c] { c += 1 }
            if a[c] >= last { break }
            a[i] = a[c]
            i = c
        }
        a[i] = last
        return top
    }
}
