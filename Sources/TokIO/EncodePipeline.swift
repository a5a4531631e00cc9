#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization
import TokCore

/// Options of `EncodePipeline`, mirroring `tok encode`'s flags.
public struct EncodeOptions: Sendable {
    /// What special-token strings in the input become (by default, ordinary text).
    public var special: SpecialTokenPolicy = .plain
    /// Encode each LF-terminated line on its own, without its LF, and write one output line per input line.
    public var lines = false
    /// How tokens are written (by default, decimal ids).
    public var format: OutputFormat = .ids
    /// Write token counts instead of tokens.
    public var countOnly = false
    /// Worker threads (1 = encode on the calling thread).
    public var threads = 1
    /// What to do with input that is not UTF-8 (by default, stop with an error).
    public var invalidUTF8: InvalidUTF8Policy = .error
    /// Target bytes per independently encoded segment. 256 KB rather than 1 MB: with few large segments the last
    /// ones keep one thread busy while the others wait (10 MB over a pipe on 2 threads: 6-9% faster).
    public var segmentBytes = 1 << 18
    /// Default options: plain special tokens, ids, the input whole, one thread, invalid UTF-8 an error.
    public init() {}
}

/// Totals of one encoded input.
public struct EncodeSummary: Sendable {
    /// Input bytes read (before any `replace` repair of invalid UTF-8).
    public var bytes = 0
    /// Tokens produced.
    public var tokens = 0
    /// With `EncodeOptions.lines`, the input lines encoded (a last line without LF included); without it, 0, or 1
    /// for jsonl output.
    public var lines = 0
}

/// A failure while encoding an input, naming the input and the byte offset.
public enum EncodeFailure: Error, CustomStringConvertible {
    case invalidUTF8(input: String, offset: Int)
    /// `offset` is in the input, or with `inRepairedText` in the text after `--invalid-utf8 replace` (where
    /// jsonl offsets are too).
    case specialToken(input: String, token: String, offset: Int, inRepairedText: Bool = false)
    /// More bytes of a pre-token too long to hold changed its encoding further back than the tokens already
    /// written (`LongPieceStream`); `offset` is where the bytes fed so far end.
    case unstableLongPiece(input: String, offset: Int)
    /// The normalizer refused the text from `offset` on (more than ICU takes at once, with no place to cut it).
    case cannotNormalize(input: String, offset: Int, reason: String)

    public var description: String {
        switch self {
        case .cannotNormalize(let input, let offset, let reason):
            return "\(input): \(reason) (from byte offset \(offset))"
        case .unstableLongPiece(let input, let offset):
            return "\(input): a pre-token too long to hold changed its tokens more than 64 KB back at byte offset \(offset); tok cannot encode it exactly in bounded memory"
        case .invalidUTF8(let input, let offset):
            return "\(input): invalid UTF-8 at byte offset \(offset) (use --invalid-utf8 replace or bytes to go on)"
        case .specialToken(let input, let token, let offset, let repaired):
            // Quoted as JSON, so that a token with a line break or a control character keeps the message on one line.
            let of = repaired ? " of the text with invalid UTF-8 replaced" : ""
            return "\(input): special token \(JSONValue.quote(token)) at byte offset \(offset)\(of) (--special error)"
        }
    }
}

/// Streams an input through a tokenizer with bounded memory and writes formatted output in input order.
///
/// The input is read in blocks and cut into segments at places where encoding the parts separately gives the
/// same tokens as encoding the whole (`SafeCut`, or line ends with `lines`). Segments are encoded in parallel
/// and their output is written in order, so any thread count gives byte-identical output. Memory is bounded by
/// the block size: after `longStretchBytes` without a safe cut the standard patterns cut at piece ends far from the
/// end of what is buffered, and a pre-token longer than that is streamed (`LongStretches.swift`). A stretch those
/// cannot cut (white space after a CR or LF until another or the run's end, and in o200k capitals after a letter
/// without case until their run ends, where BPE would join the last token before them with them; any, with jsonl
/// output; any, with a pattern of the user's) is held whole. Under a normalizer, the input from the first long
/// stretch on is normalized as it is read (`StreamingNormalizer`) and then cut and streamed as text without one,
/// unless special tokens are matched or bytes that are not UTF-8 are kept (`normalizesLongStretches`).
public final class EncodePipeline: @unchecked Sendable {
    /// The tokenizer that encodes.
    public let tokenizer: Tokenizer
    /// The settings every `run` uses.
    public let options: EncodeOptions
    /// `tokenizer` without its normalizer: it encodes input that `run` has normalized as it read it (see
    /// `normalizesLongStretches`).
    let plain: Tokenizer

