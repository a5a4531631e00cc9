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
            let alphabet = ByteLevelAlphabet.utf8
            for id in ids {
                if !first { out.append(0x20) }
                first = false
                if let b = tokenizer.tokenBytes(id) {
                    for byte in b { alphabet[Int(byte)].withUnsafeBufferPointer { out.append($0) } }
                }
            }
        }
    }

    /// Appends one JSON line: `{"ids":[...],"tokens":[...],"offsets":[[s,e],...]}` and a newline; the offsets are
    /// `starts` and `ends` less `origin`.
    static func appendJSONLine(ids: [UInt32], starts: [Int], ends: [Int], from origin: Int, tokenizer: Tokenizer,
                               to out: inout ByteBuilder) {
        out.append("{\"ids\":[")
        for (k, id) in ids.enumerated() {
            if k > 0 { out.append(0x2C) }
            out.appendDecimal(UInt64(id))
        }
        out.append("],\"tokens\":[")
        for (k, id) in ids.enumerated() {
            if k > 0 { out.append(0x2C) }
            let text = tokenizer.tokenBytes(id).map { String(decoding: $0, as: UTF8.self) } ?? ""
            out.append(JSONValue.quote(text))
        }
        out.append("],\"offsets\":[")
        for k in ids.indices {
            if k > 0 { out.append(0x2C) }
            out.append(0x5B)
            out.appendDecimal(UInt64(starts[k] - origin))
            out.append(0x2C)
            out.appendDecimal(UInt64(ends[k] - origin))
            out.append(0x5D)
        }
        out.append("]}\n")
    }
}
