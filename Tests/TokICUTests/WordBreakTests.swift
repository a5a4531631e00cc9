import XCTest
import Dispatch
import TokCore
import TokICU
import TokTestSupport

private func pieces(_ t: ICUWordBreakPreTokenizer, _ s: String) -> [String] {
    let bytes = Array(s.utf8)
    return bytes.withUnsafeBufferPointer { b in
        t.wordSpans(b).map { String(decoding: b[$0.start..<$0.end], as: UTF8.self) }
    }
}

private func ends(_ t: ICUWordBreakPreTokenizer, _ bytes: [UInt8]) -> [Int] {
    var out: [Int] = []
    bytes.withUnsafeBufferPointer { t.split($0, into: &out) }
    return out
}

/// `ends` of `bytes` on `threads` threads at once, one result per thread.
private func concurrentEnds(_ t: ICUWordBreakPreTokenizer, _ bytes: [UInt8], threads: Int) -> [[Int]] {
    let results = UnsafeMutableBufferPointer<[Int]>.allocate(capacity: threads)
    results.initialize(repeating: [])
    defer { results.deallocate() }
    nonisolated(unsafe) let out = results
    DispatchQueue.concurrentPerform(iterations: threads) { k in out[k] = ends(t, bytes) }
    return Array(results)
}

/// `split` and `forEachWord` (which take the rules' fast paths) must find exactly ICU's pieces and words.
private func assertSegmentsLikeICU(_ t: ICUWordBreakPreTokenizer, _ bytes: [UInt8], file: StaticString = #filePath,
                                   line: UInt = #line) {
    bytes.withUnsafeBufferPointer { b in
        let spans = t.wordSpans(b)
        var got: [Int] = []
        t.split(b, into: &got)
        XCTAssertEqual(got, spans.map(\.end), file: file, line: line)
        var words: [Int] = []
        t.forEachWord(b) { words += [$0, $1] }
        XCTAssertEqual(words, spans.filter(\.isWord).flatMap { [$0.start, $0.end] }, file: file, line: line)
    }
}

/// ICU's words of `b[r]` segmented alone, at their offsets in `b`.
private func partSpans(_ t: ICUWordBreakPreTokenizer, _ b: UnsafeBufferPointer<UInt8>,
                       _ r: Range<Int>) -> [ICUWordBreakPreTokenizer.WordSpan] {
    t.wordSpans(UnsafeBufferPointer(rebasing: b[r])).map {
        ICUWordBreakPreTokenizer.WordSpan(start: $0.start + r.lowerBound, end: $0.end + r.lowerBound, ruleStatus: $0.ruleStatus)
    }
}