    /// Output buffers of written segments, reused by later segments.
    let spare = SpareBuilders()

    /// A pipeline that encodes with `tokenizer` per `options`; one pipeline can `run` several inputs in turn.
    public init(tokenizer: Tokenizer, options: EncodeOptions) {
        self.tokenizer = tokenizer
        self.options = options
        plain = tokenizer.withoutNormalizer
    }

    // MARK: Segments

    struct Segment {
        var start: Int      // in the block buffer
        var end: Int
        var absolute: Int   // offset of start in the input (after UTF-8 replacement)
    }

    /// The encoded output of one segment.
    struct SegmentResult {
        var text = ByteBuilder(capacity: 0)   // ids/tokens formats: fragments joined by LF
        var firstEmpty = true                 // first fragment produced no token
        var lastEmpty = true                  // last fragment produced no token
        var newlines = 0
        var tokens = 0
        var counts: [Int] = []                // count mode: tokens per fragment
        // jsonl, one flat array each for all fragments (a fragment per line under --lines: arrays per line cost
        // more than the encoding of short lines): the ids; where each token ends, from its fragment's start (tokens
        // tile the text, so each starts where the one before ends); where each fragment's tokens end; and each
        // fragment's length, in the text as encoded (normalized, under a normalizer). The writer places the
        // offsets, as only it knows how long the normalized text before them is.
        var ids: [UInt32] = []
        var ends: [Int] = []
        var fragmentTokenEnds: [Int] = []
        var fragmentLengths: [Int] = []
        var failure: EncodeFailure?
    }

    /// A segment handed to a worker thread: its own copy of the input bytes, and its result once `done` signals.
    final class PendingSegment: @unchecked Sendable {
        let bytes: [UInt8]
        let absolute: Int
        /// The bytes are normalized already.
        let normalized: Bool
        var result = SegmentResult()
        let done = DispatchSemaphore(value: 0)
        init(bytes: [UInt8], absolute: Int, normalized: Bool) {
            self.bytes = bytes; self.absolute = absolute; self.normalized = normalized
        }
    }

    /// Segments being encoded by worker threads, oldest first. With more than one thread, the reading thread
    /// keeps reading, cutting and writing while the workers encode, instead of waiting for a whole block.
    struct InFlight: ~Copyable {
        var queue: [PendingSegment?] = []   // written entries are set to nil, so their memory goes at once
        var head = 0
        var count: Int { queue.count - head }
        /// Input bytes of the segments in flight.
        var bytes = 0

        mutating func append(_ p: PendingSegment) {
            queue.append(p)
            bytes += p.bytes.count
        }

        /// Waits for the oldest segment and writes its output; throws its failure after writing what precedes it.
        mutating func writeOldest(_ writer: inout OrderedWriter, write: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
            let p = queue[head]!
            queue[head] = nil
            head += 1
            bytes -= p.bytes.count
            if head > 64 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
            p.done.wait()
            if let f = p.result.failure {
                waitAll()
                try writer.flush(write: write)
                throw f
            }
            try writer.add(&p.result, lastByte: p.bytes.last, write: write)
        }

        mutating func writeAll(_ writer: inout OrderedWriter, write: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
            while count > 0 { try writeOldest(&writer, write: write) }
        }

        /// Waits for every segment without writing (before giving up on an error).
        mutating func waitAll() {
            while head < queue.count { queue[head]?.done.wait(); queue[head] = nil; head += 1 }
            bytes = 0
        }
    }

    private func process(_ text: UnsafeBufferPointer<UInt8>, absolute: Int, name: String, normalized: Bool) -> SegmentResult {
        (normalized ? plain : tokenizer).withEncoder { process(text, absolute: absolute, name: name, encoder: $0) }
    }

