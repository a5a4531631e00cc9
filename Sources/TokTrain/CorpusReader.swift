#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import TokCore
import TokICU
import TokIO

/// How a corpus is read: its format, which part of it, and what is done to its text before pre-tokenization.
public struct CorpusOptions: Sendable {
    /// How corpus files are laid out.
    public enum Format: String, Sendable, CaseIterable {
        /// Plain text; each file is one text.
        case text
        /// JSON Lines; each record's `jsonlField` string is one text.
        case jsonl
    }

    /// What to do with bytes that are not UTF-8.
    public enum InvalidUTF8: String, Sendable, CaseIterable {
        /// Stop with an error naming the file and byte offset.
        case error
        /// Replace each ill-formed sequence with U+FFFD.
        case replace
    }

    /// The files' format (by default, plain text).
    public var format: Format = .text
    /// The member of each JSONL record whose string is the text.
    public var jsonlField = "text"
    /// Stop after this many bytes of text (at the end of the line or record that reaches it).
    public var maxBytes: Int?
    /// Keep each line (text) or record (JSONL) with this probability, decided by a hash of `seed`, the file's
    /// position in the input list and the line's number: the same sample on every run and for any thread count.
    public var sample: Double?
    /// Seed of the `sample` hash: another seed keeps another sample.
    public var seed: UInt64 = 0
    /// Unicode normalization applied to the text before pre-tokenization.
    public var normalize: ICUNormalizer.Form?
    /// What to do with bytes that are not UTF-8 (by default, stop with an error).
    public var invalidUTF8: InvalidUTF8 = .error
    /// Target size of the pieces of text handed to counting threads.
    public var segmentBytes = 1 << 20
    /// Where texts may be cut into segments (`SafeCut`): the pre-tokenizer's rule. Training and eval use
    /// `.basic` for pre-tokenizers that have none (a user's pattern), so that a corpus is never held whole; the
    /// counts then treat those places as the end of a text.
    public var cutRule: SafeCut.Rule = .standard
    /// Whether the tokenizers normalize the text after it is cut (eval): then only cuts judged by ASCII characters
    /// or by characters in `cutInert` (see `SafeCut`). Implied by `normalize`.
    public var cutASCIIOnly = false
    /// With `cutASCIIOnly`: the characters that every tokenizer's normalizer leaves unchanged and never joins with
    /// a neighbour (`TextNormalizer.inertCharacters`), which cuts may be next to as well as ASCII; nil: ASCII only.
    public var cutInert: InertCharacters?
    /// Whether cuts must be judged by ASCII characters (or `cutsInert` ones): the tokenizers normalize
    /// (`cutASCIIOnly`), or the reader does.
    var cutsBeforeASCIIOnly: Bool { cutASCIIOnly || normalize != nil }
    /// The characters cuts may be next to besides ASCII when `cutsBeforeASCIIOnly`: those that both the reader's
    /// normalizer and the tokenizers' leave alone.
    var cutsInert: InertCharacters? {
        InertCharacters.common((normalize.map { [ICUNormalizer($0).inertCharacters] } ?? []) + (cutASCIIOnly ? [cutInert] : []))
    }

    /// Default options: plain text, the whole corpus, no normalization, invalid UTF-8 an error, 1 MB segments.
    public init() {}
}

/// A stretch of corpus text handed to a counting thread: one or more texts back to back, each pre-tokenized on
/// its own (`ends` holds where each ends).
public struct CorpusSegment: Sendable {
    /// The texts' bytes, back to back.
    public var bytes: [UInt8] = []
    /// While lines are added: no cut lies below this offset in the last text (searched already), so a search for
    /// one after each line need not go over the whole text again (that made reading quadratic).
    var noCutBelow = 0
    /// Offset in `bytes` just past the end of each text, in order.
    public var ends: [Int] = []
    /// By text, in `ends` order: `startsInsideWord` when the text starts at a cut between two characters that are
    /// not white space (a whitespace word of the corpus goes on from the text before it, which ends at the same cut
    /// and has `endsInsideWord`). Counts of whitespace words join the two halves with these.
    public var wordCuts: [UInt8] = []
    /// The `wordCuts` bit of a text that starts inside a whitespace word.
    public static let startsInsideWord: UInt8 = 1
    /// The `wordCuts` bit of a text that ends inside a whitespace word.
    public static let endsInsideWord: UInt8 = 2
}

