// Not re-exported: clients that import Foundation must never load the system-ICU clang module (ODR clash on
// UErrorCode with Foundation's ICU; see notes/swift-platform.md). `internal import` (SE-0409) would silence the
// compiler's warning about `@_implementationOnly` without library evolution, but it still loads CICU into every
// client of TokICU: TokIOTests (Foundation through XCTest, plus `import TokICU`) then failed to compile.
@_implementationOnly import CICU
import TokCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pattern that ICU could not compile.
public struct ICURegexError: Error, CustomStringConvertible, Sendable {
    /// ICU's name of the error, e.g. "U_REGEX_RULE_SYNTAX".
    public var errorName: String
    /// ICU's numeric `UErrorCode`.
    public var code: Int32
    /// The pattern as given.
    public var pattern: String
    /// Where ICU detected the error, in Unicode scalars from the start of the pattern, if ICU reported it.
    public var position: Int?

    public var description: String {
        guard let position else { return "cannot compile regular expression: \(errorName)" }
        let before = String(String.UnicodeScalarView(pattern.unicodeScalars.prefix(position)))
        let after = String(String.UnicodeScalarView(pattern.unicodeScalars.dropFirst(position)))
        return "cannot compile regular expression: \(errorName) at position \(position): \(before)⟨HERE⟩\(after)"
    }
}

/// Splits text with any regular expression, using the system ICU's regex engine directly on the UTF-8 bytes.
///
/// Each match is a piece, and so is each stretch of text between matches (so the pieces always tile the text).
/// Empty matches are ignored: they neither make a piece nor split the text around them.
///
/// `$` outside a character class means the end of the text, as in tiktoken (Rust regex): the pattern is compiled
/// with every such `$` replaced by `\z`, because ICU's `$` also matches before a line terminator that ends the
/// text. A pattern that turns on multi-line mode with an inline flag (`(?m)`, `(?im:` ...) is left unchanged.
/// Only LF ends a line (ICU's `UREGEX_UNIX_LINES`), as in Rust's regex and Oniguruma: `.` matches CR, U+0085,
/// U+2028 and U+2029, which ICU otherwise treats as line ends too.
///
/// ICU reads invalid UTF-8 as U+FFFD, so on such input the pieces may differ from the hand-written scanners'
/// (which read each invalid byte as its own character); they still tile the text.
///
/// Thread-safe: each concurrent `split` works on its own clone of the compiled expression, and idle clones are
/// kept for reuse.
public final class ICURegexPreTokenizer: PreTokenizer, @unchecked Sendable {
    /// The pattern as given.
    public let pattern: String
    /// The pattern handed to ICU (after the `$` rewrite).
    public let icuPattern: String

    /// The standard pattern's cuts when `pattern` is one of them, else nil: a user's expression may match across
    /// any place, so its input is not cut.
    public var cutRule: SafeCut.Rule? { StandardPattern(pattern: pattern)?.cutRule }

    private let compiled: OpaquePointer
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    // Guarded by `lock`.
    private var idle: [Matcher] = []
    private static let maxIdle = 64