final class WordBreakTests: XCTestCase {
    /// `forEachWord` does not ask ICU the rule status of ASCII pieces without letters, digits, "_" or "@"; it must
    /// find exactly the words `wordSpans` flags: on every printable ASCII triple, on random ASCII heavy in joiners,
    /// and on the corpora.
    func testForEachWordFindsTheSameWords() throws {
        let t = try ICUWordBreakPreTokenizer()
        print("ASCII path:", t.asciiPath)
        XCTAssertTrue(t.asciiPath.enabled, "the ASCII class table disagrees with this ICU on the probe")
        var texts: [[UInt8]] = []
        var pairs: [UInt8] = []
        for a in UInt8(0x20)...0x7E {
            pairs += [a, 0x20]
            for b in UInt8(0x20)...0x7E { pairs += [a, b, 0x20, a, b, a, 0x0A] }
        }
        texts.append(pairs)
        var triples: [UInt8] = []
        triples.reserveCapacity(95 * 95 * 95 * 4)
        for a in UInt8(0x20)...0x7E { for b in UInt8(0x20)...0x7E { for c in UInt8(0x20)...0x7E { triples += [a, b, c, 0x0A] } } }
        texts.append(triples)
        var rng = SeededRandom(seed: 29)
        let alphabet = Array("aZ09_@.',;:-\u{20}\n\té".utf8)
        var fuzz: [UInt8] = []
        for _ in 0..<200_000 { fuzz.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
        texts.append(fuzz)
        for path in ScanTestData.corpusFiles() where path.hasSuffix(".txt.zst") {
            texts.append(try ScanTestData.read(path, cap: 1_000_000))
        }
        for bytes in texts {
            bytes.withUnsafeBufferPointer { b in
                let want = t.wordSpans(b).filter(\.isWord).flatMap { [$0.start, $0.end] }
                var got: [Int] = []
                t.forEachWord(b) { got += [$0, $1] }
                XCTAssertEqual(got, want)
            }
        }
    }

    /// Whole ASCII lines are segmented without ICU (`ASCIIWordBreak`); the pieces and words must be ICU's, on
    /// texts that mix ASCII lines (short and long, CRLF and bare CR, every class next to every other) with lines
    /// in other scripts, and on the corpora.
    func testASCIILinesSegmentLikeICU() throws {
        let t = try ICUWordBreakPreTokenizer()
        XCTAssertTrue(t.asciiPath.enabled)
        var rng = SeededRandom(seed: 2029)
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        let asciiUnits = ["a", "Zq", "7", "42", "_", "@", ".", "'", ":", ",", ";", " ", "  ", "\t", "\r", "\r\n", "\u{0B}",
                          "\u{0C}", "\"", "-", "x.y", "1.5", "1,000", "can't", "a:b", "a_1", "__", "e@x.org", "\u{00}", "\u{7F}"]
        let otherUnits = ["é", "日本語の", "สวัสดีครับ", "\u{0301}", "\u{200D}", "\u{2028}", "\u{85}", "Ω", "٣", "🇫🇷", "ア"]
        var texts: [[UInt8]] = []
        for round in 0..<400 {
            var text = ""
            for _ in 0..<(1 + round % 12) {
                var line = ""
                let long = rng.next() % 3 == 0
                let mixed = rng.next() % 3 == 0
                for _ in 0..<(long ? 120 : 1 + Int(rng.next() % 8)) {
                    line += mixed && rng.next() % 6 == 0 ? pick(otherUnits) : pick(asciiUnits)
                }
                text += line + (rng.next() % 5 == 0 ? "" : "\n")
            }
            texts.append(Array(text.utf8))
        }
        // Every pair of classes on either side of every joiner, in long ASCII lines between non-ASCII ones.
        var quads = ""
        let reps = ["a", "1", "_", "@", ".", "'", ":", ",", ";", " ", "\t", "\r", "\"", "-"]
        for a in reps { for b in reps { for c in reps { for d in reps { quads += a + b + c + d + "\n" } } } }
        texts.append(Array(("é\n" + quads + "日本\n" + quads).utf8))
        for path in ScanTestData.corpusFiles() where path.hasSuffix(".txt.zst") {
            texts.append(try ScanTestData.read(path, cap: 2_000_000))
        }
        var asciiLines = 0
        for bytes in texts {
            assertSegmentsLikeICU(t, bytes)
            asciiLines += bytes.split(separator: 0x0A).filter { $0.allSatisfy { $0 < 0x80 } }.count
        }
        XCTAssertGreaterThan(asciiLines, 10_000)
    }

    /// Lines whose non-ASCII characters are all letters, digits or marks of scripts without a dictionary are
    /// segmented without ICU (`ASCIIWordBreak.forEachPieceUTF8`); pieces and words must be ICU's. Every BMP code
    /// point is put next to itself, to ASCII letters and digits, "_", spaces, every joiner and marks (a wrong entry
    /// of the letter table shows up here whatever the character), then random lines mix letters, digits and marks
    /// of many scripts with ASCII.
    func testLettersLinesSegmentLikeICU() throws {
        let t = try ICUWordBreakPreTokenizer()
        XCTAssertTrue(t.lettersPath, "ICU disagreed with the letters path on its probe")
        var sweep = ""
        for cp in 0x80..<0x10000 {
            guard let u = Unicode.Scalar(UInt32(cp)) else { continue }
            let c = String(u)
            sweep += "a\(c)b \(c)\(c) 1\(c)2 _\(c)_ \(c).\(c) a'\(c) \(c)'a \(c):\(c) 1,\(c) \(c);1 \(c)\n"
            // With marks (WB4): after the character, after a joiner, after spaces and at a line start.
            sweep += "\(c)\u{301}b \(c)'\u{308}\(c) a.\u{301}\(c) 1,\u{93F}\(c)2 _\u{301} \u{301}\(c)  \u{301}\(c)\n\u{301}\(c)\n"
        }
        var texts: [[UInt8]] = [Array(sweep.utf8)]
        var rng = SeededRandom(seed: 3011)
        // Small alphabets heavy in "_", "@", joiners and marks: ICU's rule status follows the last rule of a chain,
        // so a run ending in "_" and marks is no word, while one ending in a letter and marks is.
        for alphabet in [["a", "1", "_", "@", ".", "'", ",", ":", " ", "\t", "\r", "\n", "\u{301}", "\u{93F}", "ж", "٣"],
                         ["_", "\u{301}", "a", "\n", " ", "."], ["ж", "\u{64B}", "1", ",", "'", "\u{B}", "\r\n"]] {
            var fuzz = ""
            for _ in 0..<60_000 { fuzz += alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            texts.append(Array(fuzz.utf8))
        }
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        let letters = ["é", "Ж", "щука", "Ω", "λόγος", "ب", "كتاب", "Ա", "ბ", "ñ", "ß", "Ǆ", "ক", "अ", "ᄀ", "ｆ", "ʼ",
                       "٣", "٠١٢", "७", "５", "Ⅷ", "ª", "µ", "々", "한", "ア", "日", "ก", "\u{301}", "\u{93F}", "हिन्दी",
                       "كَتَبَ", "e\u{301}", "\u{64B}", "ক্ষ", "\u{200D}", "\u{AD}", "\u{2028}"]
        let ascii = ["a", "Zq", "7", "42", "_", ".", "'", ":", ",", ";", " ", "  ", "-", "x.y", "1.5", "1,000", "\t"]
        for round in 0..<600 {
            var text = ""
            for _ in 0..<(1 + round % 9) {
                var line = ""
                for _ in 0..<(1 + Int(rng.next() % 40)) { line += rng.next() % 2 == 0 ? pick(letters) : pick(ascii) }
                text += line + "\n"
            }
            texts.append(Array(text.utf8))
        }
        for bytes in texts {
            assertSegmentsLikeICU(t, bytes)
        }
    }

    /// The probe that decides whether to trust the ASCII class table must notice any single wrong class.
    func testProbeNoticesEveryWrongASCIIClass() throws {
        let t = try ICUWordBreakPreTokenizer()
        let path = t.asciiPath
        XCTAssertTrue(path.enabled)
        let right = ASCIIWordBreak(colonJoinsLetters: path.colonJoinsLetters, atIsLetter: path.atIsLetter)
        let want = t.icuProbePieces()
        XCTAssertEqual(right.probePieces(), want)
        let W = ASCIIWordBreak.self
        let kinds: [UInt8] = [0, W.letter, W.number, W.underscore, W.joinsLetters, W.joinsNumbers,
                              W.joinsLetters | W.joinsNumbers, W.space, W.carriageReturn]
        var unnoticed: [String] = []
        for b in 0..<128 where b != 0x0A {
            for k in kinds where k != right.classes[b] {
                var c = right.classes
                c[b] = k
                if ASCIIWordBreak(classes: c).probePieces() == want { unnoticed.append("byte \(b) as \(k)") }
            }
        }
        XCTAssertEqual(unnoticed, [])
    }

    func testEnglishPiecesAndWordFlags() throws {
        let t = try ICUWordBreakPreTokenizer()
        let text = "The quick (\u{201C}brown\u{201D}) fox can't jump 32.3 feet, right?"
        XCTAssertEqual(pieces(t, text), ["The", " ", "quick", " ", "(", "\u{201C}", "brown", "\u{201D}", ")", " ",
                                         "fox", " ", "can't", " ", "jump", " ", "32.3", " ", "feet", ",", " ",
                                         "right", "?"])
        let spans = Array(text.utf8).withUnsafeBufferPointer { t.wordSpans($0) }
        let words = spans.filter(\.isWord).map { String(decoding: Array(text.utf8)[$0.start..<$0.end], as: UTF8.self) }
        XCTAssertEqual(words, ["The", "quick", "brown", "fox", "can't", "jump", "32.3", "feet", "right"])
        XCTAssertEqual(spans.first { $0.kind == .number }.map { $0.end - $0.start }, 4)
        XCTAssertTrue(spans.filter { !$0.isWord }.allSatisfy { $0.kind == .none })
    }

    func testJapaneseAndChineseUseTheDictionary() throws {
        let t = try ICUWordBreakPreTokenizer()
        XCTAssertEqual(pieces(t, "日本語のテキスト"), ["日本語", "の", "テキスト"])
        let spans = Array("日本語のテキスト".utf8).withUnsafeBufferPointer { t.wordSpans($0) }
        XCTAssertTrue(spans.allSatisfy(\.isWord))
        XCTAssertEqual(spans.first?.kind, .ideographic)
        let chinese = pieces(t, "我们喜欢自然语言处理。")
        XCTAssertEqual(chinese.joined(), "我们喜欢自然语言处理。")
        XCTAssertGreaterThan(chinese.count, 3, "\(chinese)")  // split into words, not one run of ideographs
        XCTAssertEqual(chinese.last, "。")
    }

    func testThaiUsesTheDictionary() throws {
        let t = try ICUWordBreakPreTokenizer()
        // Thai has no spaces between words; only ICU's dictionary can split it.
        let thai = pieces(t, "สวัสดีครับ ภาษาไทย")
        XCTAssertEqual(thai, ["สวัสดี", "ครับ", " ", "ภาษา", "ไทย"])
    }

    /// Every cut of `SafeCut.Rule.wordBreak` (the rule eval and `--pretokenizer icu-words` cut long lines by) must
    /// split each part into exactly ICU's words of the whole, rule statuses included: random text heavy in ASCII
    /// punctuation next to letters and digits (every printable ASCII character, "@" and ":" among them, which ICU
    /// treats as letters or joiners), with Hebrew letters and quotes, marks, joiners, Format characters,
    /// regional indicators, kana, Han, Thai and white space around them.
    func testEveryWordBreakCutSplitsThePartsAsTheWhole() throws {
        let t = try ICUWordBreakPreTokenizer()
        XCTAssertEqual(t.cutRule, .wordBreak, "this ICU's ASCII classes are the expected ones")
        var fragments = (UInt8(0x21)...0x7E).map { String(UnicodeScalar($0)) }
        fragments += ["abc", "XyZ", "123", "1.5", "a.b", "a:b", "1,000", "a'b", "a_b", "_1", "x@y.z", "a\u{301}", "\u{301}",
                      "\u{200d}", "\u{ad}", "\u{5d0}", "\u{5d0}\"\u{5d1}", "\u{5d0}'", "\u{1f1fa}\u{1f1f8}", "\u{1f1fa}",
                      "\u{1f642}", "\u{1f44d}\u{200d}", "\u{1f3fb}", "ｶﾞ", "\u{ff9e}", " \u{301}", "\u{200d} ", "カタカナ", "ひらがな", "日本語", "中文", "ภาษาไทย", "한국어", "。", "，", "「", "」", "、", "！", "（", "）", "：", "？", "é", "Ж",
                      "٣", " ", "  ", "\n", "\r\n", "\t", "\u{a0}", "\u{3000}", "\u{85}", "\u{2028}", "0x1F", "{\"k\":1}",
                      "[1,2]", "a=b", "x+y/z==", "(a)", "-1", "$5", "#x", "%d", "&amp;", "*p", "<b>", "?q", "^", "`c`", "|", "~"]
        var rng = SeededRandom(seed: 29)
        var cuts = 0
        for round in 0..<1500 {
            var text: [UInt8] = []
            for _ in 0..<Int.random(in: 1...30, using: &rng) {
                text += Array(fragments[Int.random(in: 0..<fragments.count, using: &rng)].utf8)
            }
            text.withUnsafeBufferPointer { b in
                let whole = t.wordSpans(b)
                for i in 1..<max(b.count, 1) where SafeCut.isCut(b.baseAddress!, i, b.count, rule: .wordBreak) {
                    cuts += 1
                    let left = partSpans(t, b, 0..<i), right = partSpans(t, b, i..<b.count)
                    XCTAssertEqual(left + right, whole, "round \(round): cut at \(i) of \(String(decoding: b, as: UTF8.self).debugDescription)")
                }
            }
        }
        XCTAssertGreaterThan(cuts, 5_000, "the texts have cuts to check")
    }

    /// The cut before a space after a character that is not white space depends on that character alone: for
    /// every code point above ASCII (all of the BMP, the emoji plane and plane 14's tags and variation selectors,
    /// every 64th elsewhere), ICU's words of the parts must be those of the whole, after a space (marks, joiners and
    /// Format characters attach to it, WB4) and after the same character, before a mark.
    func testSpaceCutAfterEveryCharacter() throws {
        let t = try ICUWordBreakPreTokenizer()
        var checked = 0
        for v in UInt32(0x80)...0x10FFFF {
            let plane = v >> 16
            guard plane <= 1 || plane == 14 || v & 63 == 0, let u = Unicode.Scalar(v) else { continue }
            let c = Array(String(u).utf8)
            for (text, i) in [([0x20] + c + [0x20, 0x78], c.count + 1), ([0x78] + c + c + [0x20, 0xCC, 0x81, 0x78], 2 * c.count + 1)] {
                text.withUnsafeBufferPointer { b in
                    guard SafeCut.isCut(b.baseAddress!, i, b.count, rule: .wordBreak) else { return }
                    checked += 1
                    let left = partSpans(t, b, 0..<i), right = partSpans(t, b, i..<b.count)
                    if left + right != t.wordSpans(b) { XCTFail("U+\(String(v, radix: 16)): \(text)") }
                }
            }
        }
        XCTAssertGreaterThan(checked, 350_000, "every character that is not white space, in both places")
    }

    /// Chinese, Japanese, Korean and Thai text of the corpora with its line breaks removed, cut at every place
    /// `SafeCut.Rule.wordBreak` allows (before CJK punctuation after a letter, before spaces, between ASCII kinds):
    /// ICU's words of the parts, each segmented alone, must be those of the whole, where the dictionary decides.
    func testCutsInDictionaryScriptsSplitThePartsAsTheWhole() throws {
        let t = try ICUWordBreakPreTokenizer()
        let root = ScanTestData.repositoryRoot.appendingPathComponent("corpora").path
        var checkedCuts = 0
        for name in ["parallel/zh_CN.txt.zst", "parallel/ja.txt.zst", "parallel/ko.txt.zst", "parallel/th.txt.zst",
                     "multilingual.txt.zst"] {
            let text = try ScanTestData.read(root + "/" + name, cap: 600_000).filter { $0 != 0x0A }
            text.withUnsafeBufferPointer { b in
                var cuts = [0]
                for i in 1..<b.count where SafeCut.isCut(b.baseAddress!, i, b.count, rule: .wordBreak) { cuts.append(i) }
                cuts.append(b.count)
                checkedCuts += cuts.count - 2
                var parts: [ICUWordBreakPreTokenizer.WordSpan] = []
                for k in 0..<(cuts.count - 1) {
                    parts += partSpans(t, b, cuts[k]..<cuts[k + 1])
                }
                let whole = t.wordSpans(b)
                XCTAssertEqual(parts.count, whole.count, name)
                if let k = zip(parts, whole).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                    XCTFail("\(name): first difference at byte \(whole[k].start): \(parts[k]) against \(whole[k])")
                }
            }
        }
        XCTAssertGreaterThan(checkedCuts, 20_000)
    }

    func testPiecesTileAnyBytes() throws {
        let t = try ICUWordBreakPreTokenizer()
        XCTAssertEqual(ends(t, []), [])
        var state: UInt64 = 12345
        for round in 0..<300 {
            var bytes: [UInt8] = []
            for _ in 0..<(round % 97) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let r = Int(state >> 33)
                switch r % 4 {
                case 0: bytes.append(UInt8(truncatingIfNeeded: r >> 8))   // anything, often ill-formed
                case 1: bytes += Array(" a.1'".utf8)
                case 2: bytes += Array("日é".utf8).prefix(r % 5 + 1)       // sometimes cut mid-character
                default: bytes += [0xED, 0xA0, 0x80, 0xF4, 0x90, 0xC0]     // surrogate, > U+10FFFF, overlong
                }
            }
            let e = ends(t, bytes)
            XCTAssertEqual(e.last ?? 0, bytes.count, "\(bytes)")
            XCTAssertTrue(zip([0] + e, e).allSatisfy { $0 < $1 }, "\(bytes) -> \(e)")
        }
    }

    func testConcurrentUseGivesTheSameResult() throws {
        let t = try ICUWordBreakPreTokenizer()
        let text = Array(String(repeating: "Hello, world! 日本語のテキスト สวัสดีครับ 42. ", count: 200).utf8)
        let expected = ends(t, text)
        for r in concurrentEnds(t, text, threads: 16) { XCTAssertEqual(r, expected) }
    }

    /// Threads that meet the first line of other scripts at once each build the letters table; one is kept, and
    /// every thread segments as ICU does.
    func testConcurrentFirstUseOfTheLettersPath() throws {
        let t = try ICUWordBreakPreTokenizer()
        let text = Array(String(repeating: "Привет, мир! Καλημέρα 42 κόσμε. नमस्ते दुनिया।\n", count: 40).utf8)
        let want = text.withUnsafeBufferPointer { t.wordSpans($0).map(\.end) }
        for r in concurrentEnds(t, text, threads: 8) { XCTAssertEqual(r, want) }
        XCTAssertTrue(t.lettersPath)
    }
}
