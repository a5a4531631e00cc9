// The priority-queue merge for pieces of `BytePairEncoder.longThreshold` bytes and more (its scratch memory is
// declared with the encoder's other stored properties, under "Long-piece scratch").

extension BytePairEncoder {
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
        // The FIFO of rank `r`, made (empty) on first use.
        @inline(__always) func bucket(_ r: UInt32) -> Int {
            var b = Int(bucketOf[Int(r)])
            if b < 0 {
                b = buckets
                buckets += 1
                bucketOf[Int(r)] = Int32(b)
                bucketRank[b] = r
                bucketHead[b] = -1
            }
            return b
        }
        @inline(__always) func push(_ r: UInt32, _ pos: Int) {
            let b = bucket(r)
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

        // The initial candidates come in increasing position order, so each goes to the end of its rank's FIFO
        // without the comparisons `push` makes; runs of one rank (a character repeated) reuse the last bucket.
        var lastRank = UInt32.max, lastBucket = -1
        var i = 0
        while i < n {
            next[i] = Int32(i + 1); prev[i] = Int32(i - 1); tok[i] = byteRank[Int(p[i])]
            if i < n - 1 {
                let r = pairRank(at: p + i)
                pair[i] = r
                if r != .max {
                    var b = lastBucket
                    if r != lastRank {
                        b = bucket(r)
                        lastRank = r
                        lastBucket = b
                    }
                    nodePos[nodes] = Int32(i); nodeNext[nodes] = -1
                    if bucketHead[b] < 0 {
                        bucketHead[b] = Int32(nodes)
                        heapPush(UInt64(r) << 32 | UInt64(i))
                    } else {
                        nodeNext[Int(bucketTail[b])] = Int32(nodes)
                    }
                    bucketTail[b] = Int32(nodes)
                    nodes += 1
                }
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
                let nr = mergedRank(r, tok[c], p, a, Int(next[c]))
                pair[a] = nr
                if nr != .max { push(nr, a) }
            } else {
                pair[a] = .max
            }
            if a > 0 {
                let h = Int(prev[a])
                let nr = mergedRank(tok[h], r, p, h, c)
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
