import TokCore

// Input that gives no safe cut for megabytes (`SafeCut` cuts around spaces, line feeds, ASCII kind changes and CJK
// punctuation): Thai without spaces, Chinese without punctuation, a gigabyte of one letter or of NUL bytes. Two
// more ways keep memory bounded there, for the standard patterns (cl100k, o200k, llama3, gpt2) only:
//
// - Piece ends far from the end of what is buffered are cuts. The scanners end a piece after reading at most a
//   few characters past it, except in a run of white space, whose pieces depend on where the run ends and on
//   whether it holds a CR or LF (`\s*[\r\n]+`, `\s+(?!\S)`). So a piece end is final when it lies at or before the
//   buffer's trailing run of white space, and `lookahead` bytes before the buffer's end. It is a cut (the text
//   before it split alone as in the whole) when the piece that ends there is not one of white space: those look
//   past their end ("\n\n" before a letter is "\n", "\n" with GPT-2's pattern, but one piece at the end of a text;
//   two spaces before a digit are " ", " " with every pattern). The other alternatives have no look-ahead, so the
//   text before the end of one of their pieces splits alone as in the whole, even when that piece ends in the CR
//   or LF that punctuation takes after it.
// - A piece longer than the buffer is streamed (`LongPieceStream`). Its end is found by scanning again from a
//   character inside it:
//   - a piece of letters, digits or punctuation ends, wherever its scan starts past its first character, where
//     its run of that class ends (o200k's case rules and contractions included), so a scan may start at any such
//     character of it; once a punctuation piece's tail of CR and LF (and "/" in o200k) has begun, it ends at the
//     first byte not in the tail, found without a scan;
//   - except in o200k, whose `[upper]*[lower]+` reads to the end of a run of `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` and
//     gives characters back: "亚洲AV" and capitals is "亚洲", "AV..." before "!" but one piece before "a". There a
//     piece's end is final (a cut, or the end of a streamed piece) only once that run has ended in what is read;
//     until then the bytes before it are streamed, or with fewer than 8 of them, held (a letter without case
//     followed by megabytes of capitals). Unless BPE keeps a token boundary at the piece's end either way (its
//     last token and the capitals' first form a junction: "中国" before "BBBB"): the piece is then ended there and
//     the capitals streamed as a piece of their own (`endBeforeCapitals`). Where it does not (" 亚洲AV" is one
//     token), the first tokens depend on where the run ends, and it is held.
//   - a piece of white space starts a run of white space and ends where the run ends (less its last character
//     before text), or, with the patterns that have `\s*[\r\n]+`, right after the run's last CR or LF. Until the
//     run ends, the bytes surely in the piece are the run so far, or with those patterns, once the run has a CR or
//     LF, the run up to its last CR or LF; a scan that starts after a CR or LF of the piece shows whether another
//     follows (its piece ends in one) or not (the piece ended where the scan started). Until that is known, the
//     white space after the last CR or LF is either in the piece or a piece of its own; unless BPE keeps a token
//     boundary after the CR or LF either way (`endBeforeWhiteSpace`), it is held.
//
// With special tokens matched (`--special allow|error`), ordinary text ends where a special token starts: a piece
// end is a cut only before the first special token in the stretch and `maxLength` bytes before the buffer's end
// (a special token could start after that), and a streamed piece ends at the first special token.
//
// With `--invalid-utf8 bytes`, a byte that is not UTF-8 is a character of its own, as the scanners read it
// (`scannedCharacterLength`): neither letter, number nor white space. Under a normalizer, the input from the first
// long stretch on is normalized as it is read, and then is text without one (`normalizesLongStretches`). With jsonl
// output a long stretch is held whole as before.

extension EncodePipeline {
    /// Bytes past a piece end that the scanners may have read to end it.
    static let lookahead = 16

    /// Whether long stretches without a safe cut may be cut at far piece ends and long pieces streamed
    /// (`normalized`: in input that `run` normalizes as it reads it).
    func streamsLongStretches(normalized: Bool) -> Bool {
        guard let rule = tokenizer.preTokenizer.cutRule, rule.regexPieceEnds else { return false }
        return (tokenizer.normalizer == nil || normalized) && (options.countOnly || options.format != .jsonl)
    }

