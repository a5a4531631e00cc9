import TokCore
import TokICU
import TokIO
import TokTrain

/// Encodes texts with several tokenizers and gathers `TokenCounts` for each.
///
/// A text is read as `tok train` reads a corpus (files in order, plain or zstd, cut at safe points into segments)
/// and the segments are shared out to worker threads. For each segment the tokenizer-independent landmarks
/// (whitespace words, UAX #29 words, the reference pre-tokenizer's pieces) are found once, then every tokenizer
/// encodes it; each worker sums into counts of its own, added up at the end.
public final class Evaluator: @unchecked Sendable {
    /// The tokenizers measured, in the order of the counts `measure` returns.
    public let tokenizers: [Tokenizer]
    /// Each tokenizer's `TokenTraits`, in `tokenizers` order.
    public let traits: [TokenTraits]
    /// The pre-tokenizer whose pieces define pre-token purity (default: o200k's pattern).
    public let reference: any PreTokenizer
    let wordBreak: ICUWordBreakPreTokenizer
    /// By tokenizer: whether it pre-tokenizes exactly as `reference` (same standard pattern, no normalizer).
    let sharesReferencePieces: [Bool]

    /// - Parameter referencePattern: the standard pattern whose pieces define pre-token purity (default o200k).
    public init(tokenizers: [Tokenizer], referencePattern: StandardPattern = .o200k) throws {
        self.tokenizers = tokenizers
        self.traits = tokenizers.map { TokenTraits(tokenizer: $0) }
        self.reference = referencePattern.preTokenizer
        sharesReferencePieces = tokenizers.map {
            $0.normalizer == nil && StandardPattern(pattern: $0.pattern) == referencePattern
                && $0.preTokenizer is StandardScanner
        }
        wordBreak = try ICUWordBreakPreTokenizer()
    }

    /// The counts of each tokenizer (in `tokenizers` order) over the files, read as one text per file.
    public func measure(files: [String], threads: Int, invalidUTF8: CorpusOptions.InvalidUTF8 = .error) throws -> [TokenCounts] {
        try measure(files: files, threads: threads, options: corpusOptions(invalidUTF8: invalidUTF8))
    }

    /// How `measure` reads a corpus: segments of `segmentBytes`, cut where every tokenizer, the reference and the
    /// word break allow.
    func corpusOptions(invalidUTF8: CorpusOptions.InvalidUTF8 = .error, segmentBytes: Int = 1 << 19) -> CorpusOptions {
        var options = CorpusOptions()
        options.invalidUTF8 = invalidUTF8
        // Segments of 512 KB: a segment costs every tokenizer's encode plus the metrics, and with 1 MB ones the last
        // few keep one thread busy while the others wait; with 128 KB ones each tokenizer's caches start cold more
        // often (three tokenizers on 10 MB, two threads: 0.31-0.34 s with 512 KB against 0.34-0.36 s with 128 KB,
        // 6% less CPU).
        options.segmentBytes = segmentBytes
        // Cuts every tokenizer, the reference and the word break allow; a user's pattern, which allows none, gets
        // the basic ones (see `CorpusOptions.cutRule`). A cut may fall inside a whitespace word (minified JSON);
        // the segments' `wordCuts` flags let the counts join its two halves again.
        options.cutRule = tokenizers.reduce((wordBreak.cutRule ?? .basic).combined(with: reference.cutRule ?? .basic)) {
            $0.combined(with: $1.preTokenizer.cutRule ?? .basic)
        }
        // Text is normalized after it is cut: cuts next to ASCII, or to characters every normalizer leaves alone.
        let normalizers = tokenizers.compactMap(\.normalizer)
        options.cutASCIIOnly = !normalizers.isEmpty
        options.cutInert = InertCharacters.common(normalizers.map(\.inertCharacters))
        return options
    }

