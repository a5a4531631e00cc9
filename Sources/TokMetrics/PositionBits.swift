/// A set of byte positions of one text, one bit each, for the counting loop's range tests: "does any position in
/// `lo..<hi` belong to the set" without a data-dependent branch when the range is at most 64 positions long, as
/// nearly all tokens and words are. (Walking sorted position lists instead costs a mispredicted loop exit per
/// token and per word, which was most of the counting loop's time.)
struct PositionBits {
    var words: [UInt64] = []

    /// Empties the set and makes room for positions `0...count` (plus one padding word the range test reads).
    mutating func reset(count: Int) {
        let needed = count >> 6 + 2
        if words.count < needed {
            words = [UInt64](repeating: 0, count: max(needed, 2 * words.count))
        } else {
            words.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: 0, count: needed) }
        }
    }

    /// Adds each position of `positions` (all at most the `count` given to `reset`).
    mutating func insert(_ positions: UnsafeBufferPointer<Int>) {
        words.withUnsafeMutableBufferPointer { w in
            for x in positions { w[x >> 6] |= 1 &<< UInt64(x & 63) }
        }
    }
}

extension UnsafeBufferPointer where Element == UInt64 {
    /// Whether any bit of `lo..<hi` is set, for `0 <= lo`, `hi` at most the set's `count` (empty ranges: false).
    /// Ranges of at most 64 positions take no data-dependent branch: an empty range, as every one-byte token
    /// gives, is as common as a long one and would be mispredicted.
    @inline(__always)
    func anyBit(_ lo: Int, _ hi: Int) -> Bool {
        let len = hi &- lo
        if len <= 64 {
            let i = lo >> 6, r = UInt64(lo & 63)
            // The 64 bits from `lo` on: the second word's part is shifted in two steps, so that r == 0 needs no
            // shift by 64; likewise the mask of `len` low bits for len == 64 (and none for len <= 0).
            let bits = self[i] >> r | (self[i &+ 1] << 1) << (63 &- r)
            let n = UInt64(Swift.max(len, 0))
            let mask = ((1 as UInt64) << (n >> 1)) << (n &- n >> 1) &- 1
            return bits & mask != 0
        }
        var k = lo >> 6
        var w = self[k] & (~0 << UInt64(lo & 63))
        let last = (hi &- 1) >> 6
        while k < last {
            if w != 0 { return true }
            k &+= 1
            w = self[k]
        }
        return w & (~0 >> UInt64(63 &- ((hi &- 1) & 63))) != 0
    }
}
