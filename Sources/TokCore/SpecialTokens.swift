/// What to do with special-token strings (such as `<|endoftext|>`) found in input text.
public enum SpecialTokenPolicy: String, Sendable, CaseIterable {
    /// Special strings are ordinary text (tiktoken's `encode_ordinary`). The default: input can never smuggle in
    /// a control token.
    case plain
    /// Special strings become their special ids (tiktoken's `encode(allowed_special="all")`).
    case allow
    /// Special strings are an error, reported with their byte offset.
    case error
}

/// The special tokens of a vocabulary and a matcher that finds them in text.
///
/// Matching is longest-first at the leftmost position. Candidates are found by their first byte; each candidate
/// position is then checked with one hash lookup per distinct special length.
public struct SpecialTokens: Sendable {
    /// The special tokens as (string, id), sorted by id (strings that share an id in the order given).
    public let entries: [(text: String, id: UInt32)]
    /// The special strings with their index in `entries` as rank (not their ids, which can be large: a table
    /// is sized by its largest rank).
    @usableFromInline let table: RankTable?
    @usableFromInline let firstByte: [Bool]
    @usableFromInline let lengths: [Int]   // distinct lengths, longest first
    /// Special-token ids are below this (2^24: real vocabularies stay under a million ids).
    public static let idLimit: UInt32 = 1 << 24

    /// Length in bytes of the longest special token (0 when there are none).
    public let maxLength: Int
    /// By entry (index in `entries`): not matched at all, so its text is ordinary text (see `selecting`).
    @usableFromInline var ignored: [Bool]
    /// By entry: matched, and encoding text that holds it is an error even under `SpecialTokenPolicy.allow`.
    @usableFromInline var refused: [Bool]
    /// Whether some entry is refused.
    public private(set) var refusesAny = false
    /// The first bytes and the distinct lengths (shortest first) of the refused entries, for `firstRefused`.
    @usableFromInline var refusedFirstByte: [Bool] = []
    @usableFromInline var refusedLengths: [Int] = []

    /// The special tokens `(text, id)`. Fails on an empty string or a repeated string.
    ///
    /// Two strings may share an id, as in tiktoken's `o200k_harmony`, where `<|endofprompt|>` and
    /// `<|reserved_200018|>` are both 200018: each encodes to it, and it decodes to the one listed first (what
    /// tiktoken's decoder gives for that vocabulary).
    public init(_ tokens: [(String, UInt32)]) throws(VocabularyError) {
        // By id, and in the order given among equal ids, so that the first listed is the first entry of its id.
        let sorted = tokens.enumerated().sorted { ($0.element.1, $0.offset) < ($1.element.1, $1.offset) }.map(\.element)
        entries = sorted.map { (text: $0.0, id: $0.1) }
        var fb = [Bool](repeating: false, count: 256)
        var bytes: [UInt8] = [], ends: [Int] = []
        var lens = Set<Int>()
        for (s, id) in sorted {
            let u = Array(s.utf8)
            if u.isEmpty { throw VocabularyError(file: "special tokens", line: nil, reason: "empty special token (id \(id))") }
            // Ids index tables (an evaluation's counts, a decoder's), so they cannot be arbitrarily large.
            if id >= SpecialTokens.idLimit {
                throw VocabularyError(file: "special tokens", line: nil, reason: "special token \(JSONValue.quote(s)) has id \(id), above the largest allowed (\(SpecialTokens.idLimit - 1))")
            }
            fb[Int(u[0])] = true
            bytes += u; ends.append(bytes.count)
            lens.insert(u.count)
        }
        firstByte = fb
        ignored = [Bool](repeating: false, count: sorted.count)
        refused = ignored
        lengths = lens.sorted(by: >)
        maxLength = lengths.first ?? 0
        if sorted.isEmpty {
            table = nil
        } else {
            do { table = try RankTable(bytes: bytes, ends: ends, ranks: Array(0..<UInt32(sorted.count))) } catch {
                if case .duplicateKey(let i, _, _) = error {
                    throw VocabularyError(file: "special tokens", line: nil,
                                          reason: "special token \(JSONValue.quote(sorted[i].0)) is given twice")
                }
                throw VocabularyError(file: "special tokens", line: nil, reason: "\(error)")
            }
        }
    }

    /// No special tokens.
    public static let none = try! SpecialTokens([])

