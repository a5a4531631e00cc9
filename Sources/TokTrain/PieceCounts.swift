import TokCore

/// Counts of distinct byte strings (pre-tokens), with 64-bit counts.
///
/// Open addressing over a power-of-two slot array; keys live back to back in one arena, so a table of millions
/// of pieces costs a few allocations and about 30 bytes per piece plus its bytes. Not thread-safe: counting threads
/// each own one and `merge` them at the end.
public struct PieceCounts: ~Copyable {
    /// Per slot: entry index + 1 (0: empty) in the low 32 bits, the hash's high 32 bits above, so that most
    /// mismatches are rejected without touching the entry.
    private var slots: UnsafeMutablePointer<UInt64>
    private var slotMask: Int
    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity: Int
    private var arenaCount = 0
    private var starts: UnsafeMutablePointer<Int>
    private var lengths: UnsafeMutablePointer<UInt32>
    private var counts: UnsafeMutablePointer<UInt64>
    private var entryCapacity: Int
    /// Number of distinct pieces.
    public private(set) var count = 0
    /// Sum of all counts.
    public private(set) var total: UInt64 = 0
    /// For counts read from files: the sum of count × (length - 1, at least 1), a bound on every pair count the
    /// trainer's signed 64-bit counters will hold, kept at most `Int64.max` by `CountsFile`.
    var pairWeight: UInt64 = 0

    /// An empty table with room for about `expected` distinct pieces; it grows as needed.
    public init(expected: Int = 1 << 12) {
        var slotCount = 16
        while slotCount < expected * 2 { slotCount *= 2 }
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
        entryCapacity = max(16, expected)
        starts = .allocate(capacity: entryCapacity)
        lengths = .allocate(capacity: entryCapacity)
        counts = .allocate(capacity: entryCapacity)
        arenaCapacity = max(1024, expected * 8)
        arena = .allocate(capacity: arenaCapacity)
    }

    deinit {
        slots.deallocate(); arena.deallocate(); starts.deallocate(); lengths.deallocate(); counts.deallocate()
    }

    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        // ByteKey's hash (the rank table's), whose high bits are well mixed.
        ByteKey.hash(p, n, prefix: ByteKey.prefixWord(p, n))
    }

    /// Adds `count` to the piece `p[0..<n]`.
    @inline(__always)
    public mutating func add(_ p: UnsafePointer<UInt8>, _ n: Int, count c: UInt64 = 1) {
        add(p, n, hash: Self.hash(p, n), count: c)
    }

    @inline(__always)
    mutating func add(_ p: UnsafePointer<UInt8>, _ n: Int, hash h: UInt64, count c: UInt64) {
        total &+= c
        let tag = h >> 32
        var i = Int(truncatingIfNeeded: h) & slotMask
        while true {
            let s = slots[i]
            if s == 0 { break }
            if s >> 32 == tag {
                let e = Int(truncatingIfNeeded: s & 0xFFFF_FFFF) - 1
                if Int(lengths[e]) == n && ByteKey.equal(arena + starts[e], p, n) {
                    counts[e] &+= c
                    return
                }
            }
            i = (i + 1) & slotMask
        }
        // New piece.
        if count == entryCapacity { growEntries() }
        if arenaCount + n > arenaCapacity { growArena(arenaCount + n) }
        (arena + arenaCount).update(from: p, count: n)
        starts[count] = arenaCount
        lengths[count] = UInt32(n)
        counts[count] = c
        arenaCount += n
        count += 1
        slots[i] = tag << 32 | UInt64(count)
        if count * 2 > slotMask + 1 { growSlots() }
    }

    /// The piece with entry index `k` (0..<count), valid until the next mutation.
    public func piece(_ k: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: arena + starts[k], count: Int(lengths[k]))
    }

    /// The count of entry `k`.
    public func count(_ k: Int) -> UInt64 { counts[k] }

    /// The count of a piece, or 0.
    public func count(of bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBufferPointer { b -> UInt64 in
            let p = b.baseAddress ?? UnsafePointer(arena)
            let h = Self.hash(p, b.count)
            var i = Int(truncatingIfNeeded: h) & slotMask
            while true {
                let s = slots[i]
                if s == 0 { return 0 }
                if s >> 32 == h >> 32 {
                    let e = Int(truncatingIfNeeded: s & 0xFFFF_FFFF) - 1
                    if Int(lengths[e]) == b.count && ByteKey.equal(arena + starts[e], p, b.count) { return counts[e] }
                }
                i = (i + 1) & slotMask
            }
        }
    }

    /// Adds every count of `other` to this table.
    public mutating func merge(_ other: borrowing PieceCounts) {
        for k in 0..<other.count {
            let p = other.piece(k)
            add(p.baseAddress!, p.count, count: other.counts[k])
        }
    }

    /// Entry indices ordered by the pieces' bytes (lexicographically, shorter first on a common prefix): an order
    /// that does not depend on how the counts were gathered.
    public func sortedByBytes() -> [Int] {
        var order = Array(0..<count)
        let a = arena, st = starts, ln = lengths
        order.sort { x, y in
            ByteKey.compare(a + st[x], Int(ln[x]), a + st[y], Int(ln[y])) < 0
        }
        return order
    }

    private mutating func growEntries() {
        let c = entryCapacity * 2
        let s = UnsafeMutablePointer<Int>.allocate(capacity: c)
        s.moveInitialize(from: starts, count: count); starts.deallocate(); starts = s
        let l = UnsafeMutablePointer<UInt32>.allocate(capacity: c)
        l.moveInitialize(from: lengths, count: count); lengths.deallocate(); lengths = l
        let n = UnsafeMutablePointer<UInt64>.allocate(capacity: c)
        n.moveInitialize(from: counts, count: count); counts.deallocate(); counts = n
        entryCapacity = c
    }

    private mutating func growArena(_ needed: Int) {
        var c = arenaCapacity * 2
        while c < needed { c *= 2 }
        let a = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        a.moveInitialize(from: arena, count: arenaCount)
        arena.deallocate()
        arena = a
        arenaCapacity = c
    }

    private mutating func growSlots() {
        let n = (slotMask + 1) * 2
        let s = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
        s.initialize(repeating: 0, count: n)
        let mask = n - 1
        for e in 0..<count {
            let h = Self.hash(arena + starts[e], Int(lengths[e]))
            var i = Int(truncatingIfNeeded: h) & mask
            while s[i] != 0 { i = (i + 1) & mask }
            s[i] = (h >> 32) << 32 | UInt64(e + 1)
        }
        slots.deallocate()
        slots = s
        slotMask = mask
    }
}
