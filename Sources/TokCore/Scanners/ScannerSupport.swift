// Shared machinery of the hand-written pre-tokenizers: the decoded class table, UTF-8 decoding, and runs.
//
// Every scanner reads characters through `ScanText.char(_:)`, which returns a class bitset and a byte length.
// ASCII costs one table load; other bytes are decoded inline and looked up in the two-stage Unicode table. A byte
// that does not start a valid UTF-8 sequence (stray continuation, overlong form, surrogate, > U+10FFFF, or a
// sequence cut short by the end of the text or by a non-continuation byte) is a one-byte character with no class
// bits, i.e. "other": so any byte string tiles, and every character has length >= 1, which keeps all loops finite.

/// Character class bits (the first six come from the generated table; see scripts/gen_unicode_tables.py).
enum CharClass {
    /// \p{L}
    static let letter: UInt8 = 0x01
    /// \p{N}
    static let number: UInt8 = 0x02
    /// White_Space, which is `\s` in ICU and in Rust's regex crate.
    static let space: UInt8 = 0x04
    /// o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
    static let upper: UInt8 = 0x08
    /// o200k's [\p{Ll}\p{Lm}\p{Lo}\p{M}]
    static let lower: UInt8 = 0x10
    /// \p{M}
    static let mark: UInt8 = 0x20
    /// U+000A or U+000D. Only ever set by the ASCII table.
    static let crlf: UInt8 = 0x40
    /// Set in the ASCII table for bytes >= 0x80: the character must be decoded.
    static let multi: UInt8 = 0x80

    /// Classes excluded by `[^\s\p{L}\p{N}]`.
    static let lns: UInt8 = letter | number | space
    /// Classes excluded by `[^\r\n\p{L}\p{N}]`.
    static let lnCRLF: UInt8 = letter | number | crlf
}

/// The decoded class table: 256 ASCII-table bytes, then stage 1 (one block number per 256 code points), then the
/// stage-2 blocks. Built once per process and never freed.
struct ClassTable: @unchecked Sendable {
    let base: UnsafePointer<UInt8>

    static let asciiOffset = 0
    static let stage1Offset = 256
    static let stage1Count = 0x110000 >> UnicodeClassTables.blockShift
    static let stage2Offset = stage1Offset + stage1Count

    static let shared = ClassTable()

    private init() {
        let blockSize = 1 << UnicodeClassTables.blockShift
        let stage2Count = UnicodeClassTables.blockCount * blockSize
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.stage2Offset + stage2Count)
        UnicodeClassTables.stage1.withUTF8Buffer { s in
            precondition(s.count == 2 * Self.stage1Count, "stage-1 table has the wrong size")
            func hex(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : c - 0x41 + 10 }
            for k in 0..<Self.stage1Count {
                let block = hex(s[2 * k]) << 4 | hex(s[2 * k + 1])
                precondition(Int(block) < UnicodeClassTables.blockCount, "stage-1 entry out of range")
                buf[Self.stage1Offset + k] = block
            }
        }
        UnicodeClassTables.stage2.withUTF8Buffer { s in
            precondition(s.count == stage2Count, "stage-2 table has the wrong size")
            for k in 0..<stage2Count { buf[Self.stage2Offset + k] = s[k] & ~UnicodeClassTables.byteOffset }
        }
        for b in 0..<256 {
            if b >= 0x80 {
                buf[b] = CharClass.multi
            } else {
                var bits = buf[Self.stage2Offset + Int(buf[Self.stage1Offset]) << UnicodeClassTables.blockShift + b]
                if b == 0x0A || b == 0x0D { bits |= CharClass.crlf }
                buf[b] = bits
            }
        }
        base = UnsafePointer(buf)
    }

    /// Class bits of a code point (no `crlf` bit).
    @inline(__always)
    func bits(ofScalar cp: UInt32) -> UInt8 {
        let block = Int(base[Self.stage1Offset + Int(cp >> 8)])
        return base[Self.stage2Offset + block << 8 + Int(cp & 0xFF)]
    }
}

/// A view of the text being scanned. All offsets are byte offsets; `char(i)` requires `i < n`.
struct ScanText {
    let p: UnsafePointer<UInt8>
    let n: Int
    let t: UnsafePointer<UInt8>

    @inline(__always)
    init(_ p: UnsafePointer<UInt8>, _ n: Int) {
        self.p = p
        self.n = n
        self.t = ClassTable.shared.base
    }

    /// The ASCII-table entry of byte `b`.
    @inline(__always)
    func ascii(_ b: UInt8) -> UInt8 { t[Int(b)] }

    /// Class bits and length in bytes of the character that starts at `i`.
    @inline(__always)
    func char(_ i: Int) -> (bits: UInt8, len: Int) {
        let a = t[Int(p[i])]
        if a & CharClass.multi == 0 { return (a, 1) }
        return decode(i)
    }