    private func process(_ text: UnsafeBufferPointer<UInt8>, absolute: Int, name: String,
                         encoder: TokenEncoder) -> SegmentResult {
        var r = SegmentResult()
        let structured = options.countOnly || options.format == .jsonl
        if !structured { r.text = spare.take(capacity: text.count * 2 + 64) }
        var tokens = TokenBuffer(capacity: text.count / 3 + 1024)
        var fragStart = 0
        var first = true
        var starts: [Int] = []   // jsonl: `encodeWithOffsets` gives them; the ends say as much
        let n = text.count
        while true {
            var fragEnd = n
            if options.lines, let b = text.baseAddress, fragStart < n,
               let lf = memchr(b + fragStart, 0x0A, n - fragStart) {
                fragEnd = UnsafeRawPointer(lf).assumingMemoryBound(to: UInt8.self) - b
            }
            tokens.removeAll()
            let frag = UnsafeBufferPointer(rebasing: text[fragStart..<fragEnd])
            let offsetsBefore = r.ends.count
            do {
                if options.format == .jsonl && !options.countOnly {
                    starts.removeAll(keepingCapacity: true)
                    try encoder.encodeWithOffsets(frag, special: options.special, into: &tokens, starts: &starts,
                                                  ends: &r.ends, baseOffset: absolute + fragStart)
                } else {
                    try encoder.encode(frag, special: options.special, into: &tokens, baseOffset: absolute + fragStart)
                }
            } catch {
                r.failure = .specialToken(input: name, token: error.token, offset: error.offset,
                                          inRepairedText: options.invalidUTF8 == .replace)
                return r
            }
            let produced = tokens.count
            r.tokens += produced
            if structured {
                if options.countOnly {
                    r.counts.append(produced)
                } else {
                    // Offsets came from absolute + fragStart, the input's offset (which errors report).
                    let base = absolute + fragStart
                    r.ids.append(contentsOf: tokens.ids)
                    for k in offsetsBefore..<r.ends.count { r.ends[k] -= base }
                    r.fragmentTokenEnds.append(r.ids.count)
                    r.fragmentLengths.append(r.ends.count > offsetsBefore ? r.ends[r.ends.count - 1] : 0)
                }
            } else {
                TokenFormatting.append(tokens.ids, format: options.format, tokenizer: tokenizer, to: &r.text)
            }
            if first { r.firstEmpty = produced == 0; first = false }
            r.lastEmpty = produced == 0
            if fragEnd >= n { break }
            // fragEnd is a LF (lines mode).
            r.newlines += 1
            if !structured { r.text.append(0x0A) }
            fragStart = fragEnd + 1
        }
        return r
    }

    // MARK: Running

    /// Encodes one input.
    /// - Parameters:
    ///   - name: the input's name for error messages.
    ///   - read: fills the buffer with the next input bytes and returns how many; 0 at the end.
    ///   - write: receives output bytes in order.
    ///   - paused: whether the next `read` would wait for a slow producer (`InputSource.inputPaused`). When it
    ///     would, and a LF has come since the last time, what can be encoded is encoded, written and `flush`ed
    ///     first, so output keeps up with input that comes line by line (`--lines` gives each line's output as
    ///     soon as its LF is read). The output is the same whenever pauses come.
    ///   - flush: pushes what `write` has received on to its destination.
    ///
    /// A pre-tokenizer that fails (see `PreTokenizationFailure`) ends the process even inside
    /// `PreTokenizationFailure.catching`: output before the failure is with `write` by then, and `flush` has not
    /// been called on it (the CLI flushes before each input when its pattern may fail).
    public func run(name: String, read: (UnsafeMutableRawBufferPointer) throws -> Int,
                    write: (UnsafeBufferPointer<UInt8>) throws -> Void,
                    paused: () -> Bool = { false }, flush: () throws -> Void = {}) throws -> EncodeSummary {
        try PreTokenizationFailure.within(nil) {
            try stream(name: name, read: read, write: write, paused: paused, flush: flush)
        }
    }

