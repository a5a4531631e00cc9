import Synchronization

/// The decimal text of every number below a bound, each ready to store as one 8-byte word: a space, up to six
/// digits, and the stored length (space included) in the top byte.
///
/// Writing ids this way is a load, a store and an add per id. Computing the digits costs about 40 instructions
/// per id, which made formatting a tenth of `tok encode`'s work over a pipe with cl100k.
final class DecimalIDs: @unchecked Sendable {
    /// Numbers `0..<count` are in the table.
    let count: Int
    let words: UnsafeMutablePointer<UInt64>

    init(count: Int) {
        let n = min(max(count, 1), 1_000_000)
        self.count = n
        words = .allocate(capacity: n)
        let pairs = ByteBuilder.digitPairWords
        for v in 0..<n {
            let (digits, d) = ByteBuilder.digitWord(v, pairs)
            words[v] = 0x20 | digits << 8 | UInt64(d + 1) << 56
        }
    }

    deinit { words.deallocate() }

    private static let cache = Mutex<DecimalIDs?>(nil)

    /// A table holding at least `0..<count` (up to a million), built on first use and shared by every caller.
    static func shared(count: Int) -> DecimalIDs {
        cache.withLock { held in
            if let t = held, t.count >= min(count, 1_000_000) { return t }
            let t = DecimalIDs(count: count)
            held = t
            return t
        }
    }
}

extension ByteBuilder {
    /// Appends `ids` as decimal numbers separated by single `separator` bytes (no leading or trailing one), reading
    /// the digits of ids below `table.count` from `table`. Output is the same as `appendDecimalList(_:separator:)`.
    func appendDecimalList(_ ids: UnsafeBufferPointer<UInt32>, table: DecimalIDs, separator: UInt8 = 0x20) {
        if ids.isEmpty { return }
        appendDecimalList(UnsafeBufferPointer(rebasing: ids[0..<1]))
        ensure(ids.count * 11 + 8)
        let words = table.words
        let limit = UInt32(table.count)
        var w = base + _count
        for k in 1..<ids.count {
            let id = ids[k]
            if id < limit {
                let word = words[Int(id)] & ~0xFF | UInt64(separator)
                // The top byte (the length) lands after the number, where the next id or the end overwrites it.
                UnsafeMutableRawPointer(w).storeBytes(of: word.littleEndian, as: UInt64.self)
                w += Int(word >> 56)
            } else {
                w.pointee = separator
                w += 1
                w += ByteBuilder.writeDecimal(id, at: w)
            }
        }
        _count = w - base
    }
}
