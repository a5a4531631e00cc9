import Foundation
import TokCore
import TokICU
import XCTest
import TokTestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The hand-written scanners must split exactly like ICU running the same pattern string, except on the
/// characters added in Unicode 15.1 and 16.0: the scanners follow Unicode 16.0 like tiktoken, the system ICU 72 is
/// Unicode 15.0. Those code points (`ScanTestData.icuTableDifferences`, checked in testClassTableMatchesICU) are
/// left out of every input compared here; tests/compat/test_unicode16.py checks them against tiktoken.
final class ScannerVsICUTests: XCTestCase {
    func testAdversarialStrings() throws {
        let strings = try ScanTestData.adversarialStrings().map(ScanTestData.withoutICUTableDifferences)
        XCTAssertGreaterThan(strings.count, 300)
        for c in ScannerICUComparison.all {
            var failures = 0
            for s in strings where failures < 5 {
                if !c.check(Array(s.utf8), label: "adversarial \(ScanTestData.escaped(s))") { failures += 1 }
            }
        }
    }

    /// Long runs of one class, alone and between other text; also a check that nothing is quadratic.
    func testLongRuns() {
        #if DEBUG
        let length = 100_000
        #else
        let length = 1_000_000
        #endif
        let units = [" ", "a", "A", "1", "'", "!", "\n", "\r\n", "\t", " \n", "\u{3000}", "\u{2028}", "é", "Я", "中",
                     "\u{2B0}", "\u{301}", "A\u{2B0}", "\u{2B0}A", "a\u{301}", "١", "😀", "'s", "/", "\n/", "ǅ"]
        for c in ScannerICUComparison.all {
            for u in units {
                let run = String(repeating: u, count: length / u.utf8.count)
                for text in [run, " " + run + "x"] {
                    _ = c.check(Array(text.utf8), label: "run of \(ScanTestData.escaped(u)) in \(ScanTestData.escaped(String(text.prefix(3))))...")
                }
            }
        }
    }

    /// Seeded random strings from a pool of code points chosen to hit every class boundary.
    func testFuzz() {
        var rng = SeededRandom(seed: 0x70_6B_7A_2026)
        let pool = ScanTestData.fuzzPool.filter { !ScanTestData.icuTableDifferences.contains($0.value) }
        XCTAssertEqual(ScanTestData.fuzzPool.count - pool.count, 2, "U+1C89 and U+2EBF0 are new in Unicode 16.0 and 15.1")
        let count = 20_000
        var failures = [StandardPattern: Int]()
        for _ in 0..<count {
            let length = Int(rng.next() % 24)
            var s = String.UnicodeScalarView()
            for _ in 0..<length {
                // Repeat some picks so that runs (and run boundaries) are common.
                let scalar = pool[Int(rng.next() % UInt64(pool.count))]
                let repeats = rng.next() % 4 == 0 ? Int(rng.next() % 4) + 1 : 1
                for _ in 0..<repeats { s.append(scalar) }
            }
            let text = String(s)
            for c in ScannerICUComparison.all where failures[c.pattern, default: 0] < 5 {
                if !c.check(Array(text.utf8), label: "fuzz \(ScanTestData.escaped(text))") { failures[c.pattern, default: 0] += 1 }
            }
        }
    }

