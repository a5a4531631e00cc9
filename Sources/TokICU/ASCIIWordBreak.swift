// UAX #29 word boundaries of ASCII text without ICU.
//
// `tok eval` needs the words of every line it measures, and ICU's break iterator was a quarter of its time on
// English prose and code, where almost every line is ASCII. On ASCII the word break rules reduce to a handful of
// classes: letters (with ICU 72's "@"), digits, "_", the joiners "." "'" (letters and digits), ":" (letters, if the
// ICU build says so) and "," ";" (digits), U+0020, CR, and the line breaks LF, VT, FF. No ASCII character is
// Extend, Format, ZWJ, Katakana, Hebrew or a dictionary character, so WB4, WB7a-c, WB13 and the dictionary never
// apply. The class table is not trusted blindly: `ICUWordBreakPreTokenizer` checks it against ICU on a probe that
// puts every ASCII character in the contexts that tell the classes apart (`ASCIIWordBreak.probeText`) and uses ICU
// alone if they differ, so an ICU version with other classes costs speed, never exactness.

/// Word boundaries of ASCII text, equal to ICU's `UBRK_WORD` iterator's where the class table is right.
public struct ASCIIWordBreak: Sendable {
    /// Class flag: ALetter.
    public static let letter: UInt8 = 1
    /// Class flag: Numeric.
    public static let number: UInt8 = 2
    /// Class flag: ExtendNumLet.
    public static let underscore: UInt8 = 4
    /// Class flag: joins two letters (MidLetter, MidNumLet, Single_Quote; WB6/7).
    public static let joinsLetters: UInt8 = 8
    /// Class flag: joins two digits (MidNum, MidNumLet, Single_Quote; WB11/12).
    public static let joinsNumbers: UInt8 = 16
    /// Class flag: WSegSpace (WB3d).
    public static let space: UInt8 = 32
    /// Class flag: CR (kept with a following LF, WB3).
    public static let carriageReturn: UInt8 = 64
    /// Letters, digits and "_": any run of them is one piece.
    public static let wordish: UInt8 = letter | number | underscore

    /// 128 entries, the class flags of each ASCII byte (0: a character no rule joins to anything).
    public let classes: [UInt8]

    /// The classes of ICU 72's root word rules; `colonJoinsLetters` and `atIsLetter` are the two that ICU versions
    /// and tailorings are known to change.
    public init(colonJoinsLetters: Bool, atIsLetter: Bool) {
        var c = [UInt8](repeating: 0, count: 128)
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { c[Int(b)] = Self.letter }
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { c[Int(b)] = Self.letter }
        for b in UInt8(ascii: "0")...UInt8(ascii: "9") { c[Int(b)] = Self.number }
        c[0x5F] = Self.underscore
        if atIsLetter { c[0x40] = Self.letter }
        c[0x2E] = Self.joinsLetters | Self.joinsNumbers   // "." MidNumLet
        c[0x27] = Self.joinsLetters | Self.joinsNumbers   // "'" Single_Quote
        if colonJoinsLetters { c[0x3A] = Self.joinsLetters }
        c[0x2C] = Self.joinsNumbers                        // "," MidNum
        c[0x3B] = Self.joinsNumbers                        // ";" MidNum
        c[0x20] = Self.space
        c[0x0D] = Self.carriageReturn
        classes = c
    }

    /// A table of given classes (for tests that check the probe notices a wrong one).
    public init(classes: [UInt8]) {
        precondition(classes.count == 128)
        self.classes = classes
    }

    /// The pieces of the probe text, as (end, 1 for a word or 0) pairs.
    public func probePieces() -> [Int] {
        Self.probeText.withUnsafeBufferPointer { b in
            var got: [Int] = []
            forEachPiece(b.baseAddress!, 0, b.count) { end, word in got += [end, word ? 1 : 0] }
            return got
        }
    }

