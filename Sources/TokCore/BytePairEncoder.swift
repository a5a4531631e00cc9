/// The immutable, shared part of byte-level BPE: the rank table plus lookup tables derived from it.
public final class BPEModel: @unchecked Sendable {
    public let table: RankTable
    /// Rank of each single byte.
    @usableFromInline let byteRank: UnsafeMutablePointer<UInt32>
    /// Rank of each two-byte string (`b0 << 8 | b1`), or `UInt32.max`: the first merge step without hashing.
    @usableFromInline let pairRank: UnsafeMutablePointer<UInt32>
    @usableFromInline let maxTokenLength: Int

    public init(table: RankTable) {
        self.table = table
        byteRank = .allocate(capacity: 256)
        pairRank = .allocate(capacity: 65536)
        var two: (UInt8, UInt8) = (0, 0)
        for b0 in 0..<256 {
            var byte = UInt8(b0)
            byteRank[b0] = table.rank(&byte, 1)
            for b1 in 0..<256 {
                two = (UInt8(b0), UInt8(b1))
                pairRank[b0 << 8 | b1] = withUnsafeBytes(of: &two) { table.rank($0.bindMemory(to: UInt8.self).baseAddress!, 2) }
            }
        }
        maxTokenLength = table.maxKeyLength
    }

    deinit { byteRank.deallocate(); pairRank.deallocate() }
}

/// Byte-level BPE with tiktoken's semantics.
///
/// For each piece: if the whole piece is a token, emit it; otherwise start from single bytes and repeatedly merge
/// the adjacent pair whose *concatenated bytes* have the lowest rank (leftmost on ties) until no pair is a token.
///
/// - Short pieces (under `longThreshold` bytes) use tiktoken's scan over a small array, the fastest for the
///   pieces of real text; their results are kept in a small direct-mapped cache, since text repeats words.
/// - Long pieces use a linked list of parts and a priority queue of candidate merges keyed by (rank, position).
///   Candidates of one rank that arrive in increasing position order wait in a per-rank FIFO, with only its
///   head in the binary heap; so long repetitive runs (`"a" * 1_000_000`, a CJK character repeated) cost O(1)
///   per merge, and any piece costs at most O(n log n).
///
/// An encoder owns scratch memory and is not thread-safe: make one per thread from a shared `BPEModel`.
public final class BytePairEncoder {
    public let model: BPEModel
    @usableFromInline let table: RankTable
    @usableFromInline let byteRank: UnsafeMutablePointer<UInt32>
    @usableFromInline let pairRank: UnsafeMutablePointer<UInt32>
    @usableFromInline let maxTokenLength: Int

    // Short-piece scratch.
    @usableFromInline let starts: UnsafeMutablePointer<Int32>
    @usableFromInline let ranks: UnsafeMutablePointer<UInt32>
    @usableFromInline let tokens: UnsafeMutablePointer<UInt32>

    // Piece cache: direct-mapped, for pieces of at most `cacheKeyBytes` bytes and `cacheTokens` tokens.
    @usableFromInline static let cacheEntries = 16384
    @usableFromInline static let cacheKeyBytes = 32
    @usableFromInline static let cacheTokens = 8
    @usableFromInline let cacheHash: UnsafeMutablePointer<UInt64>
    @usableFromInline let cacheLen: UnsafeMutablePointer<UInt8>     // 0: empty
    @usableFromInline let cacheCount: UnsafeMutablePointer<UInt8>
    @usableFromInline let cacheKey: UnsafeMutablePointer<UInt8>
    @usableFromInline let cacheTok: UnsafeMutablePointer<UInt32>

    // Long-piece scratch, grown on demand.
    var longCapacity = 0
    var next: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var prev: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var pair: UnsafeMutablePointer<UInt32> = .allocate(capacity: 1)
    var tok: UnsafeMutablePointer<UInt32> = .allocate(capacity: 1)
    var heap: UnsafeMutablePointer<UInt64> = .allocate(capacity: 1)
    var nodePos: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var nodeNext: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var bucketHead: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var bucketTail: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var bucketRank: UnsafeMutablePointer<UInt32> = .allocate(capacity: 1)
    var bucketOf: UnsafeMutablePointer<Int32>? = nil   // by rank; -1 when the rank has no bucket