    /// Decodes the non-ASCII character at `i` (Unicode Table 3-7 well-formed sequences only).
    @inline(__always)
    func decode(_ i: Int) -> (bits: UInt8, len: Int) {
        let b0 = UInt32(p[i])
        if b0 < 0xE0 {
            guard b0 >= 0xC2, i + 1 < n else { return (0, 1) }
            let b1 = UInt32(p[i + 1]) ^ 0x80
            guard b1 < 0x40 else { return (0, 1) }
            return (lookup((b0 & 0x1F) << 6 | b1), 2)
        }
        if b0 < 0xF0 {
            guard i + 2 < n else { return (0, 1) }
            let b1 = UInt32(p[i + 1]) ^ 0x80, b2 = UInt32(p[i + 2]) ^ 0x80
            guard b1 < 0x40, b2 < 0x40 else { return (0, 1) }
            let cp = (b0 & 0x0F) << 12 | b1 << 6 | b2
            // Rejects overlong forms (E0 80..9F) and UTF-16 surrogates (ED A0..BF).
            guard cp >= 0x800, cp & 0xF800 != 0xD800 else { return (0, 1) }
            return (lookup(cp), 3)
        }
        guard b0 < 0xF5, i + 3 < n else { return (0, 1) }
        let b1 = UInt32(p[i + 1]) ^ 0x80, b2 = UInt32(p[i + 2]) ^ 0x80, b3 = UInt32(p[i + 3]) ^ 0x80
        guard b1 < 0x40, b2 < 0x40, b3 < 0x40 else { return (0, 1) }
        let cp = (b0 & 0x07) << 18 | b1 << 12 | b2 << 6 | b3
        guard cp >= 0x10000, cp <= 0x10FFFF else { return (0, 1) }
        return (lookup(cp), 4)
    }

    @inline(__always)
    func lookup(_ cp: UInt32) -> UInt8 {
        let block = Int(t[ClassTable.stage1Offset + Int(cp >> 8)])
        return t[ClassTable.stage2Offset + block << 8 + Int(cp & 0xFF)]
    }

    /// End of the run of ASCII letters from `i` (stops at anything else, including non-ASCII bytes).
    /// Eight bytes at a time: most words end inside the first word-sized load, with no per-byte loop.
    @inline(__always)
    func asciiLetterRun(_ i: Int) -> Int {
        var i = i
        while i &+ 8 <= n {
            let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
            // Setting 0x20 folds A-Z onto a-z and maps no non-letter into a-z. The adds cannot carry
            // between bytes because the high bit is masked off first.
            let v = (w | 0x2020_2020_2020_2020) & 0x7F7F_7F7F_7F7F_7F7F
            let atLeastA = v &+ 0x1F1F_1F1F_1F1F_1F1F        // high bit set iff byte >= 0x61
            let aboveZ = v &+ 0x0505_0505_0505_0505          // high bit set iff byte >= 0x7B
            let letters = atLeastA & ~aboveZ & ~w & 0x8080_8080_8080_8080
            let others = ~letters & 0x8080_8080_8080_8080
            if others != 0 { return i &+ others.trailingZeroBitCount &>> 3 }
            i &+= 8
        }
        while i < n, t[Int(p[i])] & CharClass.letter != 0 { i &+= 1 }
        return i
    }

    /// End of the run of ASCII lower-case letters from `i`; see `asciiLetterRun`.
    @inline(__always)
    func asciiLowerRun(_ i: Int) -> Int {
        var i = i
        while i &+ 8 <= n {
            let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
            let v = w & 0x7F7F_7F7F_7F7F_7F7F
            let atLeastA = v &+ 0x1F1F_1F1F_1F1F_1F1F
            let aboveZ = v &+ 0x0505_0505_0505_0505
            let lower = atLeastA & ~aboveZ & ~w & 0x8080_8080_8080_8080
            let others = ~lower & 0x8080_8080_8080_8080
            if others != 0 { return i &+ others.trailingZeroBitCount &>> 3 }
            i &+= 8
        }
        while i < n, p[i] &- 0x61 < 26 { i &+= 1 }
        return i
    }

    /// End of `\p{L}*` from `i`: the ASCII fast path first, then character by character, which suits
    /// scripts other than Latin better than returning to word-sized loads.
    @inline(__always)
    func letterRun(_ i: Int) -> Int {
        let e = asciiLetterRun(i)
        return e < n && p[e] >= 0x80 ? run(e, any: CharClass.letter) : e
    }

    /// End of `[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` from `i`; see `letterRun`.
    @inline(__always)
    func lowerRun(_ i: Int) -> Int {
        let e = asciiLowerRun(i)
        return e < n && p[e] >= 0x80 ? run(e, any: CharClass.lower) : e
    }