    /// `run` without its scope: `run(paths:)` encodes on workers inside scopes of its own.
    func stream(name: String, read: (UnsafeMutableRawBufferPointer) throws -> Int,
                        write: (UnsafeBufferPointer<UInt8>) throws -> Void,
                        paused: () -> Bool, flush: () throws -> Void) throws -> EncodeSummary {
        let threads = max(1, options.threads)
        let segmentBytes = max(options.segmentBytes, 1024)
        // Workers take segments as soon as they are cut, so a block need hold little more than one segment.
        let blockBytes = segmentBytes * 2
        var buffer = GrowableBytes(pooledCapacity: blockBytes + blockBytes / 2)
        var raw = GrowableBytes(pooledCapacity: options.invalidUTF8 == .bytes ? 0 : 1 << 20)
        var validator = UTF8StreamValidator()
        var repairer = UTF8StreamRepairer()
        var eof = false
        var blockBase = 0            // absolute offset of buffer[0]
        var summary = EncodeSummary()
        var writer = OrderedWriter(options: options, tokenizer: tokenizer, spare: spare)
        var wantBytes = blockBytes
        var inFlight = InFlight()
        defer { inFlight.waitAll() }
        var invalidAt: Int? = nil   // invalid UTF-8 found here, reported after the text before it (see below)
        // Whether a special token can be an error (`--special error`, or one that `--allow-special` leaves out):
        // then the text before an invalid byte is encoded first, in case such a token comes before it.
        let specialsMayFail = tokenizer.specialTokens.canRefuse(under: options.special)
        var stream: PieceStream? = nil   // a pre-token longer than the buffer, being streamed
        var longPieceEncoder: TokenEncoder? = nil
        // Set once a long stretch without cuts is met under a normalizer: from there on the input is normalized as
        // it is read, and `buffer` holds normalized text.
        var normalizing: StreamingNormalizer? = nil
        // A LF read since output was last pushed on at a pause: only then can a pause give new output (so a long
        // line that trickles in is not scanned again at every pause), and in lines mode it always does.
        var lineFeedSinceFlush = false
        // What the buffer must hold before a pause is acted on: after a pause that could cut nothing, twice what it
        // held, so that a long stretch without a cut that trickles in with LFs (runs of white space and line
        // breaks) is scanned a bounded number of times per byte, not once per pause. Back to 0 as soon as a LF
        // followed by something other than white space or "/" comes, the usual cut, which ends such a stretch.
        var pauseFloor = 0
        var pausedNow = false
        /// Whether the input has paused with something new to encode, the bytes from `before` on just read.
        func pausesAfter(_ before: Int) -> Bool {
            if !lineFeedSinceFlush {
                var i = before
                while i < buffer.count && buffer.base[i] != 0x0A { i += 1 }
                lineFeedSinceFlush = i < buffer.count
            }
            if pauseFloor > 0 {
                var i = max(before, 1)
                while i < buffer.count {
                    let c = buffer.base[i]
                    if buffer.base[i - 1] == 0x0A && c != 0x20 && c != 0x2F && (c < 0x09 || c > 0x0D) { pauseFloor = 0; break }
                    i += 1
                }
            }
            return lineFeedSinceFlush && !eof && buffer.count < wantBytes && buffer.count >= pauseFloor && paused()
        }
        /// Pushes the output so far on to its destination, at a pause; `progressed`: whether any input was encoded
        /// since the pause.
        func flushAtPause(progressed: Bool) throws {
            try inFlight.writeAll(&writer, write: write)
            try writer.flush(write: write)
            try flush()
            pausedNow = false
            lineFeedSinceFlush = false
            pauseFloor = progressed ? 0 : 2 * buffer.count
        }

        while true {
            // Fill the block.
            while !eof && buffer.count < wantBytes && normalizing != nil {
                let bufferBefore = buffer.count
                // Read, validated or repaired as below, then normalized into `buffer`. Offsets reported are the
                // input's (the validator's), and what follows invalid bytes is never normalized.
                raw.count = 0
                raw.reserve(min(max(wantBytes - buffer.count, 1 << 16), 1 << 20))
                let n = try read(raw.freeSpace)
                var invalid: Int? = nil
                var repaired: [UInt8] = []
                var valid = UnsafeBufferPointer(start: raw.base, count: n)
                let before = summary.bytes
                if n == 0 { eof = true } else { summary.bytes += n }
                if options.invalidUTF8 == .replace {
                    if n == 0 { repairer.finish(into: &repaired) } else { repairer.process(valid, into: &repaired) }
                } else if let off = n == 0 ? validator.finish() : validator.validate(valid) {
                    invalid = off
                    valid = UnsafeBufferPointer(start: raw.base, count: max(0, off - before))
                    normalizing?.discard(from: off)
                }
                if options.invalidUTF8 == .replace {
                    try repaired.withUnsafeBufferPointer { try feed(normalizing!, $0, final: eof, into: &buffer, name: name) }
                } else {
                    try feed(normalizing!, valid, final: eof || invalid != nil, into: &buffer, name: name)
                }
                if let off = invalid {
                    guard specialsMayFail else {
                        try inFlight.writeAll(&writer, write: write)
                        try writer.flush(write: write)
                        throw EncodeFailure.invalidUTF8(input: name, offset: off)
                    }
                    invalidAt = off
                    eof = true
                }
                if pausesAfter(bufferBefore) {
                    pausedNow = true
                    break
                }
            }
            while !eof && buffer.count < wantBytes && normalizing == nil {
                let before = buffer.count
                switch options.invalidUTF8 {
                case .bytes:
                    buffer.reserve(wantBytes - buffer.count)
                    let n = try read(buffer.freeSpace)
                    if n == 0 { eof = true } else { buffer.count += n; summary.bytes += n }
                case .error:
                    buffer.reserve(wantBytes - buffer.count)
                    let n = try read(buffer.freeSpace)
                    if n == 0 {
                        eof = true
                        if let off = validator.finish() {
                            guard specialsMayFail else { throw EncodeFailure.invalidUTF8(input: name, offset: off) }
                            invalidAt = off
                            buffer.count = max(0, off - blockBase)
                        }
                    } else {
                        let chunk = UnsafeBufferPointer(start: buffer.base + buffer.count, count: n)
                        if let off = validator.validate(chunk) {
                            guard specialsMayFail else {
                                try inFlight.writeAll(&writer, write: write)
                                try writer.flush(write: write)
                                throw EncodeFailure.invalidUTF8(input: name, offset: off)
                            }
                            // A special token before the invalid byte is the first problem: encode the text up to
                            // it first, then report the byte if nothing came before.
                            invalidAt = off
                            buffer.count = max(0, off - blockBase)
                            eof = true
                        } else {
                            buffer.count += n
                            summary.bytes += n
                        }
                    }
                case .replace:
                    raw.count = 0
                    raw.reserve(min(wantBytes - buffer.count, 1 << 20))
                    let n = try read(raw.freeSpace)
                    var repaired: [UInt8] = []
                    if n == 0 {
                        eof = true
                        repairer.finish(into: &repaired)
                    } else {
                        summary.bytes += n
                        repairer.process(UnsafeBufferPointer(start: raw.base, count: n), into: &repaired)
                    }
                    repaired.withUnsafeBufferPointer { buffer.append($0) }
                }
                if pausesAfter(before) {
                    pausedNow = true
                    break
                }
            }
            if stream != nil {
                let progressed = try streamStep(&stream, longPieceEncoder!, &buffer, &blockBase, &writer, eof: eof, name: name, write: write)
                if progressed {
                    wantBytes = blockBytes
                } else if !pausedNow {
                    wantBytes = max(wantBytes * 2, buffer.count * 2)
                }
                if stream != nil {
                    if pausedNow { try flushAtPause(progressed: progressed) }
                    continue
                }
            }
            var longPiece: LongStretch? = nil
            var normalize = false
            let consumed = try finishBlocks(&buffer, &blockBase, &writer, &inFlight, &summary, eof: eof, name: name, write: write,
                                            segmentBytes: segmentBytes, threads: threads, normalized: normalizing != nil,
                                            uptoLastCut: pausedNow, longPiece: &longPiece, normalize: &normalize)
            if pausedNow { try flushAtPause(progressed: consumed > 0) }
            if normalize, let normalizer = tokenizer.normalizer {
                // From the long stretch at the buffer's start on, normalize as the input is read. The stretch starts
                // at a cut, where normalizing each side alone gives the normalized whole.
                let n = StreamingNormalizer(normalizer, start: blockBase)
                var held = GrowableBytes(capacity: buffer.count + buffer.count / 4 + 1024)
                try feed(n, UnsafeBufferPointer(start: buffer.base, count: buffer.count), final: eof, into: &held, name: name)
                swap(&buffer, &held)
                normalizing = n
                wantBytes = blockBytes
                continue
            }
            if case .longPiece(let whiteSpace) = longPiece {
                // The piece's tokens follow the segments before it.
                try inFlight.writeAll(&writer, write: write)
                if longPieceEncoder == nil { longPieceEncoder = plain.makeEncoder() }
                stream = PieceStream(stream: LongPieceStream(keepBytes: min(64 << 10, 4 * segmentBytes), stepBytes: segmentBytes),
                                     whiteSpace: whiteSpace, lineBreaksEndWhiteSpace: lineBreaksEndWhiteSpace,
                                     textEndTakesWhiteSpace: textEndTakesWhiteSpace,
                                     tail: punctuationTail, caseRunsLookFar: caseRunsLookFar)
                wantBytes = blockBytes
                continue
            }
            if eof && buffer.count == 0 { break }
            // Nothing could be cut: a pre-token or line longer than the block. Read more before trying again (after
            // a pause the block is not full yet).
            wantBytes = consumed > 0 ? blockBytes : buffer.count < wantBytes ? wantBytes : max(wantBytes * 2, buffer.count * 2)
        }
        try inFlight.writeAll(&writer, write: write)
        if let off = invalidAt {
            try writer.flush(write: write)
            throw EncodeFailure.invalidUTF8(input: name, offset: off)
        }
        try writer.finish(write: write)
        spare.give(writer.out)
        summary.tokens = writer.totalTokens
        summary.lines = writer.lines
        return summary
    }