/// Counters a reader keeps for progress reports.
public struct CorpusProgress: Sendable {
    /// Bytes read from the files (compressed bytes for zstd).
    public var rawBytes = 0
    /// Bytes of text produced (after sampling and normalization).
    public var textBytes = 0
    /// Total size of the input files on disk, when known (0 for standard input).
    public var totalRawBytes = 0
    /// Files read to the end so far.
    public var filesDone = 0
    /// Files in the corpus.
    public var files = 0
}

/// Reads a corpus as `CorpusSegment`s: files in order, plain or zstd, text or JSONL, validated, sampled, cut at
/// safe points (`SafeCut`, so that counting segments separately equals counting each text whole) and normalized.
public final class CorpusReader {
    /// The files to read, in order (`-` is standard input).
    public let files: [String]
    /// How the files are read.
    public let options: CorpusOptions
    /// The counters as of the last chunk read.
    public private(set) var progress = CorpusProgress()
    private let normalizer: ICUNormalizer?
    /// `CorpusOptions.cutsInert`, worked out once.
    private let cutsInert: InertCharacters?
    private let field: [UInt8]
    private var stopped = false
    /// JSONL records read, and those that had a text (a string `jsonlField`): a field no record has is most likely
    /// a wrong `--jsonl-field`, which callers can warn about.
    public private(set) var jsonlRecords = 0
    public private(set) var jsonlRecordsWithText = 0

    /// A reader of `files`; until `read` it only looks up their sizes, for `progress`.
    public init(files: [String], options: CorpusOptions) {
        self.files = files
        self.options = options
        normalizer = options.normalize.map { ICUNormalizer($0) }
        cutsInert = options.cutsInert
        field = Array(options.jsonlField.utf8)
        progress.files = files.count
        for f in files where f != "-" {
            var st = stat()
            if stat(f, &st) == 0 { progress.totalRawBytes += Int(st.st_size) }
        }
    }

    /// Reads every file and calls `emit` with each segment, in corpus order. `onProgress` is called after each
    /// chunk read.
    public func read(emit: (CorpusSegment) throws -> Void, onProgress: (CorpusProgress) -> Void = { _ in }) throws {
        // One read buffer for all files: a zero-filled megabyte per file was a third of the time of a corpus of
        // 10,000 files of 1 KB.
        var chunk = [UInt8](repeating: 0, count: InputSource.readSize)
        for (index, name) in files.enumerated() {
            if stopped { break }
            try readFile(name, index: index, chunk: &chunk, emit: emit, onProgress: onProgress)
            progress.filesDone += 1
            onProgress(progress)
        }
    }

    // MARK: One file

    /// State of the file being read.
    private struct FileState {
        var name: String
        var index: Int
        /// Offset in the decompressed stream of `pending[0]`.
        var pendingOffset = 0
        /// Lines completed before `pending[0]`.
        var linesBefore = 0
        /// Unprocessed decompressed bytes (a partial line in line mode, an uncut tail otherwise).
        var pending: [UInt8] = []
        /// No cut lies in `pending` below this offset past the current start (searched already): a long stretch
        /// without one is not searched again after every chunk read (that made reading quadratic).
        var noCutBelow = 0
        /// In line mode: `pending` up to here holds no line feed (searched already), for a line longer than a
        /// chunk, which was otherwise searched from its start again after every chunk.
        var noLineFeedBelow = 0
        /// The text that starts at `pending[0]` starts inside a whitespace word (see `CorpusSegment.wordCuts`).
        var startsInsideWord = false
        var validator = UTF8StreamValidator()
        var repairer = UTF8StreamRepairer()
    }

    /// Whether lines (text) or records (JSONL) are looked at one by one.
    private var lineMode: Bool { options.format == .jsonl || options.sample != nil || options.maxBytes != nil }

    private func readFile(_ name: String, index: Int, chunk: inout [UInt8], emit: (CorpusSegment) throws -> Void,
                          onProgress: (CorpusProgress) -> Void) throws {
        let source = try InputSource(path: name)
        defer { source.close() }
        var f = FileState(name: source.name, index: index)
        var segment = CorpusSegment()
        var rawBefore = 0
        while !stopped {
            let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            progress.rawBytes += source.rawBytesRead - rawBefore
            rawBefore = source.rawBytesRead
            let eof = n == 0
            try chunk.withUnsafeBufferPointer { b in
                let piece = UnsafeBufferPointer(rebasing: b[0..<n])
                switch options.invalidUTF8 {
                case .error:
                    if let off = eof ? f.validator.finish() : f.validator.validate(piece) {
                        // Records and sampled lines are counted, so their errors name the line as malformed JSON's do.
                        var line: Int? = nil
                        if lineMode {
                            let inPiece = max(0, min(piece.count, off - (f.pendingOffset + f.pending.count)))
                            line = f.linesBefore + 1 + f.pending.lazy.filter { $0 == 0x0A }.count
                                + piece[..<inPiece].lazy.filter { $0 == 0x0A }.count
                        }
                        throw TrainError.content(name: f.name, line: line, offset: off, reason: "invalid UTF-8")
                    }
                    f.pending.append(contentsOf: piece)
                case .replace:
                    if eof { f.repairer.finish(into: &f.pending) } else { f.repairer.process(piece, into: &f.pending) }
                }
            }
            if lineMode {
                try takeLines(&f, &segment, eof: eof, emit: emit)
            } else {
                try takeCuts(&f, &segment, eof: eof, emit: emit)
            }
            onProgress(progress)
            if eof { break }
        }
        if !segment.ends.isEmpty { try emit(segment) }
    }

