/// Finding places where text can be cut so that encoding the parts separately gives the same tokens as
/// encoding the whole.
///
/// Two kinds of cut are used: right after a LF that is followed by a character that is neither white space nor
/// "/", and right before a space that sits between two ASCII letters. For the cl100k, o200k and llama3 patterns
/// and for UAX #29 word breaks (`Rule.standard`) the parts then split into exactly the pieces of the whole,
/// whatever comes before or after: no piece of those patterns goes on past a LF unless white space, "/" (o200k's
/// punctuation pieces, ` ?[^\s\p{L}\p{N}]+[\r\n/]*`, take the CR, LF and "/" after them: "}\n/" is one piece) or
/// more CR and LF follow, and a piece that starts after a LF starts right there. GPT-2's pattern has no
/// `\s*[\r\n]+` alternative, so a run of white space that ends in the LF splits differently at the end of a part
/// ("\n\n" before a letter is "\n", "\n" in the whole but one piece at the end of a part): `Rule.gpt2` cuts after
/// a LF only when the character before it is not white space either.
///
/// With `asciiOnly` the character after the LF must be ASCII: text normalized after it is cut (NFKC maps some
/// characters to a space and a mark) could otherwise put white space right after the cut.
///
/// No cut is safe for every regular expression (a pattern may match across anything), so a pre-tokenizer with a
/// user's pattern has no rule (`PreTokenizer.cutRule` is nil) and is given its input whole.
public enum SafeCut {
    /// Which cuts a pre-tokenizer allows.
    public enum Rule: Sendable, Equatable {
        /// Both kinds of cut: cl100k, o200k, llama3 and UAX #29 word breaks.
        case standard
        /// GPT-2's pattern: a LF cut needs a non-space ASCII character before the LF.
        case gpt2

        /// The rule whose cuts are safe for both pre-tokenizers (a cut of `.gpt2` is also one of `.standard`).
        public func combined(with other: Rule) -> Rule { self == .standard && other == .standard ? .standard : .gpt2 }
    }

    @inlinable @inline(__always)
    static func isASCIILetter(_ c: UInt8) -> Bool { (c | 0x20) &- 0x61 < 26 }

    @inlinable @inline(__always)
    static func isASCIINonSpace(_ c: UInt8) -> Bool { c < 0x80 && !(c == 0x20 || (c >= 0x09 && c <= 0x0D)) && c != 0x1C && c != 0x1D && c != 0x1E && c != 0x1F }

    /// Whether `0 < i < count` is a cut of `b[0..<count]` under `rule` (reading the characters around it),
    /// special tokens aside.
    @inlinable @inline(__always)
    public static func isCut(_ b: UnsafePointer<UInt8>, _ i: Int, _ count: Int, rule: Rule = .standard,
                             asciiOnly: Bool = false) -> Bool {
        let c = b[i]
        if b[i - 1] == 0x0A {
            if c < 0x80 {
                guard isASCIINonSpace(c) && c != 0x2F else { return false }
            } else {
                guard !asciiOnly && startsNonSpace(b, i, count) else { return false }
            }
            return rule == .standard || (i >= 2 && endsNonSpace(b, i - 1))
        }
        return c == 0x20 && i + 1 < count && isASCIILetter(b[i - 1]) && isASCIILetter(b[i + 1])
    }

    /// Unicode White_Space above ASCII (what `\s` matches there).
    @inlinable @inline(__always)
    static func isWhiteSpace(_ cp: UInt32) -> Bool {
        switch cp {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// Whether the non-ASCII byte `b[i]` starts a character that is not white space. A byte that is not the start
    /// of a well-formed character is a character of its own that is neither letter, number nor space (as the
    /// pre-tokenizers read it); a character cut off by `count` is unknown, so no.
    @usableFromInline
    static func startsNonSpace(_ b: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Bool {
        let c = b[i]
        let len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 1
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
        if b[j] & 0xC0 == 0x80 { return j > 0 ? true : false }   // no lead byte in reach: invalid bytes, not space
        return startsNonSpace(b, j, lf) || j + (b[j] >= 0xF0 ? 4 : b[j] >= 0xE0 ? 3 : 2) != lf
    }

    /// The last cut position `c` with `lower < c < upper` (searching back from `upper`, default `text.count`),
    /// or nil. Positions whose cut would split an occurrence of a special token in `specials` are skipped; unless
    /// `complete` says that no bytes follow `text`, so are the positions a special token could cross without
    /// ending inside `text` (the last `maxLength - 1`).
    public static func lastCut(in text: UnsafeBufferPointer<UInt8>, above lower: Int, below upper: Int? = nil,
                               rule: Rule = .standard, asciiOnly: Bool = false, specials: SpecialTokens? = nil,
                               complete: Bool = true) -> Int? {
        guard let b = text.baseAddress else { return nil }
        let specials = specials.flatMap { $0.isEmpty ? nil : $0 }
        var top = min(upper ?? text.count, text.count)
        if let specials, !complete { top = min(top, text.count - specials.maxLength + 1) }
        var i = top - 1   // candidate cut position: between i-1 and i
        while i > lower {
            if isCut(b, i, text.count, rule: rule, asciiOnly: asciiOnly) {
                if let specials, crossesSpecial(text, at: i, specials) {
                    i -= 1
                    continue
                }
                return i
            }
            i -= 1
        }
        return nil
    }

    static func crossesSpecial(_ text: UnsafeBufferPointer<UInt8>, at cut: Int, _ specials: SpecialTokens) -> Bool {
        let from = max(0, cut - specials.maxLength + 1)
        var s = from
        while let m = specials.firstMatch(in: text, from: s, end: min(text.count, cut + specials.maxLength)) {
            if m.start >= cut { return false }
            if m.start + m.length > cut { return true }
            s = m.start + 1
        }
        return false
    }
}