    /// `normalizer.feed`, its failure named as the input's.
    private func feed(_ normalizer: StreamingNormalizer, _ bytes: UnsafeBufferPointer<UInt8>, final: Bool,
                      into out: inout GrowableBytes, name: String) throws {
        do {
            try normalizer.feed(bytes, final: final, into: &out)
        } catch {
            throw EncodeFailure.cannotNormalize(input: name, offset: normalizer.pendingStart, reason: "\(error)")
        }
    }

    /// Cuts the buffered bytes into segments, encodes them and writes their output; keeps the uncut tail at the
    /// start of the buffer. Returns the number of bytes consumed. `uptoLastCut`: at a pause of the input, also cut
    /// a last segment shorter than `segmentBytes`.
    @discardableResult
    private func finishBlocks(_ buffer: inout GrowableBytes, _ blockBase: inout Int, _ writer: inout OrderedWriter,
                              _ inFlight: inout InFlight,
                              _ summary: inout EncodeSummary, eof: Bool, name: String,
                              write: (UnsafeBufferPointer<UInt8>) throws -> Void,
                              segmentBytes: Int, threads: Int, normalized: Bool, uptoLastCut: Bool = false,
                              longPiece: inout LongStretch?, normalize: inout Bool) throws -> Int {
        let all = UnsafeBufferPointer(start: buffer.base, count: buffer.count)
        var segments: [Segment] = []
        var s = 0
        let specials: SpecialTokens? = options.special == .plain ? nil : tokenizer.specialTokens
        while s < all.count {
            if eof && all.count - s <= segmentBytes + segmentBytes / 2 {
                segments.append(Segment(start: s, end: all.count, absolute: blockBase + s))
                s = all.count
                break
            }
            var window = segmentBytes
            var cut: Int? = nil
            while true {
                let end = min(s + window, all.count)
                if end == all.count && !eof && !uptoLastCut && end - s < segmentBytes { break }
                cut = findCut(all, above: s, below: end, specials: specials, complete: eof, normalized: normalized)
                if cut != nil || end == all.count { break }
                window *= 2
            }
            if let c = cut {
                segments.append(Segment(start: s, end: c, absolute: blockBase + s))
                s = c
            } else if eof {
                segments.append(Segment(start: s, end: all.count, absolute: blockBase + s))
                s = all.count
            } else if all.count - s >= longStretchBytes && !normalized && normalizesLongStretches {
                normalize = true
                break
            } else if all.count - s >= longStretchBytes && streamsLongStretches(normalized: normalized) {
                let decision = longStretch(UnsafeBufferPointer(rebasing: all[s...]))
                switch decision {
                case .cuts(let cuts):
                    var from = s
                    for c in cuts {
                        segments.append(Segment(start: from, end: s + c, absolute: blockBase + from))
                        from = s + c
                    }
                    s = from
                    continue
                case .longPiece:
                    longPiece = decision
                }
                break
            } else {
                break
            }
        }
        // The last segment of an input, with none in flight, is encoded here: this thread would only wait for a
        // worker (10,000 files of 1 KB on two threads took twice as long as on one, in dispatches and wake-ups).
        if threads == 1 || (eof && segments.count == 1 && inFlight.count == 0) {
            for seg in segments {
                let text = UnsafeBufferPointer(rebasing: all[seg.start..<seg.end])
                var r = process(text, absolute: seg.absolute, name: name, normalized: normalized)
                if let f = r.failure {
                    try writer.flush(write: write)
                    throw f
                }
                try writer.add(&r, lastByte: text.last, write: write)
            }
        } else {
            for seg in segments {
                let p = PendingSegment(bytes: Array(all[seg.start..<seg.end]), absolute: seg.absolute, normalized: normalized)
                DispatchQueue.global().async {
                    p.result = p.bytes.withUnsafeBufferPointer { self.process($0, absolute: p.absolute, name: name, normalized: p.normalized) }
                    p.done.signal()
                }
                inFlight.append(p)
                // Two segments per thread in flight keep the workers busy while this thread writes. A segment far
                // larger than usual (long stretches are cut every few MB) holds its input and output until written,
                // up to 8 bytes per input byte: past twice the usual bytes, only one per thread stays in flight.
                while inFlight.count > 2 * threads
                        || (inFlight.count > threads && inFlight.bytes > 2 * threads * segmentBytes) {
                    try inFlight.writeOldest(&writer, write: write)
                }
            }
        }
        // Keep the tail.
        if s > 0 {
            let rest = buffer.count - s
            if rest > 0 { buffer.base.update(from: buffer.base + s, count: rest) }
            buffer.count = rest
            blockBase += s
        }
        return s
    }