    /// Whether, under a normalizer, the input from a long stretch without a safe cut on is normalized as it is
    /// read, so that its stretches are cut and streamed as in text without one. Not when special tokens are
    /// matched (they are found in the text as given, and the text between them normalized), nor when bytes that
    /// are not UTF-8 are kept (the normalizer refuses them).
    var normalizesLongStretches: Bool {
        tokenizer.normalizer != nil && matchedSpecials == nil && options.invalidUTF8 != .bytes
            && streamsLongStretches(normalized: true)
    }

    /// The special tokens that input is matched against (nil when they are ordinary text, or there are none).
    var matchedSpecials: SpecialTokens? {
        options.special == .plain || tokenizer.specialTokens.isEmpty ? nil : tokenizer.specialTokens
    }

    /// Uncut bytes that make a stretch long: 4 MB with the default 256 KB segments.
    var longStretchBytes: Int { 16 * max(options.segmentBytes, 1024) }

    /// What to do with a long stretch without safe cuts.
    enum LongStretch: Equatable {
        /// Cut it at these places (piece ends far from its end, about a segment apart, increasing).
        case cuts([Int])
        /// It starts with one piece longer than it (of white space, or not): stream that piece.
        case longPiece(whiteSpace: Bool)
    }

    /// A piece being streamed.
    struct PieceStream {
        var stream: LongPieceStream
        /// A run of white space (else letters, digits or punctuation).
        let whiteSpace: Bool
        /// The pattern ends a run of white space after its last CR or LF (`\s*[\r\n]+`; GPT-2's has not).
        let lineBreaksEndWhiteSpace: Bool
        /// The pattern takes a run of white space that ends the text as one piece, CR and LF included (`\s++$`,
        /// cl100k's): such a run is not ended after its last CR or LF.
        let textEndTakesWhiteSpace: Bool
        /// A CR or LF of this piece has been fed.
        var lineBreakFed = false
        /// Bytes that may follow a CR or LF in the tail of a punctuation piece, if its pattern gives it one
        /// (`[\r\n]*` in cl100k and llama3, `[\r\n/]*` in o200k).
        let tail: PunctuationTail
        /// The bytes fed so far end in that tail: the piece ends at the first byte not in it.
        var inTail = false
        /// The pattern's letter pieces can end where the run of upper-class characters after them decides
        /// (`caseRunsLookFar`, o200k).
        let caseRunsLookFar: Bool
    }

    /// The bytes a punctuation piece takes after its punctuation.
    struct PunctuationTail {
        /// CR and LF (else the pattern has no tail: GPT-2's).
        var lineBreaks = false
        /// "/" too, after a CR or LF (o200k).
        var slash = false

        func contains(_ b: UInt8) -> Bool { b == 0x0A || b == 0x0D || (slash && b == 0x2F) }
    }

    /// The pre-tokenizer's punctuation tail, found by splitting probes: "!\n\nx" is "!\n\n", "x" with a tail, and
    /// "!\n/\nx" is "!\n/\n", "x" when it takes "/".
    var punctuationTail: PunctuationTail {
        let lineBreaks: [UInt8] = [0x21, 0x0A, 0x0A, 0x78]
        let slash: [UInt8] = [0x21, 0x0A, 0x2F, 0x0A, 0x78]
        let hasTail = lineBreaks.withUnsafeBufferPointer { firstPieceEnd($0) } == 3
        return PunctuationTail(lineBreaks: hasTail, slash: hasTail && slash.withUnsafeBufferPointer { firstPieceEnd($0) } == 4)
    }

