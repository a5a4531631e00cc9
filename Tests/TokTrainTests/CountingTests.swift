import TokCore
import TokIO
import TokTrain
import XCTest

final class CountingTests: XCTestCase {
    func testPieceCountsAgreeWithADictionary() {
        var rng = SeededRandom(seed: 9)
        var table = PieceCounts(expected: 4)
        var dict: [[UInt8]: UInt64] = [:]
        for _ in 0..<50_000 {
            let n = Int.random(in: 1...(Int.random(in: 0..<10, using: &rng) == 0 ? 40 : 6), using: &rng)
            let piece = (0..<n).map { _ in UInt8.random(in: 0...7, using: &rng) }
            let c = UInt64.random(in: 1...3, using: &rng)
            piece.withUnsafeBufferPointer { table.add($0.baseAddress!, $0.count, count: c) }
            dict[piece, default: 0] += c
        }
        XCTAssertEqual(table.count, dict.count)
        XCTAssertEqual(table.total, dict.values.reduce(0, +))
        for (k, v) in dict { XCTAssertEqual(table.count(of: k), v) }
        let order = table.sortedByBytes().map { Array(table.piece($0)) }
        XCTAssertEqual(order, dict.keys.sorted { $0.lexicographicallyPrecedes($1) })
    }

    func testCountsFileRoundTripsAnyBytes() throws {
        var rng = SeededRandom(seed: 12)
        var table = PieceCounts()
        var want: [[UInt8]: UInt64] = [:]
        for _ in 0..<3000 {
            let piece = (0..<Int.random(in: 1...12, using: &rng)).map { _ in
                // Bias towards the bytes that need escapes.
                [0x5C, 0x09, 0x0A, 0x0D, 0x00, 0x7F, 0xFF, 0xC3, 0xA9, 0x78, 0x20, 0xC2, 0x85, 0xE2, 0x80, 0xA8,
                 0xA9][Int.random(in: 0..<17, using: &rng)]
            } as [UInt8]
            // Large counts, but within what a counts file may hold: counts times piece lengths at most 2^63 - 1.
            let c = UInt64.random(in: 1...UInt64(Int64.max) / (3000 * 12), using: &rng)
            piece.withUnsafeBufferPointer { table.add($0.baseAddress!, $0.count, count: c) }
            want[piece, default: 0] += c
        }
        let data = CountsFile.contents(of: table)
        // One line per piece: escapes leave no raw tab, LF or CR inside a piece, nor a line break of Unicode's.
        XCTAssertEqual(data.filter { $0 == 0x0A }.count, want.count)
        XCTAssertEqual(String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false) {
            $0 == "\n" || $0 == "\u{85}" || $0 == "\u{2028}" || $0 == "\u{2029}" }.count, want.count + 1)
        let path = temporaryPath("counts.tsv")
        try Data(data).write(to: path)
        var back = PieceCounts()
        try CountsFile.read(path: path, into: &back)
        XCTAssertEqual(back.count, want.count)
        for (k, v) in want { XCTAssertEqual(back.count(of: k), v) }
    }

    func testCountsFileErrorsNameTheLine() throws {
        let path = temporaryPath("bad.tsv")
        try Data("a\t1\nb\tx\n".utf8).write(to: path)
        var t = PieceCounts()
        XCTAssertThrowsError(try CountsFile.read(path: path, into: &t)) { e in
            XCTAssertTrue("\(e)".contains("line 2"), "\(e)")
        }
        // Three columns: the piece would have kept a raw TAB, which `tok count` never writes (it writes \t).
        try Data("a\t1\nab\t5\t7\n".utf8).write(to: path)
        var t2 = PieceCounts()
        XCTAssertThrowsError(try CountsFile.read(path: path, into: &t2)) { e in
            XCTAssertTrue("\(e)".contains("line 2") && "\(e)".contains("more than one TAB"), "\(e)")
        }
        // A last line without its LF: cut short, not a smaller count.
        try Data("a\t1\nab\t12".utf8).write(to: path)
        var t3 = PieceCounts()
        XCTAssertThrowsError(try CountsFile.read(path: path, into: &t3)) { e in
            XCTAssertTrue("\(e)".contains("line 2") && "\(e)".contains("truncated"), "\(e)")
        }
    }

    func testJSONLFieldExtraction() throws {
        func get(_ line: String, _ field: String = "text") throws -> String? {
            var out: [UInt8] = []
            let found = try Array(line.utf8).withUnsafeBufferPointer { b in
                try JSONLField.extract(b, field: Array(field.utf8), into: &out)
            }
            return found ? String(decoding: out, as: UTF8.self) : nil
        }
        XCTAssertEqual(try get(#"{"id": 1, "text": "a\"b\\c\n\u00e9\ud83d\ude00", "x": [1, {"text": "no"}]}"#), "a\"b\\c\né😀")
        XCTAssertEqual(try get(#"{"meta": {"text": "inner"}, "text": "outer"}"#), "outer")
        XCTAssertNil(try get(#"{"body": "x"}"#))
        XCTAssertNil(try get(#"{"text": null}"#))
        // A repeated member takes its last value, as in Python's json.loads.
        XCTAssertEqual(try get(#"{"text": "first", "id": 2, "text": "last"}"#), "last")
        XCTAssertNil(try get(#"{"text": "first", "text": null}"#))
        XCTAssertEqual(try get(#"{"text": null, "text": "b"}"#), "b")
        var acc = Array("kept ".utf8)
        let more = try Array(#"{"text": "one", "text": "two"}"#.utf8).withUnsafeBufferPointer { try JSONLField.extract($0, field: Array("text".utf8), into: &acc) }
        XCTAssertTrue(more)
        XCTAssertEqual(String(decoding: acc, as: UTF8.self), "kept two")
        XCTAssertEqual(try get(#"  {"content":"c"}  "#, "content"), "c")
        for bad in [#"{"text": 3}"#, #"{"text": "unterminated}"#, #"["text"]"#, #"{"text": "\ud800"}"#, #"{"text": "a"} x"#,
                    // Malformed members other than the text (they were skipped unchecked), as Python's json refuses them.
                    #"{"text": "a", "x": nope}"#, #"{"text": "a", "x": [1,]}"#, #"{"text": "a", "x": {"y"}}"#,
                    #"{"text": "a", "x": "\q"}"#, #"{"text": "a", "x": +1}"#, #"{"text": "a", "x": 0x10}"#,
                    #"{"text": "a", "x": 01}"#, #"{"text": "a", "x": 1.}"#, #"{"text": "a", "x": "\u12"}"#,
                    #"{"text": "a", "x": tru}"#, #"{"text": "a", "x": [}"#, #"{"text": 1, "text": 2}"#,
                    "{\"text\": \"a\", \"x\": \"tab\there\"}"] {
            XCTAssertThrowsError(try get(bad), bad)
        }
        // Well-formed members of every kind, and a text member of another type that a later one replaces.
        XCTAssertEqual(try get(#"{"a": [1, -2.5e+3, 0, true, false, null, {"b": "\u00e9\ud800"}], "text": "ok"}"#), "ok")
        XCTAssertEqual(try get(#"{"text": 1, "text": "c"}"#), "c")
        // A lone surrogate escape in another member's name, as in its value, is accepted (Python reads both); such
        // a name never equals the field, even a field spelled with U+FFFD.
        XCTAssertEqual(try get(#"{"\ud800": "a", "text": "b"}"#), "b")
        XCTAssertNil(try get(#"{"\ud800": "a"}"#, "\u{FFFD}"))
        XCTAssertEqual(try get(#"{"\ufffd": "a"}"#, "\u{FFFD}"), "a")
        // A bad escape is reported at its backslash (it was reported just past it).
        for (bad, column) in [(#"{"text": "a\q"}"#, 11), (#"{"text": "a\ud800"}"#, 11), (#"{"text": "\ud800\u12"}"#, 16),
                              (#"{"text": "\ud800\u0041"}"#, 10)] {
            XCTAssertThrowsError(try get(bad), bad) { e in
                XCTAssertEqual((e as? JSONLField.Failure)?.column, column, bad)
            }
        }
    }

    func testCorpusReaderSamplingIsReproducibleAndMaxBytesStops() throws {
        let lines = (0..<2000).map { "line \($0) of the corpus\n" }.joined()
        let path = temporaryPath("corpus.txt")
        try Data(lines.utf8).write(to: path)
        func read(_ o: CorpusOptions) throws -> [UInt8] {
            var all: [UInt8] = []
            try CorpusReader(files: [path], options: o).read(emit: { all += $0.bytes })
            return all
        }
        var o = CorpusOptions()
        XCTAssertEqual(try read(o), Array(lines.utf8))
        o.sample = 0.25
        o.seed = 7
        let a = try read(o), b = try read(o)
        XCTAssertEqual(a, b)
        let kept = a.filter { $0 == 0x0A }.count
        XCTAssertTrue(kept > 400 && kept < 600, "\(kept)")
        o.seed = 8
        XCTAssertNotEqual(try read(o), a)
        o = CorpusOptions()
        o.maxBytes = 1000
        let head = try read(o)
        XCTAssertTrue(head.count >= 1000 && head.count < 1030 && head.last == 0x0A, "\(head.count)")
    }

    func testCorpusReaderReportsInvalidUTF8WithItsOffset() throws {
        let path = temporaryPath("bad.txt")
        try Data(Array("good line\nbad \u{e9}".utf8).dropLast(1) + [0x41]).write(to: path)
        XCTAssertThrowsError(try CorpusReader(files: [path], options: CorpusOptions()).read(emit: { _ in })) { e in
            XCTAssertTrue("\(e)".contains("byte 14") && "\(e)".contains("invalid UTF-8"), "\(e)")
        }
    }

    func testParallelCountingEqualsSerial() throws {
        var text = ""
        var rng = SeededRandom(seed: 4)
        let words = ["the", " cat", " sat", "\n", "  ", "123456", " déjà", " 語", "!!", "'s"]
        for _ in 0..<200_000 { text += words[Int.random(in: 0..<words.count, using: &rng)] }
        let path = temporaryPath("par.txt")
        try Data(text.utf8).write(to: path)
        var o = CorpusOptions()
        o.segmentBytes = 4096
        func count(_ threads: Int) throws -> [UInt8] {
            let t = try PieceCounting.count(reader: CorpusReader(files: [path], options: o),
                                            preTokenizer: StandardPattern.o200k.preTokenizer, threads: threads)
            return CountsFile.contents(of: t)
        }
        let one = try count(1)
        XCTAssertEqual(try count(2), one)
        XCTAssertEqual(try count(3), one)
        // And equal to pre-tokenizing the whole text at once.
        var whole = PieceCounts()
        var ends: [Int] = []
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { b in
            StandardPattern.o200k.preTokenizer.split(b, into: &ends)
            var s = 0
            for e in ends { whole.add(b.baseAddress! + s, e - s); s = e }
        }
        XCTAssertEqual(CountsFile.contents(of: whole), one)
    }

    /// A pre-tokenizer failure on a counting worker thread is thrown by the caller's
    /// `PreTokenizationFailure.catching` (it would end the process there otherwise).
    func testFailuresOnWorkerThreadsAreCaught() throws {
        struct FailsOnX: PreTokenizer {
            func split(_ text: UnsafeBufferPointer<UInt8>, into ends: inout [Int]) {
                if let i = text.firstIndex(of: UInt8(ascii: "X")) { PreTokenizationFailure.report("X at byte \(i)") }
                ends.append(text.count)
            }
        }
        let path = temporaryPath("fails.txt")
        try Data((String(repeating: "some words\n", count: 20_000) + "an X\n" + "more\n").utf8).write(to: path)
        var o = CorpusOptions()
        o.segmentBytes = 4096
        for threads in [1, 2, 4] {
            XCTAssertThrowsError(try PreTokenizationFailure.catching {
                try PieceCounting.count(reader: CorpusReader(files: [path], options: o), preTokenizer: FailsOnX(), threads: threads)
            }) { e in
                XCTAssertTrue((e as? PreTokenizationError)?.message.hasPrefix("X at byte ") == true, "\(e)")
            }
        }
    }
}

import Foundation
import TokTestSupport

/// A fresh path in the temporary directory.
func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("toktrain-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

extension Data {
    func write(to path: String) throws { try write(to: URL(fileURLWithPath: path)) }
}