    /// Long, mostly-ASCII random texts, so that the 64-byte block pre-tokenizers see every class at every offset
    /// of a window and across window edges, with a non-ASCII character now and then.
    func testLongASCIIFuzz() {
        var rng = SeededRandom(seed: 0x626C_6F63_6B73)
        let ascii = Array("abcxyzABCXYZsdmtlvreSDMTLVRE0123456789''''  \t\n\n\r\u{0B}\u{0C}!?.,;:-/\"()@#$%^&*+=|~`\u{0}\u{1F}".unicodeScalars)
        let rare = ScanTestData.fuzzPool.filter { $0.value >= 0x80 && !ScanTestData.icuTableDifferences.contains($0.value) }
        let words = ["the", " the", " don't", " I'll", " WE'RE", " it's", "'s", "'t", " 2024", " 123", " 12", "\n\n", "  ",
                     "    ", "\r\n", " (x)", ", ", ". ", "\t", " '", "'", "'ll", "'LL", "'Ve", "x'd"].map { Array($0.unicodeScalars) }
        var failures = [StandardPattern: Int]()
        for _ in 0..<400 {
            let length = 64 + Int(rng.next() % 1500)
            var s = String.UnicodeScalarView()
            while s.count < length {
                let r = rng.next() % 100
                if r < 2 {
                    s.append(rare[Int(rng.next() % UInt64(rare.count))])
                } else if r < 40 {
                    s.append(contentsOf: words[Int(rng.next() % UInt64(words.count))])
                } else {
                    let c = ascii[Int(rng.next() % UInt64(ascii.count))]
                    let repeats = rng.next() % 6 == 0 ? Int(rng.next() % 5) + 1 : 1
                    for _ in 0..<repeats { s.append(c) }
                }
            }
            let text = String(s)
            for c in ScannerICUComparison.all where failures[c.pattern, default: 0] < 3 {
                if !c.check(Array(text.utf8), label: "long fuzz \(ScanTestData.escaped(text))") { failures[c.pattern, default: 0] += 1 }
            }
        }
    }

    /// Every file under corpora/ (zstd-compressed or plain); system text files if there are none.
    func testCorpora() throws {
        let files = ScanTestData.corpusFiles()
        XCTAssertFalse(files.isEmpty, "no corpus files found")
        #if DEBUG
        // Debug builds are slow; cap each file (all of the current corpora still fit). `swift test -c release`
        // compares everything.
        let cap = 4_000_000
        #else
        let cap = Int.max
        #endif
        var total = 0
        for path in files {
            let (bytes, removed) = ScanTestData.withoutICUTableDifferences(try ScanTestData.read(path, cap: cap))
            if removed > 0 { print("\(path): left out \(removed) characters that are new in Unicode 15.1/16.0") }
            total += bytes.count
            for c in ScannerICUComparison.all {
                _ = c.check(bytes, label: "corpus \(path)")
            }
        }
        print("compared \(total) corpus bytes from \(files.count) files with each of \(ScannerICUComparison.all.count) patterns")
    }

