/// Finding places where text can be cut so that encoding the parts separately gives the same tokens as
/// encoding the whole.
///
/// Four kinds of cut are used: right after a LF that is followed by a character that is neither white space nor
/// "/", right before a space that sits between two ASCII letters, (`Rule.beforeCJKPunctuation`) right before
/// CJK punctuation that follows a letter or digit (`isCJKPunctuationCut`), and (`Rule.regexPieceEnds`) between
/// ASCII characters of different kinds where every regular-expression pattern ends a piece (`isASCIIClassCut`:
/// base64, hex and minified JSON have no spaces or line breaks, but these places every few bytes) and before any
/// space that follows a character that is not white space (`isSpaceAfterNonSpace`: words in any script). For the cl100k,
/// o200k and llama3 patterns (`Rule.standard`), and for UAX #29 word breaks with the LF cuts, the cuts before a
/// space after a character that is not white space, most of the CJK punctuation cuts and those of the ASCII class
/// cuts that are word breaks too (`Rule.wordBreak`, `isPunctuationCut`), the parts then split into exactly the
/// pieces of the whole,
/// whatever comes before or after: no piece of those patterns goes on past a LF unless white space, "/" (o200k's
/// punctuation pieces, ` ?[^\s\p{L}\p{N}]+[\r\n/]*`, take the CR, LF and "/" after them: "}\n/" is one piece) or
/// more CR and LF follow, and a piece that starts after a LF starts right there. GPT-2's pattern has no
/// `\s*[\r\n]+` alternative, so a run of white space that ends in the LF splits differently at the end of a part
/// ("\n\n" before a letter is "\n", "\n" in the whole but one piece at the end of a part): `Rule.gpt2` cuts after
/// a LF only when the character before it is not white space either.
///
/// With `asciiOnly` the characters a cut is judged by must be ASCII, or in `inert` (characters the normalizer leaves
/// unchanged and never joins with a neighbour): text normalized after it is cut (NFKC maps some characters to a
/// space and a mark) could otherwise put white space right after the cut.
///
/// No cut is safe for every regular expression (a pattern may match across anything), so a pre-tokenizer with a
/// user's pattern has no rule (`PreTokenizer.cutRule` is nil) and is given its input whole.
public enum SafeCut {
    /// Which cuts a pre-tokenizer allows.
    public struct Rule: Sendable, Equatable {
        /// A cut after a LF needs a character before the LF that is not white space (GPT-2's pattern).
        public var lineFeedNeedsText: Bool
        /// Cuts before CJK punctuation that follows a CJK, kana or Hangul letter or an ASCII letter or digit, so
        /// that Chinese or Japanese text without line breaks is cut too. Without `regexPieceEnds` (UAX #29 word
        /// breaks) not before ，：； which UAX #29 joins digits or letters across (MidNum, MidLetter).
        public var beforeCJKPunctuation: Bool
        /// Cuts between an ASCII letter and a digit (either way), after a letter or digit before punctuation, after
        /// punctuation before a digit (`isASCIIClassCut`), and before a space that follows a character that is not
        /// white space (`isSpaceAfterNonSpace`). Regular-expression patterns only: UAX #29 joins letters and
        /// digits into one word, "a:b" and "3.5" too (see `punctuationCuts` and `spaceAfterNonSpaceCuts` for the
        /// cuts both allow).
        public var regexPieceEnds: Bool
        /// The cuts of `regexPieceEnds` between ASCII characters that are also UAX #29 word breaks with the same
        /// words on both sides (`isPunctuationCut`): a letter or digit then punctuation, punctuation then a digit,
        /// where the punctuation is none of the characters UAX #29 joins letters or digits across. Implied by
        /// `regexPieceEnds`; on its own for UAX #29 word breaks, so that eval and `--pretokenizer icu-words` cut
        /// minified JSON and base64 too.
        public var punctuationCuts: Bool
        /// Cuts before a space that follows a character that is not white space, in any script
        /// (`isSpaceAfterNonSpace`), for UAX #29 word breaks, which break there too. Implied by `regexPieceEnds`.
        public var spaceAfterNonSpaceCuts: Bool

