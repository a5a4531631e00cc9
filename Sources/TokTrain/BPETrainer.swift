import TokCore

/// Byte-level BPE training: learns merges from counted pre-tokens ("words").
///
/// Words start as their bytes (token ids 0-255 are the 256 bytes). Every step merges the most frequent adjacent
/// pair of tokens, counted over all words weighted by their counts, into a new token, until the vocabulary has
/// the requested size or no pair is frequent enough.
///
/// - Ties: among pairs of equal count the one whose left token's bytes come first (lexicographically, a prefix
///   before its extensions) wins, then the one whose right token's bytes come first. The order depends on the
///   bytes only, never on hashing or on the order words were counted in, so the result is the same on every run
///   and for any thread count. `TieBreak.hf` orders ties as HF `tokenizers`' BpeTrainer does instead, so that
///   its vocabularies can be reproduced exactly.
/// - Pair counts live in a lazy max-heap: a pair whose count went up is pushed again; an entry whose count went
///   stale is corrected when it reaches the top. Each pair keeps the list of words it occurs in, so a merge only
///   visits those words and updates the counts of the pairs around each occurrence (no rescans).
/// - Merging two tokens whose bytes already form a token (`ab`+`c` after `a`+`bc`) records the merge but reuses
///   that token, as HF's trainer does.
///
/// Hooks for trainers built on this one: `allowMerge` can veto a pair (it is then never proposed again),
/// `didMerge` sees every merge, `apply(merge:)` applies a given merge first (continuing from an existing merge list,
/// as SuperBPE's second stage does), and `requeue(_:_:)` puts a pair back into the heap with its current count.
public final class BPETrainer {
    /// How pairs of equal count are ordered.
    public enum TieBreak: String, Sendable, CaseIterable {
        /// The left token's bytes, then the right token's, lexicographically: the smaller pair first.
        case bytes
        /// HF `tokenizers`' BpeTrainer: the smaller (left id, right id) first, with the 256 bytes numbered in the
        /// order of their byte-level alphabet characters (`!`..`~` first) and merged tokens in order of creation.
        case hf
    }

    /// One learned merge.
    public struct Merge: Sendable, Equatable {
        /// Id of the pair's left token.
        public var left: UInt32
        /// Id of the pair's right token.
        public var right: UInt32
        /// The token the merge produces (an earlier id when its bytes were already a token).
        public var token: UInt32
        /// The pair's count when it was merged.
        public var count: UInt64
    }

    // The hot state. Exclusivity is not checked at run time on these: the trainer is used from one thread, and
    // the checks were 40% of the training time.
    // Tokens: bytes by id.
    @exclusivity(unchecked) private var tokenArena: [UInt8] = []
    @exclusivity(unchecked) private var tokenStart: [Int] = []
    @exclusivity(unchecked) private var tokenLength: [Int] = []
    @exclusivity(unchecked) private var tokenIndex = ByteStringIndex()

    // Words: symbols back to back; a word's symbols shrink in place as merges apply.
    @exclusivity(unchecked) private var symbols: [UInt32] = []
    @exclusivity(unchecked) private var wordStart: [Int] = []
    @exclusivity(unchecked) private var wordLength: [Int32] = []
    @exclusivity(unchecked) private var wordCount: [Int64] = []
    @exclusivity(unchecked) private var wordStamp: [UInt32] = []

    // Pairs.
    @exclusivity(unchecked) private var pairIndex = PairIndex()
    @exclusivity(unchecked) private var pairLeft: [UInt32] = []
    @exclusivity(unchecked) private var pairRight: [UInt32] = []
    @exclusivity(unchecked) private var pairCount: [Int64] = []
    @exclusivity(unchecked) private var pairLastWord: [UInt32] = []
    @exclusivity(unchecked) private var pairStamp: [UInt32] = []
    @exclusivity(unchecked) private var pairVetoed: [Bool] = []
    @exclusivity(unchecked) private var pairWords = WordLists()
    @exclusivity(unchecked) private var heap: [(count: Int64, pair: UInt32)] = []
    @exclusivity(unchecked) private var stamp: UInt32 = 0
    @exclusivity(unchecked) private var increased: [UInt32] = []
    @exclusivity(unchecked) private var scratchWords: [UInt32] = []

    /// How ties are broken. The initial pairs are already in the heap when this is set (the initializers count
    /// them), so a change re-orders the heap: pairs that are never pushed again would otherwise keep the old
    /// order (HF's first merge of "ab b ab b ..." is "ab", the byte order's " b").
    public var tieBreak: TieBreak = .bytes {
        didSet {
            guard tieBreak != oldValue else { return }
            let entries = heap
            heap.removeAll(keepingCapacity: true)
            for e in entries { heapPush(e.count, e.pair) }
        }
    }