    /// Plain text, whole: cuts `pending` at safe cuts into segments of about `segmentBytes`.
    private func takeCuts(_ f: inout FileState, _ segment: inout CorpusSegment, eof: Bool,
                          emit: (CorpusSegment) throws -> Void) throws {
        let target = options.segmentBytes
        var start = 0
        while true {
            let rest = f.pending.count - start
            if rest == 0 { break }
            if eof && rest <= target + target / 2 {
                try addText(f.pending[start...], &segment, emit: emit, name: f.name, startsInsideWord: f.startsInsideWord)
                start = f.pending.count
                break
            }
            if rest < 2 * target && !eof { break }
            // Look for a cut in the first `target` bytes past start, widening while there is none.
            var window = target
            var cut: Int?
            let lower = max(start, f.noCutBelow)
            while cut == nil {
                let end = min(start + window, f.pending.count)
                cut = f.pending.withUnsafeBufferPointer { b in
                    SafeCut.lastCut(in: UnsafeBufferPointer(rebasing: b[0..<f.pending.count]), above: lower, below: end,
                                    rule: options.cutRule, asciiOnly: options.cutsBeforeASCIIOnly, inert: cutsInert)
                }
                if end == f.pending.count { break }
                window *= 2
            }
            guard let c = cut else {
                // Places near the end may become cuts once more bytes follow (a character is completed).
                f.noCutBelow = max(lower, f.pending.count - SafeCut.lookahead)
                if eof {
                    try addText(f.pending[start...], &segment, emit: emit, name: f.name, startsInsideWord: f.startsInsideWord)
                    start = f.pending.count
                }
                break
            }
            let inside = f.pending.withUnsafeBufferPointer { SafeCut.isInsideWhitespaceWord($0.baseAddress!, c, $0.count) }
            try addText(f.pending[start..<c], &segment, emit: emit, name: f.name, startsInsideWord: f.startsInsideWord,
                        endsInsideWord: inside)
            f.startsInsideWord = inside
            start = c
        }
        if start > 0 {
            f.pending.removeSubrange(0..<start)
            f.pendingOffset += start
            f.noCutBelow = max(0, f.noCutBelow - start)
        }
    }

