import TokCore

/// A failure while decoding ids, naming the input, the 1-based line and the 0-based position of the id.
public struct DecodeFailure: Error, CustomStringConvertible {
    /// The input's name, as given to `DecodePipeline.run`.
    public var input: String
    /// The 1-based line of the id.
    public var line: Int
    /// The 0-based index of the id among all the ids of the input (not reset at line breaks).
    public var position: Int
    /// The 1-based index of the id in its line.
    public var column: Int
    /// What is wrong, for the message.
    public var reason: String
    public var description: String { "\(input): line \(line), id \(column) of the line (\(Self.ordinal(position + 1)) of the input): \(reason)" }

    static func ordinal(_ n: Int) -> String {
        let suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th"
        return "\(n)\(suffix)"
    }
}

/// Reads decimal ids separated by spaces, tabs, CRs, LFs, vertical tabs, form feeds, commas or square brackets
/// (after a byte order mark at the start, if any) and writes the decoded bytes,
/// streaming. Brackets are separators so that a list as Python prints it (`[15339, 1917]`, what tiktoken's
/// `encode` returns) or a JSON array of ids decodes as it is.
///
/// Without `lines`, all ids form one stream and line breaks are mere separators. With `lines`, each input line
/// is decoded on its own and followed by a newline (the inverse of `tok encode --lines`). Output is written as
/// soon as characters are complete; an id with no token is an error naming its position, and bytes that do not
/// form UTF-8 are an error unless `lossy`, which replaces them with U+FFFD.
public struct DecodePipeline {
    /// Whose tokens the ids name.
    public let tokenizer: Tokenizer
    /// Decode each input line on its own and end its output with a newline (the inverse of `encode --lines`).
    public var lines = false
    /// Replace bytes that do not form UTF-8 with U+FFFD instead of failing.
    public var lossy = false
    /// Write the tokens' bytes unchanged, valid UTF-8 or not (the inverse of `encode --invalid-utf8 bytes`).
    public var raw = false

    /// A pipeline for `tokenizer`; the flags are those of the properties of the same names.
    public init(tokenizer: Tokenizer, lines: Bool = false, lossy: Bool = false, raw: Bool = false) {
        self.tokenizer = tokenizer
        self.lines = lines
        self.lossy = lossy
        self.raw = raw
    }

    /// Decodes one input: `read` fills the buffer with the next input bytes and returns how many (0 at the end),
    /// `write` receives the output in order. Throws `DecodeFailure`, naming the input `name`, for a bad id.
    /// When a read returns less than asked (input from a pipe that has nothing more for now), what is decoded so
    /// far is written and `flush` is called, so that a slow stream of ids is decoded as it comes.
    public func run(name: String, read: (UnsafeMutableRawBufferPointer) throws -> Int,
                    write: (UnsafeBufferPointer<UInt8>) throws -> Void, flush: () throws -> Void = {}) throws {
        var decoder = StreamingDecoder(tokenizer: tokenizer, lossy: lossy)
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        // Not zero-filled: a read touches only the pages it fills. A zeroed 1 MB array faulted in 256 fresh pages
        // for every input, and decoding 20,000 files of one id took 10.9 s (0.2 s with the list of names alone).
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buf.deallocate() }
        var value: UInt64 = 0
        var inNumber = false
        var line = 1
        var position = 0
        var lineHasContent = false
        var lineStartPosition = 0
        var lastIDLine = 1   // the line of the last id read, which an unfinished character at the end belongs to
        var lineFirst = 0    // the position of the first id of the current line
        var lastIDLineFirst = 0