    /// Each byte's id in HF's byte-level alphabet (its character's rank among the 256).
    private static let hfByteID: [UInt32] = {
        let chars = ByteLevelAlphabet.characters
        let order = (0..<256).sorted { chars[$0].value < chars[$1].value }
        var id = [UInt32](repeating: 0, count: 256)
        for (rank, b) in order.enumerated() { id[b] = UInt32(rank) }
        return id
    }()

    @inline(__always)
    private func hfID(_ t: UInt32) -> UInt32 { t < 256 ? Self.hfByteID[Int(t)] : t }

    /// The merges learned (or applied), in order.
    @exclusivity(unchecked) public private(set) var merges: [Merge] = []
    /// Called before a pair is merged; returning false vetoes the pair for good.
    public var allowMerge: ((_ left: UInt32, _ right: UInt32, _ count: UInt64) -> Bool)?
    /// Called after each merge.
    public var didMerge: ((Merge) -> Void)?

    /// Number of tokens (256 bytes plus distinct merged tokens).
    public var tokenCount: Int { tokenStart.count }

    /// Words as (bytes, count), in any order (the result does not depend on it). Counts must be positive.
    public init(words: [(bytes: ArraySlice<UInt8>, count: UInt64)]) {
        for b in 0..<256 { addToken([UInt8(b)]) }
        for w in words { addWord(w.bytes, w.count) }
        finishWords()
    }

    /// The words of a counts table.
    public init(counts: borrowing PieceCounts) {
        for b in 0..<256 { addToken([UInt8(b)]) }
        var total = 0
        for k in 0..<counts.count { total += counts.piece(k).count }
        symbols.reserveCapacity(total)
        for k in 0..<counts.count { addWord(counts.piece(k), counts.count(k)) }
        finishWords()
    }

    private func addWord<C: Collection>(_ bytes: C, _ count: UInt64) where C.Element == UInt8 {
        // A single byte has no pair to merge.
        guard bytes.count >= 2, count > 0 else { return }
        wordStart.append(symbols.count)
        wordLength.append(Int32(bytes.count))
        wordCount.append(Int64(clamping: count))
        for b in bytes { symbols.append(UInt32(b)) }
    }

    private func finishWords() {
        wordStamp = [UInt32](repeating: 0, count: wordStart.count)
        countInitialPairs()
    }

    /// The bytes of token `id`.
    public func bytes(of id: UInt32) -> ArraySlice<UInt8> {
        let s = tokenStart[Int(id)]
        return tokenArena[s..<(s + tokenLength[Int(id)])]
    }

    /// The id of the token with these bytes, if there is one.
    public func token(for bytes: [UInt8]) -> UInt32? {
        tokenArena.withUnsafeBufferPointer { arena in
            bytes.withUnsafeBufferPointer { b in
                tokenIndex.find(b, arena: arena, starts: tokenStart, lengths: tokenLength)
            }
        }
    }

    // MARK: Training

    /// Merges until there are `targetTokens` tokens, or no pair occurs at least `minFrequency` times (and at
    /// least once). `progress` is called after every merge with the number of tokens so far.
    public func train(targetTokens: Int, minFrequency: UInt64 = 0, progress: ((Int) -> Void)? = nil) {
        while tokenCount < targetTokens {
            guard let (p, c) = popBest() else { break }
            if UInt64(c) < max(minFrequency, 1) { break }
            if let allowMerge, !allowMerge(pairLeft[Int(p)], pairRight[Int(p)], UInt64(c)) {
                pairVetoed[Int(p)] = true
                continue
            }
            mergePair(p)
            progress?(tokenCount)
        }
    }

    /// Applies the merge of the tokens with bytes `left` and `right` now, whatever its count, creating the tokens
    /// first if the bytes are not tokens yet (they must be concatenations of existing tokens' bytes to occur).
    /// Returns false when either side is not a token.
    @discardableResult
    public func apply(left: [UInt8], right: [UInt8]) -> Bool {
        guard let a = token(for: left), let b = token(for: right) else { return false }
        let p = pairIndex.find(a, b) ?? newPair(a, b)
        mergePair(p)
        return true
    }

    /// Puts the pair back into the heap with its current count (a pair vetoed earlier becomes eligible again).
    public func requeue(_ left: UInt32, _ right: UInt32) {
        guard let p = pairIndex.find(left, right) else { return }
        pairVetoed[Int(p)] = false
        if pairCount[Int(p)] > 0 { heapPush(pairCount[Int(p)], p) }
    }

