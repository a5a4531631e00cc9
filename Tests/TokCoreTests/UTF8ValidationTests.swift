import XCTest
import TokCore
import TokTestSupport
#if canImport(Glibc)
import Glibc
#endif

private func firstInvalid(_ b: [UInt8]) -> Int? { b.withUnsafeBufferPointer { firstInvalidUTF8Offset($0) } }
private func repaired(_ b: [UInt8]) -> [UInt8] { b.withUnsafeBufferPointer { replacingInvalidUTF8($0) } }

/// Splits `b` at the given cut points and runs both streaming forms over the pieces.
private func streamed(_ b: [UInt8], cuts: [Int]) -> (invalid: Int?, repaired: [UInt8]) {
    var validator = UTF8StreamValidator()
    var repairer = UTF8StreamRepairer()
    var out: [UInt8] = []
    var start = 0
    b.withUnsafeBufferPointer { all in
        for end in cuts + [b.count] where end >= start {
            let piece = UnsafeBufferPointer(rebasing: all[start..<end])
            validator.validate(piece)
            repairer.process(piece, into: &out)
            start = end
        }
    }
    repairer.finish(into: &out)
    return (validator.finish(), out)
}

/// Byte strings that exercise every row of Unicode Table 3-7 and its edges: random bytes alone would almost never
/// form a valid 3- or 4-byte sequence.
private func randomCase(_ rng: inout SeededRandom) -> [UInt8] {
    let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFE, 0xFF]
    var b: [UInt8] = []
    let parts = Int.random(in: 0...12, using: &rng)
    for _ in 0..<parts {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: b.append(UInt8.random(in: 0...255, using: &rng))
        case 1: b.append(interesting.randomElement(using: &rng)!)
        case 2: b.append(UInt8.random(in: 0x80...0xBF, using: &rng))
        case 3: b.append(contentsOf: (0..<Int.random(in: 1...20, using: &rng)).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) })
        default:
            // A well-formed character, sometimes cut short.
            var scalar: Unicode.Scalar?
            while scalar == nil { scalar = Unicode.Scalar(UInt32.random(in: 0x80...0x10FFFF, using: &rng)) }
            var enc = Array(String(Character(scalar!)).utf8)
            if Int.random(in: 0..<4, using: &rng) == 0 { enc.removeLast(Int.random(in: 1..<enc.count, using: &rng)) }
            b.append(contentsOf: enc)
        }
    }
    return b
}

/// Runs a shell command; returns its exit status.
private func sh(_ command: String) -> Int32 {
    guard let f = popen(command, "r") else { return -1 }
    var sink = [UInt8](repeating: 0, count: 4096)
    while fread(&sink, 1, sink.count, f) > 0 {}
    let status = pclose(f)
    return (status >> 8) & 0xFF
}

private func writeFile(_ path: String, _ bytes: [UInt8]) {
    let f = fopen(path, "wb")!
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

private func readFile(_ path: String) -> [UInt8] {
    guard let f = fopen(path, "rb") else { return [] }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n == 0 { break }
        out.append(contentsOf: buf[..<n])
    }
    return out
}

