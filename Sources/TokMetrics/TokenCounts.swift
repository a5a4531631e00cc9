import TokCore
import TokTrain
internal import CByteClasses

/// What one tokenizer did on one text (a corpus, or one language of a parallel corpus): sums over its segments,
/// so that threads can count parts of the text and add them up.
public struct TokenCounts: Sendable {
    /// Bytes of text encoded.
    public var bytes = 0
    /// Unicode scalars (UTF-8 lead bytes).
    public var characters = 0
    /// Tokens the tokenizer produced.
    public var tokens = 0
    /// Runs of characters that are not white space (Python's `str.split()`).
    public var whitespaceWords = 0
    /// Whitespace words that lie inside one token.
    public var whitespaceWordsWhole = 0
    /// UAX #29 words (ICU word breaks, numbers, letters, kana and ideographs; not spaces or punctuation).
    public var words = 0
    /// UAX #29 words that lie inside one token.
    public var wordsWhole = 0
    /// Tokens that cross a boundary of the reference pre-tokenizer.
    public var crossingTokens = 0
    /// Occurrences of each id.
    public var idCounts: [UInt64]
    /// Ids seen crossing a reference boundary at least once (a bit per id).
    public var crossingIDs: [UInt64]
    /// Tokens by length in bytes: index k counts tokens of k + 1 bytes, the last bucket the longer ones. Filled by
    /// `finish(traits:)` from `idCounts`.
    public var lengthHistogram: [Int]

    /// Buckets of `lengthHistogram`: 1 to 15 bytes, then 16 bytes or more.
    public static let histogramBuckets = 16

    /// Zero counts for a tokenizer with `vocabularySize` ids (`Tokenizer.vocabularySize`).
    public init(vocabularySize: Int) {
        idCounts = [UInt64](repeating: 0, count: vocabularySize)
        crossingIDs = [UInt64](repeating: 0, count: (vocabularySize + 63) / 64)
        lengthHistogram = [Int](repeating: 0, count: Self.histogramBuckets)
    }

    /// Works out what follows from the id counts (the length histogram) once all parts are added.
    public mutating func finish(traits: TokenTraits) {
        lengthHistogram = [Int](repeating: 0, count: Self.histogramBuckets)
        for (id, n) in idCounts.enumerated() where n > 0 {
            let len = Int(traits.length[id])
            if len > 0 { lengthHistogram[min(len, Self.histogramBuckets) - 1] += Int(n) }
        }
    }

    /// Adds another part's counts.
    public mutating func add(_ o: TokenCounts) {
        bytes += o.bytes; characters += o.characters; tokens += o.tokens
        whitespaceWords += o.whitespaceWords; whitespaceWordsWhole += o.whitespaceWordsWhole
        words += o.words; wordsWhole += o.wordsWhole; crossingTokens += o.crossingTokens
        for i in 0..<idCounts.count where o.idCounts[i] != 0 { idCounts[i] += o.idCounts[i] }
        for i in 0..<crossingIDs.count { crossingIDs[i] |= o.crossingIDs[i] }
    }
}

/// The parts of a text that do not depend on the tokenizer, found once and shared by all tokenizers.
struct TextLandmarks {
    /// Whitespace words as start, end pairs, in order.
    var whitespaceWords: [Int] = []
    /// UAX #29 words as start, end pairs, in order.
    var words: [Int] = []
    /// Ends of the reference pre-tokenizer's pieces.
    var pieceEnds: [Int] = []
    /// The same ends as a set of positions.
    var pieceEndBits = PositionBits()
    var characters = 0

