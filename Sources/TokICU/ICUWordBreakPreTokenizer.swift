// Implementation-only: a client that also imports Foundation (the CLI, XCTest) must not load the system-ICU clang
// module, or clang's ODR check fails on UErrorCode and friends (see notes/swift-platform.md). `internal import` is
// not enough without library evolution: clients still load CICU.
@_implementationOnly import CICU
import TokCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Pre-tokenizes by Unicode word boundaries (UAX #29) using ICU's word break iterator (`UBRK_WORD`, root locale),
/// including ICU's dictionary-based segmentation of Chinese, Japanese, Thai, Khmer, Lao and Burmese.
///
/// Pieces are the spans between consecutive boundaries, so white space and punctuation are pieces of their own and
/// the pieces always tile the text. Offsets are UTF-8 byte offsets (ICU iterates a UTF-8 `UText`, no UTF-16 copy).
/// Ill-formed UTF-8 never crashes: ICU reads each ill-formed subsequence as U+FFFD, and the boundaries are still
/// offsets into the original bytes.
///
/// Thread-safe: each call works on its own clone of a shared, never-iterated prototype iterator. Clones are kept in
/// a small pool for reuse, because cloning costs microseconds, as much as segmenting a short line.
public final class ICUWordBreakPreTokenizer: PreTokenizer, @unchecked Sendable {
    /// UAX #29 always breaks on both sides of a LF (WB3a, WB3b), before a space after a character that is not white
    /// space, before CJK punctuation other than ，：； after a letter, and at `SafeCut.isPunctuationCut` places, and
    /// the words on either side do not depend on the other (`SafeCut.Rule.wordBreak`). The last are judged by ASCII
    /// classes, so only when this ICU's ASCII classes are the ones expected (`asciiPath`).
    public var cutRule: SafeCut.Rule? {
        asciiPath.enabled ? .wordBreak
            : SafeCut.Rule(lineFeedNeedsText: false, beforeCJKPunctuation: true, spaceAfterNonSpaceCuts: true)
    }

    /// A piece together with the ICU rule status of the boundary that ends it.
    public struct WordSpan: Sendable, Equatable {
        /// Byte offset of the first byte.
        public let start: Int
        /// Byte offset one past the last byte.
        public let end: Int
        /// ICU's `ubrk_getRuleStatus` for the boundary at `end` (a `UWordBreak` value).
        public let ruleStatus: Int32

        /// The bytes `start..<end`, ended by a boundary of rule status `ruleStatus`.
        public init(start: Int, end: Int, ruleStatus: Int32) {
            self.start = start
            self.end = end
            self.ruleStatus = ruleStatus
        }

        /// Whether the piece is a word: a number, letters, kana or ideographs (rule status ≥
        /// `UBRK_WORD_NONE_LIMIT`, 100), as opposed to spaces, punctuation and symbols.
        public var isWord: Bool { ruleStatus >= 100 }
        /// The kind of word, from ICU's rule status ranges.
        public var kind: Kind { Kind(ruleStatus: ruleStatus) }
    }

    /// ICU's word categories (`UWordBreak` ranges).
    public enum Kind: Sendable, Equatable {
        /// Spaces, punctuation, symbols (status 0..<100).
        case none
        /// Numbers (100..<200).
        case number
        /// Letters: words of alphabetic scripts, Hangul, Thai and similar (200..<300).
        case letter
        /// Kana (300..<400).
        case kana
        /// Ideographs (400..<500).
        case ideographic

        init(ruleStatus s: Int32) {
            switch s {
            case ..<100: self = .none
            case 100..<200: self = .number
            case 200..<300: self = .letter
            case 300..<400: self = .kana
            default: self = .ideographic
            }
        }
    }

    /// ICU failed to create the break iterator (for example because its data is missing).
    public struct OpenError: Error, CustomStringConvertible {
        /// ICU's name for the error code, e.g. `U_MISSING_RESOURCE_ERROR`.
        public let icuErrorName: String
        public var description: String { "cannot open the ICU word break iterator: \(icuErrorName)" }
    }

    /// A `UBreakIterator*` that is only ever cloned, never given text, so sharing it across threads is safe.
    private let prototype: OpaquePointer
    /// Idle clones of `prototype` (`UBreakIterator*`), each with the `UText*` it last iterated (reused by
    /// `utext_openUTF8`). Guarded by `lock`.
    private var pool: [(iterator: OpaquePointer, text: OpaquePointer?)] = []
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    /// More idle iterators than threads that ever run at once would only waste memory.
    private static let poolLimit = 16

    /// ASCII lines are segmented without ICU when this table agrees with ICU (checked once, in `init`).
    private var asciiRules: ASCIIWordBreak?
    /// Whether whole ASCII lines are segmented without ICU (the class table agreed with this ICU), and how ":" and
    /// "@" were found to behave.
    public var asciiPath: (enabled: Bool, colonJoinsLetters: Bool, atIsLetter: Bool) {
        guard let r = asciiRules else { return (false, false, false) }
        return (true, r.classes[0x3A] != 0, r.classes[0x40] != 0)
    }
    /// ASCII stretches shorter than this stay with the ICU call around them (each ICU call costs a `UText` set-up).
    static let minimumASCIIStretch = 256

    /// By BMP code point: `ASCIIWordBreak.letter` or `.number` for the non-ASCII characters ICU's word rules treat
    /// as letters or digits without a dictionary (Word_Break ALetter or Numeric, minus Hangul syllables and the Han
    /// and kana characters, which ICU 72 hands to its CJK dictionary), `.extend` for marks (Word_Break Extend), 0
    /// for the characters no rule joins to anything (Word_Break Other outside the dictionary's scripts: most
    /// punctuation and symbols), `ASCIIWordBreak.notInRules` for the rest (joiners, spaces and line breaks of
    /// other scripts, Format, ZWJ, Katakana, Hebrew, dictionary scripts). Lines of ASCII and characters that
    /// are not `notInRules` (Cyrillic, Greek, Arabic, Devanagari, Armenian, Georgian, accented Latin, with their
    /// punctuation...) are segmented by `ASCIIWordBreak.forEachPieceUTF8` instead of ICU, once a probe has found
    /// ICU agreeing; nil otherwise.
    /// Built on the first non-ASCII line (about 3 ms), so that ASCII text and short runs never pay for it; guarded
    /// by `lock`, with `lettersKnown`.
    private var letters: UnsafeMutablePointer<UInt8>?
    private var lettersKnown = false
    /// Whether lines in other scripts without a dictionary are segmented without ICU (see `letters`).
    public var lettersPath: Bool { lettersTable() != nil }

    /// ubrk works with 32-bit offsets; longer texts are processed in windows of at most this many bytes.
    static let maximumWindow = 1 << 30

    /// Opens ICU's word break iterator for the root locale.
    public init() throws {
        var status = U_ZERO_ERROR
        let bi = cicu_ubrk_open(UBRK_WORD, "", nil, 0, &status)
        guard let bi, status.rawValue <= U_ZERO_ERROR.rawValue else {
            if let bi { cicu_ubrk_close(bi) }
            throw OpenError(icuErrorName: String(cString: cicu_errorName(status)))
        }
        _ = Self.dictionaryEnginesLoaded
        prototype = bi
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        asciiRules = Self.calibratedASCIIRules(self)
    }

    /// ICU loads its dictionary engines (Chinese and Japanese, Thai, Lao, Khmer, Burmese) when a text first needs
    /// them, and the text segmented while that happens can come out differently from the same text segmented later
    /// in the process ("xy\u{a0}ー𠀀\u{1f}" gave "ー𠀀" as one word the first time, two words every time after): so
    /// eval's word counts depended on which text, on which thread, came first. Every engine is loaded once, on a
    /// text of its own, before any caller's text is segmented.
    private static let dictionaryEnginesLoaded: Void = {
        var status = U_ZERO_ERROR
        guard let bi = cicu_ubrk_open(UBRK_WORD, "", nil, 0, &status), status.rawValue <= U_ZERO_ERROR.rawValue else { return }
        var entry: (iterator: OpaquePointer, text: OpaquePointer?) = (bi, nil)
        defer {
            if let t = entry.text { _ = cicu_utext_close(UnsafeMutablePointer<UText>(t)) }
            cicu_ubrk_close(bi)
        }
        let text = Array("カー𠀀日本語です。中文字符 ภาษาไทย ພາສາລາວ ភាសាខ្មែរ မြန်မာဘာသာ".utf8)
        text.withUnsafeBufferPointer { b in
            iterateWindow(&entry, b.baseAddress!, b.count, ruleStatus: { _, _ in false }) { _, _ in }
        }
    }()

    /// `letters`, built and probed by the first caller (outside `lock`, since the probe checks an iterator out;
    /// concurrent first callers may each build one, and one is kept).
    private func lettersTable() -> UnsafePointer<UInt8>? {
        pthread_mutex_lock(lock)
        let known = lettersKnown, current = letters
        pthread_mutex_unlock(lock)
        if known { return current.map { UnsafePointer($0) } }
        var built: UnsafeMutablePointer<UInt8>? = nil
        if let rules = asciiRules {
            let table = Self.letterTable()
            let probe = Self.lettersProbeText(table)
            if Self.lettersPieces(rules, table, probe) == icuPieces(probe) {
                built = table
            } else {
                table.deallocate()
            }
        }
        pthread_mutex_lock(lock)
        if !lettersKnown {
            letters = built
            lettersKnown = true
            built = nil
        }
        let result = letters
        pthread_mutex_unlock(lock)
        built?.deallocate()
        return result.map { UnsafePointer($0) }
    }

    /// The table `letters` holds, from ICU's own property data (about 100,000 lookups, a millisecond or two).
    private static func letterTable() -> UnsafeMutablePointer<UInt8> {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 0x10000)
        t.initialize(repeating: ASCIIWordBreak.notInRules, count: 0x10000)
        let aletter = Int32(U_WB_ALETTER.rawValue), numeric = Int32(U_WB_NUMERIC.rawValue)
        let extend = Int32(U_WB_EXTEND.rawValue), other = Int32(U_WB_OTHER.rawValue)
        let complexContext = Int32(U_LB_COMPLEX_CONTEXT.rawValue)
        // Surrogates; Hangul syllables and the CJK ideographs, which ICU's dictionary takes (skipped without asking).
        let skipped = [0xD800...0xDFFF, 0xAC00...0xD7A3, 0x3400...0x4DBF, 0x4E00...0x9FFF]
        for cp in 0x80..<0x10000 where !skipped.contains(where: { $0.contains(cp) }) {
            let wb = cicu_getIntPropertyValue(UChar32(cp), UCHAR_WORD_BREAK)
            if wb == numeric { t[cp] = ASCIIWordBreak.number; continue }
            if wb == extend { t[cp] = ASCIIWordBreak.extend; continue }
            guard wb == aletter || wb == other else { continue }
            // ICU's dictionary takes Han, kana and the scripts written without spaces (Line_Break SA: Thai,
            // Lao, Khmer, Myanmar); a few Han and kana characters are even ALetter.
            var status = U_ZERO_ERROR
            let script = cicu_getScript(UChar32(cp), &status)
            if script == USCRIPT_HAN || script == USCRIPT_HIRAGANA || script == USCRIPT_KATAKANA { continue }
            if cicu_getIntPropertyValue(UChar32(cp), UCHAR_LINE_BREAK) == complexContext { continue }
            // Unassigned code points may be assigned differently by the ICU that the probe cannot see coming.
            if cicu_charType(UChar32(cp)) == Int8(U_UNASSIGNED.rawValue) { continue }
            t[cp] = wb == aletter ? ASCIIWordBreak.letter : 0
        }
        return t
    }

    /// Probe lines for the letters path: the first letter, digit, mark and other character (a piece of its own) of
    /// every block of 256 code points that has one, next to ASCII letters, digits, "_", itself, a space, each kind
    /// of joiner and a line feed. Where ICU's rules set such a character apart (a tailoring, a dictionary), the two
    /// disagree and ICU keeps every line. (The tests compare every BMP code point in more contexts.)
    static func lettersProbeText(_ letters: UnsafePointer<UInt8>) -> [UInt8] {
        var t: [UInt8] = []
        t.reserveCapacity(1 << 15)
        for block in 0..<0x100 {
            for kind in [ASCIIWordBreak.letter, ASCIIWordBreak.number, ASCIIWordBreak.extend, 0] {
                guard let cp = (block << 8..<(block + 1) << 8).first(where: { letters[$0] == kind }) else { continue }
                let c: [UInt8] = cp < 0x800 ? [UInt8(0xC0 | cp >> 6), UInt8(0x80 | cp & 0x3F)]
                    : [UInt8(0xE0 | cp >> 12), UInt8(0x80 | cp >> 6 & 0x3F), UInt8(0x80 | cp & 0x3F)]
                // a c b ␠ c c ␠ 1 c 2 ␠ _ c _ ␠ c . c ␠ a . c ␠ 1 , c ␠ c ␤ c ␤
                for piece in [[0x61], c, [0x62, 0x20], c, c, [0x20, 0x31], c, [0x32, 0x20, 0x5F], c, [0x5F, 0x20], c, [0x2E],
                              c, [0x20, 0x61, 0x2E], c, [0x20, 0x31, 0x2C], c, [0x20], c, [0x0A], c, [0x0A]] as [[UInt8]] {
                    t.append(contentsOf: piece)
                }
            }
        }
        return t
    }

    /// The letters path's pieces of `text`, as (end, 1 for a word or 0) pairs.
    static func lettersPieces(_ rules: ASCIIWordBreak, _ letters: UnsafePointer<UInt8>, _ text: [UInt8]) -> [Int] {
        text.withUnsafeBufferPointer { b in
            var got: [Int] = []
            rules.forEachPieceUTF8(b.baseAddress!, 0, b.count, letters: letters) { end, word in got += [end, word ? 1 : 0] }
            return got
        }
    }

    /// ICU's pieces of `text`, as (end, 1 for a word or 0) pairs.
    func icuPieces(_ text: [UInt8]) -> [Int] {
        text.withUnsafeBufferPointer { b in
            var want: [Int] = []
            forEachICUPiece(b, ruleStatus: { _, _ in true }) { end, status in want += [end, status >= 100 ? 1 : 0] }
            return want
        }
    }

    /// The ASCII class table that agrees with this ICU on `ASCIIWordBreak.probeText`, or nil (then ICU does all).
    private static func calibratedASCIIRules(_ t: ICUWordBreakPreTokenizer) -> ASCIIWordBreak? {
        let want = t.icuProbePieces()
        for (colon, at) in [(false, true), (false, false), (true, true), (true, false)] {
            let rules = ASCIIWordBreak(colonJoinsLetters: colon, atIsLetter: at)
            if rules.probePieces() == want { return rules }
        }
        return nil
    }

    /// ICU's pieces of the probe text, as (end, 1 for a word or 0) pairs.
    public func icuProbePieces() -> [Int] { icuPieces(ASCIIWordBreak.probeText) }

    deinit {
        for entry in pool {
            cicu_ubrk_close(entry.iterator)
            if let t = entry.text { _ = cicu_utext_close(UnsafeMutablePointer<UText>(t)) }
        }
        cicu_ubrk_close(prototype)
        letters?.deallocate()
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// Takes an idle iterator from the pool, or clones a new one; `nil` only if ICU cannot allocate.
    private func checkOut() -> (iterator: OpaquePointer, text: OpaquePointer?)? {
        pthread_mutex_lock(lock)
        let entry = pool.popLast()
        pthread_mutex_unlock(lock)
        if let entry { return entry }
        var status = U_ZERO_ERROR
        guard let bi = cicu_ubrk_clone(prototype, &status), status.rawValue <= U_ZERO_ERROR.rawValue else { return nil }
        return (bi, nil)
    }

    private func checkIn(_ entry: (iterator: OpaquePointer, text: OpaquePointer?)) {
        pthread_mutex_lock(lock)
        let kept = pool.count < Self.poolLimit
        if kept { pool.append(entry) }
        pthread_mutex_unlock(lock)
        if !kept {
            cicu_ubrk_close(entry.iterator)
            if let t = entry.text { _ = cicu_utext_close(UnsafeMutablePointer<UText>(t)) }
        }
    }

    /// Appends the end offset of every word-break piece of `text` (see `PreTokenizer`).
    public func split(_ text: UnsafeBufferPointer<UInt8>, into ends: inout [Int]) {
        forEachPiece(text, ruleStatus: { _, _ in false }) { end, _ in ends.append(end) }
    }

    /// Returns every piece of `text` with its rule status; `isWord` tells words from spaces and punctuation. Always
    /// by ICU alone, for the exact status values (the tests' reference for the ASCII path).
    public func wordSpans(_ text: UnsafeBufferPointer<UInt8>) -> [WordSpan] {
        var spans: [WordSpan] = []
        var start = 0
        forEachICUPiece(text, ruleStatus: { _, _ in true }) { end, status in
            spans.append(WordSpan(start: start, end: end, ruleStatus: status))
            start = end
        }
        return spans
    }

    /// Calls `body(start, end)` for each word (a piece with `isWord`) of `text`, in order, without building a list.
    public func forEachWord(_ text: UnsafeBufferPointer<UInt8>, _ body: (Int, Int) -> Void) {
        var start = 0
        forEachPiece(text, ruleStatus: { s, e in
            // A piece of ASCII spaces and punctuation is never a word (ICU counts "@" and "_" runs as words):
            // no need to ask ICU.
            var k = s
            while k < e {
                let b = text[k]
                if b >= 0x80 || (b | 0x20) &- 0x61 < 26 || b &- 0x30 < 10 || b == 0x5F || b == 0x40 { return true }
                k += 1
            }
            return false
        }) { end, status in
            if status >= 100 { body(start, end) }
            start = end
        }
    }

    /// Calls `body(end, status)` for each piece in order, where `status` is 0 for a piece that is not a word and
    /// at least 100 for a word (ICU's rule status where `wanted` says to ask ICU, which the ASCII path never does).
    /// Whole ASCII lines, and lines `letters` covers, go to `asciiRules` and the rest to ICU, in order: a line feed
    /// always has a boundary on both sides (WB3a, WB3b), so segmenting the kinds of stretch apart finds ICU's
    /// boundaries of the whole.
    private func forEachPiece(_ text: UnsafeBufferPointer<UInt8>, ruleStatus wanted: (Int, Int) -> Bool,
                              _ body: (Int, Int32) -> Void) {
        guard let rules = asciiRules, let base = text.baseAddress else {
            forEachICUPiece(text, ruleStatus: wanted, body)
            return
        }
        let n = text.count
        var done = 0   // pieces before `done` have been reported
        @inline(__always) func icu(_ end: Int) {
            if done < end {
                let from = done
                forEachICUPiece(UnsafeBufferPointer(rebasing: text[from..<end]), ruleStatus: { wanted(from + $0, from + $1) }) {
                    body(from + $0, $1)
                }
                done = end
            }
        }
        // Lines the rules can take (ASCII, or with `letters` only characters it does not mark `notInRules`) are
        // gathered into stretches; a stretch long enough, or one with nothing before it left for ICU, goes to the
        // rules, and every other line to ICU.
        var stretch = 0          // start of the current stretch
        var lettersSeen = false  // whether the stretch has non-ASCII lines
        var table: UnsafePointer<UInt8>? = nil
        var tableAsked = false
        @inline(__always) func rulesTake(_ end: Int) {
            icu(stretch)
            if lettersSeen, let table {
                rules.forEachPieceUTF8(base, stretch, end, letters: table) { e, word in body(e, word ? 100 : 0) }
            } else {
                rules.forEachPiece(base, stretch, end) { e, word in body(e, word ? 100 : 0) }
            }
            done = end
        }
        var lineStart = 0
        while lineStart < n {
            let k = firstNonASCII(base, from: lineStart, end: n)
            if k == n { break }
            // The line holding the non-ASCII byte at `k`.
            var ls = k
            while ls > lineStart && base[ls - 1] != 0x0A { ls -= 1 }
            var le = k + 1
            while le < n && base[le] != 0x0A { le += 1 }
            let next = min(le + 1, n)
            if !tableAsked {
                table = lettersTable()
                tableAsked = true
            }
            if let table, ASCIIWordBreak.isLettersLine(base, from: k, end: le, letters: table) {
                lettersSeen = true
            } else {
                // The line goes to ICU, with whatever short stretch came before it.
                if ls - stretch >= Self.minimumASCIIStretch { rulesTake(ls) }
                stretch = next
                lettersSeen = false
            }
            lineStart = next
        }
        if n - stretch >= Self.minimumASCIIStretch || (n > stretch && done == stretch) { rulesTake(n) }
        icu(n)
    }

    /// `forEachPiece` by ICU alone. The ends strictly increase and the last is `text.count`, whatever ICU does
    /// with ill-formed input.
    private func forEachICUPiece(_ text: UnsafeBufferPointer<UInt8>, ruleStatus wanted: (Int, Int) -> Bool,
                                 _ body: (Int, Int32) -> Void) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        // Only under memory exhaustion. Inside `PreTokenizationFailure.catching` one made-up piece tiles the text
        // (its ids are thrown away).
        guard var entry = checkOut() else {
            PreTokenizationFailure.report("ICU cannot open a word break iterator")
            body(text.count, 0)
            return
        }
        defer { checkIn(entry) }
        var windowStart = 0
        while windowStart < text.count {
            let windowEnd = Self.windowEnd(text, from: windowStart)
            let w = windowStart
            Self.iterateWindow(&entry, base + windowStart, windowEnd - windowStart, ruleStatus: { wanted(w + $0, w + $1) }) { end, rule in
                body(w + end, rule)
            }
            windowStart = windowEnd
        }
    }

    /// ICU could not take a text (only under memory exhaustion): pieces made up here would give other ids, so this
    /// ends the process, or inside `PreTokenizationFailure.catching` is thrown once the work is done.
    private static func report(_ status: UErrorCode) {
        PreTokenizationFailure.report("ICU's word break iterator fails (\(String(cString: cicu_errorName(status))))")
    }

    /// Runs the iterator over one window of at most `maximumWindow` bytes.
    private static func iterateWindow(_ entry: inout (iterator: OpaquePointer, text: OpaquePointer?),
                               _ start: UnsafePointer<UInt8>, _ count: Int, ruleStatus wanted: (Int, Int) -> Bool,
                               _ body: (Int, Int32) -> Void) {
        var status = U_ZERO_ERROR
        let chars = UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self)
        let reuse = entry.text.map { UnsafeMutablePointer<UText>($0) }
        guard let ut = cicu_utext_openUTF8(reuse, chars, Int64(count), &status), status.rawValue <= U_ZERO_ERROR.rawValue
        else { report(status); body(count, 0); return }
        entry.text = OpaquePointer(ut)
        let bi = entry.iterator
        cicu_ubrk_setUText(bi, ut, &status)
        guard status.rawValue <= U_ZERO_ERROR.rawValue else { report(status); body(count, 0); return }
        var previous = 0
        _ = cicu_ubrk_first(bi)
        while true {
            let boundary = Int(cicu_ubrk_next(bi))
            if boundary < 0 { break }  // UBRK_DONE
            // Defensive: ill-formed UTF-8 must never produce an empty, backwards or out-of-range piece.
            let end = min(boundary, count)
            if end > previous {
                body(end, wanted(previous, end) ? cicu_ubrk_getRuleStatus(bi) : 0)
                previous = end
            }
        }
        if previous < count { body(count, 0) }
    }

    /// Where the window starting at `start` ends: at most `maximumWindow` bytes on, after a line feed if one is
    /// near, and never inside a UTF-8 sequence.
    private static func windowEnd(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let limit = start + maximumWindow
        if limit >= text.count { return text.count }
        var k = limit
        let floor = max(start + 1, limit - (1 << 16))
        while k > floor && text[k - 1] != 0x0A { k -= 1 }
        if text[k - 1] == 0x0A { return k }
        k = limit
        while k > start + 1 && text[k] & 0xC0 == 0x80 { k -= 1 }
        return k
    }
}
