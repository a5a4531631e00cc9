/// Helpers that read byte strings as machine words, used by the byte-keyed hash tables.
///
/// Keys are compared as (first 8 bytes as a little-endian word, length, rest of the bytes); packing the first 8
/// bytes into a word lets short keys, the vast majority of tokens, be compared without touching the key arena.
public enum ByteKey {
    /// The first `min(len, 8)` bytes at `p` as a little-endian word, zero-padded.
    /// Never reads outside `p[0..<len]`.
    @inlinable @inline(__always)
    public static func prefixWord(_ p: UnsafePointer<UInt8>, _ len: Int) -> UInt64 {
        if len >= 8 {
            return UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        }
        if len >= 4 {
            let lo = UInt64(UInt32(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt32.self)))
            let hi = UInt64(UInt32(littleEndian: UnsafeRawPointer(p + len - 4).loadUnaligned(as: UInt32.self)))
            return lo | (hi << UInt64((len - 4) * 8))
        }
        switch len {
        case 3: return UInt64(p[0]) | UInt64(p[1]) << 8 | UInt64(p[2]) << 16
        case 2: return UInt64(p[0]) | UInt64(p[1]) << 8
        case 1: return UInt64(p[0])
        default: return 0
        }
    }

    /// `prefixWord(p, len)` for a key with at least 8 readable bytes at `p` (the key itself may be shorter): one
    /// load and a mask, no branch on the length, which text makes unpredictable.
    @inlinable @inline(__always)
    public static func prefixWord(readable8 p: UnsafePointer<UInt8>, _ len: Int) -> UInt64 {
        let w = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        return w & (~UInt64(0) >> UInt64(truncatingIfNeeded: 64 &- 8 &* min(len, 8)))
    }

    /// A 64-bit hash of `p[0..<len]` whose high bits are well mixed.
    @inlinable @inline(__always)
    public static func hash(_ p: UnsafePointer<UInt8>, _ len: Int, prefix: UInt64) -> UInt64 {
        var h = (prefix ^ (UInt64(truncatingIfNeeded: len) &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        if len > 8 {
            var i = 8
            while i + 8 <= len {
                let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                h = (h ^ w ^ (h >> 29)) &* 0x94D0_49BB_1331_11EB
                i += 8
            }
            if i < len {
                // Overlapping load of the last 8 bytes; len > 8 guarantees it stays inside the key.
                let w = UInt64(littleEndian: UnsafeRawPointer(p + len - 8).loadUnaligned(as: UInt64.self))
                h = (h ^ w ^ (h >> 29)) &* 0x94D0_49BB_1331_11EB
            }
        }
        return h ^ (h >> 31)
    }

    /// Slot of the 64-bit key `k` in a table of `2^(64 - shift)` entries (Fibonacci multiply-shift hashing).
    @inlinable @inline(__always)
    public static func slot(_ k: UInt64, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Whether `a[0..<n]` equals `b[0..<n]`, eight bytes at a time.
    @inlinable @inline(__always)
    public static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var i = 0
        while i + 8 <= n {
            if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// Lexicographic comparison of two byte strings (a prefix before its extensions): negative, zero or
    /// positive.
    @inlinable
    public static func compare(_ a: UnsafePointer<UInt8>, _ an: Int, _ b: UnsafePointer<UInt8>, _ bn: Int) -> Int {
        let n = min(an, bn)
        var i = 0
        while i < n {
            if a[i] != b[i] { return Int(a[i]) - Int(b[i]) }
            i += 1
        }
        return an - bn
    }
}