        /// A rule from its choices.
        public init(lineFeedNeedsText: Bool, beforeCJKPunctuation: Bool, regexPieceEnds: Bool = false,
                    punctuationCuts: Bool = false, spaceAfterNonSpaceCuts: Bool = false) {
            self.lineFeedNeedsText = lineFeedNeedsText
            self.beforeCJKPunctuation = beforeCJKPunctuation
            self.regexPieceEnds = regexPieceEnds
            self.punctuationCuts = punctuationCuts || regexPieceEnds
            self.spaceAfterNonSpaceCuts = spaceAfterNonSpaceCuts || regexPieceEnds
        }

        /// cl100k, o200k and llama3.
        public static let standard = Rule(lineFeedNeedsText: false, beforeCJKPunctuation: true, regexPieceEnds: true)
        /// GPT-2's pattern.
        public static let gpt2 = Rule(lineFeedNeedsText: true, beforeCJKPunctuation: true, regexPieceEnds: true)
        /// The LF and space cuts alone: the places training and eval cut a user's pattern at.
        public static let basic = Rule(lineFeedNeedsText: false, beforeCJKPunctuation: false, regexPieceEnds: false)
        /// UAX #29 word breaks (which join some punctuation to letters and digits, and segment Chinese runs with a
        /// dictionary): the LF cuts, the cuts before a space after a character that is not white space, before CJK
        /// punctuation other than ，：； (which ends a dictionary run), and the punctuation cuts.
        public static let wordBreak = Rule(lineFeedNeedsText: false, beforeCJKPunctuation: true, regexPieceEnds: false,
                                           punctuationCuts: true, spaceAfterNonSpaceCuts: true)

        /// The rule whose cuts are safe for both pre-tokenizers.
        public func combined(with other: Rule) -> Rule {
            Rule(lineFeedNeedsText: lineFeedNeedsText || other.lineFeedNeedsText,
                 beforeCJKPunctuation: beforeCJKPunctuation && other.beforeCJKPunctuation,
                 regexPieceEnds: regexPieceEnds && other.regexPieceEnds,
                 punctuationCuts: punctuationCuts && other.punctuationCuts,
                 spaceAfterNonSpaceCuts: spaceAfterNonSpaceCuts && other.spaceAfterNonSpaceCuts)
        }
    }

    /// How many bytes past a place `isCut` reads: a place closer than this to the end of the bytes at hand may
    /// become a cut when more bytes follow, every other answer is final.
    public static let lookahead = 8

    @inlinable @inline(__always)
    static func isASCIILetter(_ c: UInt8) -> Bool { (c | 0x20) &- 0x61 < 26 }

    @inlinable @inline(__always)
    static func isASCIINonSpace(_ c: UInt8) -> Bool { c < 0x80 && !(c == 0x20 || (c >= 0x09 && c <= 0x0D)) && c != 0x1C && c != 0x1D && c != 0x1E && c != 0x1F }

    /// Whether `0 < i < count` is a cut of `b[0..<count]` under `rule` (reading the characters around it),
    /// special tokens aside.
    @inlinable @inline(__always)
    public static func isCut(_ b: UnsafePointer<UInt8>, _ i: Int, _ count: Int, rule: Rule = .standard,
                             asciiOnly: Bool = false, inert: InertCharacters? = nil) -> Bool {
        let c = b[i]
        if b[i - 1] == 0x0A {
            if c < 0x80 {
                guard isASCIINonSpace(c) && c != 0x2F else { return false }
            } else {
                guard (!asciiOnly || inert?.startsInert(b, i, count) == true) && startsNonSpace(b, i, count) else { return false }
            }
            return !rule.lineFeedNeedsText || (i >= 2 && endsNonSpace(b, i - 1))
        }
        if c >= 0xE3 {
            guard rule.beforeCJKPunctuation else { return false }
            if asciiOnly {
                guard let inert, inert.startsInert(b, i, count), b[i - 1] < 0x80 || inert.endsInert(b, i) else { return false }
            }
            return isCJKPunctuationCut(b, i, count, uax29Joiners: rule.regexPieceEnds)
        }
        if c == 0x20 {
            if rule.spaceAfterNonSpaceCuts { return isSpaceAfterNonSpace(b, i, asciiOnly: asciiOnly, inert: inert) }
            return i + 1 < count && isASCIILetter(b[i - 1]) && isASCIILetter(b[i + 1])
        }
        if rule.regexPieceEnds { return isASCIIClassCut(b[i - 1], c) }
        return rule.punctuationCuts && isPunctuationCut(b[i - 1], c)
    }

