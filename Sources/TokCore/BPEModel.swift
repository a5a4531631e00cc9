internal import CByteClasses

/// The immutable, shared part of byte-level BPE: the rank table plus lookup tables derived from it.
public final class BPEModel: @unchecked Sendable {
    /// The vocabulary: token bytes to rank (= id).
    public let table: RankTable
    /// Rank of each single byte.
    @usableFromInline let byteRank: UnsafeMutablePointer<UInt32>
    /// Rank of each two-byte string (`b0 << 8 | b1`), or `UInt32.max`: the first merge step without hashing.
    @usableFromInline let pairRank: UnsafeMutablePointer<UInt32>
    @usableFromInline let maxTokenLength: Int
    /// Whether every single byte is a token. Only then may pieces be cut where no token spans (see
    /// `SpanningTokenFilter`; otherwise merging may fail to start) and the pair cache be used (every part has an id).
    @usableFromInline let everyByteIsToken: Bool
    /// The filter, built on first need (o200k: about 5 ms, which text without non-ASCII pieces never pays) and
    /// published once for every encoder of the model.
    let filterSlot: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Whether cutting pieces pays with this vocabulary: undecided (0) until an encoder has merged
    /// `BytePairEncoder.piecesToDecideCuts` non-ASCII pieces whole and counted their merges; then `cutsPay` or
    /// `cutsDoNotPay`, for every encoder of the model. Relaxed atomics: any decision is exact, only speed differs.
    @usableFromInline let cutDecision: UnsafeMutablePointer<UInt8>
    @usableFromInline static let cutsPay: UInt8 = 1
    @usableFromInline static let cutsDoNotPay: UInt8 = 2
    /// By rank: 0 not known yet, 1 when BPE of the token's bytes is the token itself, 2 when it is not (a token
    /// merges cannot reach, as some of Llama 3's). tiktoken looks a whole piece up before merging, so only a whole
    /// piece may become such a token; a part between cuts must be what merging gives. Worked out on first use by
    /// whichever thread meets the token, with relaxed atomics (every writer writes the same value).
    @usableFromInline let reachable: UnsafeMutablePointer<UInt8>

    /// Derives the byte and byte-pair tables from `table`. The spanning filter is taken from the table's image, or
    /// built on first need.
    public init(table: RankTable) {
        self.table = table
        byteRank = .allocate(capacity: 256)
        pairRank = .allocate(capacity: 65536)
        // From the keys of one and two bytes: a pass over the key lengths instead of 65,792 hash lookups.
        byteRank.initialize(repeating: .max, count: 256)
        pairRank.initialize(repeating: .max, count: 65536)
        for r in 0..<table.rankLimit where table.keyLength[r] <= 2 && table.keyStart[r] != .max {
            let key = table.arena + Int(table.keyStart[r])
            if table.keyLength[r] == 1 { byteRank[Int(key[0])] = UInt32(r) } else { pairRank[Int(key[0]) << 8 | Int(key[1])] = UInt32(r) }
        }
        maxTokenLength = table.maxKeyLength
        var everyByte = true
        for b in 0..<256 where byteRank[b] == .max { everyByte = false }
        everyByteIsToken = everyByte
        filterSlot = .allocate(capacity: 1)
        filterSlot.initialize(to: nil)
        cutDecision = .allocate(capacity: 1)
        cutDecision.initialize(to: 0)
        if everyByte, let bits = table.spanningBits {
            let f = UnsafeMutablePointer<SpanningTokenFilter>.allocate(capacity: 1)
            f.initialize(to: SpanningTokenFilter(borrowing: bits, words: table.spanningWords))
            filterSlot.pointee = UnsafeMutableRawPointer(f)
        }
        reachable = .allocate(capacity: max(table.rankLimit, 1))
        reachable.initialize(repeating: 0, count: max(table.rankLimit, 1))
    }

    /// Forgets what encoding text has taught the model (`reachable`, `cutDecision`). Only while no encoder of the
    /// model is running.
    func forgetLearnedFacts() {
        // Relaxed atomic stores, as encoders on other threads read these with relaxed loads meanwhile.
        for r in 0..<max(table.rankLimit, 1) { tok_store_relaxed_u8(reachable + r, 0) }
        tok_store_relaxed_u8(cutDecision, 0)
    }

    /// The spanning-token filter if it has been built.
    func builtSpanningTokenFilter() -> SpanningTokenFilter? {
        tok_load_acquire_ptr(filterSlot)?.assumingMemoryBound(to: SpanningTokenFilter.self).pointee
    }

    /// The spanning-token filter, built by the first caller (concurrent first callers may each build one; one is
    /// kept).
    func spanningTokenFilter() -> SpanningTokenFilter {
        if let f = builtSpanningTokenFilter() { return f }
        let mine = UnsafeMutablePointer<SpanningTokenFilter>.allocate(capacity: 1)
        mine.initialize(to: SpanningTokenFilter(table: table))
        if tok_publish_ptr(filterSlot, mine) != 0 { return mine.pointee }
        mine.pointee.deallocate()
        mine.deinitialize(count: 1)
        mine.deallocate()
        return builtSpanningTokenFilter()!
    }

    deinit {
        byteRank.deallocate(); pairRank.deallocate(); reachable.deallocate()
        if let p = filterSlot.pointee {
            let f = p.assumingMemoryBound(to: SpanningTokenFilter.self)
            f.pointee.deallocate(); f.deinitialize(count: 1); f.deallocate()
        }
        filterSlot.deallocate(); cutDecision.deallocate()
    }
}
