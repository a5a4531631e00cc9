/// Byte-level BPE with tiktoken's semantics, over a `RankTable`.
///
/// For each piece: if the whole piece is a token, emit it; otherwise start from single bytes and repeatedly merge
/// the adjacent pair whose *concatenated bytes* have the lowest rank (leftmost on ties) until no pair is a token.
/// Pieces shorter than `heapThreshold` use tiktoken's quadratic scan, which is fastest for the short pieces of real
/// text; longer pieces use a linked list and a binary heap keyed by (rank, position), which picks the same pair
/// at every step and keeps the worst case at O(n log n).
///
/// An encoder owns scratch memory and is not thread-safe: make one per thread from a shared `RankTable`.
public final class BytePairEncoder {
    public let table: RankTable
    @usableFromInline let byteRank: UnsafeMutablePointer<UInt32>
    @usableFromInline let maxTokenLength: Int

    // Scratch for the short-piece scan.
    @usableFromInline var starts: UnsafeMutablePointer<Int32>
    @usableFromInline var pairRanks: UnsafeMutablePointer<UInt32>
    @usableFromInline var tokens: UnsafeMutablePointer<UInt32>
    // Scratch for the long-piece heap, grown on demand.
    @usableFromInline var longCapacity = 0
    @usableFromInline var next: UnsafeMutablePointer<Int32>
    @usableFromInline var prev: UnsafeMutablePointer<Int32>
    @usableFromInline var longPair: UnsafeMutablePointer<UInt32>
    @usableFromInline var longToken: UnsafeMutablePointer<UInt32>
    @usableFromInline var heap: UnsafeMutablePointer<UInt64>

    /// Pieces at least this long use the heap.
    public static let heapThreshold = 128

    public init(table: RankTable) {
        self.table = table
        byteRank = .allocate(capacity: 256)
        var b = 0
        while b < 256 {
            var byte = UInt8(b)
            byteRank[b] = table.rank(&byte, 1)
            b += 1
        }
        maxTokenLength = table.maxKeyLength
        let t = BytePairEncoder.heapThreshold + 2
        starts = .allocate(capacity: t); pairRanks = .allocate(capacity: t); tokens = .allocate(capacity: t)
        next = .allocate(capacity: 1); prev = .allocate(capacity: 1); longPair = .allocate(capacity: 1)
        longToken = .allocate(capacity: 1); heap = .allocate(capacity: 1)
    }

    deinit {
        byteRank.deallocate(); starts.deallocate(); pairRanks.deallocate(); tokens.deallocate()
        next.deallocate(); prev.deallocate(); longPair.deallocate(); longToken.deallocate(); heap.deallocate()
    }

    /// Appends the tokens of the piece `p[0..<n]` (n ≥ 1) to `out`.
    @inlinable
    public func encodePiece(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        if n == 1 { out.append(byteRank[Int(p[0])]); return }
        if n <= maxTokenLength {
            let r = table.rank(p, n)
            if r != .max { out.append(r); return }
        }
        if n < BytePairEncoder.heapThreshold { mergeShort(p, n, into: &out) } else { mergeLong(p, n, into: &out) }
    }

    /// Number of tokens of the piece, without keeping them.
    @inlinable
    public func countPiece(_ p: UnsafePointer<UInt8>, _ n: Int, scratch out: inout TokenBuffer) -> Int {
        if n == 1 { return 1 }
        if n <= maxTokenLength && table.rank(p, n) != .max { return 1 }
        let before = out.count
        if n < BytePairEncoder.heapThreshold { mergeShort(p, n, into: &out) } else { mergeLong(p, n, into: &out) }
        let c = out.count - before
        return c
    }