    /// The last place in `lower..<upper` of the buffered bytes `text` where they can be cut (`complete`: no
    /// bytes follow them), or nil. In lines mode every line is encoded alone, so any line start will do;
    /// otherwise `SafeCut` under the pre-tokenizer's rule, and nowhere if it has none.
    private func findCut(_ text: UnsafeBufferPointer<UInt8>, above lower: Int, below upper: Int,
                         specials: SpecialTokens?, complete: Bool, normalized: Bool) -> Int? {
        if options.lines, let b = text.baseAddress {
            var i = upper - 1
            while i >= lower {
                if b[i] == 0x0A { return i + 1 > lower ? i + 1 : nil }
                i -= 1
            }
        }
        guard let rule = tokenizer.preTokenizer.cutRule else { return nil }
        let normalizer = normalized ? nil : tokenizer.normalizer
        return SafeCut.lastCut(in: text, above: lower, below: upper, rule: rule, asciiOnly: normalizer != nil,
                               inert: normalizer?.inertCharacters,
                               specials: specials, complete: complete)
    }
}

/// Joins segment outputs in order and writes them, buffering output into large writes.
struct OrderedWriter {
    let options: EncodeOptions
    let tokenizer: Tokenizer
    var out: ByteBuilder
    var lineHasContent = false      // ids/tokens: the current output line already has a token
    var lineOpen = false            // lines mode: input bytes seen since the last LF
    var lineCount = 0               // count mode: tokens of the current line so far
    var lineIDs: [UInt32] = []      // jsonl: the current line (or whole input)
    var lineEnds: [Int] = []
    var linePosition = 0            // jsonl: where the next fragment starts in the current line (or whole input), as encoded
    var totalTokens = 0
    var lines = 0