    /// The generated class table (Unicode 16.0, like tiktoken) against the classes as ICU 72's regex engine sees
    /// them (Unicode 15.0), for every code point. They must differ exactly on the code points that ICU 72 reports
    /// as unassigned (`u_charType == U_UNASSIGNED`) and the table gives a class: the letters, numbers and marks
    /// added in Unicode 15.1 and 16.0: 5,055 code points, U+0897 ... U+2EE5D (4,865 Lo, 7 Lm, 27 Lu, 25 Ll, 80 Nd,
    /// 36 Mn, 15 Mc; 622 of them are CJK Extension I, U+2EBF0..U+2EE5D). On all other code points the two agree
    /// for every class. (Unicode 16.0 also changed U+1171E from Mn to Mc, which is \p{M} either way.)
    func testClassTableMatchesICU() throws {
        let differences = ScanTestData.icuTableDifferences
        let charType = try XCTUnwrap(ScanTestData.icuCharType, "u_charType not found in the system ICU")
        let unassignedU: Int8 = 0 // U_UNASSIGNED (= U_GENERAL_OTHER_TYPES)
        var newerThanICU = Set<UInt32>()
        for cp in UInt32(0)...0x10FFFF where charType(Int32(cp)) == unassignedU && UnicodeCharacterClass(codePoint: cp) != [] {
            newerThanICU.insert(cp)
        }
        XCTAssertEqual(differences.count, 5_055)
        XCTAssertEqual(newerThanICU.count, 5_055)
        XCTAssertEqual(differences.subtracting(newerThanICU).map { "U+" + String($0, radix: 16, uppercase: true) }.sorted(), [],
                       "classes differ on code points that ICU 72 has assigned")
        XCTAssertEqual(newerThanICU.subtracting(differences).map { "U+" + String($0, radix: 16, uppercase: true) }.sorted(), [],
                       "unassigned in ICU 72 with a table class, yet ICU's classes agree with the table")
        for cp: UInt32 in [0x2EBF0, 0x1C89, 0x1C8A, 0xA7CB, 0x10D50, 0x1E5D0, 0x897, 0x10D40] {
            XCTAssertTrue(differences.contains(cp), "U+\(String(cp, radix: 16, uppercase: true))")
        }
        // The comparison class by class, outside the differences.
        let tableClasses = ScanTestData.tableClasses
        for (pattern, cls, icu) in ScanTestData.icuClassMembers {
            var mismatches = 0
            for cp in 0..<0x110000 where cp != 2 && !(0xD800...0xDFFF).contains(cp) && !differences.contains(UInt32(cp)) {
                let table = tableClasses[cp].contains(cls)
                if table != icu[cp] {
                    mismatches += 1
                    if mismatches <= 5 { XCTFail("U+\(String(cp, radix: 16, uppercase: true)): \(pattern) is \(table) in the table, \(!table) in ICU") }
                }
            }
            XCTAssertEqual(mismatches, 0, pattern)
        }
        XCTAssertEqual(UnicodeCharacterClass(codePoint: 2), [])
        XCTAssertEqual(UnicodeCharacterClass.unicodeVersion, "16.0.0")
        XCTAssertTrue(icuVersion.hasPrefix("72."), "the expected difference is for ICU 72 (Unicode 15.0), not \(icuVersion)")
    }

    /// The scanners assume that, of all code points, only the ASCII letters and U+017F fold to the contraction
    /// letters, and that no single code point folds to "ll", "ve" or "re". Check that against ICU's `(?i)`.
    func testCaseInsensitiveContractionLetters() throws {
        let text = ScanTestData.allCodePointsText
        func matching(_ x: String) throws -> Set<String> {
            Set(try ScanTestData.codePointsMatching(x, in: text).map { Unicode.Scalar($0).map(String.init) ?? "<several>" })
        }
        let expected: Set<String> = ["s", "S", "\u{17F}", "d", "D", "m", "M", "t", "T", "l", "L", "v", "V", "e", "E", "r", "R"]
        XCTAssertEqual(try matching("(?i:s|d|m|t|l|v|e|r)"), expected, "case-insensitive letters")
        XCTAssertEqual(try matching("(?i:[sdmtlver])"), expected, "case-insensitive set")
        XCTAssertEqual(try matching("(?i:ll|ve|re|'s|'t|'m|'d)"), [], "no single code point matches a two-letter contraction")
        // The method does see full case folding: U+00DF and U+1E9E fold to "ss".
        XCTAssertTrue(try matching("(?i:ss)").isSuperset(of: ["\u{DF}", "\u{1E9E}"]))
    }
}

// MARK: - ScannerICUComparison machinery

/// One scanner paired with ICU running the same pattern string.
struct ScannerICUComparison: @unchecked Sendable {
    let pattern: StandardPattern
    let scanner: any PreTokenizer
    let icu: ICURegexPreTokenizer

    static let all: [ScannerICUComparison] = StandardPattern.allCases.map { p in
        ScannerICUComparison(pattern: p, scanner: p.preTokenizer, icu: try! ICURegexPreTokenizer(pattern: p.patternString))
    }

    /// Compares the splits of `bytes`; on a difference records a failure showing where and returns false.
    @discardableResult
    func check(_ bytes: [UInt8], label: String, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let a = bytes.splitEnds(scanner)
        let b = bytes.splitEnds(icu)
        if a == b { return true }
        XCTFail("\(pattern): scanner and ICU differ on \(label)\n" + describeDifference(bytes, a, b), file: file, line: line)
        return false
    }