    /// Whether the space at `i` follows a character that is not white space (any script; with `asciiOnly`, ASCII or
    /// in `inert`, as normalizing may change what is next to the cut). In every regular-expression pattern the
    /// piece holding that character then ends at the space (no alternative takes a space after anything but white
    /// space: o200k's and cl100k's punctuation pieces take only CR, LF and "/" after them), and no pattern looks
    /// behind where a piece starts, so the part from the space splits as the whole does from there, whatever
    /// follows. UAX #29 breaks there too, and what it makes of each side does not depend on the other: no rule
    /// joins a space to what precedes it but WB3d (a space after a space), which comes before WB4 and so does not
    /// look through a mark after the first space, and the rules that look past a break need a joiner such as "."
    /// or "'" next to it (tested against ICU for every character before the space). A user's pattern may match
    /// across anything, so `Rule.basic` does not take this cut.
    @usableFromInline
    static func isSpaceAfterNonSpace(_ b: UnsafePointer<UInt8>, _ i: Int, asciiOnly: Bool, inert: InertCharacters?) -> Bool {
        let before = b[i - 1]
        if before < 0x80 { return isASCIINonSpace(before) }
        return (!asciiOnly || inert?.endsInert(b, i) == true) && endsNonSpace(b, i)
    }

    /// Whether a piece of every regular-expression pattern (gpt2, cl100k, o200k, llama3) ends between the ASCII
    /// characters `p` and `c`, whatever surrounds them: letter then digit, digit then letter, letter or digit then
    /// punctuation, punctuation then digit. No alternative of those patterns matches a letter or digit followed by
    /// a character of another of these kinds (letter runs stop at digits and punctuation, `\p{N}` runs hold only
    /// digits, punctuation runs stop at letters and digits, and a punctuation character joins only letters after
    /// it, as the prefix of a word); the apostrophe is left out (o200k's "don't" is one piece, and contractions
    /// start with it), as are white space and the separators U+001C-U+001F, which some engines count as space.
    /// A digit after the cut starts its run, so `\p{N}{1,3}` groups it the same in the part as in the whole, and
    /// no pattern looks behind a piece's start.
    @inlinable @inline(__always)
    static func isASCIIClassCut(_ p: UInt8, _ c: UInt8) -> Bool {
        let kp = asciiKind(p), kc = asciiKind(c)
        // Kinds 1 letter, 2 digit, 4 punctuation; allowed (before, after): (1,2) (2,1) (1,4) (2,4) (4,2).
        return kp != 0 && kc != 0 && kp != kc && !(kp == 4 && kc == 1)
    }

    /// Whether `isASCIIClassCut(p, c)` holds with punctuation on one side (not a letter next to a digit, which
    /// UAX #29 joins into one word) that is not one of UAX #29's MidLetter, MidNum, MidNumLet or ExtendNumLet
    /// characters (".", ",", ":", ";", "_"; the apostrophe is no such cut either), nor "@", which ICU 72's root
    /// rules make a letter. Then UAX #29 breaks there, and no rule looks across it: the rules that look two
    /// characters back or ahead (WB6, WB7, WB11, WB12) need one of those characters next to the break, the Hebrew
    /// quote rules a Hebrew letter, and a mark or joiner after the punctuation stays with it on either side. So each
    /// part splits into the words of the whole, with the same rule status, as ICU's word break iterator finds them
    /// (tested against it).
    @inlinable @inline(__always)
    static func isPunctuationCut(_ p: UInt8, _ c: UInt8) -> Bool {
        guard isASCIIClassCut(p, c) else { return false }
        let punctuation = asciiKind(p) == 4 ? p : c
        switch punctuation {
        case 0x2C, 0x2E, 0x3A, 0x3B, 0x40, 0x5F: return false   // , . : ; @ _
        default: return asciiKind(punctuation) == 4
        }
    }

