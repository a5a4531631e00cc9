/// Finding places where text can be cut so that encoding the parts separately gives the same tokens as
/// encoding the whole.
///
/// Two kinds of cut are used: right after a LF that is followed by an ASCII byte that is neither white space nor
/// "/", and right before a space that sits between two ASCII letters. For the cl100k, o200k and llama3 patterns
/// and for UAX #29 word breaks (`Rule.standard`) the parts then split into exactly the pieces of the whole,
/// whatever comes before or after. ("/" is left out because o200k's punctuation pieces,
/// ` ?[^\s\p{L}\p{N}]+[\r\n/]*`, take the CR, LF and "/" after them: "}\n/" is one piece.) GPT-2's pattern has no
/// `\s*[\r\n]+` alternative, so a run of white space that ends in the LF splits differently at the end of a part
/// ("\n\n" before a letter is "\n", "\n" in the whole but one piece at the end of a part): `Rule.gpt2` cuts
/// after a LF only when an ASCII character that is not white space comes right before it.
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

    /// Whether `0 < i < count` is a cut of `b[0..<count]` under `rule` (reading `b[i - 2]` to `b[i + 1]`),
    /// special tokens aside.
    @inlinable @inline(__always)
    public static func isCut(_ b: UnsafePointer<UInt8>, _ i: Int, _ count: Int, rule: Rule = .standard) -> Bool {
        let c = b[i]
        if b[i - 1] == 0x0A {
            guard isASCIINonSpace(c) && c != 0x2F else { return false }
            return rule == .standard || (i >= 2 && isASCIINonSpace(b[i - 2]))
        }
        return c == 0x20 && i + 1 < count && isASCIILetter(b[i - 1]) && isASCIILetter(b[i + 1])
    }

    /// The last cut position `c` with `lower < c < upper` (searching back from `upper`, default `text.count`),
    /// or nil. Positions whose cut would split an occurrence of a special token in `specials` are skipped; unless
    /// `complete` says that no bytes follow `text`, so are the positions a special token could cross without
    /// ending inside `text` (the last `maxLength - 1`).
    public static func lastCut(in text: UnsafeBufferPointer<UInt8>, above lower: Int, below upper: Int? = nil,
                               rule: Rule = .standard, specials: SpecialTokens? = nil, complete: Bool = true) -> Int? {
        guard let b = text.baseAddress else { return nil }
        let specials = specials.flatMap { $0.isEmpty ? nil : $0 }
        var top = min(upper ?? text.count, text.count)
        if let specials, !complete { top = min(top, text.count - specials.maxLength + 1) }
        var i = top - 1   // candidate cut position: between i-1 and i
        while i > lower {
            if isCut(b, i, text.count, rule: rule) {
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