    private func describeDifference(_ bytes: [UInt8], _ a: [Int], _ b: [Int]) -> String {
        var k = 0
        while k < min(a.count, b.count), a[k] == b[k] { k += 1 }
        let start = k == 0 ? 0 : a[k - 1]
        func show(_ ends: [Int]) -> String {
            var out: [String] = []
            var s = start
            for e in ends[k...].prefix(8) {
                out.append(ScanTestData.escaped(String(decoding: bytes[s..<e], as: UTF8.self)))
                s = e
            }
            return out.joined(separator: " | ")
        }
        let context = bytes[max(0, start - 40)..<min(bytes.count, start + 80)]
        return "  at byte \(start), context: \(ScanTestData.escaped(String(decoding: context, as: UTF8.self)))\n"
            + "  scanner: \(show(a))\n  ICU:     \(show(b))"
    }
}

extension Array where Element == UInt8 {
    func splitEnds(_ pre: any PreTokenizer) -> [Int] {
        var ends: [Int] = []
        withUnsafeBufferPointer { pre.split($0, into: &ends) }
        return ends
    }

    func splitPieces(_ pre: any PreTokenizer) -> [ArraySlice<UInt8>] {
        var start = 0
        return splitEnds(pre).map { e in
            defer { start = e }
            return self[start..<e]
        }
    }
}

enum ScanTestData {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let repositoryRoot = testsDirectory.deletingLastPathComponent()

    static func adversarialStrings() throws -> [String] {
        let data = try Data(contentsOf: testsDirectory.appendingPathComponent("Data/adversarial.json"))
        return try JSONDecoder().decode([String].self, from: data)
    }

    /// Code points for random strings: ASCII of every class, the contraction letters and their case variants,
    /// every White_Space character and some look-alikes, marks, Lm/Lo/Lt letters, numbers of several scripts,
    /// emoji parts, controls, unassigned and private-use code points.
    static let fuzzPool: [Unicode.Scalar] = {
        var s = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZsdmtlvreSDMTLVRE0123456789".unicodeScalars)
        s += Array("'''''  \t\n\n\r\r\u{0B}\u{0C}!?.,;:-_/\\\"()[]{}<>@#$%^&*+=|~`\u{0}".unicodeScalars)
        let cps: [UInt32] = [
            0x17F, 0x212A, 0xDF, 0x1E9E, 0x130, 0x131, 0x2019, 0x2018, 0x2BC, 0x60,
            0x85, 0xA0, 0x1680, 0x2000, 0x2005, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
            0x180E, 0x200B, 0xFEFF, 0x1C, 0x1F, 0xAD, 0x2060, 0x200D,
            0x301, 0x308, 0x20DD, 0x20E3, 0x903, 0x93F, 0x94D, 0xE31, 0xE47, 0xFE0F, 0xE0100, 0x5B8,
            0x2B0, 0x2C6, 0x30FC, 0x3005, 0xA67F, 0x1D2C,
            0x3042, 0x4E2D, 0xE01, 0x905, 0x915, 0x627, 0x5D0, 0x20000, 0x1100, 0xAC00,
            0x1C5, 0x1C8, 0x1F88, 0x1C4, 0x1C6,
            0xC9, 0xE9, 0x3A3, 0x3C3, 0x3C2, 0x416, 0x436, 0xFF21, 0xFF41, 0x1D400, 0x1D41A, 0x10400, 0x10428,
            0x663, 0x969, 0xFF13, 0x216B, 0xB2, 0xBD, 0x1D7D8, 0x2460, 0x3007, 0xE51,
            0x1F600, 0x1F44D, 0x1F3FB, 0x1F3FF, 0x2764, 0x1F1FA, 0x1F1F8, 0x1F468,
            0x2014, 0x2026, 0xAB, 0xBB, 0x20AC, 0xA9, 0xBF, 0xB7, 0x61F,
            // U+1C89 and U+2EBF0 are new in Unicode 16.0 and 15.1 (letters for the scanners, unassigned for ICU 72).
            0x378, 0x2FFFF, 0xE000, 0x10FFFF, 0x1C89, 0x2EBF0, 0xFFFD, 0xFFFF,
            0x1, 0x7F, 0x80, 0x9F,
        ]
        s += cps.map { Unicode.Scalar($0)! }
        return s
    }()

