import TokCore

// Input that gives no safe cut for megabytes (`SafeCut` cuts around spaces, line feeds, ASCII kind changes and CJK
// punctuation): Thai without spaces, Chinese without punctuation, a gigabyte of one letter or of NUL bytes. Two
// more ways on keep memory bounded there, for the standard patterns (cl100k, o200k, llama3, gpt2) only:
//
// - Piece ends far from the end of what is buffered are cuts. The scanners end a piece after reading at most a
//   few characters past it, except in a run of white space, whose pieces depend on where the run ends and on
//   whether it holds a CR or LF (`\s*[\r\n]+`, `\s+(?!\S)`). So a piece end is final when it lies before the
//   buffer's trailing run of white space, and `lookahead` bytes before that.
// - A piece longer than the buffer, and not of white space, is streamed (`LongPieceStream`). Its end is found by
//   scanning from a character inside it: a piece of letters, digits or punctuation ends, wherever its scan
//   starts past its first character, where its run of that class ends (o200k's case rules, contractions and the
//   CR, LF and "/" after punctuation included).
//
// Text with special tokens matched (`--special allow|error`), a normalizer or jsonl output is held whole as before.

extension EncodePipeline {
    /// Bytes past a piece end that the scanners may have read to end it.
    static let lookahead = 16

    /// Whether long stretches without a safe cut may be cut at far piece ends and long pieces streamed.
    var streamsLongStretches: Bool {
        guard let rule = tokenizer.preTokenizer.cutRule, rule.regexPieceEnds else { return false }
        return tokenizer.normalizer == nil && options.invalidUTF8 != .bytes
            && (options.special == .plain || tokenizer.specialTokens.isEmpty)
            && (options.countOnly || options.format != .jsonl)
    }

    /// Uncut bytes that make a stretch long: 4 MB with the default 256 KB segments.
    var longStretchBytes: Int { 16 * max(options.segmentBytes, 1024) }

    /// What to do with a long stretch without safe cuts.
    enum LongStretch: Equatable {
        /// Cut it at these places (piece ends far from its end, about a segment apart, increasing).
        case cuts([Int])
        /// It starts with one piece longer than it, not of white space: stream that piece.
        case longPiece
        /// Keep it and read more (it ends in a run of white space that starts before any far piece end).
        case hold
    }

    /// Where the long stretch `text` (more bytes follow it) can be cut, or whether its first piece is streamed.
    func longStretch(_ text: UnsafeBufferPointer<UInt8>) -> LongStretch {
        let bound = EncodePipeline.trailingWhiteSpaceStart(text) - EncodePipeline.lookahead
        guard bound > 0 else { return .hold }
        let apart = max(options.segmentBytes, 1024)
        var cuts: [Int] = []
        var lastFinal = 0
        tokenizer.preTokenizer.forEachBatch(text) { batch in
            for e in batch where e <= bound {
                lastFinal = e
                if e - (cuts.last ?? 0) >= apart { cuts.append(e) }
            }
        }
        if lastFinal > (cuts.last ?? 0) { cuts.append(lastFinal) }
        if !cuts.isEmpty { return .cuts(cuts) }
        // The first piece goes past `bound`. Pieces are all white space or none past their first character.
        let probe = EncodePipeline.characterStart(text, atOrAfter: min(8, bound))
        if probe >= bound || EncodePipeline.isWhiteSpace(text, at: probe) { return .hold }
        return .longPiece
    }

    /// Where the run of white space that ends `text` starts (`text.count` if it does not end in white space).
    static func trailingWhiteSpaceStart(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var i = text.count
        while i > 0 {
            var s = i - 1
            while s > 0 && s > i - 4 && text[s] & 0xC0 == 0x80 { s -= 1 }
            if !isWhiteSpace(text, at: s) { return i }
            i = s
        }
        return 0
    }

    /// The first character start at or after `i` (at most 3 bytes on; invalid UTF-8 has none).
    static func characterStart(_ text: UnsafeBufferPointer<UInt8>, atOrAfter i: Int) -> Int {
        var k = i
        while k < text.count && k < i + 3 && text[k] & 0xC0 == 0x80 { k += 1 }
        return k
    }

