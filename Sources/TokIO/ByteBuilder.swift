/// An append-only byte buffer for formatting output quickly (decimal ids, token strings, JSON).
///
/// Not thread-safe. Its fields skip the runtime's dynamic exclusivity checks, which a call per appended id would
/// otherwise pay for nothing.
public final class ByteBuilder {
    @usableFromInline @exclusivity(unchecked) var base: UnsafeMutablePointer<UInt8>
    @usableFromInline @exclusivity(unchecked) var capacity: Int
    @usableFromInline @exclusivity(unchecked) var _count = 0
    /// Bytes written so far.
    public var count: Int { _count }

    /// An empty builder with room for `capacity` bytes (at least 64); it grows as needed.
    public init(capacity: Int = 1 << 16) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inlinable @inline(__always)
    func ensure(_ extra: Int) {
        if _count + extra > capacity { grow(_count + extra) }
    }

    /// Makes room for `n` bytes in all.
    func reserve(_ n: Int) { if n > capacity { grow(n) } }

    @usableFromInline
    func grow(_ needed: Int) {
        var c = capacity * 2
        while c < needed { c *= 2 }
        let nb = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        nb.moveInitialize(from: base, count: _count)
        base.deallocate()
        base = nb
        capacity = c
    }

    /// Appends one byte.
    @inlinable @inline(__always)
    public func append(_ b: UInt8) {
        ensure(1)
        base[_count] = b
        _count += 1
    }

    /// Appends the bytes of `bytes`.
    @inlinable
    public func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        ensure(bytes.count)
        if let p = bytes.baseAddress { (base + _count).update(from: p, count: bytes.count) }
        _count += bytes.count
    }

    /// Appends the UTF-8 bytes of `s`.
    public func append(_ s: String) {
        var s = s
        s.withUTF8 { append($0) }
    }

    /// Appends `bytes`.
    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    /// Appends `v` in decimal: below 10^12 as one or two words of digits from `digitPairWords` (jsonl writes two
    /// offsets per token, most of them above a million), with no division loop per digit.
    public func appendDecimal(_ v: UInt64) {
        ensure(24)
        let pairs = ByteBuilder.digitPairWords
        let w = UnsafeMutableRawPointer(base + _count)
        if v < 1_000_000 {
            let (word, d) = ByteBuilder.digitWord(Int(v), pairs)
            w.storeBytes(of: word.littleEndian, as: UInt64.self)
            _count += d
            return
        }
        if v < 1_000_000_000_000 {
            let (word, d) = ByteBuilder.digitWord(Int(v / 1_000_000), pairs)
            let low = Int(v % 1_000_000)
            let six = UInt64(pairs[low / 10_000]) | UInt64(pairs[low / 100 % 100]) << 16 | UInt64(pairs[low % 100]) << 32
            w.storeBytes(of: word.littleEndian, as: UInt64.self)
            (w + d).storeBytes(of: six.littleEndian, as: UInt64.self)
            _count += d + 6
            return
        }
        var digits = 0
        var t = v
        while t > 0 { digits += 1; t /= 10 }
        var x = v
        var i = _count + digits - 1
        while x > 0 {
            base[i] = 0x30 + UInt8(x % 10)
            x /= 10
            i -= 1
        }
        _count += digits
    }

    /// Empties the builder, keeping its memory for reuse.
    public func removeAll() { _count = 0 }

    /// Drops the last `n` bytes written.
    public func removeLast(_ n: Int) {
        precondition(n >= 0 && n <= _count, "removeLast: \(n) of \(_count) bytes")
        _count -= n
    }

    /// Appends `ids` as decimal numbers separated by single `separator` bytes (no leading or trailing one).
    public func appendDecimalList(_ ids: UnsafeBufferPointer<UInt32>, separator: UInt8 = 0x20) {
        if ids.isEmpty { return }
        ensure(ids.count * 11 + 8)
        var w = base + _count
        let pairs = ByteBuilder.digitPairWords
        do {
            for (k, id) in ids.enumerated() {
                if id < 1_000_000 {
                    // Ids of vocabularies are below a million: one 8-byte store of " digits".
                    let (digits, d) = ByteBuilder.digitWord(Int(id), pairs)
                    let word = UInt64(separator) | digits << 8
                    if k == 0 {
                        UnsafeMutableRawPointer(w).storeBytes(of: (word >> 8).littleEndian, as: UInt64.self)
                        w += d
                    } else {
                        UnsafeMutableRawPointer(w).storeBytes(of: word.littleEndian, as: UInt64.self)
                        w += d + 1
                    }
                } else {
                    if k > 0 { w.pointee = separator; w += 1 }
                    w += ByteBuilder.writeDecimal(id, at: w)
                }
            }
        }
        _count = w - base
    }

    /// Writes `v` in decimal at `w` and returns the number of digits.
    static func writeDecimal(_ v: UInt32, at w: UnsafeMutablePointer<UInt8>) -> Int {
        let digits = ByteBuilder.decimalDigits(v)
        var v = v
        var i = digits
        repeat {
            w[i - 1] = 0x30 + UInt8(v % 10)
            v /= 10
            i -= 1
        } while i > 0
        return digits
    }

    /// "00", "01", ..., "99", each as a little-endian 16-bit word (first digit in the low byte). A raw pointer,
    /// not an array, so the formatting loop keeps its write pointer in a register.
    nonisolated(unsafe) static let digitPairWords: UnsafePointer<UInt16> = {
        let p = UnsafeMutablePointer<UInt16>.allocate(capacity: 100)
        for k in 0..<100 { p[k] = UInt16(0x30 + k / 10) | UInt16(0x30 + k % 10) << 8 }
        return UnsafePointer(p)
    }()

    /// The decimal digits of `v` (below a million) as bytes of a word, first digit lowest, and their number: three
    /// lookups in `pairs` (`digitPairWords`), leading zeros shifted out. No branch depends on the number of digits,
    /// which changes from one token to the next.
    @inline(__always)
    static func digitWord(_ v: Int, _ pairs: UnsafePointer<UInt16>) -> (word: UInt64, count: Int) {
        let d = 1 + (v >= 10 ? 1 : 0) + (v >= 100 ? 1 : 0) + (v >= 1000 ? 1 : 0) + (v >= 10_000 ? 1 : 0)
            + (v >= 100_000 ? 1 : 0)
        let six = UInt64(pairs[v / 10_000]) | UInt64(pairs[v / 100 % 100]) << 16 | UInt64(pairs[v % 100]) << 32
        return (six >> UInt64(8 * (6 - d)), d)
    }

    @inline(__always)
    static func decimalDigits(_ v: UInt32) -> Int {
        if v < 10_000 {
            if v < 100 { return v < 10 ? 1 : 2 }
            return v < 1000 ? 3 : 4
        }
        if v < 1_000_000 { return v < 100_000 ? 5 : 6 }
        if v < 100_000_000 { return v < 10_000_000 ? 7 : 8 }
        return v < 1_000_000_000 ? 9 : 10
    }

    /// The bytes written so far, valid until the next mutation.
    public var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: _count) }
}
