import TokCore

/// How `tok encode` writes tokens.
public enum OutputFormat: String, Sendable, CaseIterable {
    /// Decimal ids separated by spaces.
    case ids
    /// Token strings in GPT-2's byte-level alphabet (space as `Ġ`, newline as `Ċ`), separated by spaces.
    case tokens
    /// One JSON object per input line (with `--lines`) or per input: `ids`, `tokens` (each token's bytes as
    /// UTF-8, invalid sequences replaced by U+FFFD) and `offsets` (`[start, end]` byte offsets into the line or
    /// input).
    case jsonl
}

/// What to do with input that is not valid UTF-8.
public enum InvalidUTF8Policy: String, Sendable, CaseIterable {
    /// Stop with an error naming the byte offset of the first invalid byte.
    case error
    /// Replace each maximal invalid subpart with U+FFFD (as Python's `errors="replace"`) and go on.
    case replace
    /// Encode the bytes as they are; byte-level BPE represents any byte, and decoding gives them back.
    case bytes
}

enum TokenFormatting {
    /// Appends `ids` written per `format` (ids or tokens), separated by spaces.
    static func append(_ ids: UnsafeBufferPointer<UInt32>, format: OutputFormat, tokenizer: Tokenizer,
                       to out: inout ByteBuilder) {
        var first = true
        switch format {
        case .ids, .jsonl:
            // Below a few thousand ids, building the table (about 1 ms) would cost more than it saves.
            if ids.count >= 4096 {
                out.appendDecimalList(ids, table: DecimalIDs.shared(count: tokenizer.vocabularySize))
            } else {
                out.appendDecimalList(ids)
            }
        case .tokens:
            for id in ids {
                if !first { out.append(0x20) }
                first = false
                if let b = tokenizer.tokenBytes(id) { out.appendByteLevel(b) }
            }
        }
    }

    /// Appends one JSON line: `{"ids":[...],"tokens":[...],"offsets":[[s,e],...]}` and a newline, where each token
    /// ends at `ends` and starts where the one before it ends (the first at 0). A line of the whole input can be
    /// many times larger than it: `flush` is called whenever `out` holds a megabyte or more.
    static func appendJSONLine(ids: [UInt32], ends: [Int], tokenizer: Tokenizer,
                               to out: inout ByteBuilder, flush: () throws -> Void) rethrows {
        let chunk = 1 << 16
        out.append("{\"ids\":[")
        let table = ids.count >= 4096 ? DecimalIDs.shared(count: tokenizer.vocabularySize) : nil
        try ids.withUnsafeBufferPointer { all in
            var k = 0
            while k < all.count {
                let end = min(k + chunk, all.count)
                if k > 0 { out.append(0x2C) }
                let part = UnsafeBufferPointer(rebasing: all[k..<end])
                if let table { out.appendDecimalList(part, table: table, separator: 0x2C) } else { out.appendDecimalList(part, separator: 0x2C) }
                k = end
                if out.count >= 1 << 20 { try flush() }
            }
        }
        out.append("],\"tokens\":[")
        for (k, id) in ids.enumerated() {
            if k > 0 { out.append(0x2C) }
            if let b = tokenizer.tokenBytes(id) { out.appendJSONQuoted(b) } else { out.append("\"\"") }
            if k & (chunk - 1) == chunk - 1 && out.count >= 1 << 20 { try flush() }
        }
        out.append("],\"offsets\":[")
        for k in ids.indices {
            if k > 0 { out.append(0x2C) }
            out.append(0x5B)
            out.appendDecimal(UInt64(k > 0 ? ends[k - 1] : 0))
            out.append(0x2C)
            out.appendDecimal(UInt64(ends[k]))
            out.append(0x5D)
            if k & (chunk - 1) == chunk - 1 && out.count >= 1 << 20 { try flush() }
        }
        out.append("]}\n")
    }
}

extension ByteBuilder {
    /// Appends `bytes` as a JSON string literal (see `JSONString.writeQuoted`).
    @inline(__always)
    func appendJSONQuoted(_ bytes: UnsafeBufferPointer<UInt8>) {
        ensure(JSONString.quotedCapacity(bytes.count))
        _count += JSONString.writeQuoted(bytes, to: base + _count)
    }

    /// Appends `bytes` in GPT-2's byte-level alphabet (`ByteLevelAlphabet`): one or two bytes of UTF-8 each.
    @inline(__always)
    func appendByteLevel(_ bytes: UnsafeBufferPointer<UInt8>) {
        ensure(2 &* bytes.count &+ 2)
        let words = ByteBuilder.byteLevelWords
        var w = base + _count
        for b in bytes {
            // The character's UTF-8 in the low two bytes, its length above: both bytes are stored, and the next
            // character overwrites the second when the first is all.
            let word = words[Int(b)]
            UnsafeMutableRawPointer(w).storeBytes(of: UInt16(truncatingIfNeeded: word).littleEndian, as: UInt16.self)
            w += Int(word >> 16)
        }
        _count = w - base
    }

    /// `ByteLevelAlphabet.utf8` as words for `appendByteLevel`.
    nonisolated(unsafe) static let byteLevelWords: UnsafePointer<UInt32> = {
        let p = UnsafeMutablePointer<UInt32>.allocate(capacity: 256)
        for (b, u) in ByteLevelAlphabet.utf8.enumerated() {
            precondition(u.count == 1 || u.count == 2)
            p[b] = UInt32(u[0]) | (u.count == 2 ? UInt32(u[1]) << 8 : 0) | UInt32(u.count) << 16
        }
        return UnsafePointer(p)
    }()
}