    @usableFromInline
    func mergeShort(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        let starts = self.starts, ranks = self.pairRanks, toks = self.tokens, table = self.table
        var count = n + 1   // entries; entry i is the part starting at starts[i]; the last is the end sentinel
        var i = 0
        var minRank = UInt32.max, minIdx = 0
        while i < n - 1 {
            let r = table.rank(p + i, 2)
            starts[i] = Int32(i); ranks[i] = r; toks[i] = byteRank[Int(p[i])]
            if r < minRank { minRank = r; minIdx = i }
            i += 1
        }
        starts[n - 1] = Int32(n - 1); ranks[n - 1] = .max; toks[n - 1] = byteRank[Int(p[n - 1])]
        starts[n] = Int32(n); ranks[n] = .max
        while minRank != .max {
            let m = minIdx
            // Rank of the pair that would span parts m-1 ... m+1 (after merging m and m+1).
            if m > 0 {
                ranks[m - 1] = m + 2 < count
                    ? table.rank(p + Int(starts[m - 1]), Int(starts[m + 2] - starts[m - 1])) : .max
            }
            ranks[m] = m + 3 < count ? table.rank(p + Int(starts[m]), Int(starts[m + 3] - starts[m])) : .max
            toks[m] = minRank
            // Remove entry m+1.
            var k = m + 1
            while k < count - 1 {
                starts[k] = starts[k + 1]; ranks[k] = ranks[k + 1]; toks[k] = toks[k + 1]
                k += 1
            }
            count -= 1
            minRank = .max
            k = 0
            while k < count - 1 {
                if ranks[k] < minRank { minRank = ranks[k]; minIdx = k }
                k += 1
            }
        }
        let dst = out.reserveTail(count - 1)
        var k = 0
        while k < count - 1 { dst[k] = toks[k]; k += 1 }
        out.didAppend(count - 1)
    }

    @usableFromInline
    func ensureLong(_ n: Int) {
        if n <= longCapacity { return }
        next.deallocate(); prev.deallocate(); longPair.deallocate(); longToken.deallocate(); heap.deallocate()
        var c = max(longCapacity * 2, 1024)
        while c < n + 1 { c *= 2 }
        next = .allocate(capacity: c); prev = .allocate(capacity: c); longPair = .allocate(capacity: c)
        longToken = .allocate(capacity: c); heap = .allocate(capacity: 2 * c + 16)
        longCapacity = c
    }

    @usableFromInline
    func mergeLong(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        ensureLong(n)
        let next = self.next, prev = self.prev, pair = self.longPair, tok = self.longToken, heap = self.heap
        let table = self.table
        let dead = UInt32.max - 1
        var hn = 0
        // Heap entries are (rank << 32 | position): the smallest is the lowest rank, then the leftmost.
        @inline(__always) func push(_ v: UInt64) {
            var c = hn
            hn += 1
            while c > 0 {
                let parent = (c - 1) >> 1
                if heap[parent] <= v { break }
                heap[c] = heap[parent]
                c = parent
            }
            heap[c] = v
        }
        @inline(__always) func pop() -> UInt64 {
            let top = heap[0]
            hn -= 1
            let v = heap[hn]
            var c = 0
            while true {
                var child = 2 * c + 1
                if child >= hn { break }
                if child + 1 < hn && heap[child + 1] < heap[child] { child += 1 }
                if v <= heap[child] { break }
                heap[c] = heap[child]
                c = child
            }
            heap[c] = v
            return top
        }
        var i = 0
        while i < n {
            next[i] = Int32(i + 1); prev[i] = Int32(i - 1); tok[i] = byteRank[Int(p[i])]
            if i < n - 1 {
                let r = table.rank(p + i, 2)
                pair[i] = r
                // Positions arrive in increasing order, so for equal ranks appending keeps heap order; a general
                // push keeps it correct for mixed ranks.
                if r != .max { push(UInt64(r) << 32 | UInt64(i)) }
            } else {
                pair[i] = .max
            }
            i += 1
        }
        while hn > 0 {
            let top = pop()
            let r = UInt32(truncatingIfNeeded: top >> 32)
            let a = Int(truncatingIfNeeded: top & 0xFFFF_FFFF)
            if pair[a] != r { continue }   // stale: the pair at a changed or a was absorbed
            let b = Int(next[a])
            let c = Int(next[b])
            tok[a] = r
            pair[b] = dead
            next[a] = Int32(c)
            if c < n { prev[c] = Int32(a) }
            if c < n {
                let d = Int(next[c])
                let nr = d - a <= maxTokenLength ? table.rank(p + a, d - a) : .max
                pair[a] = nr
                if nr != .max { push(UInt64(nr) << 32 | UInt64(a)) }
            } else {
                pair[a] = .max
            }
            if a > 0 {
                let h = Int(prev[a])
                let nr = c - h <= maxTokenLength ? table.rank(p + h, c - h) : .max
                pair[h] = nr
                if nr != .max { push(UInt64(nr) << 32 | UInt64(h)) }
            }
        }
        var a = 0
        while a < n {
            out.append(tok[a])
            a = Int(next[a])
        }
    }
}