        func fail(_ reason: String) -> DecodeFailure {
            DecodeFailure(input: name, line: line, position: position, column: position - lineFirst + 1, reason: reason)
        }
        func emit() throws {
            lastIDLine = line
            lastIDLineFirst = lineFirst
            if raw {
                guard let b = tokenizer.tokenBytes(UInt32(value)) else { throw fail("unknown token id \(value)") }
                out.append(contentsOf: b)
                position += 1
                inNumber = false
                value = 0
                return
            }
            do { try decoder.append(UInt32(value), to: &out) } catch {
                switch error {
                case .unknownID(let id, _): throw fail("unknown token id \(id)")
                case .invalidUTF8(let at, _):
                    // Where the broken character began, when an earlier id did (the decoder counts from its start:
                    // this line's with `lines`, where `lineStartPosition` is that line's first id, else 0).
                    if let start = decoder.incompleteCharacterStart, start < at {
                        throw fail("the ids produce invalid UTF-8: this id breaks off the character that the "
                                   + "\(DecodeFailure.ordinal(start + lineStartPosition + 1)) id of the input begins (use --lossy to replace it)")
                    }
                    throw fail("the ids produce invalid UTF-8 (use --lossy to replace it)")
                }
            }
            position += 1
            inNumber = false
            value = 0
        }
        func endStream() throws {
            if raw { return }
            // Where the unfinished character began (the decoder counts from its start, as above).
            let begun = decoder.incompleteCharacterStart.map { $0 + lineStartPosition }
            do { try decoder.finish(to: &out) } catch {
                let p = max(position - 1, lineStartPosition)
                let which = begun.map { " that the \(DecodeFailure.ordinal($0 + 1)) id of the input begins" } ?? ""
                throw DecodeFailure(input: name, line: lastIDLine, position: p, column: p - lastIDLineFirst + 1,
                                    reason: "the ids end in the middle of a UTF-8 character\(which) (use --lossy to replace it)")
            }
        }

        // A byte order mark at the very start, as some editors write, is skipped, also when a slow pipe hands it
        // over in pieces: `bomBytes` of it have been read, or -1 once past it.
        var bomBytes = 0
        while true {
            let n = try read(buf)
            if n == 0 {
                if bomBytes > 0 { throw fail("expected a decimal token id, found byte 0xef (an incomplete byte order mark)") }
                break
            }
            var from = 0
            while bomBytes >= 0 && from < n {
                if buf[from] == (bomBytes == 0 ? 0xEF : bomBytes == 1 ? 0xBB : 0xBF) {
                    from += 1
                    bomBytes += 1
                    if bomBytes == 3 { bomBytes = -1 }
                } else {
                    // Not a byte order mark: what was taken of one is a stray byte, reported as such below.
                    if bomBytes > 0 { throw fail("expected a decimal token id, found byte 0xef") }
                    bomBytes = -1
                }
            }
            for i in from..<n {
                let c = buf[i]
                if c >= 0x30 && c <= 0x39 {
                    value = value * 10 + UInt64(c - 0x30)
                    if value > UInt64(UInt32.max) { throw fail("id out of range (above 4294967295)") }
                    inNumber = true
                    lineHasContent = true
                } else if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A || c == 0x2C || c == 0x5B || c == 0x5D
                            || c == 0x0B || c == 0x0C {
                    if inNumber { try emit() }
                    if c == 0x0A {
                        if lines {
                            try endStream()
                            decoder = StreamingDecoder(tokenizer: tokenizer, lossy: lossy)
                            out.append(0x0A)
                            lineStartPosition = position
                        }
                        line += 1
                        lineFirst = position
                        lineHasContent = false
                    }
                } else {
                    let hex = "0x\(c < 16 ? "0" : "")\(String(c, radix: 16))"
                    let shown = c > 0x20 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))' (\(hex))" : "byte \(hex)"
                    let why = c == 0x2D ? "; ids are not negative" : c == 0x2B ? "; write ids without a sign" : ""
                    throw fail("expected a decimal token id, found \(shown)\(why)")
                }
            }
            if out.count >= 1 << 16 || (n < buf.count && !out.isEmpty) {
                try out.withUnsafeBufferPointer { try write($0) }
                out.removeAll(keepingCapacity: true)
                if n < buf.count { try flush() }
            }
        }
        if inNumber { try emit() }
        try endStream()
        if lines && lineHasContent { out.append(0x0A) }
        try out.withUnsafeBufferPointer { try write($0) }
    }
}