    /// The classes `testClassTableMatchesICU` compares, as ICU regex classes.
    static let icuClassPatterns: [(String, UnicodeCharacterClass)] = [
        (#"\p{L}"#, .letter), (#"\p{N}"#, .number), (#"\s"#, .whiteSpace), (#"\p{M}"#, .mark),
        (#"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]"#, .o200kUpper), (#"[\p{Ll}\p{Lm}\p{Lo}\p{M}]"#, .o200kLower),
    ]

    /// Per class of `icuClassPatterns`, whether ICU's regex engine matches each code point.
    static let icuClassMembers: [(String, UnicodeCharacterClass, [Bool])] = icuClassPatterns.map { pattern, cls in
        var icu = [Bool](repeating: false, count: 0x110000)
        for cp in try! codePointsMatching(pattern, in: allCodePointsText) where cp <= 0x10FFFF { icu[Int(cp)] = true }
        return (pattern, cls, icu)
    }

    /// The generated table's classes of every code point.
    static let tableClasses: [UnicodeCharacterClass] = (0..<0x110000).map { UnicodeCharacterClass(codePoint: UInt32($0)) }

    /// The code points (other than U+0002 and the surrogates) whose classes differ between ICU 72 (Unicode 15.0)
    /// and the generated table (Unicode 16.0): computed from ICU's regex classes, and checked in
    /// testClassTableMatchesICU to be exactly the code points new in Unicode 15.1 and 16.0 (5,055).
    static let icuTableDifferences: Set<UInt32> = {
        var result = Set<UInt32>()
        for (_, cls, icu) in icuClassMembers {
            for cp in 0..<0x110000 where cp != 2 && !(0xD800...0xDFFF).contains(cp) && tableClasses[cp].contains(cls) != icu[cp] {
                result.insert(UInt32(cp))
            }
        }
        return result
    }()

    /// `s` without the code points of `icuTableDifferences`.
    static func withoutICUTableDifferences(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: s.unicodeScalars.lazy.filter { !icuTableDifferences.contains($0.value) })
        return String(out)
    }

    /// `bytes` without the well-formed UTF-8 sequences of `icuTableDifferences` code points (ill-formed bytes are
    /// kept as they are), and how many were removed.
    static func withoutICUTableDifferences(_ bytes: [UInt8]) -> ([UInt8], Int) {
        var parser = Unicode.UTF8.ForwardParser()
        var it = bytes.makeIterator()
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var position = 0
        var removed = 0
        loop: while true {
            switch parser.parseScalar(from: &it) {
            case .valid(let encoded):
                if icuTableDifferences.contains(Unicode.UTF8.decode(encoded).value) {
                    removed += 1
                } else {
                    out.append(contentsOf: encoded)
                }
                position += encoded.count
            case .error(let length):
                out.append(contentsOf: bytes[position..<position + length])
                position += length
            case .emptyInput:
                break loop
            }
        }
        return removed == 0 ? (bytes, 0) : (out, removed)
    }

    /// ICU's `u_charType` (General_Category as `UCharCategory`), or nil if not found. The test target cannot
    /// import CICU (see Package.swift), so it is looked up by its versioned symbol name, e.g. `u_charType_72`.
    static let icuCharType: (@convention(c) (Int32) -> Int8)? = {
        guard let major = icuVersion.split(separator: ".").first else { return nil }
        let symbol = "u_charType_\(major)"
        #if os(Linux)
        let handle = dlopen("libicuuc.so.\(major)", RTLD_NOW) ?? dlopen(nil, RTLD_NOW)
        #else
        let handle = dlopen(nil, RTLD_NOW)
        #endif
        guard let sym = dlsym(handle, symbol) else { return nil }
        return unsafeBitCast(sym, to: (@convention(c) (Int32) -> Int8).self)
    }()

    /// Every code point except U+0002 and the surrogates, each followed by U+0002.
    static let allCodePointsText: [UInt8] = {
        var text: [UInt8] = []
        text.reserveCapacity(5_500_000)
        for cp in UInt32(0)...0x10FFFF where cp != 2 {
            guard let s = Unicode.Scalar(cp) else { continue }
            UTF8.encode(s) { text.append($0) }
            text.append(2)
        }
        return text
    }()

    /// The code points of `allCodePointsText` that ICU matches with `x`. With `x\x{02}|[^\x{02}]` a code point
    /// that matches makes one piece with its U+0002 after it; any other is a piece of its own and its U+0002 is
    /// left as a one-byte gap (pieces tile, so matches and gaps are otherwise indistinguishable). A match of
    /// several code points is reported as UInt32.max.
    static func codePointsMatching(_ x: String, in text: [UInt8]) throws -> [UInt32] {
        let re = try ICURegexPreTokenizer(pattern: "(?:\(x))\\x{02}|[^\\x{02}]")
        var result: [UInt32] = []
        var start = 0
        for e in text.splitEnds(re) {
            defer { start = e }
            guard e - start > 1, text[e - 1] == 2 else { continue }
            let s = String(decoding: text[start..<(e - 1)], as: UTF8.self).unicodeScalars
            result.append(s.count == 1 ? s.first!.value : UInt32.max)
        }
        return result
    }

    /// Files under corpora/, or system text files if it has none.
    static func corpusFiles() -> [String] {
        let fm = FileManager.default
        let dir = repositoryRoot.appendingPathComponent("corpora").path
        var files: [String] = []
        if let e = fm.enumerator(atPath: dir) {
            for case let rel as String in e {
                var isDir: ObjCBool = false
                let path = dir + "/" + rel
                if fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue { files.append(path) }
            }
        }
        if files.isEmpty {
            let licenses = "/usr/share/common-licenses"
            for name in (try? fm.contentsOfDirectory(atPath: licenses)) ?? [] { files.append(licenses + "/" + name) }
            for py in ["/usr/lib/python3.11/typing.py", "/usr/lib/python3.11/argparse.py", "/usr/lib/python3.11/difflib.py"]
            where fm.fileExists(atPath: py) {
                files.append(py)
            }
        }
        return files.sorted()
    }

    /// The file's bytes (decompressed with the zstd CLI for .zst), at most about `cap` of them, cut after a
    /// newline so that the prefix is valid UTF-8.
    static func read(_ path: String, cap: Int) throws -> [UInt8] {
        var bytes: [UInt8]
        if path.hasSuffix(".zst") {
            bytes = try zstdDecompress(path, cap: cap)
        } else {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(cap))
        }
        if bytes.count >= cap, let nl = bytes.lastIndex(of: 0x0A) { bytes.removeSubrange((nl + 1)...) }
        return bytes
    }

    private static func zstdDecompress(_ path: String, cap: Int) throws -> [UInt8] {
        let quoted = "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
        guard let f = popen("zstd -dc -- \(quoted) 2>/dev/null", "r") else {
            throw NSError(domain: "zstd", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot run zstd for \(path)"])
        }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while out.count < cap {
            let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        let status = pclose(f)
        if out.count < cap && status != 0 {
            throw NSError(domain: "zstd", code: Int(status), userInfo: [NSLocalizedDescriptionKey: "zstd -dc \(path) failed"])
        }
        return out
    }

    /// Swift-literal-like escaping for messages.
    static func escaped(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if u.value >= 0x20 && u.value < 0x7F || (u.properties.isAlphabetic && !u.properties.isWhitespace) {
                    out.unicodeScalars.append(u)
                } else {
                    out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
                }
            }
        }
        return out + "\""
    }
}
