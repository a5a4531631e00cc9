/// Which character boundaries inside a piece some vocabulary token might span: where none can, BPE of the piece is
/// BPE of the two sides, so a piece can be cut there and its parts encoded (and cached) on their own.
///
/// Why cutting is exact: if no token occurs in the piece across position k, no merge ever makes a part across k
/// (every part is a token occurring at its place), so the pair straddling k is never chosen; each merge the run
/// makes on one side is that side's lowest-ranked (leftmost) pair, exactly as in the run of the side alone.
///
/// Why it pays: pieces that are not tokens are mostly distinct (long runs of CJK or Thai without spaces, rare
/// words), so the piece cache cannot help them, while the parts between cuts repeat. On the multilingual corpus,
/// with ideal caching, the merges left fall from 1.06M to 0.50M (o200k) and from 735k to 150k (cl100k).
///
/// The filter answers "maybe spanned" or "certainly not spanned", never wrongly "not spanned": it records, for
/// every token and every character boundary inside it, keys of the characters on both sides, and a piece's
/// boundary is tested with the same keys. Only boundaries with a non-ASCII byte on one side are recorded and
/// tested (ASCII text has few such cuts and would make the filter large). A "character" is a start byte (not
/// 10xxxxxx) and the continuation bytes after it, so the rules hold for any bytes, valid UTF-8 or not:
/// - c1, the bytes from the last start byte before the boundary up to it (its last 4 bytes), and c2, the bytes
///   from the boundary for the length its first byte declares;
/// - a token that holds both whole: key (c1, c2);
/// - a token that ends inside c2: key (c1, first byte of c2);
/// - a token that starts inside c1: key (last byte of c1, c2);
/// - a token that does both: key (last byte of c1, first byte of c2).
/// Keys set bits of one hashed bitset, so a false hit only costs a cut.
public struct SpanningTokenFilter: @unchecked Sendable {
    @usableFromInline let bits: UnsafeMutablePointer<UInt64>
    @usableFromInline let shift: UInt64
    /// Length of `bits` in 64-bit words.
    let words: Int
    /// Whether `bits` belongs to the filter (else to a table image).
    let ownsBits: Bool
    /// Keys recorded (for tests and sizing); 0 for a filter read from an image.
    public let keyCount: Int

    /// The filter a table image holds (`words` a power of two, at least 64).
    init(borrowing bits: UnsafeMutablePointer<UInt64>, words: Int) {
        self.bits = bits
        self.words = words
        ownsBits = false
        keyCount = 0
        shift = UInt64(64 - (words * 64).trailingZeroBitCount)
    }

    @usableFromInline static let endsInsideTag: UInt64 = 0x9E37_79B9_0000_0000
    @usableFromInline static let startsInsideTag: UInt64 = 0x7F4A_7C15_0000_0000
    @usableFromInline static let bothInsideTag: UInt64 = 0xC2B2_AE3D_0000_0000

    /// Builds the filter from every token of `table`.
    public init(table: RankTable) {
        var keys: [UInt64] = []
        keys.reserveCapacity(1 << 16)
        for r in 0..<table.rankLimit {
            let start = table.keyStart[r]
            let n = Int(table.keyLength[r])
            guard start != .max, n >= 2 else { continue }
            let t = UnsafePointer(table.arena + Int(start))
            // Most tokens are ASCII: test 8 bytes at a time (the arena has 8 bytes of padding at its end).
            var high: UInt64 = 0
            var i = 0
            while i < n {
                high |= UnsafeRawPointer(t + i).loadUnaligned(as: UInt64.self) & (n - i >= 8 ? ~0 : (1 << UInt64(8 * (n - i))) - 1)
                i += 8
            }
            if high & 0x8080_8080_8080_8080 == 0 { continue }
            for j in 1..<n where SpanningTokenFilter.isCandidate(t, j) {
                var js = j - 1
                while js >= 0 && t[js] & 0xC0 == 0x80 { js -= 1 }
                let d = SpanningTokenFilter.declaredLength(t[j])
                let wholeRight = n - j >= d
                // The same readers as `isCut`'s, so a token and a piece holding it give the same characters.
                let c2 = SpanningTokenFilter.rightCharacter(t, j, n)
                if js >= 0 {
                    let c1 = SpanningTokenFilter.leftCharacter(t, j)
                    keys.append(wholeRight ? SpanningTokenFilter.wholeKey(c1, c2) : SpanningTokenFilter.endsInsideKey(c1, t[j]))
                } else {
                    keys.append(wholeRight ? SpanningTokenFilter.startsInsideKey(t[j - 1], c2)
                                           : SpanningTokenFilter.bothInsideKey(t[j - 1], t[j]))
                }
            }
        }
        keyCount = keys.count
        // Keys repeat (o200k: 187k keys, about 21k distinct), so 4 bits per key leaves 40 or more per distinct key:
        // a few percent of false hits, in a bitset that stays in L2 (o200k: 128 KB).
        var logBits = 12
        while (1 << logBits) < keys.count * 4 { logBits += 1 }
        words = (1 << logBits) / 64
        ownsBits = true
        bits = .allocate(capacity: words)
        bits.initialize(repeating: 0, count: words)
        shift = UInt64(64 - logBits)
        for k in keys {
            let h = SpanningTokenFilter.slot(k, shift)
            bits[h >> 6] |= 1 << UInt64(h & 63)
        }
    }