    /// The current count of a pair (0 if it does not occur).
    public func count(of left: UInt32, _ right: UInt32) -> UInt64 {
        guard let p = pairIndex.find(left, right) else { return 0 }
        return UInt64(max(0, pairCount[Int(p)]))
    }

    // MARK: Internals

    private func addToken(_ bytes: [UInt8]) {
        let id = UInt32(tokenStart.count)
        tokenStart.append(tokenArena.count)
        tokenLength.append(bytes.count)
        tokenArena += bytes
        tokenArena.withUnsafeBufferPointer { arena in
            tokenIndex.insert(id, arena: arena, starts: tokenStart, lengths: tokenLength)
        }
    }

    private func newPair(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let p = UInt32(pairLeft.count)
        pairLeft.append(a); pairRight.append(b); pairCount.append(0)
        pairLastWord.append(.max); pairStamp.append(0); pairVetoed.append(false)
        pairWords.addList()
        pairIndex.insert(a, b, p)
        return p
    }

    private func countInitialPairs() {
        for w in 0..<wordStart.count {
            let s = wordStart[w], n = Int(wordLength[w]), c = wordCount[w]
            for i in s..<(s + n - 1) {
                let a = symbols[i], b = symbols[i + 1]
                let p = pairIndex.find(a, b) ?? newPair(a, b)
                pairCount[Int(p)] += c
                if pairLastWord[Int(p)] != UInt32(w) {
                    pairLastWord[Int(p)] = UInt32(w)
                    pairWords.append(Int(p), UInt32(w))
                }
            }
        }
        heap.reserveCapacity(pairLeft.count)
        for p in 0..<pairLeft.count where pairCount[p] > 0 { heapPush(pairCount[p], UInt32(p)) }
    }

    /// The best pair with its current count, dropping stale heap entries.
    private func popBest() -> (UInt32, Int64)? {
        while let top = heapPop() {
            let p = Int(top.pair)
            if pairVetoed[p] { continue }
            let current = pairCount[p]
            if current == top.count { return (top.pair, current) }
            // Stale. A pair whose count went up was pushed again at that time; one whose count went down goes
            // back with its current count.
            if current < top.count && current > 0 { heapPush(current, top.pair) }
        }
        return nil
    }

    private func mergePair(_ p: UInt32) {
        let a = pairLeft[Int(p)], b = pairRight[Int(p)]
        let count = UInt64(max(0, pairCount[Int(p)]))
        let merged = Array(bytes(of: a)) + Array(bytes(of: b))
        let t: UInt32
        if let existing = token(for: merged) {
            t = existing
        } else {
            t = UInt32(tokenCount)
            addToken(merged)
        }
        stamp &+= 1
        if stamp == 0 {
            // Wrapped: clear the marks so no old one matches.
            for i in 0..<wordStamp.count { wordStamp[i] = 0 }
            for i in 0..<pairStamp.count { pairStamp[i] = 0 }
            stamp = 1
        }
        increased.removeAll(keepingCapacity: true)
        let round = stamp
        // A snapshot: merging appends to other pairs' lists (never to this one's).
        scratchWords.removeAll(keepingCapacity: true)
        pairWords.forEach(Int(p)) { scratchWords.append($0) }
        for w in scratchWords where wordStamp[Int(w)] != round {
            wordStamp[Int(w)] = round
            mergeWord(Int(w), a, b, t, p)
        }
        pairCount[Int(p)] = 0
        pairWords.release(Int(p))
        pairLastWord[Int(p)] = .max
        for q in increased where pairCount[Int(q)] > 0 && !pairVetoed[Int(q)] { heapPush(pairCount[Int(q)], q) }
        let m = Merge(left: a, right: b, token: t, count: count)
        merges.append(m)
        didMerge?(m)
    }

    @inline(__always)
    private func delta(_ x: UInt32, _ y: UInt32, _ d: Int64, word: Int, merged: UInt32) {
        let q = pairIndex.find(x, y) ?? newPair(x, y)
        if q == merged { return }
        pairCount[Int(q)] += d
        if d > 0 {
            if pairLastWord[Int(q)] != UInt32(word) {
                pairLastWord[Int(q)] = UInt32(word)
                pairWords.append(Int(q), UInt32(word))
            }
            if pairStamp[Int(q)] != stamp {
                pairStamp[Int(q)] = stamp
                increased.append(q)
            }
        }
    }