    /// Pieces at least this long use the priority queue.
    public static let longThreshold = 128

    public init(model: BPEModel) {
        self.model = model
        table = model.table
        byteRank = model.byteRank
        pairRank = model.pairRank
        maxTokenLength = model.maxTokenLength
        let t = BytePairEncoder.longThreshold + 2
        starts = .allocate(capacity: t); ranks = .allocate(capacity: t); tokens = .allocate(capacity: t)
        let e = BytePairEncoder.cacheEntries
        cacheHash = .allocate(capacity: e)
        cacheLen = .allocate(capacity: e); cacheLen.initialize(repeating: 0, count: e)
        cacheCount = .allocate(capacity: e)
        cacheKey = .allocate(capacity: e * BytePairEncoder.cacheKeyBytes)
        cacheTok = .allocate(capacity: e * BytePairEncoder.cacheTokens)
    }

    public convenience init(table: RankTable) { self.init(model: BPEModel(table: table)) }

    deinit {
        starts.deallocate(); ranks.deallocate(); tokens.deallocate()
        cacheHash.deallocate(); cacheLen.deallocate(); cacheCount.deallocate(); cacheKey.deallocate(); cacheTok.deallocate()
        next.deallocate(); prev.deallocate(); pair.deallocate(); tok.deallocate(); heap.deallocate()
        nodePos.deallocate(); nodeNext.deallocate(); bucketHead.deallocate(); bucketTail.deallocate(); bucketRank.deallocate()
        bucketOf?.deallocate()
    }

    /// Appends the tokens of the piece `p[0..<n]` (n ≥ 1) to `out`.
    @inlinable
    public func encodePiece(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        if n == 1 { out.append(byteRank[Int(p[0])]); return }
        if n <= BytePairEncoder.cacheKeyBytes {
            let prefix = ByteKey.prefixWord(p, n)
            let h = ByteKey.hash(p, n, prefix: prefix)
            if n <= maxTokenLength {
                let r = table.rank(p, n, prefix: prefix, hash: h)
                if r != .max { out.append(r); return }
            }
            encodeCached(p, n, hash: h, into: &out)
            return
        }
        if n <= maxTokenLength {
            let r = table.rank(p, n)
            if r != .max { out.append(r); return }
        }
        if n < BytePairEncoder.longThreshold { mergeShort(p, n, into: &out) } else { mergeLong(p, n, into: &out) }
    }

    @usableFromInline
    func encodeCached(_ p: UnsafePointer<UInt8>, _ n: Int, hash h: UInt64, into out: inout TokenBuffer) {
        let slot = Int(truncatingIfNeeded: h) & (BytePairEncoder.cacheEntries - 1)
        let key = cacheKey + slot * BytePairEncoder.cacheKeyBytes
        if Int(cacheLen[slot]) == n && cacheHash[slot] == h && memoryEqual(key, p, n) {
            let c = Int(cacheCount[slot])
            let dst = out.reserveTail(c)
            let src = cacheTok + slot * BytePairEncoder.cacheTokens
            for k in 0..<c { dst[k] = src[k] }
            out.didAppend(c)
            return
        }
        let before = out.count
        mergeShort(p, n, into: &out)
        let c = out.count - before
        if c <= BytePairEncoder.cacheTokens {
            cacheLen[slot] = UInt8(n)
            cacheHash[slot] = h
            cacheCount[slot] = UInt8(c)
            key.update(from: p, count: n)
            let dst = cacheTok + slot * BytePairEncoder.cacheTokens
            let ids = out.ids
            for k in 0..<c { dst[k] = ids[before + k] }
        }
    }

    @inline(__always)
    func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
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

    @inline(__always)
    func memoryEqual(_ a: UnsafeMutablePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        memoryEqual(UnsafePointer(a), b, n)
    }