    /// Python's `str.isspace()` for the characters that are white space in Unicode (White_Space) or in its
    /// bidirectional classes B and S (U+001C..U+001F).
    @inline(__always)
    static func isSpace(_ cp: UInt32) -> Bool {
        switch cp {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Whitespace words and the character count of `t`.
    static func whitespaceWords(_ t: UnsafeBufferPointer<UInt8>, into spans: inout [Int]) -> Int {
        guard let p = t.baseAddress else { return 0 }
        var chars = 0
        var i = 0
        var inWord = false
        let n = t.count
        // Spans are appended as they are found (start, end, start, ...), so they alternate as the caller expects.
        while i < n {
            // ASCII blocks of 64 bytes: word starts and ends from the space mask, one step per boundary.
            if i + 64 <= n {
                let m = tok_python_space64(p + i)
                if m.nonascii == 0 {
                    let S = m.space
                    let before = S << 1 | (inWord ? 0 : 1)   // bit k: byte k - 1 is space (or no word is open)
                    var events = (~S & before) | (S & ~before)
                    while events != 0 {
                        spans.append(i + events.trailingZeroBitCount)
                        events &= events - 1
                    }
                    inWord = S >> 63 == 0
                    chars += 64
                    i += 64
                    continue
                }
            }
            // Byte by byte (one character at a time) to the end of the block.
            let stop = min(i + 64, n)
            while i < stop {
                let b = t[i]
                var cp = UInt32(b), len = 1
                if b >= 0x80 {
                    if let (c, l) = TokenTraits.decodeCharacter(t, i) { cp = c; len = l } else { cp = 0xFFFD }
                }
                chars += 1
                if isSpace(cp) {
                    if inWord { spans.append(i); inWord = false }
                } else if !inWord {
                    spans.append(i)
                    inWord = true
                }
                i += len
            }
        }
        if inWord { spans.append(n) }
        return chars
    }
}

extension TokenCounts {
    /// Counts one text (`text`) already split into tokens `ids`, against its landmarks: a word is whole when no
    /// token ends strictly inside it, and a token crosses a reference piece boundary when a piece ends strictly
    /// inside it. `tokenEnds` is scratch space (this text's token ends are put there). `wordCuts` (see
    /// `CorpusSegment.wordCuts`) says whether the text starts or ends at a cut inside a whitespace word.
    mutating func count(text: UnsafeBufferPointer<UInt8>, ids: UnsafeBufferPointer<UInt32>, traits: TokenTraits,
                        landmarks l: TextLandmarks, tokenEnds: inout PositionBits, wordCuts: UInt8 = 0) {
        bytes += text.count
        characters += l.characters
        tokens += ids.count
        whitespaceWords += l.whitespaceWords.count / 2
        words += l.words.count / 2
        tokenEnds.reset(count: text.count)
        var crossing = 0
        l.pieceEndBits.words.withUnsafeBufferPointer { pieceEnds in
        tokenEnds.words.withUnsafeMutableBufferPointer { ends in
        idCounts.withUnsafeMutableBufferPointer { counts in
        crossingIDs.withUnsafeMutableBufferPointer { crossed in
        traits.shortLength.withUnsafeBufferPointer { lengths in
            var a = 0
            let ahead = 16
            for k in 0..<ids.count {
                // The counts of a large vocabulary (o200k: 1.6 MB) do not stay in cache, and each token's
                // increment and length lookup used to stall on a miss: fetch them `ahead` tokens early.
                if k &+ ahead < ids.count {
                    let next = Int(ids[k &+ ahead])
                    tok_prefetch_write(counts.baseAddress! + next)
                    tok_prefetch_read(lengths.baseAddress! + next)
                }
                let id = Int(ids[k])
                var len = Int(lengths[id])
                if len == 255 { len = Int(traits.length[id]) }
                let b = a &+ len
                counts[id] &+= 1
                ends[b >> 6] |= 1 &<< UInt64(b & 63)
                // No branch on the answer: crossing tokens are a few percent, scattered.
                let cross: UInt64 = pieceEnds.anyBit(a &+ 1, b) ? 1 : 0
                crossing &+= Int(cross)
                crossed[id >> 6] |= cross &<< UInt64(id & 63)
                a = b
            }
        }}}}}
        var wsWhole = 0, wordsWhole = 0
        tokenEnds.words.withUnsafeBufferPointer { ends in
            @inline(__always) func whole(_ spans: UnsafeBufferPointer<Int>) -> Int {
                var n = 0, w = 0
                while w < spans.count {
                    n &+= ends.anyBit(spans[w] &+ 1, spans[w &+ 1]) ? 0 : 1  // no branch on the answer
                    w &+= 2
                }
                return n
            }
            wsWhole = l.whitespaceWords.withUnsafeBufferPointer(whole)
            wordsWhole = l.words.withUnsafeBufferPointer(whole)
            if wordCuts != 0 {
                // A word cut in two is counted once, with the text after the cut, and is never whole: every
                // tokenizer's tokens end at the cut, strictly inside it. Either half may have looked whole here.
                let spans = l.whitespaceWords
                let n = spans.count
                @inline(__always) func isWhole(_ w: Int) -> Bool { !ends.anyBit(spans[w] &+ 1, spans[w &+ 1]) }
                let first = wordCuts & CorpusSegment.startsInsideWord != 0 && n >= 2 && spans[0] == 0
                if first {
                    whitespaceWords -= 1
                    if isWhole(0) { wsWhole -= 1 }
                }
                if wordCuts & CorpusSegment.endsInsideWord != 0 && n >= 2 && spans[n - 1] == text.count
                    && !(first && n == 2) && isWhole(n - 2) {
                    wsWhole -= 1
                }
            }
        }
        whitespaceWordsWhole += wsWhole
        self.wordsWhole += wordsWhole
        crossingTokens += crossing
    }
}