    /// Replaces the non-overlapping occurrences of `a b`, left to right, by `t` in word `w`, and updates the
    /// counts of the pairs around each.
    private func mergeWord(_ w: Int, _ a: UInt32, _ b: UInt32, _ t: UInt32, _ p: UInt32) {
        let s = wordStart[w], n = Int(wordLength[w]), c = wordCount[w]
        let end = s + n
        var i = s, o = s
        while i < end {
            if i + 1 < end && symbols[i] == a && symbols[i + 1] == b {
                if o > s {
                    let l = symbols[o - 1]
                    delta(l, a, -c, word: w, merged: p)
                    delta(l, t, c, word: w, merged: p)
                }
                if i + 2 < end {
                    let r = symbols[i + 2]
                    delta(b, r, -c, word: w, merged: p)
                    delta(t, r, c, word: w, merged: p)
                }
                symbols[o] = t
                o += 1
                i += 2
            } else {
                symbols[o] = symbols[i]
                o += 1
                i += 1
            }
        }
        wordLength[w] = Int32(o - s)
    }

    // MARK: Heap (max by count, then by the pair's bytes)

    /// Whether pair `p` (count `cp`) comes before pair `q` (count `cq`).
    @inline(__always)
    private func before(_ cp: Int64, _ p: UInt32, _ cq: Int64, _ q: UInt32) -> Bool {
        if cp != cq { return cp > cq }
        if p == q { return false }
        if tieBreak == .hf {
            let lp = hfID(pairLeft[Int(p)]), lq = hfID(pairLeft[Int(q)])
            if lp != lq { return lp < lq }
            return hfID(pairRight[Int(p)]) < hfID(pairRight[Int(q)])
        }
        let c = compareTokens(pairLeft[Int(p)], pairLeft[Int(q)])
        if c != 0 { return c < 0 }
        return compareTokens(pairRight[Int(p)], pairRight[Int(q)]) < 0
    }

    private func compareTokens(_ x: UInt32, _ y: UInt32) -> Int {
        if x == y { return 0 }
        return tokenArena.withUnsafeBufferPointer { arena in
            ByteKey.compare(arena.baseAddress! + tokenStart[Int(x)], tokenLength[Int(x)],
                         arena.baseAddress! + tokenStart[Int(y)], tokenLength[Int(y)])
        }
    }

    private func heapPush(_ c: Int64, _ p: UInt32) {
        heap.append((c, p))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !before(c, p, heap[parent].count, heap[parent].pair) { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = (c, p)
    }

    private func heapPop() -> (count: Int64, pair: UInt32)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return top }
        var i = 0
        let n = heap.count
        while true {
            var child = 2 * i + 1
            if child >= n { break }
            if child + 1 < n && before(heap[child + 1].count, heap[child + 1].pair, heap[child].count, heap[child].pair) {
                child += 1
            }
            if !before(heap[child].count, heap[child].pair, last.count, last.pair) { break }
            heap[i] = heap[child]
            i = child
        }
        heap[i] = last
        return top
    }
}

/// Pair of token ids to pair index: open addressing on `left << 32 | right`.
struct PairIndex {
    private var keys: [UInt64] = [UInt64](repeating: .max, count: 1 << 16)
    private var values: [UInt32] = [UInt32](repeating: 0, count: 1 << 16)
    private var used = 0

    @inline(__always)
    private static func slot(_ k: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    func find(_ a: UInt32, _ b: UInt32) -> UInt32? {
        let k = UInt64(a) << 32 | UInt64(b)
        let mask = keys.count - 1
        var i = Self.slot(k, mask)
        while true {
            let e = keys[i]
            if e == k { return values[i] }
            if e == .max { return nil }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ a: UInt32, _ b: UInt32, _ v: UInt32) {
        if (used + 1) * 2 > keys.count { grow() }
        let k = UInt64(a) << 32 | UInt64(b)
        let mask = keys.count - 1
        var i = Self.slot(k, mask)
        while keys[i] != .max { i = (i + 1) & mask }
        keys[i] = k
        values[i] = v
        used += 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt64](repeating: .max, count: oldKeys.count * 2)
        values = [UInt32](repeating: 0, count: oldKeys.count * 2)
        let mask = keys.count - 1
        for (k, v) in zip(oldKeys, oldValues) where k != .max {
            var i = Self.slot(k, mask)
            while keys[i] != .max { i = (i + 1) & mask }
            keys[i] = k
            values[i] = v
        }
    }
}

/// Token bytes to id, for the few hundred thousand tokens a trainer makes.
struct ByteStringIndex {
    private var slots: [UInt32] = [UInt32](repeating: .max, count: 1 << 10)
    private var used = 0