    /// `measure` with the reading options given.
    func measure(files: [String], threads: Int, options: CorpusOptions) throws -> [TokenCounts] {
        let reader = CorpusReader(files: files, options: options)
        let boxes = (0..<max(1, threads)).map { _ in Box(self) }
        try reader.process(workers: threads) { k, segment in boxes[k].process(segment) }
        var total = boxes[0].counts
        for b in boxes.dropFirst() {
            for k in 0..<total.count { total[k].add(b.counts[k]) }
        }
        for k in 0..<total.count { total[k].finish(traits: traits[k]) }
        return total
    }

    /// The tokenizer-independent landmarks of `text`: whitespace words, UAX #29 words, the reference's pieces.
    func findLandmarks(_ text: UnsafeBufferPointer<UInt8>, into l: inout TextLandmarks) {
        l.whitespaceWords.removeAll(keepingCapacity: true)
        l.characters = TextLandmarks.whitespaceWords(text, into: &l.whitespaceWords)
        l.words.removeAll(keepingCapacity: true)
        wordBreak.forEachWord(text) { s, t in
            l.words.append(s)
            l.words.append(t)
        }
        l.pieceEnds.removeAll(keepingCapacity: true)
        reference.split(text, into: &l.pieceEnds)
        l.pieceEndBits.reset(count: text.count)
        l.pieceEnds.withUnsafeBufferPointer { l.pieceEndBits.insert($0) }
    }

    /// One worker's counts and scratch memory (only that worker touches them, so no dynamic exclusivity checks).
    final class Box: @unchecked Sendable {
        let evaluator: Evaluator
        @exclusivity(unchecked) var counts: [TokenCounts]
        @exclusivity(unchecked) var landmarks = TextLandmarks()
        /// Landmarks of the text as a normalizing tokenizer sees it.
        @exclusivity(unchecked) var normalizedLandmarks = TextLandmarks()
        @exclusivity(unchecked) var buffer = TokenBuffer(capacity: 1 << 16)
        @exclusivity(unchecked) var tokenEnds = PositionBits()

        init(_ e: Evaluator) {
            evaluator = e
            counts = e.tokenizers.map { TokenCounts(vocabularySize: $0.vocabularySize) }
        }

        func process(_ segment: CorpusSegment) {
            segment.bytes.withUnsafeBufferPointer { all in
                var start = 0
                for (k, end) in segment.ends.enumerated() {
                    let text = UnsafeBufferPointer(rebasing: all[start..<end])
                    measure(text, wordCuts: k < segment.wordCuts.count ? segment.wordCuts[k] : 0)
                    start = end
                }
            }
        }

        func measure(_ text: UnsafeBufferPointer<UInt8>, wordCuts: UInt8 = 0) {
            let e = evaluator
            e.findLandmarks(text, into: &landmarks)
            for (k, t) in e.tokenizers.enumerated() {
                buffer.removeAll()
                if let n = t.normalizer, let normalized = try? n.normalize(text) {
                    // The tokenizer sees the normalized text: its tokens, words and pieces are counted there, and
                    // the text's size (bytes, characters) as given, like every other tokenizer's.
                    normalized.withUnsafeBufferPointer { nt in
                        e.findLandmarks(nt, into: &normalizedLandmarks)
                        t.withEncoder { $0.encodeOrdinary(nt, into: &buffer) }
                        counts[k].count(text: nt, ids: buffer.ids, traits: e.traits[k], landmarks: normalizedLandmarks,
                                        tokenEnds: &tokenEnds, wordCuts: wordCuts)
                        counts[k].bytes += text.count - nt.count
                        counts[k].characters += landmarks.characters - normalizedLandmarks.characters
                    }
                    continue
                }
                if e.sharesReferencePieces[k] {
                    // Same pattern as the reference: its pieces are this tokenizer's pre-tokens already.
                    landmarks.pieceEnds.withUnsafeBufferPointer { ends in
                        t.withEncoder { $0.encodeOrdinary(text, pieceEnds: ends, into: &buffer) }
                    }
                } else {
                    t.withEncoder { $0.encodeOrdinary(text, into: &buffer) }
                }
                let ids = buffer.ids
                counts[k].count(text: text, ids: ids, traits: e.traits[k], landmarks: landmarks, tokenEnds: &tokenEnds,
                                wordCuts: wordCuts)
            }
        }
    }
}