    /// 1 for an ASCII letter, 2 for a digit, 4 for other printable ASCII and controls that are not white space
    /// (but not the apostrophe), 0 for anything else.
    @inlinable @inline(__always)
    static func asciiKind(_ c: UInt8) -> UInt8 {
        if isASCIILetter(c) { return 1 }
        if c &- 0x30 < 10 { return 2 }
        return isASCIINonSpace(c) && c != 0x27 ? 4 : 0
    }

    /// Whether `b[i]` starts one of 、。「」『』【】！（），：；？ and the character before it is a CJK ideograph
    /// (U+4E00-9FEF), kana, a Hangul syllable or an ASCII letter or digit. Such punctuation is never inside a
    /// letter or number piece, and after a letter or digit it is not inside a punctuation run either, so a piece
    /// starts there and what follows does not depend on what came before. (The letters are letters in Unicode 15
    /// and 16 alike, so ICU's regex engine agrees with the scanners.)
    /// With `uax29Joiners` false, not before ，：； (U+FF0C, U+FF1A, U+FF1B), which UAX #29 joins digits or letters
    /// across. ICU ends a run its dictionary segments at such punctuation, so the other cuts hold for UAX #29 too
    /// (tested against ICU on the corpora's Chinese, Japanese, Korean and Thai without line breaks).
    @usableFromInline
    static func isCJKPunctuationCut(_ b: UnsafePointer<UInt8>, _ i: Int, _ count: Int, uax29Joiners: Bool = true) -> Bool {
        guard i + 3 <= count else { return false }
        let c1 = b[i + 1], c2 = b[i + 2]
        let punctuation: Bool
        switch b[i] {
        case 0xE3: punctuation = c1 == 0x80 && (c2 == 0x81 || c2 == 0x82 || (c2 >= 0x8C && c2 <= 0x91))
        case 0xEF: punctuation = c1 == 0xBC && (c2 == 0x81 || c2 == 0x88 || c2 == 0x89 || c2 == 0x9F
                                                 || (uax29Joiners && (c2 == 0x8C || c2 == 0x9A || c2 == 0x9B)))
        default: punctuation = false
        }
        guard punctuation else { return false }
        let p = b[i - 1]
        if p < 0x80 { return isASCIILetter(p) || (p >= 0x30 && p <= 0x39) }
        guard i >= 3, b[i - 2] & 0xC0 == 0x80, p & 0xC0 == 0x80, b[i - 3] & 0xF0 == 0xE0 else { return false }
        let cp = UInt32(b[i - 3] & 0x0F) << 12 | UInt32(b[i - 2] & 0x3F) << 6 | UInt32(p & 0x3F)
        return (0x4E00...0x9FEF).contains(cp) || (0x3041...0x3096).contains(cp) || (0x30A1...0x30FA).contains(cp)
            || (0xAC00...0xD7A3).contains(cp)
    }

