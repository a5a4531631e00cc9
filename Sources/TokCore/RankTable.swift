/// An open-addressing hash table from byte strings to token ranks.
///
/// Keys live in one contiguous arena owned by the table; lookups take a pointer and a length into the caller's
/// text, so encoding never copies or allocates. Each 16-byte slot holds the key's first 8 bytes, a tag and
/// its rank, so a hit on a key of up to 8 bytes touches one cache line and a miss usually none beyond the slot.
/// The load factor stays at or below 1/2.
public struct RankTable: @unchecked Sendable {
    @usableFromInline struct Slot {
        @usableFromInline var prefix: UInt64
        /// 0 marks an empty slot (the empty string is never a key). With `packed` (an arena under 16 MB): the
        /// key's length, capped at 255, in the low byte and its arena offset above, so comparing a long key's
        /// tail needs no lookup of where it starts; otherwise the length.
        @usableFromInline var tag: UInt32
        @usableFromInline var rank: UInt32
    }

    @usableFromInline let slots: UnsafeMutablePointer<Slot>
    @usableFromInline let capacity: Int   // slots; not a power of two, so the table can be sized tightly
    @usableFromInline let arena: UnsafeMutablePointer<UInt8>
    @usableFromInline let keyStart: UnsafeMutablePointer<UInt32>   // by rank; UInt32.max when the rank is absent
    @usableFromInline let keyLength: UnsafeMutablePointer<UInt32>  // by rank
    /// Largest rank stored plus one.
    public let rankLimit: Int
    /// Number of keys stored.
    public let count: Int
    /// Length of the longest key.
    public let maxKeyLength: Int
    /// Bytes of key data in the arena.
    let arenaCount: Int
    /// One bit per hash value (low `filterBits` bits of the hash): set when some key has that hash. A clear bit
    /// proves absence without touching the slots, which do not fit in cache; BPE asks about many absent spans.
    @usableFromInline let filter: UnsafeMutablePointer<UInt64>
    @usableFromInline static let filterBits = 21
    /// The bits of a slot's tag that hold the length: 0xFF when tags carry arena offsets, else all.
    @usableFromInline let tagLengthMask: UInt32
    /// The bitset of `SpanningTokenFilter`, when the table came from an image that holds it (else the filter is
    /// built from the keys on first need), and its length in 64-bit words.
    let spanningBits: UnsafeMutablePointer<UInt64>?
    let spanningWords: Int
    let storage: Storage

    /// Frees the raw buffers when the last copy of the table goes away.
    /// Releases the table's memory: five heap buffers, or one image buffer (see `RankTableImage`).
    final class Storage {
        let release: () -> Void
        init(release: @escaping () -> Void) { self.release = release }
        convenience init(_ s: UnsafeMutablePointer<Slot>, _ a: UnsafeMutablePointer<UInt8>,
                         _ k: UnsafeMutablePointer<UInt32>, _ l: UnsafeMutablePointer<UInt32>, _ f: UnsafeMutablePointer<UInt64>) {
            self.init { s.deallocate(); a.deallocate(); k.deallocate(); l.deallocate(); f.deallocate() }
        }
        deinit { release() }
    }