    private static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let p = b.baseAddress else { return 0 }
        return PieceCounts.hash(p, b.count)
    }

    func find(_ b: UnsafeBufferPointer<UInt8>, arena: UnsafeBufferPointer<UInt8>, starts: [Int], lengths: [Int]) -> UInt32? {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: Self.hash(b)) & mask
        while true {
            let id = slots[i]
            if id == .max { return nil }
            let s = starts[Int(id)], n = lengths[Int(id)]
            if n == b.count && (n == 0 || ByteKey.equal(arena.baseAddress! + s, b.baseAddress!, n)) { return id }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ id: UInt32, arena: UnsafeBufferPointer<UInt8>, starts: [Int], lengths: [Int]) {
        if (used + 1) * 2 > slots.count {
            slots = [UInt32](repeating: .max, count: slots.count * 2)
            used = 0
            for k in 0..<Int(id) { place(UInt32(k), arena: arena, starts: starts, lengths: lengths) }
        }
        place(id, arena: arena, starts: starts, lengths: lengths)
    }

    private mutating func place(_ id: UInt32, arena: UnsafeBufferPointer<UInt8>, starts: [Int], lengths: [Int]) {
        let b = UnsafeBufferPointer(start: arena.baseAddress! + starts[Int(id)], count: lengths[Int(id)])
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: Self.hash(b)) & mask
        while slots[i] != .max { i = (i + 1) & mask }
        slots[i] = id
        used += 1
    }
}

/// For each pair, the words it occurs in: linked chunks of word indices in one pool, so hundreds of thousands of
/// short lists cost no allocation each. Most pairs occur in one or two words, so a list's first chunk holds two
/// indices and later ones thirty. Released chunks are reused.
struct WordLists {
    // A chunk: next chunk's offset in `pool` (-1: none), fill, then its indices.
    private static let small = 2, large = 30
    private var pool: [UInt32] = []
    private var head: [Int32] = []
    private var tail: [Int32] = []
    private var freeSmall: Int32 = -1
    private var freeLarge: Int32 = -1

    mutating func addList() { head.append(-1); tail.append(-1) }

    /// Reserves room for about `n` indices in total.
    mutating func reserve(_ n: Int) { pool.reserveCapacity(n) }

    private mutating func newChunk(large: Bool) -> Int32 {
        let free = large ? freeLarge : freeSmall
        if free >= 0 {
            let next = Int32(bitPattern: pool[Int(free)])
            if large { freeLarge = next } else { freeSmall = next }
            pool[Int(free)] = UInt32(bitPattern: -1)
            pool[Int(free) + 1] = 0
            return free
        }
        let c = Int32(pool.count)
        pool.append(UInt32(bitPattern: -1))
        pool.append(0)
        pool.append(contentsOf: repeatElement(0, count: large ? Self.large : Self.small))
        return c
    }

    @inline(__always)
    private func capacity(_ list: Int, _ chunk: Int32) -> Int { chunk == head[list] ? Self.small : Self.large }

    mutating func append(_ list: Int, _ word: UInt32) {
        var t = tail[list]
        if t < 0 || Int(pool[Int(t) + 1]) == capacity(list, t) {
            let c = newChunk(large: t >= 0)
            if t < 0 { head[list] = c } else { pool[Int(t)] = UInt32(bitPattern: c) }
            tail[list] = c
            t = c
        }
        let fill = Int(pool[Int(t) + 1])
        pool[Int(t) + 2 + fill] = word
        pool[Int(t) + 1] = UInt32(fill + 1)
    }

    /// Calls `body` with every word of the list, in the order they were appended.
    func forEach(_ list: Int, _ body: (UInt32) -> Void) {
        var c = head[list]
        while c >= 0 {
            let base = Int(c)
            var k = 0
            while k < Int(pool[base + 1]) {
                body(pool[base + 2 + k])
                k += 1
            }
            c = Int32(bitPattern: pool[base])
        }
    }

    /// Empties the list, returning its chunks to the pool.
    mutating func release(_ list: Int) {
        var c = head[list]
        var first = true
        while c >= 0 {
            let next = Int32(bitPattern: pool[Int(c)])
            if first {
                pool[Int(c)] = UInt32(bitPattern: freeSmall)
                freeSmall = c
            } else {
                pool[Int(c)] = UInt32(bitPattern: freeLarge)
                freeLarge = c
            }
            first = false
            c = next
        }
        head[list] = -1
        tail[list] = -1
    }
}