    /// The last character start at or before `i`.
    static func characterStart(_ text: UnsafeBufferPointer<UInt8>, atOrBefore i: Int) -> Int {
        var k = i
        while k > 0 && k > i - 3 && k < text.count && text[k] & 0xC0 == 0x80 { k -= 1 }
        return k
    }

    /// Whether the character starting at `i` is white space (`\s`); bytes that are not UTF-8 are not.
    static func isWhiteSpace(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        let b0 = UInt32(text[i])
        if b0 < 0x80 { return UnicodeCharacterClass(codePoint: b0).contains(.whiteSpace) }
        let len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0
        guard len > 0, i + len <= text.count else { return false }
        var cp = b0 & (0x7F >> UInt32(len))
        for k in 1..<len {
            let b = UInt32(text[i + k])
            guard b & 0xC0 == 0x80 else { return false }
            cp = cp << 6 | (b & 0x3F)
        }
        return UnicodeCharacterClass(codePoint: cp).contains(.whiteSpace)
    }

    /// The end of the first piece of `text`, scanned from its start.
    func firstPieceEnd(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var end = text.count
        var seen = false
        tokenizer.preTokenizer.forEachBatch(text) { batch in
            if !seen { end = batch[0]; seen = true }
        }
        return end
    }

    /// One step of streaming a long piece that starts at (or, after the first step, runs through) `buffer[0]`:
    /// finds whether the piece ends in the buffer, feeds its bytes to `stream`, writes the tokens made final, and
    /// drops the bytes fed. Sets `stream` to nil once the piece's last bytes are fed. Returns false, having done
    /// nothing, when the buffer holds too little of the piece to go on (a run of line feeds after punctuation).
    func streamStep(_ stream: inout LongPieceStream?, _ encoder: Encoder, _ buffer: inout GrowableBytes,
                    _ blockBase: inout Int, _ writer: inout OrderedWriter, eof: Bool, name: String,
                    write: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Bool {
        let all = UnsafeBufferPointer(start: buffer.base, count: buffer.count)
        var scanEnd = all.count
        var closed = eof
        if options.lines, let lf = all.firstIndex(of: 0x0A) { scanEnd = lf; closed = true }
        // A step takes at most about four segments, so that its tokens and output stay small.
        let most = 4 * max(options.segmentBytes, 1024)
        if scanEnd > most { scanEnd = most; closed = false }
        let scanned = UnsafeBufferPointer(rebasing: all[0..<scanEnd])
        let end = scanEnd == 0 ? 0 : firstPieceEnd(scanned)
        let done = closed || end <= scanEnd - EncodePipeline.lookahead
        var fed = end
        if !done {
            // The next scan starts where this feed stops, so it must stop at a character of the piece's run, not
            // in the CR, LF and "/" that o200k's (and cl100k's CR and LF that) punctuation pieces take after them.
            fed = EncodePipeline.characterStart(all, atOrBefore: scanEnd - EncodePipeline.lookahead)
            while fed > 0 && EncodePipeline.isWhiteSpace(all, at: fed) {
                fed = EncodePipeline.characterStart(all, atOrBefore: fed - 1)
            }
            if fed == 0 { return false }
        }
        var tokens = TokenBuffer(capacity: fed / 2 + 16)
        guard var s = stream, encoder.feed(&s, UnsafeBufferPointer(rebasing: all[0..<fed]), final: done, into: &tokens) else {
            try writer.flush(write: write)
            throw EncodeFailure.unstableLongPiece(input: name, offset: blockBase + fed)
        }
        stream = done ? nil : s
        var r = SegmentResult()
        r.tokens = tokens.count
        r.firstEmpty = tokens.count == 0
        r.lastEmpty = r.firstEmpty
        if options.countOnly {
            r.counts = [tokens.count]
        } else {
            r.text = spare.take(capacity: tokens.count * 8 + 64)
            TokenFormatting.append(tokens.ids, format: options.format, tokenizer: tokenizer, to: &r.text)
        }
        try writer.add(&r, lastByte: fed > 0 ? all[fed - 1] : nil, write: write)
        let rest = buffer.count - fed
        if fed > 0 && rest > 0 { buffer.base.update(from: buffer.base + fed, count: rest) }
        buffer.count = rest
        blockBase += fed
        return true
    }
}