    /// Where the long stretch `stretch` (more bytes follow it; special tokens are matched afresh from its start)
    /// can be cut, or what its first piece is.
    func longStretch(_ stretch: UnsafeBufferPointer<UInt8>) -> LongStretch {
        var text = stretch
        if let specials = matchedSpecials {
            // A special token at the start is cut off alone. Any other lies in the last `maxLength - 1` bytes, or
            // `SafeCut` would have cut before it; the ordinary text ends there, or may, where one could start.
            let m = specials.firstMatch(in: stretch, from: 0, end: stretch.count)
            if let m, m.start == 0 {
                // A refused token that starts inside it stays whole in the same segment, whose encoding then fails.
                if let r = specials.firstRefused(in: stretch, from: 0, end: min(stretch.count, m.length - 1 + specials.maxLength)),
                   r.start < m.length {
                    return .cuts([max(m.length, r.start + r.length)])
                }
                return .cuts([m.length])
            }
            let limit = min(m?.start ?? stretch.count, stretch.count - specials.maxLength + 1)
            text = UnsafeBufferPointer(rebasing: stretch[0..<max(limit, 0)])
        }
        var bound = min(EncodePipeline.trailingWhiteSpaceStart(text), text.count - EncodePipeline.lookahead)
        if caseRunsLookFar {
            // A piece end is final only if the run of upper-class characters after it ends before `bound`: it lies
            // before the run that reaches `bound` (piece ends are character starts).
            bound = min(bound, EncodePipeline.runStart(text, before: bound, of: .o200kUpper) - 1)
        }
        let apart = max(options.segmentBytes, 1024)
        var cuts: [Int] = []
        var lastFinal = 0
        var start = 0
        tokenizer.preTokenizer.forEachBatch(text) { batch in
            for e in batch {
                defer { start = e }
                guard e <= bound, !EncodePipeline.isWhiteSpacePiece(text, start, e) else { continue }
                lastFinal = e
                if e - (cuts.last ?? 0) >= apart { cuts.append(e) }
            }
        }
        if lastFinal > (cuts.last ?? 0) { cuts.append(lastFinal) }
        if !cuts.isEmpty { return .cuts(cuts) }
        // At most three pieces of white space (one run's), then one piece that goes past `bound`.
        return .longPiece(whiteSpace: EncodePipeline.isWhiteSpacePiece(text, 0, text.count))
    }

    /// Whether the piece `text[start..<end]` is one of white space (else of letters, digits or punctuation, which has
    /// white space only as its first character, or in the CR and LF after punctuation). A piece's end is a cut unless
    /// it is white space: only the white space alternatives look past their end (`\s+(?!\S)`).
    static func isWhiteSpacePiece(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        guard isWhiteSpace(text, at: start) else { return false }
        let second = characterStart(text, atOrAfter: start + 1)
        return second >= end || isWhiteSpace(text, at: second)
    }

    /// Whether the pre-tokenizer ends a run of white space right after its last CR or LF: "\n  x" is "\n", " ",
    /// " x" with `\s*[\r\n]+` (cl100k, o200k, llama3) and "\n ", " x" with GPT-2's pattern.
    var lineBreaksEndWhiteSpace: Bool {
        let probe: [UInt8] = [0x0A, 0x20, 0x20, 0x78]
        return probe.withUnsafeBufferPointer { firstPieceEnd($0) } == 1
    }

    /// Whether the pre-tokenizer takes a run of white space at the end of the text whole, CR and LF included:
    /// "\n  " is one piece with cl100k's pattern (`\s++$`), and "\n", "  " with o200k's and llama3's.
    var textEndTakesWhiteSpace: Bool {
        let probe: [UInt8] = [0x0A, 0x20, 0x20]
        return probe.withUnsafeBufferPointer { firstPieceEnd($0) } == 3
    }

    /// Where the run of white space that ends `text` starts (`text.count` if it does not end in white space).
    static func trailingWhiteSpaceStart(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        runStart(text, before: text.count, of: .whiteSpace)
    }

    /// Where the run of characters in `cls` that ends at `end` starts (`end` if the character before is not).
    static func runStart(_ text: UnsafeBufferPointer<UInt8>, before end: Int, of cls: UnicodeCharacterClass) -> Int {
        var i = end
        while i > 0 {
            let s = characterStart(text, atOrBefore: i - 1)
            if !classes(text, at: s).contains(cls) { return i }
            i = s
        }
        return 0
    }

    /// The first character start at or after `i`, as the scanners read the text: bytes that are not UTF-8 are
    /// characters of their own (`scannedCharacterLength`).
    static func characterStart(_ text: UnsafeBufferPointer<UInt8>, atOrAfter i: Int) -> Int {
        guard let j = coveringStart(text, i) else { return i }
        return j + scannedCharacterLength(text.baseAddress!, at: j, end: text.count)
    }