    /// Unicode White_Space above ASCII (what `\s` matches there).
    @inlinable @inline(__always)
    static func isWhiteSpace(_ cp: UInt32) -> Bool {
        switch cp {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// Whether the cut `0 < i < count` lies inside a whitespace word (Python's `str.split()`): the characters on both
    /// sides of it are not white space.
    public static func isInsideWhitespaceWord(_ b: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Bool {
        let c = b[i]
        return (c < 0x80 ? isASCIINonSpace(c) : startsNonSpace(b, i, count)) && endsNonSpace(b, i)
    }

    /// Whether the non-ASCII byte `b[i]` starts a character that is not white space. A byte that is not the start
    /// of a well-formed character is a character of its own that is neither letter, number nor space (as the
    /// pre-tokenizers read it); a character cut off by `count` is unknown, so no.
    @usableFromInline
    static func startsNonSpace(_ b: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Bool {
        let c = b[i]
        let len = sequenceLength(c)
        if len == 1 { return true }
        if i + len > count { return false }
        var cp = UInt32(c) & (0x7F >> UInt32(len))
        for k in 1..<len {
            let x = b[i + k]
            if x & 0xC0 != 0x80 { return true }
            cp = cp << 6 | UInt32(x & 0x3F)
        }
        return !isWhiteSpace(cp)
    }

    /// Whether the character that ends at `b[lf - 1]` (before the LF at `lf`) is not white space; no when it
    /// starts before `b`.
    @usableFromInline
    static func endsNonSpace(_ b: UnsafePointer<UInt8>, _ lf: Int) -> Bool {
        let last = b[lf - 1]
        if last < 0x80 { return isASCIINonSpace(last) }
        var j = lf - 1
        while j > 0 && j > lf - 4 && b[j] & 0xC0 == 0x80 { j -= 1 }
        if b[j] & 0xC0 == 0x80 { return j > 0 }   // no lead byte in reach: invalid bytes, not space
        return startsNonSpace(b, j, lf) || j + sequenceLength(b[j]) != lf
    }

    /// The length of the UTF-8 sequence a lead byte announces (1 for a byte that cannot lead one).
    @usableFromInline @inline(__always)
    static func sequenceLength(_ c: UInt8) -> Int { c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 1 }

    /// The last cut position `c` with `lower < c < upper` (searching back from `upper`, default `text.count`),
    /// or nil. Positions whose cut would split an occurrence of a special token in `specials` are skipped; unless
    /// `complete` says that no bytes follow `text`, so are the positions a special token could cross without
    /// ending inside `text` (the last `maxLength - 1`). With `specials` and no other cut, the start of a special
    /// token that matching from `lower` (which must be a place where matching starts afresh: the text's start
    /// or a cut) takes is a cut: the text on each side of it is encoded apart anyway, so special tokens back to
    /// back still give places to cut at.
    public static func lastCut(in text: UnsafeBufferPointer<UInt8>, above lower: Int, below upper: Int? = nil,
                               rule: Rule = .standard, asciiOnly: Bool = false, inert: InertCharacters? = nil,
                               specials: SpecialTokens? = nil, complete: Bool = true) -> Int? {
        guard let b = text.baseAddress else { return nil }
        let specials = specials.flatMap { $0.isEmpty ? nil : $0 }
        var top = min(upper ?? text.count, text.count)
        if let specials, !complete { top = min(top, text.count - specials.maxLength + 1) }
        var i = top - 1   // candidate cut position: between i-1 and i
        while i > lower {
            if isCut(b, i, text.count, rule: rule, asciiOnly: asciiOnly, inert: inert) {
                if let specials, crossesSpecial(text, at: i, specials) {
                    i -= 1
                    continue
                }
                return i
            }
            i -= 1
        }
        guard let specials else { return nil }
        // The matches taken from `lower` on, left to right (leftmost, longest first), as encoding takes them.
        var last: Int? = nil
        var s = max(lower, 0)
        while let m = specials.firstMatch(in: text, from: s, end: text.count) {
            if m.start >= top { break }
            // A refused token that crosses it must stay whole to be found (see `SpecialTokens.firstRefused`).
            if m.start > lower && !crossesRefused(text, at: m.start, specials) { last = m.start }
            s = m.start + m.length
        }
        return last
    }

    /// Whether an occurrence of a refused special token (see `SpecialTokens.firstRefused`) crosses `cut`.
    static func crossesRefused(_ text: UnsafeBufferPointer<UInt8>, at cut: Int, _ specials: SpecialTokens) -> Bool {
        specials.refusesAny && crosses(text, at: cut, specials) { specials.firstRefused(in: text, from: $0, end: $1).map { ($0.start, $0.length) } }
    }

    /// Whether an occurrence of a special token that matching takes (not an ignored one) crosses `cut`.
    static func crossesSpecial(_ text: UnsafeBufferPointer<UInt8>, at cut: Int, _ specials: SpecialTokens) -> Bool {
        crosses(text, at: cut, specials) { specials.firstMatch(in: text, from: $0, end: $1).map { ($0.start, $0.length) } }
    }

    /// Whether one of the occurrences `first(from, end)` finds (the first at or after `from` that ends by `end`)
    /// crosses `cut`: each start from `maxLength - 1` bytes before it is tried.
    @inline(__always)
    private static func crosses(_ text: UnsafeBufferPointer<UInt8>, at cut: Int, _ specials: SpecialTokens,
                                first: (Int, Int) -> (start: Int, length: Int)?) -> Bool {
        var s = max(0, cut - specials.maxLength + 1)
        while let m = first(s, min(text.count, cut + specials.maxLength)) {
            if m.start >= cut { return false }
            if m.start + m.length > cut { return true }
            s = m.start + 1
        }
        return false
    }
}