    let spare: SpareBuilders

    init(options: EncodeOptions, tokenizer: Tokenizer, spare: SpareBuilders) {
        self.options = options
        self.tokenizer = tokenizer
        self.spare = spare
        // The pipeline's spare buffers outlive one input: a fresh megabyte per input was a mapping of its own.
        out = spare.take(capacity: 1 << 20)
    }

    /// Adds the output of the next segment; `lastByte` is the segment's last input byte (nil if it is empty).
    mutating func add(_ r: inout EncodePipeline.SegmentResult, lastByte: UInt8?,
                      write: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        totalTokens += r.tokens
        if let b = lastByte { lineOpen = b != 0x0A }
        if options.countOnly {
            for (k, c) in r.counts.enumerated() {
                lineCount += c
                if k < r.counts.count - 1 { try endLine(write: write) }
            }
        } else if options.format == .jsonl {
            var from = 0
            for k in 0..<r.fragmentTokenEnds.count {
                let to = r.fragmentTokenEnds[k]
                lineIDs.append(contentsOf: r.ids[from..<to])
                let shift = linePosition
                lineEnds.append(contentsOf: r.ends[from..<to].lazy.map { $0 + shift })
                from = to
                linePosition += r.fragmentLengths[k]
                if k < r.fragmentTokenEnds.count - 1 {
                    try endLine(write: write)
                    linePosition = 0
                }
            }
        } else {
            if r.text.count > 0 || r.newlines > 0 {
                if lineHasContent && !r.firstEmpty { out.append(0x20) }
                if r.text.count >= 1 << 16 {
                    // Large: written as it is rather than copied into `out` first.
                    try flush(write: write)
                    try write(r.text.bytes)
                } else {
                    out.append(r.text.bytes)
                }
                lineHasContent = r.newlines > 0 ? !r.lastEmpty : (lineHasContent || !r.firstEmpty)
                lines += r.newlines
            }
            spare.give(r.text)
            r.text = ByteBuilder(capacity: 0)
        }
        if out.count >= 1 << 20 { try flush(write: write) }
    }