    /// End of the run of characters, from `i`, that have any bit of `mask`.
    @inline(__always)
    func run(_ i: Int, any mask: UInt8) -> Int {
        var i = i
        while i < n {
            let a = t[Int(p[i])]
            if a & mask != 0 { i &+= 1; continue }
            if a & CharClass.multi == 0 { break }
            let (c, l) = decode(i)
            if c & mask == 0 { break }
            i &+= l
        }
        return i
    }

    /// End of the run of characters, from `i`, that have no bit of `mask`.
    @inline(__always)
    func run(_ i: Int, none mask: UInt8) -> Int {
        var i = i
        while i < n {
            let a = t[Int(p[i])]
            if a & (mask | CharClass.multi) == 0 { i &+= 1; continue }
            if a & CharClass.multi == 0 { break }
            let (c, l) = decode(i)
            if c & mask != 0 { break }
            i &+= l
        }
        return i
    }

    /// End of `\p{N}{1,3}` given that the first number character ends at `j`.
    @inline(__always)
    func digits(after j: Int) -> Int {
        var j = j
        for _ in 0..<2 {
            guard j < n else { break }
            let (c, l) = char(j)
            if c & CharClass.number == 0 { break }
            j += l
        }
        return j
    }

    /// End of `[\r\n]*` from `i`.
    @inline(__always)
    func crlfRun(_ i: Int) -> Int {
        var i = i
        while i < n, p[i] == 0x0A || p[i] == 0x0D { i &+= 1 }
        return i
    }

    /// End of `[\r\n/]*` from `i`.
    @inline(__always)
    func crlfSlashRun(_ i: Int) -> Int {
        var i = i
        while i < n, p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x2F { i &+= 1 }
        return i
    }

    /// After an apostrophe ending at `j`: the end of `(?i:[sdmt]|ll|ve|re)`, or -1.
    ///
    /// Case-insensitive matching (simple case folding in Rust regex, full folding in ICU) adds exactly one
    /// non-ASCII character for these letters: U+017F LATIN SMALL LETTER LONG S folds to "s".
    /// ScannerVsICUTests.testCaseInsensitiveContractionLetters checks that no other code point folds to one of them.
    @inline(__always)
    func contractionFolded(_ j: Int) -> Int {
        guard j < n else { return -1 }
        switch p[j] | 0x20 {
        case 0x73, 0x64, 0x6D, 0x74: // s d m t
            return j + 1
        case 0x6C: // l
            return j + 1 < n && p[j + 1] | 0x20 == 0x6C ? j + 2 : -1
        case 0x76, 0x72: // v r
            return j + 1 < n && p[j + 1] | 0x20 == 0x65 ? j + 2 : -1
        case 0xE5: // 0xC5 | 0x20: ſ is C5 BF
            return p[j] == 0xC5 && j + 1 < n && p[j + 1] == 0xBF ? j + 2 : -1
        default:
            return -1
        }
    }

    /// After an apostrophe ending at `j`: the end of `s|t|re|ve|m|ll|d` (case-sensitive), or -1.
    @inline(__always)
    func contractionExact(_ j: Int) -> Int {
        guard j < n else { return -1 }
        switch p[j] {
        case 0x73, 0x74, 0x6D, 0x64: // s t m d
            return j + 1
        case 0x72, 0x76: // r v
            return j + 1 < n && p[j + 1] == 0x65 ? j + 2 : -1
        case 0x6C: // l
            return j + 1 < n && p[j + 1] == 0x6C ? j + 2 : -1
        default:
            return -1
        }
    }
}

/// A scanner that knows where the piece starting at a given offset ends.
protocol PieceScanner {
    /// End of the piece that starts at `i` (`i < s.n`); always greater than `i`.
    func pieceEnd(_ s: ScanText, _ i: Int) -> Int
}

extension PieceScanner {
    /// Appends all piece ends of `text` to `ends`; see `forEachPieceBatch`.
    @inline(__always)
    func splitPieces(_ text: UnsafeBufferPointer<UInt8>, into ends: inout [Int]) {
        forEachPieceBatch(text) { ends.append(contentsOf: $0) }
    }

    /// Calls `body` with the piece ends of `text` in batches of 512 (but the last), found one by one with
    /// `pieceEnd`.
    @inline(__always)
    func forEachPieceBatch(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<Int>) -> Void) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        let s = ScanText(base, text.count)
        let batch = 512
        withUnsafeTemporaryAllocation(of: Int.self, capacity: batch) { buf in
            var k = 0
            var i = 0
            while i < s.n {
                i = pieceEnd(s, i)
                buf[k] = i
                k &+= 1
                if k == batch {
                    body(UnsafeBufferPointer(buf))
                    k = 0
                }
            }
            if k > 0 { body(UnsafeBufferPointer(rebasing: buf[0..<k])) }
        }
    }

    /// `pieceEnd` with the public API's argument checking.
    @inline(__always)
    func checkedPieceEnd(_ text: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        precondition(start >= 0 && start < text.count, "piece start out of range")
        return pieceEnd(ScanText(text.baseAddress!, text.count), start)
    }
}