    /// These special tokens as tiktoken's `encode(text, allowed_special=allowed, disallowed_special=...)` treats
    /// them, for encoding under `SpecialTokenPolicy.allow`: the `allowed` ones become their ids, and the others are
    /// ordinary text (`others` `.plain`: `disallowed_special=()`) or an error (`.error`: tiktoken's default
    /// `disallowed_special="all"`); `.allow` allows them all. Every token can still be decoded. Fails naming an
    /// allowed string that is not one of the special tokens. Strings are compared by their UTF-8 bytes, as tiktoken
    /// compares them (not by Swift's canonical equivalence, under which "é" and "e\u{301}" are equal).
    public func selecting(allowed: some Sequence<String>, others: SpecialTokenPolicy) throws(VocabularyError) -> SpecialTokens {
        let allowed = Array(allowed)   // read twice; a sequence may be single-pass
        let allowedBytes = Set(allowed.map { Array($0.utf8) })
        for a in allowed where id(of: a) == nil {
            if let e = entries.first(where: { $0.text == a }) {
                func hex(_ t: String) -> String { t.utf8.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ") }
                throw VocabularyError(file: "special tokens", line: nil,
                                      reason: "\(JSONValue.quote(a)) is not a special token of this vocabulary: its UTF-8 bytes (\(hex(a))) differ from those of the canonically equivalent \(JSONValue.quote(e.text)) (\(hex(e.text)))")
            }
            let known = entries.prefix(8).map { JSONValue.quote($0.text) }.joined(separator: ", ") + (entries.count > 8 ? ", ..." : "")
            throw VocabularyError(file: "special tokens", line: nil,
                                  reason: "\(JSONValue.quote(a)) is not a special token of this vocabulary (\(entries.isEmpty ? "it has none" : known))")
        }
        var s = self
        for (k, e) in entries.enumerated() {
            let isAllowed = others == .allow || allowedBytes.contains(Array(e.text.utf8))
            s.ignored[k] = !isAllowed && others == .plain
            s.refused[k] = !isAllowed && others == .error
        }
        s.refusesAny = s.refused.contains(true)
        s.refusedFirstByte = [Bool](repeating: false, count: 256)
        var lens = Set<Int>()
        for (k, e) in entries.enumerated() where s.refused[k] {
            let u = Array(e.text.utf8)
            s.refusedFirstByte[Int(u[0])] = true
            lens.insert(u.count)
        }
        s.refusedLengths = lens.sorted()
        return s
    }

    /// Whether encoding under `policy` can fail on a special token: under `.error`, or under `.allow` when a
    /// selection refuses some (see `selecting`).
    public func canRefuse(under policy: SpecialTokenPolicy) -> Bool {
        policy == .error || (policy == .allow && refusesAny)
    }

    /// Whether encoding text that holds the special token `entry` (an index in `entries`, as `firstMatch` gives
    /// it) is an error even under `SpecialTokenPolicy.allow` (see `selecting`). By entry, not by id: two strings
    /// that share an id may be selected differently, as tiktoken selects strings.
    @inlinable
    public func refuses(entry: Int) -> Bool { refusesAny && refused[entry] }

    /// The index in `entries` of the special token `id` (the first listed, if several strings share it).
    func entryIndex(of id: UInt32) -> Int? {
        // `entries` is sorted by id: binary search.
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].id < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < entries.count && entries[lo].id == id ? lo : nil
    }

    /// Throws, naming `file`, if a special token's id is also an ordinary token of `ranks`: decoding that id
    /// would be ambiguous.
    public func checkDisjoint(from ranks: RankTable, file: String) throws(VocabularyError) {
        for e in entries where ranks.bytes(ofRank: e.id) != nil {
            throw VocabularyError(file: file, line: nil,
                                  reason: "special token \(JSONValue.quote(e.text)) has id \(e.id), which is an ordinary token")
        }
    }

    /// Whether there are no special tokens.
    public var isEmpty: Bool { entries.isEmpty }

    /// The id of special token `text` (the same UTF-8 bytes), if it is one.
    public func id(of text: String) -> UInt32? { entries.first(where: { $0.text.utf8.elementsEqual(text.utf8) })?.id }

    /// The bytes of special token `id`, if it is one.
    public func bytes(of id: UInt32) -> UnsafeBufferPointer<UInt8>? {
        guard let k = entryIndex(of: id) else { return nil }
        return table?.bytes(ofRank: UInt32(k))
    }

    /// The start, length and text of the first occurrence at or after `from` in `text[..<end]` of a refused special token
    /// (see `selecting`), whether or not matching would take it: tiktoken refuses text that holds a disallowed
    /// special anywhere, also inside or across an allowed one (`<|im_start|>` in an allowed
    /// `<|im_start|>assistant`).
    public func firstRefused(in text: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> (start: Int, length: Int, text: String)? {
        guard refusesAny, let table, let base = text.baseAddress else { return nil }
        var i = from
        while i < end {
            if refusedFirstByte[Int(base[i])] {
                for len in refusedLengths where i + len <= end {
                    let r = table.rank(base + i, len)
                    if r != .max && refused[Int(r)] { return (i, len, entries[Int(r)].text) }
                }
            }
            i += 1
        }
        return nil
    }

    /// The first special token at or after `from` in `text[..<end]`: its start, length, id and index in `entries`.
    /// Ignored tokens (see `selecting`) are never matched.
    @inlinable
    public func firstMatch(in text: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> (start: Int, length: Int, id: UInt32, entry: Int)? {
        guard let table, let base = text.baseAddress else { return nil }
        var i = from
        return firstByte.withUnsafeBufferPointer { fb in
            while i < end {
                if fb[Int(base[i])] {
                    for len in lengths where i + len <= end {
                        let r = table.rank(base + i, len)
                        if r != .max && !ignored[Int(r)] { return (i, len, entries[Int(r)].id, Int(r)) }
                    }
                }
                i += 1
            }
            return nil
        }
    }
}