    /// Rank of the token spanning `p[a..<b]`, or max when it is longer than any token.
    @usableFromInline @inline(__always)
    func spanRank(_ p: UnsafePointer<UInt8>, _ a: Int, _ b: Int) -> UInt32 {
        let len = b - a
        if len > maxTokenLength { return .max }
        return table.rank(p + a, len)
    }

    @usableFromInline
    func mergeShort(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        let starts = self.starts, ranks = self.ranks, toks = self.tokens
        var count = n + 1   // entries; entry i is the part starting at starts[i]; the last is the end sentinel
        var minRank = UInt32.max, minIdx = 0
        var i = 0
        while i < n - 1 {
            let r = pairRank[Int(p[i]) << 8 | Int(p[i + 1])]
            starts[i] = Int32(i); ranks[i] = r; toks[i] = byteRank[Int(p[i])]
            if r < minRank { minRank = r; minIdx = i }
            i += 1
        }
        starts[n - 1] = Int32(n - 1); ranks[n - 1] = .max; toks[n - 1] = byteRank[Int(p[n - 1])]
        starts[n] = Int32(n); ranks[n] = .max
        while minRank != .max {
            let m = minIdx
            // Ranks of the pairs that will span parts m-1..m and m..m+2 once m and m+1 are one part.
            if m > 0 {
                ranks[m - 1] = m + 2 < count ? spanRank(p, Int(starts[m - 1]), Int(starts[m + 2])) : .max
            }
            ranks[m] = m + 3 < count ? spanRank(p, Int(starts[m]), Int(starts[m + 3])) : .max
            toks[m] = minRank
            count -= 1
            // Find the new minimum left of the removed entry, then shift the entries right of it down by one
            // while continuing the search (one pass instead of two).
            minRank = .max
            var k = 0
            while k <= m {
                if ranks[k] < minRank { minRank = ranks[k]; minIdx = k }
                k += 1
            }
            k = m + 1
            while k < count {
                let r = ranks[k + 1]
                starts[k] = starts[k + 1]; ranks[k] = r; toks[k] = toks[k + 1]
                if k < count - 1 && r < minRank { minRank = r; minIdx = k }
                k += 1
            }
        }
        let dst = out.reserveTail(count - 1)
        var k = 0
        while k < count - 1 { dst[k] = toks[k]; k += 1 }
        out.didAppend(count - 1)
    }

    func ensureLong(_ n: Int) {
        if bucketOf == nil {
            let limit = max(table.rankLimit, 1)
            let b = UnsafeMutablePointer<Int32>.allocate(capacity: limit)
            b.initialize(repeating: -1, count: limit)
            bucketOf = b
        }
        if n <= longCapacity { return }
        next.deallocate(); prev.deallocate(); pair.deallocate(); tok.deallocate(); heap.deallocate()
        nodePos.deallocate(); nodeNext.deallocate(); bucketHead.deallocate(); bucketTail.deallocate(); bucketRank.deallocate()
        var c = max(longCapacity * 2, 1024)
        while c < n + 1 { c *= 2 }
        next = .allocate(capacity: c); prev = .allocate(capacity: c); pair = .allocate(capacity: c)
        tok = .allocate(capacity: c)
        // Each merge pushes at most two candidates, after the n - 1 initial ones.
        heap = .allocate(capacity: 3 * c + 16)
        nodePos = .allocate(capacity: 3 * c + 16); nodeNext = .allocate(capacity: 3 * c + 16)
        bucketHead = .allocate(capacity: 3 * c + 16); bucketTail = .allocate(capacity: 3 * c + 16)
        bucketRank = .allocate(capacity: 3 * c + 16)
        longCapacity = c
    }