    /// The last character start at or before `i`.
    static func characterStart(_ text: UnsafeBufferPointer<UInt8>, atOrBefore i: Int) -> Int {
        coveringStart(text, i) ?? i
    }

    /// The start of the well-formed sequence of two to four bytes that has `text[i]` among its continuation bytes, if
    /// one does. Lead bytes are never continuation bytes, so the three bytes before `i` tell, whatever came earlier.
    static func coveringStart(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        guard i > 0, i < text.count, text[i] & 0xC0 == 0x80 else { return nil }
        for j in stride(from: i - 1, through: max(0, i - 3), by: -1) where text[j] >= 0xC2 {
            return j + scannedCharacterLength(text.baseAddress!, at: j, end: text.count) > i ? j : nil
        }
        return nil
    }

    /// Whether the character starting at `i` is white space (`\s`); bytes that are not UTF-8 are not.
    static func isWhiteSpace(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        classes(text, at: i).contains(.whiteSpace)
    }

    /// The classes of the character starting at `i`; none for a byte that is not UTF-8 (the scanners read it as a
    /// character that is neither letter, number nor white space).
    static func classes(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> UnicodeCharacterClass {
        let b0 = UInt32(text[i])
        if b0 < 0x80 { return UnicodeCharacterClass(codePoint: b0) }
        let len = scannedCharacterLength(text.baseAddress!, at: i, end: text.count)
        guard len > 1 else { return [] }
        var cp = b0 & (0x7F >> UInt32(len))
        for k in 1..<len { cp = cp << 6 | (UInt32(text[i + k]) & 0x3F) }
        return UnicodeCharacterClass(codePoint: cp)
    }

    /// Whether a piece's end can depend on the end of the run of `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` characters that
    /// follows it, however long (o200k): "洲" and 24 capitals then "!" is "洲", then the capitals, because
    /// `[upper]*[lower]+` gives back the capitals to end in 洲 (Lo is in both classes); before "a" it is one piece.
    var caseRunsLookFar: Bool {
        let probe = Array("洲AAAAAAAAAAAAAAAAAAAAAAAA!".utf8)
        return probe.withUnsafeBufferPointer { firstPieceEnd($0) } == 3
    }

    /// Whether a character that is not in o200k's upper class (`[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`) starts in
    /// `text[from..<to]`: a piece ending at `from` is then final, its scan having read to the end of that run.
    static func upperRunEnds(_ text: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Bool {
        var i = from
        while i < to {
            if !classes(text, at: i).contains(.o200kUpper) { return true }
            i = characterStart(text, atOrAfter: i + 1)
        }
        return false
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
    /// finds whether the piece ends in the buffer, feeds its bytes to the stream, writes the tokens made final, and
    /// drops the bytes fed. Sets `piece` to nil once the piece's last bytes are fed. Returns false, having done
    /// nothing, when the buffer holds too little of the piece to go on (a run of white space after a line feed).
    func streamStep(_ piece: inout PieceStream?, _ encoder: TokenEncoder, _ buffer: inout GrowableBytes,
                    _ blockBase: inout Int, _ writer: inout OrderedWriter, eof: Bool, name: String,
                    write: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Bool {
        guard var state = piece else { return true }
        let all = UnsafeBufferPointer(start: buffer.base, count: buffer.count)
        var scanEnd = all.count
        var closed = eof
        if options.lines, let lf = all.firstIndex(of: 0x0A) { scanEnd = lf; closed = true }
        // Bytes at the end that may start a special token not read in full yet: not surely in the piece.
        var unknown = 0
        if let specials = matchedSpecials {
            if let m = specials.firstMatch(in: all, from: 0, end: scanEnd) {
                scanEnd = m.start
                closed = true
            } else if !closed {
                unknown = specials.maxLength - 1
            }
        }
        let scanned = UnsafeBufferPointer(rebasing: all[0..<scanEnd])
        var end: Int
        if state.inTail {
            // No scan: a scan from a CR or LF would read it as white space.
            end = 0
            while end < scanEnd && state.tail.contains(all[end]) { end += 1 }
        } else {
            end = scanEnd == 0 ? 0 : firstPieceEnd(scanned)
        }
        let decidedBy = scanEnd - max(EncodePipeline.lookahead, unknown)
        var done: Bool
        if state.inTail {
            done = closed || end < scanEnd
        } else if state.whiteSpace {
            // Decided once the run of white space ends (and what follows it is read).
            var runEnd = 0
            while runEnd < scanEnd && EncodePipeline.isWhiteSpace(all, at: runEnd) {
                runEnd = EncodePipeline.characterStart(all, atOrAfter: runEnd + 1)
            }
            done = closed || runEnd <= decidedBy
            // No CR or LF after the one fed: the piece ended there, unless the run ends the text (what is read is
            // closed right after it: the input's end, a line's with --lines, a special token's start) and the
            // pattern takes such a run whole.
            let runEndsText = closed && end == scanEnd && state.textEndTakesWhiteSpace
            if done && state.lineBreaksEndWhiteSpace && state.lineBreakFed && end > 0
                && all[end - 1] != 0x0A && all[end - 1] != 0x0D && !runEndsText {
                end = 0
            }
        } else {
            done = closed || end <= decidedBy && (!state.caseRunsLookFar || EncodePipeline.upperRunEnds(all, from: end, to: decidedBy))
        }
        var fed = end
        var tokens = TokenBuffer(capacity: 16)
        // The piece was ended and what follows streamed as a piece of its own (both fed, their tokens in `tokens`).
        var split = false
        if !done && !state.whiteSpace && !state.inTail && end <= decidedBy,
           let stop = endBeforeCapitals(&state, encoder, all, end: end, decidedBy: decidedBy, into: &tokens) {
            fed = stop
            split = true
        } else if !done {
            // Feed what is surely in the piece, at most about four segments; the next scan starts where this feed
            // stops, so that must be a character of the piece's run (not the CR, LF and "/" that o200k's
            // punctuation pieces take after them), or in white space, a place the rules above allow.
            // At least 8 bytes short of where the piece (or run) is known to go on, so that the next scan starts
            // with two characters of it: from the last character of a run, a scan could match that character with
            // what follows ("!" before a letter, a space before a word).
            let most = 4 * max(options.segmentBytes, 1024)
            fed = EncodePipeline.characterStart(all, atOrBefore: max(0, min(decidedBy - 8, most)))
            if !state.whiteSpace && !state.inTail && end <= decidedBy {
                // o200k, a piece that may end at `end` or go on through the run of capitals after it: only its
                // bytes before `end` are surely in it.
                fed = min(fed, EncodePipeline.characterStart(all, atOrBefore: max(0, end - 8)))
            }
            if state.inTail {
                // Every byte read is in the tail; feeding stops short of where a special token could start.
            } else if !state.whiteSpace && state.tail.lineBreaks
                        && UnsafeBufferPointer(rebasing: all[0..<fed]).contains(where: { $0 == 0x0A || $0 == 0x0D }) {
                // A piece that is not white space takes a CR or LF only in its tail, and only tail bytes after it
                // ("/" too in o200k: a scan from one would start a new piece of punctuation).
                state.inTail = true
            } else if !state.whiteSpace {
                while fed > 0 && EncodePipeline.isWhiteSpace(all, at: fed) {
                    fed = EncodePipeline.characterStart(all, atOrBefore: fed - 1)
                }
            } else if state.lineBreaksEndWhiteSpace {
                if let l = UnsafeBufferPointer(rebasing: all[0..<fed]).lastIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
                    fed = l + 1
                    state.lineBreakFed = true
                } else if state.lineBreakFed {
                    // The run goes on past `decidedBy`. If it has another CR or LF before there, the piece goes on to
                    // that one, and the bytes before `fed` are in it; if not, they may be a piece of their own.
                    let read = UnsafeBufferPointer(rebasing: all[fed..<max(fed, decidedBy)])
                    if !read.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
                        if let stop = endBeforeWhiteSpace(&state, encoder, all, decidedBy: decidedBy, into: &tokens) {
                            fed = stop
                            split = true
                        } else {
                            fed = 0
                        }
                    }
                }
            }
            if fed == 0 { return false }
        }
        if !split, !encoder.feed(&state.stream, UnsafeBufferPointer(rebasing: all[0..<fed]), final: done, into: &tokens) {
            try writer.flush(write: write)
            throw EncodeFailure.unstableLongPiece(input: name, offset: blockBase + fed)
        }
        piece = done ? nil : state
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

    /// A piece of white space that has been fed up to a CR or LF, and goes on in `all`, white space with no other CR
    /// or LF up to `decidedBy`, where the run is known to go on. If another comes before the run ends, the piece runs
    /// on through this white space to the last one (`\s*[\r\n]+`), as it does to the text's end with cl100k's
    /// `\s++$`; otherwise it ended at the CR or LF and the white space begins a piece of its own (`\s+(?!\S)`). Both
    /// give the same tokens if BPE keeps a token boundary there, that is if the piece's last token forms a junction
    /// with the first of the white space (it does with every shipped vocabulary: "\n" before spaces or tabs is "\n",
    /// then theirs). The piece is then ended and the white space streamed as a piece of white space without a CR or
    /// LF, which is what the rest of the run is in either case, as a scan from inside it shows (`endPiece`).
    func endBeforeWhiteSpace(_ state: inout PieceStream, _ encoder: TokenEncoder, _ all: UnsafeBufferPointer<UInt8>,
                             decidedBy: Int, into tokens: inout TokenBuffer) -> Int? {
        guard let stop = endPiece(&state, encoder, all, at: 0, decidedBy: decidedBy, into: &tokens) else { return nil }
        state.lineBreakFed = false
        return stop
    }

    /// o200k: a piece that ends at `end`, where a run of capitals begins that has not ended in what is read. Where
    /// that run ends decides whether the piece ends at `end` (before anything but a lower-case letter) or runs on
    /// through the capitals. Both give the same tokens if BPE keeps a token boundary at `end`, that is if the
    /// piece's last token forms a junction with the capitals' first (`BytePairEncoder.isJunction`), as it does for
    /// "中国" before a run of "B": the piece is then ended at `end` and the capitals streamed as a piece of their own,
    /// which takes the letters that may follow them as the longer piece would (scanned from its first capital, a
    /// piece ends where it ends scanned from the piece before; `endPiece`).
    func endBeforeCapitals(_ state: inout PieceStream, _ encoder: TokenEncoder, _ all: UnsafeBufferPointer<UInt8>,
                           end: Int, decidedBy: Int, into tokens: inout TokenBuffer) -> Int? {
        guard state.caseRunsLookFar, end > 0 else { return nil }
        return endPiece(&state, encoder, all, at: end, decidedBy: decidedBy, into: &tokens)
    }

    /// Ends the piece being streamed after `all[0..<end]` and streams what follows as a piece of its own, whose first
    /// token must form a junction with the piece's last (`endBeforeWhiteSpace`, `endBeforeCapitals`): feeds at most
    /// about four segments at a time, as other steps do, but more than a window after `end`, so that the new stream
    /// takes a step and checks the junction. Returns the bytes fed, with the tokens of both in `tokens`, or nil,
    /// having changed nothing, when too little is read, the junction fails, or the piece is a token that BPE's
    /// merges do not build (it would be encoded differently on its own and inside the longer piece).
    func endPiece(_ state: inout PieceStream, _ encoder: TokenEncoder, _ all: UnsafeBufferPointer<UInt8>, at end: Int,
                  decidedBy: Int, into tokens: inout TokenBuffer) -> Int? {
        let window = state.stream.keepBytes + state.stream.stepBytes
        let most = end + max(4 * max(options.segmentBytes, 1024), window + 1)
        let stop = EncodePipeline.characterStart(all, atOrBefore: max(0, min(decidedBy - 8, most)))
        guard stop - end > window else { return nil }
        let piece = UnsafeBufferPointer(rebasing: all[0..<end])
        guard encoder.endingAgreesWithMerges(state.stream, piece) else { return nil }
        var ended = state.stream
        var out = TokenBuffer(capacity: (stop + 1) / 2 + 16)
        guard encoder.feed(&ended, piece, final: true, into: &out) else { return nil }
        var next = LongPieceStream(keepBytes: state.stream.keepBytes, stepBytes: state.stream.stepBytes, after: ended.lastToken)
        guard encoder.feed(&next, UnsafeBufferPointer(rebasing: all[end..<stop]), final: false, into: &out) else { return nil }
        tokens = out
        state.stream = next
        return stop
    }
}
