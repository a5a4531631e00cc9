/// An append-only byte buffer for formatting output quickly (decimal ids, token strings, JSON).
public final class ByteBuilder {
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var capacity: Int
    @usableFromInline var _count = 0
    public var count: Int { _count }

    public init(capacity: Int = 1 << 16) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inlinable @inline(__always)
    func ensure(_ extra: Int) {
        if _count + extra > capacity { grow(_count + extra) }
    }

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

    @inlinable @inline(__always)
    public func append(_ b: UInt8) {
        ensure(1)
        base[_count] = b
        _count += 1
    }

    @inlinable
    public func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        ensure(bytes.count)
        if let p = bytes.baseAddress { (base + _count).update(from: p, count: bytes.count) }
        _count += bytes.count
    }

    public func append(_ s: String) {
        var s = s
        s.withUTF8 { append($0) }
    }

    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    /// Appends `v` in decimal.
    @inlinable @inline(__always)
    public func appendDecimal(_ v: UInt64) {
        ensure(20)
        if v < 10 { base[_count] = 0x30 + UInt8(v); _count += 1; return }
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

    public func removeAll() { _count = 0 }

    /// Appends `ids` as decimal numbers separated by single spaces (no leading or trailing space).
    public func appendDecimalList(_ ids: UnsafeBufferPointer<UInt32>) {
        if ids.isEmpty { return }
        ensure(ids.count * 11)
        var w = base + _count
        ByteBuilder.digitPairs.withUnsafeBufferPointer { pairs in
            var first = true
            for id in ids {
                if !first { w.pointee = 0x20; w += 1 }
                first = false
                var v = id
                // Number of digits, then fill from the right two digits at a time.
                let digits = ByteBuilder.decimalDigits(v)
                var i = digits
                while v >= 100 {
                    let q = v / 100
                    let r = Int(v - q * 100) * 2
                    w[i - 1] = pairs[r + 1]
                    w[i - 2] = pairs[r]
                    i -= 2
                    v = q
                }
                if v >= 10 {
                    let r = Int(v) * 2
                    w[1] = pairs[r + 1]
                    w[0] = pairs[r]
                } else {
                    w[0] = 0x30 + UInt8(v)
                }
                w += digits
            }
        }
        _count = w - base
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

    /// "00", "01", ..., "99" back to back.
    static let digitPairs: [UInt8] = {
        var t: [UInt8] = []
        for k in 0..<100 {
            t.append(UInt8(0x30 + k / 10))
            t.append(UInt8(0x30 + k % 10))
        }
        return t
    }()

    /// The bytes written so far, valid until the next mutation.
    public var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: _count) }
}