    /// Compiles `pattern`; throws `ICURegexError` if ICU rejects it.
    public init(pattern: String) throws(ICURegexError) {
        self.pattern = pattern
        icuPattern = Self.endOfTextDollars(pattern)
        var utf16 = Array(icuPattern.utf16)
        var status = U_ZERO_ERROR
        var parseError = UParseError()
        let re = utf16.withUnsafeMutableBufferPointer { p in
            cicu_uregex_open(p.baseAddress, Int32(p.count), UInt32(UREGEX_UNIX_LINES.rawValue), &parseError, &status)
        }
        guard status.rawValue <= U_ZERO_ERROR.rawValue, let re else {
            if let re { cicu_uregex_close(re) }
            var position: Int? = nil
            if parseError.offset >= 0 {
                position = Self.scalarPosition(in: icuPattern, line: Int(parseError.line), utf16Offset: Int(parseError.offset))
                    .map { Self.originalPosition(pattern, rewrittenPosition: $0) }
            }
            throw ICURegexError(errorName: String(cString: cicu_errorName(status)), code: status.rawValue,
                                pattern: pattern, position: position)
        }
        compiled = re
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    deinit {
        idle.removeAll()   // close the clones before the expression they were cloned from
        cicu_uregex_close(compiled)
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// Appends the ends of the matches and of the unmatched stretches of `text`.
    ///
    /// ICU's engine backtracks, so some patterns take exponential time on some text (`(a|aa)*c` on a run of a's,
    /// which Rust's regex and so tiktoken match in linear time). While a search for the next match tries one start,
    /// it may take `stepsAtOnePlace` steps plus `stepsPerByte` for each byte from there to the end of the text: far
    /// more than a pattern whose backtracking is bounded needs (`[a-z]{1,60}[0-9]` on megabytes of letters), or a
    /// long match that runs in linear time. A search that takes more, or any other failure of ICU's matcher, is
    /// reported through `PreTokenizationFailure.report` with the byte offset where it was stuck: it ends the
    /// process, or inside `PreTokenizationFailure.catching` is thrown once the work is done.
    public func split(_ text: UnsafeBufferPointer<UInt8>, into ends: inout [Int]) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        let n = text.count
        if PreTokenizationFailure.hasFailedInScope {
            ends.append(n)
            return
        }
        // Only under memory exhaustion. Inside `PreTokenizationFailure.catching` the text is tiled by one piece,
        // whose ids are thrown away.
        guard let matcher = checkOut() else {
            PreTokenizationFailure.report("ICU cannot clone the pattern \(pattern.debugDescription)")
            ends.append(n)
            return
        }
        defer { checkIn(matcher) }
        let re = matcher.re, budget = matcher.budget
        budget.pointee.text_length = Int64(n)
        budget.pointee.stopped = 0
        budget.pointee.total_ticks = 0
        budget.pointee.total_ticks_allowed = Int64(Self.stepsAtOnePlace / 10_000) + Int64(n) * Int64(Self.stepsPerByteInAll) / 10_000
        var status = U_ZERO_ERROR
        let ut = base.withMemoryRebound(to: CChar.self, capacity: n) { cicu_utext_openUTF8(nil, $0, Int64(n), &status) }
        defer {
            // Detach the text so the idle clone keeps no pointer into the caller's buffer.
            var st = U_ZERO_ERROR
            var empty: UChar = 0
            cicu_uregex_setText(re, &empty, 0, &st)
            _ = cicu_utext_close(ut)
        }
        cicu_uregex_setUText(re, ut, &status)
        var prev = 0
        while status.rawValue <= U_ZERO_ERROR.rawValue {
            // The search resumes after the last match (a little later after an empty one).
            budget.pointee.last_index = Int64(prev)
            budget.pointee.seen_index = -1
            guard cicu_uregex_findNext(re, &status) != 0 else { break }
            // Native indexes of a UTF-8 UText are byte offsets. Clamping only matters if ICU ever reported an
            // index inside a piece already emitted, which would break the tiling.
            let s = min(max(Int(cicu_uregex_start64(re, 0, &status)), prev), n)
            let e = min(max(Int(cicu_uregex_end64(re, 0, &status)), s), n)
            guard status.rawValue <= U_ZERO_ERROR.rawValue else { break }
            if e == s { continue }
            if s > prev { ends.append(s) }
            ends.append(e)
            prev = e
        }
        if status.rawValue > U_ZERO_ERROR.rawValue {
            // Where the search was stuck, when the budget stopped it; else where it started.
            let at = budget.pointee.stopped != 0 ? min(max(Int(budget.pointee.last_index), prev), n) : prev
            let excerpt = String(decoding: UnsafeBufferPointer(rebasing: text[at..<min(n, at + 24)]), as: UTF8.self)
            let why: String
            switch budget.pointee.stopped {
            case 1: why = "takes too long (ICU's backtracking engine stopped it after \(Self.stepsAtOnePlace / 1_000_000) million steps at one place)"
            case 2: why = "takes too long (ICU's backtracking engine stopped it after \(budget.pointee.total_ticks / 100) million steps in all, "
                          + "\(Self.stepsPerByteInAll) a byte: its backtracking grows faster than the text)"
            default: why = "fails in ICU (\(String(cString: cicu_errorName(status))))"
            }
            // Inside `PreTokenizationFailure.catching`, the rest of the text becomes one piece below.
            PreTokenizationFailure.report("matching the pattern \(pattern.debugDescription) \(why) at byte \(at) of the "
                                        + "\(n)-byte stretch of text being split, at \(excerpt.debugDescription)")
        }
        if prev < n { ends.append(n) }
    }

    /// Steps of ICU's matcher a search may take at one start, besides `stepsPerByte`: a pattern that backtracks
    /// exponentially passes that within a few dozen bytes (`(a|aa)*c` on 40 a's) and is stopped after about a
    /// second on short text instead of running for hours.
    public static let stepsAtOnePlace = 50_000_000
    /// Steps a search may take at one start for each byte from there to the end of the text, for a long match
    /// (a pattern that runs in linear time takes a few steps a byte). On long text a stuck search therefore runs
    /// longer before it is stopped: about 1.6 us a byte on this machine.
    public static let stepsPerByte = 64
    /// Steps all the searches over one text may take together, for each byte of it, besides `stepsAtOnePlace`:
    /// a pattern that tries every start and scans to the end of the text from each (`[^\n]*\n` on a text without
    /// a line feed) stays within the budget of each start but takes time that grows with the square of the text
    /// (hours for a megabyte). A pattern whose backtracking is bounded takes far fewer (`[a-z]{1,60}[0-9]` on
    /// letters: about 130 a byte, judged by its time).
    public static let stepsPerByteInAll = 2_048

    /// A clone of the compiled expression with the step budget its callbacks read, installed once.
    private final class Matcher {
        let re: OpaquePointer
        let budget: UnsafeMutablePointer<cicu_step_budget>

        init?(cloning compiled: OpaquePointer) {
            var status = U_ZERO_ERROR
            guard let re = cicu_uregex_clone(compiled, &status), status.rawValue <= U_ZERO_ERROR.rawValue else { return nil }
            self.re = re
            budget = .allocate(capacity: 1)
            budget.initialize(to: cicu_step_budget(text_length: 0, last_index: 0, seen_index: -1, move_ticks: 0,
                                                   base_ticks: Int64(ICURegexPreTokenizer.stepsAtOnePlace / 10_000),
                                                   steps_per_byte: Int64(ICURegexPreTokenizer.stepsPerByte),
                                                   total_ticks: 0, total_ticks_allowed: 0, stopped: 0))
            // No limit on the backtracking stack: a limit would make matching fail on long inputs that a pattern
            // matches in linear time; the step budget stops the patterns that never finish.
            cicu_uregex_setStackLimit(re, 0, &status)
            cicu_uregex_setStepBudget(re, budget, &status)
        }

        deinit {
            cicu_uregex_close(re)
            budget.deallocate()
        }
    }

    private func checkOut() -> Matcher? {
        pthread_mutex_lock(lock)
        let m = idle.popLast()
        pthread_mutex_unlock(lock)
        return m ?? Matcher(cloning: compiled)
    }

    private func checkIn(_ m: Matcher) {
        pthread_mutex_lock(lock)
        if idle.count < Self.maxIdle { idle.append(m) }
        pthread_mutex_unlock(lock)
    }

    // MARK: Pattern rewriting

    /// Replaces each `$` that means "end of line" to ICU (outside character classes, escapes, `\Q...\E` quotes,
    /// `(?#...)` comments and, in `(?x)` mode, `#` comments) with `\z`, except where an inline flag turns on
    /// multi-line mode: `(?m)` to the end of its group, `(?m:...)` inside the group, until a `(?-m)`.
    static func endOfTextDollars(_ pattern: String) -> String {
        let s = Array(pattern.unicodeScalars)
        var out = String.UnicodeScalarView()
        // Per open group: whether multi-line (`m`) and free-spacing (`x`) modes are on in it.
        struct Modes { var multiline = false, extended = false }
        var scopes = [Modes()]
        var i = 0
        var classDepth = 0
        func copy(through end: Int) {
            while i < min(end, s.count) { out.append(s[i]); i += 1 }
        }
        /// The flags of `(?flags)` or `(?flags:` starting at `at` (the `(`): the modes they give and where the
        /// group's body starts (after `:`) or the flags end (after `)`); nil if it is another kind of group.
        func flags(at: Int, from modes: Modes) -> (modes: Modes, end: Int, scoped: Bool)? {
            var k = at + 2, on = true, m = modes
            while k < s.count {
                switch s[k] {
                case "-": on = false
                case "m": m.multiline = on
                case "x": m.extended = on
                case "i", "s", "w": break
                case ":": return (m, k + 1, true)
                case ")": return (m, k + 1, false)
                default: return nil
                }
                k += 1
            }
            return nil
        }
        while i < s.count {
            let c = s[i]
            if c == "\\" {
                if i + 1 < s.count, s[i + 1] == "Q" {
                    // Quoted text runs to \E (or the end of the pattern).
                    var k = i + 2
                    while k < s.count, !(s[k] == "\\" && k + 1 < s.count && s[k + 1] == "E") { k += 1 }
                    copy(through: k + 2)
                } else {
                    copy(through: i + 2)
                }
                continue
            }
            if classDepth > 0 {
                if c == "[" { classDepth += 1 }
                if c == "]" { classDepth -= 1 }
                copy(through: i + 1)
                continue
            }
            let modes = scopes[scopes.count - 1]
            switch c {
            case "[":
                classDepth = 1
                var k = i + 1
                // A `]` right after `[` or `[^` is a literal.
                if k < s.count, s[k] == "^" { k += 1 }
                if k < s.count, s[k] == "]" { k += 1 }
                copy(through: k)
            case "#" where modes.extended:
                var k = i
                while k < s.count, s[k] != "\n" { k += 1 }
                copy(through: k)
            case "(":
                if i + 2 < s.count, s[i + 1] == "?", s[i + 2] == "#" {
                    var k = i + 3
                    while k < s.count, s[k] != ")" { k += 1 }
                    copy(through: k + 1)
                } else if i + 1 < s.count, s[i + 1] == "?", let f = flags(at: i, from: modes) {
                    if f.scoped { scopes.append(f.modes) } else { scopes[scopes.count - 1] = f.modes }
                    copy(through: f.end)
                } else {
                    scopes.append(modes)
                    copy(through: i + 1)
                }
            case ")":
                if scopes.count > 1 { scopes.removeLast() }
                copy(through: i + 1)
            case "$" where !modes.multiline:
                out.append("\\")
                out.append("z")
                i += 1
            default:
                copy(through: i + 1)
            }
        }
        return String(out)
    }

    /// Converts ICU's parse-error location (UTF-16 units, from the start of `line` if line >= 1) to scalars.
    private static func scalarPosition(in pattern: String, line: Int, utf16Offset: Int) -> Int? {
        var units = 0, scalars = 0, currentLine = 1
        let byLine = line >= 1
        for c in pattern.unicodeScalars {
            if (!byLine || currentLine == line) && units >= utf16Offset { return scalars }
            if byLine && currentLine < line {
                if c == "\n" { currentLine += 1 }
            } else {
                units += c.utf16.count
            }
            scalars += 1
        }
        return (!byLine || currentLine == line) && units >= utf16Offset ? scalars : nil
    }

    /// Maps a scalar position in the rewritten pattern back to the given one (each `\z` there was one `$`).
    private static func originalPosition(_ pattern: String, rewrittenPosition: Int) -> Int {
        let rewritten = endOfTextDollars(pattern)
        if rewritten == pattern { return rewrittenPosition }
        let a = Array(pattern.unicodeScalars), b = Array(rewritten.unicodeScalars)
        var i = 0, j = 0
        while j < rewrittenPosition, i < a.count, j < b.count {
            if a[i] == "$", b[j] == "\\", j + 1 < b.count, b[j + 1] == "z" {
                j += 2
            } else {
                j += 1
            }
            i += 1
        }
        return i
    }
}