    /// Frees the bitset; the filter must not be used afterwards.
    func deallocate() { if ownsBits { bits.deallocate() } }

    /// Whether a boundary before byte `j` of a token or piece is recorded and tested: a start byte with a
    /// non-ASCII byte on one side.
    @inlinable @inline(__always)
    static func isCandidate(_ p: UnsafePointer<UInt8>, _ j: Int) -> Bool {
        p[j] & 0xC0 != 0x80 && (p[j] | p[j - 1]) >= 0x80
    }

    /// The length of the character a start byte declares (1 for ASCII and stray continuation bytes).
    @inlinable @inline(__always)
    static func declaredLength(_ b: UInt8) -> Int { b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4 }

    /// Up to 4 bytes, little-endian.
    @inlinable @inline(__always)
    static func pack(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(p[i]) << UInt64(8 * i) }
        return v
    }

    /// c1 for a boundary at `k`: the bytes from the last start byte before `k`, at most 4 (all 4 when none of
    /// them is a start byte), little-endian. Reads only `p[max(k - 4, 0)..<k]`.
    @inlinable @inline(__always)
    static func leftCharacter(_ p: UnsafePointer<UInt8>, _ k: Int) -> UInt64 {
        if k >= 4 {
            let w = UInt64(UInt32(littleEndian: UnsafeRawPointer(p + k - 4).loadUnaligned(as: UInt32.self)))
            let starts = (w ^ 0x8080_8080) & 0xC0C0_C0C0   // a byte is non-zero where a start byte is
            if starts == 0 { return w }
            return w >> UInt64(8 * ((63 - starts.leadingZeroBitCount) >> 3))
        }
        var ks = k - 1
        while ks > 0 && p[ks] & 0xC0 == 0x80 { ks -= 1 }
        return pack(p + ks, k - ks)
    }

    /// c2 for a boundary at `k` of `p[0..<n]`: the bytes its first byte declares, as far as `n`, little-endian.
    @inlinable @inline(__always)
    static func rightCharacter(_ p: UnsafePointer<UInt8>, _ k: Int, _ n: Int) -> UInt64 {
        let len = min(declaredLength(p[k]), n - k)
        if n - k >= 4 {
            let w = UInt64(UInt32(littleEndian: UnsafeRawPointer(p + k).loadUnaligned(as: UInt32.self)))
            return w & (UInt64(1) << UInt64(8 * len) &- 1)
        }
        return pack(p + k, len)
    }

    @inlinable @inline(__always) static func wholeKey(_ c1: UInt64, _ c2: UInt64) -> UInt64 { c1 | c2 << 32 }
    @inlinable @inline(__always) static func endsInsideKey(_ c1: UInt64, _ b: UInt8) -> UInt64 { (c1 | UInt64(b) << 32) ^ endsInsideTag }
    @inlinable @inline(__always) static func startsInsideKey(_ a: UInt8, _ c2: UInt64) -> UInt64 { (UInt64(a) | c2 << 8) ^ startsInsideTag }
    @inlinable @inline(__always) static func bothInsideKey(_ a: UInt8, _ b: UInt8) -> UInt64 { (UInt64(a) | UInt64(b) << 8) ^ bothInsideTag }

    @inlinable @inline(__always)
    static func slot(_ k: UInt64, _ shift: UInt64) -> Int {
        ByteKey.slot(k, shift: shift)
    }

    /// The bit of key `k`, as 0 or 1.
    @inlinable @inline(__always)
    func bit(_ k: UInt64) -> UInt64 {
        let h = SpanningTokenFilter.slot(k, shift)
        return bits[h >> 6] >> UInt64(h & 63) & 1
    }

    /// Whether no token can occur in `p[0..<n]` across position `k` (0 < k < n, `isCandidate(p, k)`).
    @inlinable @inline(__always)
    public func isCut(_ p: UnsafePointer<UInt8>, _ k: Int, _ n: Int) -> Bool {
        let c1 = SpanningTokenFilter.leftCharacter(p, k)
        let b = p[k], a = p[k - 1]
        let c2 = SpanningTokenFilter.rightCharacter(p, k, n)
        // All four probes, without a branch between them: which of them hits depends on the text, and the
        // probes are independent loads from a bitset in L2.
        return (bit(SpanningTokenFilter.wholeKey(c1, c2)) | bit(SpanningTokenFilter.endsInsideKey(c1, b))
            | bit(SpanningTokenFilter.startsInsideKey(a, c2)) | bit(SpanningTokenFilter.bothInsideKey(a, b))) == 0
    }
}