    /// Calls `body(end, isWord)` for each piece of `p[start..<end]` (ASCII only), in order: the pieces tile the
    /// range as ICU's boundaries do, and `isWord` is ICU's rule status >= 100 (letters or digits).
    @inline(__always)
    func forEachPiece(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ body: (Int, Bool) -> Void) {
        classes.withUnsafeBufferPointer { cb in
            let cls = cb.baseAddress!
            var i = start
            while i < end {
                let f = cls[Int(p[i])]
                var j = i &+ 1
                var word = false
                if f & Self.wordish != 0 {
                    // WB5, WB8-10, WB13a/b: letters, digits and "_" stick together in any order; WB6/7 and
                    // WB11/12: one joiner between two letters or two digits.
                    while j < end {
                        let g = cls[Int(p[j])]
                        if g & Self.wordish != 0 { j &+= 1; continue }
                        if g & (Self.joinsLetters | Self.joinsNumbers) != 0 && j &+ 1 < end {
                            let before = cls[Int(p[j &- 1])], after = cls[Int(p[j &+ 1])]
                            if (before & after & Self.letter != 0 && g & Self.joinsLetters != 0)
                                || (before & after & Self.number != 0 && g & Self.joinsNumbers != 0) {
                                j &+= 2
                                continue
                            }
                        }
                        break
                    }
                    // A lone "_" is matched by no word rule (status 0); anything longer is.
                    word = j &- i > 1 || f & Self.underscore == 0
                } else if f & Self.space != 0 {
                    while j < end && p[j] == 0x20 { j &+= 1 }
                } else if f & Self.carriageReturn != 0 {
                    if j < end && p[j] == 0x0A { j &+= 1 }
                }
                body(j, word)
                i = j
            }
        }
    }

    /// Class flag, non-ASCII only: Word_Break Extend (combining marks, vowel signs), which WB4 attaches to the
    /// character before it, except after a line break.
    public static let extend: UInt8 = 128
    /// In a table of non-ASCII classes: a character these rules do not cover (the line goes to ICU).
    public static let notInRules: UInt8 = 0xFF

    /// `forEachPiece` for text whose non-ASCII characters are all letters, digits, marks or characters no rule
    /// joins (`letters` gives their class, `letter`, `number`, `extend` or 0, by code point; the caller has checked
    /// every one, see `isLettersLine`). Such a letter or digit only ever joins a run of letters, digits and "_",
    /// exactly as an ASCII one does, any other such character is a piece of its own, and a mark is skipped where it
    /// follows anything but a line break (WB4), so the same rules apply character by character. On ASCII text it
    /// finds the same pieces as `forEachPiece`.
    func forEachPieceUTF8(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, letters: UnsafePointer<UInt8>,
                          _ body: (Int, Bool) -> Void) {
        classes.withUnsafeBufferPointer { cb in
            let cls = cb.baseAddress!
            // Class and length of the character at `i`.
            @inline(__always) func at(_ i: Int) -> (UInt8, Int) {
                let b = p[i]
                if b < 0x80 { return (cls[Int(b)], 1) }
                if b < 0xE0 { return (letters[Int(b & 0x1F) << 6 | Int(p[i &+ 1] & 0x3F)], 2) }
                return (letters[Int(b & 0x0F) << 12 | Int(p[i &+ 1] & 0x3F) << 6 | Int(p[i &+ 2] & 0x3F)], 3)
            }
            // The end of the marks from `j` (WB4).
            @inline(__always) func marks(_ j: Int) -> Int {
                var j = j
                while j < end && p[j] >= 0x80 {
                    let (g, gl) = at(j)
                    if g != Self.extend { break }
                    j &+= gl
                }
                return j
            }
            var i = start
            while i < end {
                let (f, fl) = at(i)
                var j = i &+ fl
                var word = false
                if f & Self.wordish != 0 {
                    var last = f
                    var count = 1
                    // ICU's status is that of the last rule in the chain: marks after a final "_" are matched by
                    // the rule without a status, so such a run is not a word.
                    var k0 = j
                    j = marks(j)
                    var underscoreMarked = f & Self.underscore != 0 && j > k0
                    while j < end {
                        let (g, gl) = at(j)
                        if g & Self.wordish != 0 {
                            last = g
                            count &+= 1
                            k0 = j &+ gl
                            j = marks(k0)
                            underscoreMarked = g & Self.underscore != 0 && j > k0
                            continue
                        }
                        // Joiners are ASCII here (one byte).
                        if g & (Self.joinsLetters | Self.joinsNumbers) != 0 {
                            let k = marks(j &+ 1)
                            if k < end {
                                let (after, al) = at(k)
                                if (last & after & Self.letter != 0 && g & Self.joinsLetters != 0)
                                    || (last & after & Self.number != 0 && g & Self.joinsNumbers != 0) {
                                    last = after
                                    count &+= 2
                                    j = marks(k &+ al)
                                    underscoreMarked = false
                                    continue
                                }
                            }
                        }
                        break
                    }
                    // A lone "_" (marks or not) is matched by no word rule (status 0); anything longer is.
                    word = (count > 1 || f & Self.underscore == 0) && !underscoreMarked
                } else if f == Self.extend {
                    // Marks after a line break or at the start: a piece of their own.
                    j = marks(j)
                } else if f & Self.space != 0 {
                    while j < end && p[j] == 0x20 { j &+= 1 }
                    j = marks(j)
                } else if f & Self.carriageReturn != 0 {
                    if j < end && p[j] == 0x0A { j &+= 1 }
                } else if p[i] != 0x0A && p[i] != 0x0B && p[i] != 0x0C {
                    j = marks(j)
                }
                body(j, word)
                i = j
            }
        }
    }