    @usableFromInline
    func mergeLong(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        ensureLong(n)
        let next = self.next, prev = self.prev, pair = self.pair, tok = self.tok, heap = self.heap
        let nodePos = self.nodePos, nodeNext = self.nodeNext
        let bucketHead = self.bucketHead, bucketTail = self.bucketTail, bucketRank = self.bucketRank
        let bucketOf = self.bucketOf!
        let dead = UInt32.max - 1
        var hn = 0, nodes = 0, buckets = 0

        // Heap of (rank << 32 | position): the smallest is the lowest rank, then the leftmost.
        @inline(__always) func heapPush(_ v: UInt64) {
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
        // Sifts `v` down from the root, the heap's minimum having left it.
        @inline(__always) func siftDownFromRoot(_ v: UInt64) {
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
        }
        @inline(__always) func heapPop() {
            hn -= 1
            siftDownFromRoot(heap[hn])
        }
        // A candidate goes to its rank's FIFO when it lies right of the FIFO's tail (the FIFO stays sorted and
        // only its head is in the heap); otherwise straight into the heap. Either way the heap minimum is the
        // global minimum (rank, position).
        @inline(__always) func push(_ r: UInt32, _ pos: Int) {
            var b = Int(bucketOf[Int(r)])
            if b < 0 {
                b = buckets
                buckets += 1
                bucketOf[Int(r)] = Int32(b)
                bucketRank[b] = r
                bucketHead[b] = -1
            }
            if bucketHead[b] < 0 {
                nodePos[nodes] = Int32(pos); nodeNext[nodes] = -1
                bucketHead[b] = Int32(nodes); bucketTail[b] = Int32(nodes)
                nodes += 1
                heapPush(UInt64(r) << 32 | UInt64(pos))
            } else if Int32(pos) > nodePos[Int(bucketTail[b])] {
                nodePos[nodes] = Int32(pos); nodeNext[nodes] = -1
                nodeNext[Int(bucketTail[b])] = Int32(nodes)
                bucketTail[b] = Int32(nodes)
                nodes += 1
            } else {
                heapPush(UInt64(r) << 32 | UInt64(pos))
            }
        }

        var i = 0
        while i < n {
            next[i] = Int32(i + 1); prev[i] = Int32(i - 1); tok[i] = byteRank[Int(p[i])]
            if i < n - 1 {
                let r = pairRank[Int(p[i]) << 8 | Int(p[i + 1])]
                pair[i] = r
                if r != .max { push(r, i) }
            } else {
                pair[i] = .max
            }
            i += 1
        }
        while hn > 0 {
            let top = heap[0]
            let r = UInt32(truncatingIfNeeded: top >> 32)
            let a = Int(truncatingIfNeeded: top & 0xFFFF_FFFF)
            let b = Int(bucketOf[Int(r)])
            let head = Int(bucketHead[b])
            if head >= 0 && Int(nodePos[head]) == a {
                // The FIFO's head leaves the heap and its next live successor takes its place. Candidates that
                // went stale while queued are dropped here without touching the heap (a stale candidate can
                // never become live again: the span of the pair at a position only grows).
                var nx = Int(nodeNext[head])
                while nx >= 0 && pair[Int(nodePos[nx])] != r { nx = Int(nodeNext[nx]) }
                bucketHead[b] = Int32(nx)
                if nx >= 0 { siftDownFromRoot(UInt64(r) << 32 | UInt64(nodePos[nx])) } else { heapPop() }
            } else {
                heapPop()
            }
            if pair[a] != r { continue }   // stale: the pair at a changed or a was absorbed
            let bb = Int(next[a])
            let c = Int(next[bb])
            tok[a] = r
            pair[bb] = dead
            next[a] = Int32(c)
            if c < n {
                prev[c] = Int32(a)
                let nr = spanRank(p, a, Int(next[c]))
                pair[a] = nr
                if nr != .max { push(nr, a) }
            } else {
                pair[a] = .max
            }
            if a > 0 {
                let h = Int(prev[a])
                let nr = spanRank(p, h, c)
                pair[h] = nr
                if nr != .max { push(nr, h) }
            }
        }
        for k in 0..<buckets { bucketOf[Int(bucketRank[k])] = -1 }
        var a = 0
        while a < n {
            out.append(tok[a])
            a = Int(next[a])
        }
    }
}