    /// Builds the table from token byte strings stored back to back in `bytes`, with `ends[i]` the end of entry i
    /// and `ranks[i]` its rank. Fails with the index of the first duplicate key or duplicate rank.
    public init(bytes: [UInt8], ends: [Int], ranks: [UInt32]) throws(RankTableError) {
        precondition(ends.count == ranks.count)
        let n = ends.count
        var limit = 0
        for r in ranks { limit = max(limit, Int(r) + 1) }
        // Load factor 0.6: the slots of a 200k vocabulary stay under 6 MB, inside the last-level cache.
        let capacity = max(16, n * 5 / 3 + 1)
        let slots = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
        slots.initialize(repeating: Slot(prefix: 0, tag: 0, rank: 0), count: capacity)
        tagLengthMask = bytes.count < 1 << 24 ? 0xFF : .max
        let arena = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count + 8, 8))
        arena.initialize(repeating: 0, count: max(bytes.count + 8, 8))
        bytes.withUnsafeBufferPointer { if let b = $0.baseAddress { arena.initialize(from: b, count: $0.count) } }
        let keyStart = UnsafeMutablePointer<UInt32>.allocate(capacity: max(limit, 1))
        keyStart.initialize(repeating: .max, count: max(limit, 1))
        let keyLength = UnsafeMutablePointer<UInt32>.allocate(capacity: max(limit, 1))
        keyLength.initialize(repeating: 0, count: max(limit, 1))
        let filter = UnsafeMutablePointer<UInt64>.allocate(capacity: 1 << (RankTable.filterBits - 6))
        filter.initialize(repeating: 0, count: 1 << (RankTable.filterBits - 6))
        self.filter = filter
        self.spanningBits = nil
        self.spanningWords = 0
        self.storage = Storage(slots, arena, keyStart, keyLength, filter)
        self.slots = slots; self.capacity = capacity; self.arena = arena
        self.keyStart = keyStart; self.keyLength = keyLength
        self.rankLimit = limit; self.count = n; self.arenaCount = bytes.count
        var maxLen = 0
        var start = 0
        for i in 0..<n {
            let end = ends[i], len = end - start
            if len <= 0 { throw .emptyKey(index: i) }
            maxLen = max(maxLen, len)
            let rank = ranks[i]
            if keyStart[Int(rank)] != .max { throw .duplicateRank(index: i, rank: rank) }
            keyStart[Int(rank)] = UInt32(start)
            keyLength[Int(rank)] = UInt32(len)
            let p = UnsafePointer(arena + start)
            let prefix = ByteKey.prefixWord(p, len)
            let h = ByteKey.hash(p, len, prefix: prefix)
            let bit = Int(truncatingIfNeeded: h) & ((1 << RankTable.filterBits) - 1)
            filter[bit >> 6] |= 1 << UInt64(bit & 63)
            var idx = RankTable.home(h, capacity)
            while slots[idx].tag != 0 {
                let s = slots[idx]
                if s.prefix == prefix && Int(keyLength[Int(s.rank)]) == len && RankTable.tailEqual(UnsafePointer(arena + Int(keyStart[Int(s.rank)])), p, len) {
                    throw .duplicateKey(index: i, rank: rank, existingRank: s.rank)
                }
                idx += 1
                if idx == capacity { idx = 0 }
            }
            slots[idx] = Slot(prefix: prefix, tag: RankTable.tag(length: len, start: start, mask: tagLengthMask), rank: rank)
            start = end
        }
        self.maxKeyLength = maxLen
    }

    /// The tag of a key of `length` bytes at arena offset `start`.
    static func tag(length: Int, start: Int, mask: UInt32) -> UInt32 {
        mask == .max ? UInt32(length) : UInt32(min(length, 255)) | UInt32(start) << 8
    }

    /// Whether the keys at `a` and `b`, both `len` bytes long and with equal first words, are equal.
    @inlinable @inline(__always)
    static func tailEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ len: Int) -> Bool {
        // The first 8 bytes were compared as words; up to 16 bytes, the last 8 (overlapping them) cover the rest
        // without a byte loop, whose exit the key lengths of text make unpredictable.
        if len <= 8 { return true }
        if len <= 16 {
            let last = len &- 8
            return UnsafeRawPointer(a).loadUnaligned(fromByteOffset: last, as: UInt64.self)
                == UnsafeRawPointer(b).loadUnaligned(fromByteOffset: last, as: UInt64.self)
        }
        return ByteKey.equal(a + 8, b + 8, len - 8)
    }

    /// The rank of `p[0..<len]`, or `UInt32.max` if it is not a key.
    @inlinable @inline(__always)
    public func rank(_ p: UnsafePointer<UInt8>, _ len: Int) -> UInt32 {
        let prefix = ByteKey.prefixWord(p, len)
        return rank(p, len, prefix: prefix, hash: ByteKey.hash(p, len, prefix: prefix))
    }

    /// `rank(p, len)` with the key's prefix word and hash already computed (see `ByteKey`), so that a caller can
    /// reuse them for another table.
    @inlinable @inline(__always)
    func rank(_ p: UnsafePointer<UInt8>, _ len: Int, prefix: UInt64, hash: UInt64) -> UInt32 {
        let bit = Int(truncatingIfNeeded: hash) & ((1 << RankTable.filterBits) - 1)
        if filter[bit >> 6] & (1 << UInt64(bit & 63)) == 0 { return .max }
        var idx = RankTable.home(hash, capacity)
        let mask = tagLengthMask
        let lengthTag = UInt32(truncatingIfNeeded: min(len, Int(mask)))
        while true {
            let s = slots[idx]
            // The match first: most lookups that pass the filter find their key, most of them in its home slot.
            if s.prefix == prefix && s.tag & mask == lengthTag {
                if len <= 8 { return s.rank }
                // A capped length (255 and more) says nothing about the real one.
                if len < Int(mask) || Int(keyLength[Int(s.rank)]) == len {
                    let start = mask == .max ? Int(keyStart[Int(s.rank)]) : Int(s.tag >> 8)
                    if RankTable.tailEqual(UnsafePointer(arena + start), p, len) { return s.rank }
                }
            }
            if s.tag == 0 { return .max }
            idx &+= 1
            if idx == capacity { idx = 0 }
        }
    }

    /// The home slot of a hash: its high 32 bits scaled to the capacity (multiply-shift, no division).
    @inlinable @inline(__always)
    static func home(_ hash: UInt64, _ capacity: Int) -> Int {
        Int(truncatingIfNeeded: ((hash >> 32) &* UInt64(truncatingIfNeeded: capacity)) >> 32)
    }

    /// The rank of `bytes`, or nil.
    public func rank<C: Collection>(of bytes: C) -> UInt32? where C.Element == UInt8 {
        let a = Array(bytes)
        if a.isEmpty { return nil }
        let r = a.withUnsafeBufferPointer { rank($0.baseAddress!, $0.count) }
        return r == .max ? nil : r
    }

    /// The first byte value that is not a token by itself, or nil when all 256 are (byte-level BPE needs them).
    public func firstMissingSingleByte() -> UInt8? {
        for value in 0...255 {
            var byte = UInt8(value)
            if withUnsafePointer(to: &byte, { rank($0, 1) }) == .max { return byte }
        }
        return nil
    }

    /// The bytes of the key with rank `rank`, or nil when no key has that rank. The buffer lives as long as the
    /// table.
    @inlinable
    public func bytes(ofRank rank: UInt32) -> UnsafeBufferPointer<UInt8>? {
        guard Int(rank) < rankLimit else { return nil }
        let start = keyStart[Int(rank)]
        if start == .max { return nil }
        return UnsafeBufferPointer(start: UnsafePointer(arena + Int(start)), count: Int(keyLength[Int(rank)]))
    }
}

/// Why a `RankTable` could not be built.
public enum RankTableError: Error, Equatable, Sendable {
    case emptyKey(index: Int)
    case duplicateKey(index: Int, rank: UInt32, existingRank: UInt32)
    case duplicateRank(index: Int, rank: UInt32)
}