    /// Whether every non-ASCII character of `p[from..<end]` is a well-formed character of 2 or 3 bytes that
    /// `letters` does not mark `notInRules` (then `forEachPieceUTF8` may segment the line).
    static func isLettersLine(_ p: UnsafePointer<UInt8>, from: Int, end: Int, letters: UnsafePointer<UInt8>) -> Bool {
        var i = from
        while i < end {
            let b = p[i]
            if b < 0x80 { i &+= 1; continue }
            if b >= 0xC2 && b < 0xE0 {
                guard i &+ 1 < end, p[i &+ 1] & 0xC0 == 0x80 else { return false }
                if letters[Int(b & 0x1F) << 6 | Int(p[i &+ 1] & 0x3F)] == Self.notInRules { return false }
                i &+= 2
            } else if b >= 0xE0 && b < 0xF0 {
                guard i &+ 2 < end, p[i &+ 1] & 0xC0 == 0x80, p[i &+ 2] & 0xC0 == 0x80 else { return false }
                let cp = Int(b & 0x0F) << 12 | Int(p[i &+ 1] & 0x3F) << 6 | Int(p[i &+ 2] & 0x3F)
                // Overlong forms and surrogates are ill-formed (ICU reads them as U+FFFD): not for the rules.
                if cp < 0x800 || cp & 0xF800 == 0xD800 || letters[cp] == Self.notInRules { return false }
                i &+= 3
            } else {
                return false
            }
        }
        return true
    }

    /// Short lines that put every ASCII character between letters, digits, "_", spaces and "." in every order,
    /// next to itself, across a joiner from a letter and a digit, and next to CR and LF: enough to tell each
    /// character's class from every other (testProbeNoticesEveryWrongASCIIClass checks that; about 22 KB,
    /// which ICU segments in well under a millisecond). The tests compare the two on much more.
    public static let probeText: [UInt8] = {
        var t: [UInt8] = []
        let context: [UInt8] = Array("a1_ .".utf8)
        for c in UInt8(0)..<128 where c != 0x0A {
            for x in context {
                for y in context { t += [x, c, y, 0x0A] }
            }
            // Across a joiner from a letter and from a digit: tells letters, digits and joiners apart.
            for x in [UInt8(ascii: "a"), UInt8(ascii: "1")] {
                for j in [UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ":")] { t += [x, j, c, 0x0A, c, j, x, 0x0A] }
            }
            t += [c, c, c, 0x0A, c, 0x0D, 0x0A, 0x0D, c, 0x0A]
        }
        return t
    }()
}