final class UTF8ValidationTests: XCTestCase {
    func testASCIIAndWellFormed() {
        XCTAssertNil(firstInvalid([]))
        XCTAssertNil(firstInvalid(Array("hello, world; a longer ASCII line to cross the 16-byte path".utf8)))
        XCTAssertNil(firstInvalid(Array("ascii then é, 日本語, 𝄞 and more ascii after".utf8)))
        // Every row of Table 3-7 at its boundaries.
        let good: [[UInt8]] = [[0x7F], [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF],
                               [0xEE, 0x80, 0x80], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF]]
        for g in good { XCTAssertNil(firstInvalid(g), "\(g)") }
    }

    func testIllFormedOffsets() {
        let cases: [([UInt8], Int)] = [
            ([0x41, 0x80], 1),                            // stray continuation
            ([0xC0, 0xAF], 0), ([0xC1, 0xBF], 0),         // overlong 2-byte
            ([0x41, 0xE0, 0x80, 0xAF], 1),                // overlong 3-byte
            ([0xF0, 0x8F, 0xBF, 0xBF], 0),                // overlong 4-byte
            ([0xED, 0xA0, 0x80], 0), ([0xED, 0xBF, 0xBF], 0), // surrogates
            ([0xF4, 0x90, 0x80, 0x80], 0), ([0xF5, 0x80, 0x80, 0x80], 0), // > U+10FFFF
            ([0x61, 0x62, 0xE2, 0x82], 2), ([0xF0, 0x9F, 0x98], 0), ([0xC3], 0), // truncated at end
            ([0xE2, 0x28, 0xA1], 0),                      // bad continuation
            (Array(repeating: 0x61, count: 37) + [0xFF], 37), // found by the word-sized path
        ]
        for (bytes, expected) in cases { XCTAssertEqual(firstInvalid(bytes), expected, "\(bytes)") }
    }

    func testWordPathFindsEveryPosition() {
        for pos in 0..<40 {
            var b = [UInt8](repeating: 0x20, count: 40)
            b[pos] = 0x80
            XCTAssertEqual(firstInvalid(b), pos)
        }
    }

    func testRepairKnownCases() {
        let fffd: [UInt8] = [0xEF, 0xBF, 0xBD]
        XCTAssertEqual(repaired(Array("ok".utf8)), Array("ok".utf8))
        XCTAssertEqual(repaired([0xE0, 0x80]), fffd + fffd)              // E0 80: 80 is outside A0..BF
        XCTAssertEqual(repaired([0xF0, 0x90, 0x80]), fffd)               // one truncated maximal subpart
        XCTAssertEqual(repaired([0xED, 0xA0, 0x80]), fffd + fffd + fffd) // surrogate: three subparts
        XCTAssertEqual(repaired([0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62]), [0x61] + fffd + fffd + fffd + [0x62])
    }

    func testStreamingSplitsEverywhere() {
        let text = Array("aé日𝄞b".utf8) + [0xE2, 0x82] + Array("c".utf8) + [0xF0, 0x9F, 0x98]
        let whole = (firstInvalid(text), repaired(text))
        for a in 0...text.count {
            for b in a...text.count {
                let s = streamed(text, cuts: [a, b])
                XCTAssertEqual(s.invalid, whole.0, "cuts \(a) \(b)")
                XCTAssertEqual(s.repaired, whole.1, "cuts \(a) \(b)")
            }
        }
        // Truncated only at the very end: valid until finish() says otherwise.
        var v = UTF8StreamValidator()
        let head: [UInt8] = [0x41, 0xF0, 0x9F]
        head.withUnsafeBufferPointer { XCTAssertNil(v.validate($0)) }
        XCTAssertEqual(v.finish(), 1)
    }

    /// Compares one-shot and streaming results with CPython's decoder on random byte strings.
    func testMatchesPythonOnRandomBytes() throws {
        guard sh("command -v python3 >/dev/null 2>&1") == 0 else { throw XCTSkip("python3 not installed") }
        var rng = SeededRandom(seed: 0x7A11_5EED)
        let cases = (0..<4000).map { _ in randomCase(&rng) }
        var input: [UInt8] = []
        for c in cases {
            withUnsafeBytes(of: UInt32(c.count).littleEndian) { input.append(contentsOf: $0) }
            input.append(contentsOf: c)
        }
        let dir = String(cString: mkdtemp(strdup("/tmp/tok-utf8-XXXXXX"))!)
        defer { _ = sh("rm -rf '\(dir)'") }
        writeFile("\(dir)/in", input)
        let script = """
        import struct, sys
        d = open(sys.argv[1], 'rb').read(); o = bytearray(); i = 0
        while i < len(d):
            (n,) = struct.unpack_from('<I', d, i); i += 4; b = d[i:i+n]; i += n
            r = b.decode('utf-8', 'replace').encode('utf-8')
            try:
                b.decode('utf-8'); s = -1
            except UnicodeDecodeError as e:
                s = e.start
            o += struct.pack('<iI', s, len(r)) + r
        open(sys.argv[2], 'wb').write(o)
        """
        writeFile("\(dir)/check.py", Array(script.utf8))
        XCTAssertEqual(sh("python3 '\(dir)/check.py' '\(dir)/in' '\(dir)/out'"), 0)
        let expected = readFile("\(dir)/out")
        var pos = 0
        func u32(_ at: Int) -> UInt32 { expected[at..<at + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        var mismatches = 0
        for (k, c) in cases.enumerated() {
            let start = Int32(bitPattern: u32(pos))
            let len = Int(u32(pos + 4))
            let want = Array(expected[(pos + 8)..<(pos + 8 + len)])
            pos += 8 + len
            let wantOffset: Int? = start < 0 ? nil : Int(start)
            let cut1 = c.isEmpty ? 0 : Int.random(in: 0...c.count, using: &rng)
            let cut2 = Int.random(in: cut1...max(cut1, c.count), using: &rng)
            let s = streamed(c, cuts: [cut1, cut2])
            if firstInvalid(c) != wantOffset || repaired(c) != want || s.invalid != wantOffset || s.repaired != want {
                mismatches += 1
                if mismatches <= 5 { XCTFail("case \(k) \(c): python \(String(describing: wantOffset)) \(want)") }
            }
        }
        XCTAssertEqual(pos, expected.count)
        XCTAssertEqual(mismatches, 0)
    }
}

final class FileNameTextTests: XCTestCase {
    func testDecodeAndDescribe() {
        XCTAssertEqual(FileNameText.decode(Array("déjà/語.txt".utf8)), "déjà/語.txt")
        XCTAssertNil(FileNameText.decode([0x6E, 0xE9, 0x2E]))
        XCTAssertNil(FileNameText.decode([0xED, 0xA0, 0x80]), "a surrogate")
        XCTAssertEqual(FileNameText.describe([0x6E, 0xE9, 0x2E, 0x74]), "n\\xE9.t")
        XCTAssertEqual(FileNameText.describe(Array("é".utf8) + [0xC3] + Array("x".utf8) + [0x0F, 0xFF]), "é\\xC3x\u{0F}\\xFF")
        XCTAssertEqual(FileNameText.describe([UInt8]()), "")
        XCTAssertEqual(FileNameText.escapingControlCharacters("a\nb\r\tc\u{1B}d\u{85}é"), "a\\nb\\r\\tc\\u{1b}d\\u{85}é")
        XCTAssertEqual(FileNameText.escapingControlCharacters("plain é"), "plain é")
    }
}