    /// Lines (text with sampling or a byte limit) or records (JSONL), one by one.
    private func takeLines(_ f: inout FileState, _ segment: inout CorpusSegment, eof: Bool,
                           emit: (CorpusSegment) throws -> Void) throws {
        var start = 0
        let count = f.pending.count
        var doc: [UInt8] = []
        while start < count && !stopped {
            var end = max(start, f.noLineFeedBelow)
            f.pending.withUnsafeBufferPointer { b in
                while end < count && b[end] != 0x0A { end += 1 }
            }
            if end == count && !eof {
                f.noLineFeedBelow = count
                break
            }
            let lineEnd = min(end + 1, count)  // including its LF, if any
            let lineNumber = f.linesBefore + 1
            f.linesBefore += 1
            let line = start..<lineEnd
            let lineOffset = f.pendingOffset + start
            start = lineEnd
            if let p = options.sample, !keep(file: f.index, line: lineNumber, probability: p) { continue }
            switch options.format {
            case .text:
                try addText(f.pending[line], &segment, emit: emit, name: f.name, lineMode: true)
            case .jsonl:
                // Blank lines are allowed between records.
                let body = f.pending[line].drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A })
                if body.isEmpty { continue }
                jsonlRecords += 1
                doc.removeAll(keepingCapacity: true)
                let surrogates: JSONString.LoneSurrogates = options.invalidUTF8 == .replace ? .replace : .reject
                let result = body.withUnsafeBufferPointer { b in
                    Result { () throws(JSONLField.Failure) -> Bool in
                        try JSONLField.extract(b, field: field, into: &doc, loneSurrogates: surrogates)
                    }
                }
                let found: Bool
                switch result {
                case .success(let f): found = f
                case .failure(let e):
                    let column = e.column + (body.startIndex - line.lowerBound)
                    throw TrainError.content(name: f.name, line: lineNumber, offset: lineOffset + column,
                                             reason: "invalid JSON: \(e.reason)")
                }
                if found {
                    jsonlRecordsWithText += 1
                    try addText(doc[...], &segment, emit: emit, name: f.name, lineMode: true)
                }
            }
        }
        if start > 0 {
            f.pending.removeSubrange(0..<start)
            f.pendingOffset += start
            f.noLineFeedBelow = max(0, f.noLineFeedBelow - start)
        }
    }

    /// Adds text to the segment being built, emitting it when it is full.
    /// - Parameters:
    ///   - lineMode: the text is a line (or a JSONL record): with `maxBytes`, the one that reaches the limit is the
    ///     last; lines of a text run on into one text, records are texts of their own.
    ///   - startsInsideWord, endsInsideWord: the text starts or ends at a cut inside a whitespace word.
    private func addText(_ text: ArraySlice<UInt8>, _ segment: inout CorpusSegment, emit: (CorpusSegment) throws -> Void,
                         name: String, lineMode: Bool = false, startsInsideWord: Bool = false,
                         endsInsideWord: Bool = false) throws {
        if text.isEmpty { return }
        var bytes = text
        if let normalizer {
            do {
                bytes = try text.withUnsafeBufferPointer { try normalizer.normalize($0) }[...]
            } catch {
                throw TrainError.content(name: name, line: nil, offset: nil, reason: "\(error)")
            }
        }
        let joinsPrevious = lineMode && options.format == .text && !segment.ends.isEmpty
        segment.bytes.append(contentsOf: bytes)
        if joinsPrevious {
            // Kept lines of a text run on into one another, as if the dropped ones were never there.
            segment.ends[segment.ends.count - 1] = segment.bytes.count
        } else {
            segment.ends.append(segment.bytes.count)
            segment.wordCuts.append((startsInsideWord ? CorpusSegment.startsInsideWord : 0)
                                    | (endsInsideWord ? CorpusSegment.endsInsideWord : 0))
        }
        progress.textBytes += bytes.count
        if let m = options.maxBytes, progress.textBytes >= m { stopped = true }
        if segment.bytes.count >= options.segmentBytes || stopped {
            // Lines of text may only be cut where a safe cut allows it.
            if joinsPrevious || (lineMode && options.format == .text) {
                try flushLines(&segment, emit: emit)
            } else {
                try emit(segment)
                segment = CorpusSegment()
            }
        }
    }

    /// Emits the text segment built from lines up to its last safe cut, keeping the rest (unless reading stopped).
    private func flushLines(_ segment: inout CorpusSegment, emit: (CorpusSegment) throws -> Void) throws {
        if stopped {
            try emit(segment)
            segment = CorpusSegment()
            return
        }
        // Only the last text of the segment can still grow.
        let lastStart = segment.ends.count > 1 ? segment.ends[segment.ends.count - 2] : 0
        let lower = max(lastStart, segment.noCutBelow)
        let cut = segment.bytes.withUnsafeBufferPointer { SafeCut.lastCut(in: $0, above: lower, rule: options.cutRule,
                                                                            asciiOnly: options.cutsBeforeASCIIOnly, inert: cutsInert) }
        guard let c = cut else {
            segment.noCutBelow = max(lower, segment.bytes.count - SafeCut.lookahead)
            return
        }
        let inside = segment.bytes.withUnsafeBufferPointer { SafeCut.isInsideWhitespaceWord($0.baseAddress!, c, $0.count) }
        var done = CorpusSegment()
        done.bytes = Array(segment.bytes[0..<c])
        done.ends = Array(segment.ends.dropLast()) + [c]
        done.wordCuts = segment.wordCuts
        if inside { done.wordCuts[done.wordCuts.count - 1] |= CorpusSegment.endsInsideWord }
        var rest = CorpusSegment()
        rest.bytes = Array(segment.bytes[c...])
        rest.ends = [rest.bytes.count]
        rest.wordCuts = [inside ? CorpusSegment.startsInsideWord : 0]
        try emit(done)
        segment = rest
    }

    /// Whether line `line` of file number `file` is in the sample.
    func keep(file: Int, line: Int, probability p: Double) -> Bool {
        var h = options.seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(file) &* 0xBF58_476D_1CE4_E5B9 ^ UInt64(line)
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
        return Double(h >> 11) * 0x1p-53 < p
    }
}