    /// Ends the current line of count or jsonl output; a long jsonl line is written as it is formatted.
    mutating func endLine(write: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        lines += 1
        if options.countOnly {
            out.appendDecimal(UInt64(lineCount))
            out.append(0x0A)
            lineCount = 0
        } else {
            let builder = out
            try TokenFormatting.appendJSONLine(ids: lineIDs, ends: lineEnds, tokenizer: tokenizer,
                                               to: &out) {
                try write(builder.bytes)
                builder.removeAll()
            }
            lineIDs.removeAll(keepingCapacity: true)
            lineEnds.removeAll(keepingCapacity: true)
        }
    }

    mutating func flush(write: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        if out.count > 0 {
            try write(out.bytes)
            out.removeAll()
        }
    }

    /// Writes what the end of the input completes.
    mutating func finish(write: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        if options.lines {
            if lineOpen {
                if options.countOnly || options.format == .jsonl { try endLine(write: write) } else { out.append(0x0A); lines += 1 }
            }
        } else if options.countOnly {
            // The caller prints whole-input counts with the input's name.
        } else if options.format == .jsonl {
            try endLine(write: write)
        } else {
            out.append(0x0A)
        }
        try flush(write: write)
    }
}

/// Output buffers of segments already written, kept for the segments still to come: a fresh 2 MB buffer per
/// segment would be paid for in page faults.
final class SpareBuilders: @unchecked Sendable {
    private struct Held: @unchecked Sendable { let builder: ByteBuilder }
    private let held = Mutex<[Held]>([])

    /// An empty buffer with room for `capacity` bytes.
    func take(capacity: Int) -> ByteBuilder {
        if let h = held.withLock({ $0.popLast() }) {
            h.builder.removeAll()
            h.builder.reserve(capacity)
            return h.builder
        }
        return ByteBuilder(capacity: capacity)
    }

    /// Keeps `b` for reuse (a few at most; small ones are not worth it, and one grown past 4 MB for a batch of small
    /// files' jsonl is not kept either).
    func give(_ b: ByteBuilder) {
        guard b.capacity >= 1 << 16 && b.capacity <= 4 << 20 else { return }
        held.withLock { if $0.count < 8 { $0.append(Held(builder: b)) } }
    }
}

/// A heap byte buffer with a fill count, grown on demand.
struct GrowableBytes: ~Copyable {
    var base: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var count = 0

    /// Whether `base` goes back to `ScratchBuffers` when done, and how many bytes it has there (a kept buffer may
    /// be larger than `capacity`, which alone decides how much is read at a time, so that blocks are cut where
    /// they were before, whatever an earlier input left in the pool).
    let pooled: Bool
    var allocated: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 4096)
        base = .allocate(capacity: self.capacity)
        pooled = false
        allocated = self.capacity
    }

    /// A buffer from `ScratchBuffers`, given back when done: for the buffers every input needs.
    init(pooledCapacity capacity: Int) {
        self.capacity = max(capacity, 4096)
        let b = ScratchBuffers.take(capacity: self.capacity)
        base = b.baseAddress!.assumingMemoryBound(to: UInt8.self)
        allocated = b.count
        pooled = true
    }

    deinit {
        if pooled {
            ScratchBuffers.give(UnsafeMutableRawBufferPointer(start: base, count: allocated))
        } else {
            base.deallocate()
        }
    }

    mutating func reserve(_ extra: Int) {
        if count + extra <= capacity { return }
        var c = capacity * 2
        while c < count + extra { c *= 2 }
        // Aligned as `ScratchBuffers` wants, so that a pooled buffer stays poolable when it grows.
        let nb = UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 16).bindMemory(to: UInt8.self, capacity: c)
        nb.moveInitialize(from: base, count: count)
        if pooled { UnsafeMutableRawPointer(base).deallocate() } else { base.deallocate() }
        allocated = c
        base = nb
        capacity = c
    }

    var freeSpace: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + count, count: capacity - count)
    }

    mutating func append(_ b: UnsafeBufferPointer<UInt8>) {
        reserve(b.count)
        if let p = b.baseAddress { (base + count).update(from: p, count: b.count) }
        count += b.count
    }
}
