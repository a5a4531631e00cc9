internal import CByteClasses

/// Byte-level BPE with tiktoken's semantics.
///
/// For each piece: if the whole piece is a token, emit it; otherwise start from single bytes and repeatedly merge
/// the adjacent pair whose *concatenated bytes* have the lowest rank (leftmost on ties) until no pair is a token.
///
/// - Short pieces (under `longThreshold` bytes) use tiktoken's scan over a small array, the fastest for the
///   pieces of real text; their results are kept in a small direct-mapped cache, since text repeats words.
/// - A piece the caches do not know, with non-ASCII bytes, is first cut where no token can span (see
///   `SpanningTokenFilter`), and its parts go through the caches: CJK or Thai runs without spaces are all distinct,
///   but the words inside them repeat.
/// - Long pieces use a linked list of parts and a priority queue of candidate merges keyed by (rank, position).
///   Candidates of one rank that arrive in increasing position order wait in a per-rank FIFO, with only its
///   head in the binary heap; so long repetitive runs (`"a" * 1_000_000`, a CJK character repeated) cost O(1)
///   per merge, and any piece costs at most O(n log n).
///
/// An encoder owns scratch memory and is not thread-safe: make one per thread from a shared `BPEModel`.
public final class BytePairEncoder {
    /// The shared tables this encoder reads.
    public let model: BPEModel
    @usableFromInline let table: RankTable
    @usableFromInline let byteRank: UnsafeMutablePointer<UInt32>
    @usableFromInline let pairRank: UnsafeMutablePointer<UInt32>
    @usableFromInline let maxTokenLength: Int
    /// The model's filter once this encoder has needed it.
    ///
    /// The encoder's mutable properties are `@exclusivity(unchecked)`: an encoder is used by one thread and never
    /// accesses one of them while an access to it is in progress, and the runtime's dynamic checks
    /// (`swift_beginAccess`, about 1% of the multilingual corpus's encode time) bought nothing.
    @usableFromInline @exclusivity(unchecked) var spanFilter: SpanningTokenFilter?
    @usableFromInline let reachable: UnsafeMutablePointer<UInt8>

    // Short-piece scratch.
    /// By part start: `rank << 7 | start` of the pair that starts there, or `Int32.max` (no pair, not a part
    /// start, or a pair whose key is still waiting, see `mergeShort`). The minimum key is the lowest rank, leftmost
    /// on ties, found by one branch-free pass.
    @usableFromInline let keys: UnsafeMutablePointer<Int32>
    @usableFromInline let nextPart: UnsafeMutablePointer<Int32>
    @usableFromInline let prevPart: UnsafeMutablePointer<Int32>
    @usableFromInline let tokens: UnsafeMutablePointer<UInt32>
    /// Whether every rank fits the 24 bits `keys` leaves it (keys are signed 32-bit words, with `Int32.max` for no
    /// pair); if not, short pieces go through `mergeLong`.
    @usableFromInline let ranksFitKeys: Bool

    // Piece cache, direct-mapped, one 64-byte line per entry so that a hit touches one cache line:
    // hash (8 bytes) | length (1) | token count (1) | 2 spare | up to 7 tokens (28) | key, zero-padded (24).
    @usableFromInline static let cacheEntries = 8192
    @usableFromInline static let cacheKeyBytes = 24
    @usableFromInline static let cacheTokens = 7
    @usableFromInline let cache: UnsafeMutableRawPointer

    /// Merged-pair cache, direct-mapped: `(left id << 20 | right id) << 21 | rank` (rank `0x1F_FFFF`: the
    /// concatenation is not a token). The same pairs come up again and again across pieces (the bytes of one
    /// character, common syllables), and two ids hash and compare far more cheaply than a byte span, while the
    /// 128 KB table stays in L2 where the rank table cannot.
    @usableFromInline let pairCache: UnsafeMutablePointer<UInt64>
    @usableFromInline static let pairCacheBits = 14
    /// Ids and ranks fit the cache's fields, and every byte is a token (so every part has an id).
    @usableFromInline let pairCacheUsable: Bool

    /// Results of recent pieces too long for `cache`.
    @exclusivity(unchecked) var longMemo = LongPieceMemo()

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

    /// An encoder over `model` with its own caches and scratch memory (about 0.7 MB, more once it meets long
    /// pieces), all empty.
    public init(model: BPEModel) {
        self.model = model
        table = model.table
        byteRank = model.byteRank
        pairRank = model.pairRank
        maxTokenLength = model.maxTokenLength
        reachable = model.reachable
        let t = BytePairEncoder.longThreshold + 2
        keys = .allocate(capacity: t); nextPart = .allocate(capacity: t); prevPart = .allocate(capacity: t)
        tokens = .allocate(capacity: t)
        ranksFitKeys = model.table.rankLimit < (1 << 24) - 1
        pairCache = .allocate(capacity: 1 << BytePairEncoder.pairCacheBits)
        pairCache.initialize(repeating: .max, count: 1 << BytePairEncoder.pairCacheBits)
        pairCacheUsable = model.table.rankLimit < (1 << 20) && model.everyByteIsToken
        junctionKey = .allocate(capacity: 1 << BytePairEncoder.junctionCacheBits)
        junctionKey.initialize(repeating: .max, count: 1 << BytePairEncoder.junctionCacheBits)
        junctionValid = .allocate(capacity: 1 << BytePairEncoder.junctionCacheBits)
        junctionValid.initialize(repeating: false, count: 1 << BytePairEncoder.junctionCacheBits)
        junctionBytes = .allocate(capacity: 2 * model.maxTokenLength + 16)
        cache = .allocate(byteCount: BytePairEncoder.cacheEntries * 64, alignment: 64)
        cache.initializeMemory(as: UInt8.self, repeating: 0, count: BytePairEncoder.cacheEntries * 64)
        charCache = .allocate(capacity: 4 << BytePairEncoder.charCacheBits)
        charCache.initialize(repeating: .max, count: 4 << BytePairEncoder.charCacheBits)
    }

    /// Forgets every cached piece and pair (keeping the memory), so the next encode runs as on a fresh encoder.
    public func clearCaches() {
        longMemo.removeAll()
        cache.initializeMemory(as: UInt8.self, repeating: 0, count: BytePairEncoder.cacheEntries * 64)
        charCache.update(repeating: .max, count: 4 << BytePairEncoder.charCacheBits)
        pairCache.update(repeating: .max, count: 1 << BytePairEncoder.pairCacheBits)
        junctionKey.update(repeating: .max, count: 1 << BytePairEncoder.junctionCacheBits)
        samplePieces = 0; sampleBytes = 0; sampleMerges = 0
    }

    /// An encoder with a model of its own; to share one model between threads, use `init(model:)`.
    public convenience init(table: RankTable) { self.init(model: BPEModel(table: table)) }

    deinit {
        pairCache.deallocate()
        junctionKey.deallocate(); junctionValid.deallocate(); junctionBytes.deallocate()
        keys.deallocate(); nextPart.deallocate(); prevPart.deallocate(); tokens.deallocate()
        cache.deallocate(); charCache.deallocate()
        next.deallocate(); prev.deallocate(); pair.deallocate(); tok.deallocate(); heap.deallocate()
        nodePos.deallocate(); nodeNext.deallocate(); bucketHead.deallocate(); bucketTail.deallocate(); bucketRank.deallocate()
        bucketOf?.deallocate()
    }

    /// Appends the tokens of the piece `p[0..<n]` (n ≥ 1) to `out`.
    @inlinable @inline(__always)
    public func encodePiece(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        encode(p, n, asPart: false, into: &out)
    }

    /// `encodePiece` for a part between cuts: the same caches, no search for cuts, and a whole token only if
    /// merging reaches it. A part that is one character of 2-4 bytes (most parts of CJK text with cl100k) goes
    /// through `charCache` first, which needs no hashing of bytes and no probe of the rank table.
    @usableFromInline @inline(__always)
    func encodePart(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        if n >= 2 && n <= 4 && n == SpanningTokenFilter.declaredLength(p[0]) {
            let key = UInt32(truncatingIfNeeded: SpanningTokenFilter.pack(p, n))
            let e = charCache + ByteKey.slot(UInt64(key), shift: UInt64(64 - BytePairEncoder.charCacheBits)) << 2
            if e[0] == key && e[1] != .max {
                out.append(e[1])
                if e[2] != .max {
                    out.append(e[2])
                    if e[3] != .max { out.append(e[3]) }
                }
                return
            }
            let before = out.count
            encode(p, n, asPart: true, into: &out)
            let c = out.count - before
            if c <= 3 {
                let ids = out.ids
                e[0] = key
                e[1] = ids[before]
                e[2] = c > 1 ? ids[before + 1] : .max
                e[3] = c > 2 ? ids[before + 2] : .max
            }
            return
        }
        encode(p, n, asPart: true, into: &out)
    }

    /// Parts of one character: entries of four words, the character's bytes (little-endian) and up to three
    /// tokens (`UInt32.max` past the last). An empty entry has no first token.
    @usableFromInline let charCache: UnsafeMutablePointer<UInt32>
    @usableFromInline static let charCacheBits = 12

    @inlinable @inline(__always)
    func encode(_ p: UnsafePointer<UInt8>, _ n: Int, asPart: Bool, into out: inout TokenBuffer) {
        encode(p, n, asPart: asPart, readable8: false, into: &out)
    }

    /// `readable8`: 8 bytes at `p` may be read, whatever `n`.
    @inlinable @inline(__always)
    func encode(_ p: UnsafePointer<UInt8>, _ n: Int, asPart: Bool, readable8: Bool, into out: inout TokenBuffer) {
        if n == 1 { out.append(byteRank[Int(p[0])]); return }
        if n == 2 {
            // Two bytes are one token when the pair is one (merging reaches it, so parts may take it too), and
            // two otherwise: one lookup in the pair table, no hashing, no cache.
            let r = pairRank(at: p)
            if r != .max { out.append(r) } else { out.append(byteRank[Int(p[0])]); out.append(byteRank[Int(p[1])]) }
            return
        }
        if n <= BytePairEncoder.cacheKeyBytes {
            let prefix = readable8 ? ByteKey.prefixWord(readable8: p, n) : ByteKey.prefixWord(p, n)
            let h = ByteKey.hash(p, n, prefix: prefix)
            if n >= 9 { prefetchCacheEntry(h) }
            if n <= maxTokenLength {
                let r = table.rank(p, n, prefix: prefix, hash: h)
                if r != .max && appendToken(r, p, n, asPart: asPart, into: &out) { return }
            }
            if n == 3 && (asPart || p[0] < 0x80 && p[1] < 0x80 && p[2] < 0x80) {
                mergeThree(p, into: &out)
                return
            }
            encodeCached(p, n, prefix: prefix, hash: h, cut: !asPart, into: &out)
            return
        }
        encodeLongPiece(p, n, cut: !asPart, into: &out)
    }

    /// The rank of the two bytes at `p`, or max.
    @inlinable @inline(__always)
    func pairRank(at p: UnsafePointer<UInt8>) -> UInt32 { pairRank[Int(p[0]) << 8 | Int(p[1])] }

    /// BPE of three bytes that are not one token (random text and code are full of such pieces): the lower-ranked
    /// of the two pairs merges (the left one on a tie, which only "aaa" can have), and then nothing more can, as
    /// the only pair left would be the whole. Pieces with non-ASCII bytes keep the path through the cut search,
    /// which also decides whether cutting pays.
    @inlinable @inline(__always)
    func mergeThree(_ p: UnsafePointer<UInt8>, into out: inout TokenBuffer) {
        let left = pairRank(at: p), right = pairRank(at: p + 1)
        if left == .max && right == .max {
            out.append(byteRank[Int(p[0])]); out.append(byteRank[Int(p[1])]); out.append(byteRank[Int(p[2])])
        } else if left <= right {
            out.append(left); out.append(byteRank[Int(p[2])])
        } else {
            out.append(byteRank[Int(p[0])]); out.append(right)
        }
    }

    /// For `p[0..<n]`, found to be the token `r`: appends `r` for a whole piece (tiktoken looks a piece up before
    /// merging), and for a part `appendPartToken`'s answer. Returns whether it appended.
    @usableFromInline @inline(__always)
    func appendToken(_ r: UInt32, _ p: UnsafePointer<UInt8>, _ n: Int, asPart: Bool, into out: inout TokenBuffer) -> Bool {
        if !asPart { out.append(r); return true }
        return appendPartToken(r, p, n, into: &out)
    }

    /// For a part `p[0..<n]` that is the token `r`: appends what BPE makes of it and returns true, unless `r` is
    /// known to be out of merges' reach (then the caller merges, through its caches).
    @usableFromInline @inline(__always)
    func appendPartToken(_ r: UInt32, _ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) -> Bool {
        let state = tok_load_relaxed_u8(reachable + Int(r))
        if state == 1 { out.append(r); return true }
        if state == 2 { return false }
        let before = out.count
        mergeShort(p, n, into: &out)
        let itself = out.count - before == 1 && out.ids[before] == r
        tok_store_relaxed_u8(reachable + Int(r), itself ? 1 : 2)
        return true
    }

    /// Encodes `p[0..<n]` as its parts between the places no token can span (see `SpanningTokenFilter`), each
    /// through the caches. Returns false, having appended nothing, when there is no such place.
    @usableFromInline
    func encodeAtCuts(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) -> Bool {
        guard model.everyByteIsToken else { return false }
        // Cuts are only looked for next to non-ASCII bytes.
        var high: UInt8 = 0
        for i in 0..<n { high |= p[i] }
        if high < 0x80 { return false }
        let filter: SpanningTokenFilter
        if let f = spanFilter {
            filter = f
        } else {
            switch tok_load_relaxed_u8(model.cutDecision) {
            case BPEModel.cutsPay:
                filter = model.spanningTokenFilter()
                spanFilter = filter
            case BPEModel.cutsDoNotPay:
                return false
            default:
                // Undecided: merge this piece whole and count its merges. Cutting pays when a piece's merges are
                // many (o200k: 0.77 per byte of non-ASCII pieces, cl100k 0.59) and costs when they are few (a
                // vocabulary of 8k tokens trained on English: 0.01, where cutting made multilingual text 18%
                // slower); it also spares a short text the filter's build when no image holds it.
                let before = out.count
                mergeWhole(p, n, into: &out)
                sampleBytes += n
                sampleMerges += n - (out.count - before)
                samplePieces += 1
                if samplePieces >= piecesToDecideCuts {
                    tok_store_relaxed_u8(model.cutDecision, sampleMerges * 4 >= sampleBytes ? BPEModel.cutsPay : BPEModel.cutsDoNotPay)
                }
                return true
            }
        }
        cutStats.pieces += 1
        var from = 0
        var k = 1
        while k < n {
            if SpanningTokenFilter.isCandidate(p, k) && filter.isCut(p, k, n) {
                encodePart(p + from, k - from, into: &out)
                from = k
            }
            k += 1
        }
        if from == 0 { return false }
        encodePart(p + from, n - from, into: &out)
        cutStats.cutPieces += 1
        return true
    }

    /// Non-ASCII pieces merged whole, and counted, before the model decides whether to cut: 512 when the filter
    /// came with the vocabulary image (the merge counts of o200k and of an English-trained 8k vocabulary differ
    /// 70-fold, so a small sample tells them apart), 4,096 when deciding yes means building it.
    @usableFromInline var piecesToDecideCuts: Int {
        model.builtSpanningTokenFilter() == nil ? BytePairEncoder.piecesToDecideCutsBuilding : BytePairEncoder.piecesToDecideCutsBuilt
    }
    @usableFromInline static let piecesToDecideCutsBuilding = 4096
    @usableFromInline static let piecesToDecideCutsBuilt = 512
    @exclusivity(unchecked) var samplePieces = 0
    @exclusivity(unchecked) var sampleBytes = 0
    @exclusivity(unchecked) var sampleMerges = 0

    /// Merges a piece that is not cut: `mergeShort`, or for a long piece `encodeChunked` (`mergeLong` when the
    /// pair cache cannot be used).
    @usableFromInline
    func mergeWhole(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        if n < BytePairEncoder.longThreshold {
            mergeShort(p, n, into: &out)
        } else if pairCacheUsable {
            encodeChunked(p, n, into: &out)
        } else {
            mergeLong(p, n, into: &out)
        }
    }

    /// What `encodeAtCuts` did, for tests: pieces searched for cuts, and pieces cut.
    @exclusivity(unchecked) var cutStats = (pieces: 0, cutPieces: 0)

    /// Encodes the pieces `base[start..<ends[0]]`, `base[ends[0]..<ends[1]]`, ... in order.
    @inlinable
    public func encodePieces(_ base: UnsafePointer<UInt8>, from start: Int, ends: UnsafeBufferPointer<Int>,
                             into out: inout TokenBuffer) {
        encodePieces(base, from: start, ends: ends, textCount: 0, into: &out)
    }

    /// `encodePieces` knowing that `base[0..<textCount]` is readable: a piece that starts at least 8 bytes before
    /// its end reads its prefix word with one masked load instead of branching on its length (which text makes
    /// unpredictable: 19% fewer simulated mispredictions on English prose, 3-13% faster there).
    @inlinable
    public func encodePieces(_ base: UnsafePointer<UInt8>, from start: Int, ends: UnsafeBufferPointer<Int>,
                             textCount: Int, into out: inout TokenBuffer) {
        var s = start
        let fastEnd = textCount &- 8
        for end in ends {
            encode(base + s, end &- s, asPart: false, readable8: s <= fastEnd, into: &out)
            s = end
        }
    }

    /// `encodePiece` for pieces too long for the piece cache: through the long-piece memo.
    /// Returns whether the tokens were already known (a whole token or a memo hit).
    @usableFromInline @discardableResult
    func encodeLongPiece(_ p: UnsafePointer<UInt8>, _ n: Int, cut: Bool, into out: inout TokenBuffer) -> Bool {
        let prefix = ByteKey.prefixWord(p, n)
        let h = ByteKey.hash(p, n, prefix: prefix)
        if n <= maxTokenLength {
            let r = table.rank(p, n, prefix: prefix, hash: h)
            if r != .max && appendToken(r, p, n, asPart: !cut, into: &out) { return true }
        }
        if longMemo.lookup(p, n, hash: h, into: &out) { return true }
        let before = out.count
        if !(cut && encodeAtCuts(p, n, into: &out)) { mergeWhole(p, n, into: &out) }
        longMemo.insert(p, n, hash: h, tokens: UnsafeBufferPointer(rebasing: out.ids[before...]))
        return false
    }

    /// Starts loading the piece-cache entry of hash `h`. Pieces of nine bytes and more are mostly not tokens (57%
    /// of them on the bench input), so the entry will be read, and the whole-piece lookup hides its latency.
    @usableFromInline @inline(__always)
    func prefetchCacheEntry(_ h: UInt64) { tok_prefetch_read(cacheEntry(h)) }

    /// The piece-cache entry (one 64-byte line) of hash `h`.
    @usableFromInline @inline(__always)
    func cacheEntry(_ h: UInt64) -> UnsafeMutableRawPointer {
        cache + (Int(truncatingIfNeeded: h >> 7) & (BytePairEncoder.cacheEntries - 1)) * 64
    }

    @usableFromInline
    func encodeCached(_ p: UnsafePointer<UInt8>, _ n: Int, prefix: UInt64, hash h: UInt64, cut: Bool, into out: inout TokenBuffer) {
        let e = cacheEntry(h)
        let key = (e + 40).assumingMemoryBound(to: UInt8.self)
        if e.load(as: UInt64.self) == h && Int(e.load(fromByteOffset: 8, as: UInt8.self)) == n && keyEqual(e, p, n, prefix: prefix) {
            let c = Int(e.load(fromByteOffset: 9, as: UInt8.self))
            let dst = out.reserveTail(c)
            let src = (e + 12).assumingMemoryBound(to: UInt32.self)
            for k in 0..<c { dst[k] = src[k] }
            out.didAppend(c)
            return
        }
        let before = out.count
        if !(cut && encodeAtCuts(p, n, into: &out)) { mergeShort(p, n, into: &out) }
        let c = out.count - before
        if c <= BytePairEncoder.cacheTokens {
            e.storeBytes(of: h, as: UInt64.self)
            e.storeBytes(of: UInt8(n), toByteOffset: 8, as: UInt8.self)
            e.storeBytes(of: UInt8(c), toByteOffset: 9, as: UInt8.self)
            // The first word zero-padded, as `keyEqual` compares it whole.
            e.storeBytes(of: prefix, toByteOffset: 40, as: UInt64.self)
            if n > 8 { (key + 8).update(from: p + 8, count: n - 8) }
            let dst = (e + 12).assumingMemoryBound(to: UInt32.self)
            let ids = out.ids
            for k in 0..<c { dst[k] = ids[before + k] }
        }
    }

    /// Whether the key of piece-cache entry `e` (its first word zero-padded, its length already equal to `n`,
    /// 3 ≤ n ≤ 24) is `p[0..<n]`, whose first word is `prefix`: whole words, overlapping at the end, and no loop
    /// over the length. (`RankTable.tailEqual` after the first word would do, but its loop for 17-24 bytes made
    /// the bench input 3-5% slower.)
    @usableFromInline @inline(__always)
    func keyEqual(_ e: UnsafeMutableRawPointer, _ p: UnsafePointer<UInt8>, _ n: Int, prefix: UInt64) -> Bool {
        if e.load(fromByteOffset: 40, as: UInt64.self) != prefix { return false }
        if n <= 8 { return true }
        let q = UnsafeRawPointer(p)
        let tail = e.loadUnaligned(fromByteOffset: 32 &+ n, as: UInt64.self) == q.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        if n <= 16 { return tail }
        return tail && e.load(fromByteOffset: 48, as: UInt64.self) == q.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
    }

    // MARK: Long pieces in chunks

    /// Bytes per chunk of a long piece (cut back to a character start); under `longThreshold`, so that a chunk is
    /// merged by `mergeShort` and remembered by the long-piece memo.
    @usableFromInline static let chunkBytes = 64

    /// What `encodeChunked` did, for tests: pieces, chunks, junction retries, and whole-piece fallbacks.
    @exclusivity(unchecked) var chunkStats = (pieces: 0, chunks: 0, retries: 0, fallbacks: 0)
    /// Junction retries a long piece may take before it is merged whole; nil: 8 plus one per 64 bytes. (Tests set
    /// it low to reach the whole-piece fallback, which real text rarely needs.)
    @exclusivity(unchecked) var chunkRetryLimit: Int? = nil

    /// Junction cache, direct-mapped by `(a << 32 | b)`: whether `isJunction(a, b)`.
    let junctionKey: UnsafeMutablePointer<UInt64>
    let junctionValid: UnsafeMutablePointer<Bool>
    static let junctionCacheBits = 10
    /// The bytes of a token pair being checked, and its encoding.
    let junctionBytes: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) var junctionOut = TokenBuffer(capacity: 256)

    /// Rank of the token spanning `p[a..<b]`, or max when it is longer than any token.
    @usableFromInline @inline(__always)
    func spanRank(_ p: UnsafePointer<UInt8>, _ a: Int, _ b: Int) -> UInt32 {
        let len = b - a
        if len > maxTokenLength { return .max }
        return table.rank(p + a, len)
    }

    /// The rank of the token made of the part `left` (bytes `p[a..<m]`) followed by the part `right` (`p[m..<b]`),
    /// or max: `spanRank(p, a, b)` through the pair cache.
    @usableFromInline @inline(__always)
    func mergedRank(_ left: UInt32, _ right: UInt32, _ p: UnsafePointer<UInt8>, _ a: Int, _ b: Int) -> UInt32 {
        if !pairCacheUsable { return spanRank(p, a, b) }
        let k = UInt64(left) << 20 | UInt64(right)
        let slot = ByteKey.slot(k, shift: UInt64(64 - BytePairEncoder.pairCacheBits))
        let e = pairCache[slot]
        if e >> 21 == k {
            let r = UInt32(truncatingIfNeeded: e & 0x1F_FFFF)
            return r == 0x1F_FFFF ? .max : r
        }
        let r = spanRank(p, a, b)
        pairCache[slot] = k << 21 | (r == .max ? 0x1F_FFFF : UInt64(r))
        return r
    }

    /// tiktoken's merge loop for a piece of 2 ≤ n < `longThreshold` bytes (longer ones, and vocabularies whose
    /// ranks do not fit `keys`, go to `mergeLong`). Parts are linked by start offset; each step finds the minimum
    /// key in one pass over `keys` (dead entries hold `Int32.max`), so nothing is shifted and the pass has no
    /// data-dependent branches.
    @usableFromInline
    func mergeShort(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        if !ranksFitKeys || n >= BytePairEncoder.longThreshold { mergeLong(p, n, into: &out); return }
        let keys = self.keys, nx = self.nextPart, pv = self.prevPart, toks = self.tokens
        @inline(__always) func key(_ r: UInt32, _ i: Int) -> Int32 { r == .max ? .max : Int32(truncatingIfNeeded: r << 7 | UInt32(truncatingIfNeeded: i)) }
        var i = 0
        while i < n - 1 {
            keys[i] = key(pairRank(at: p + i), i)
            toks[i] = byteRank[Int(p[i])]
            nx[i] = Int32(i + 1); pv[i] = Int32(i - 1)
            i += 1
        }
        toks[n - 1] = byteRank[Int(p[n - 1])]
        nx[n - 1] = Int32(n); pv[n - 1] = Int32(n - 2)
        let pairs = n - 1
        // The minimum pass reads the keys four at a time with no loop for the rest, whose trip count the piece
        // lengths make unpredictable: keys up to the next multiple of 4 hold max.
        let quads = (pairs + 3) & ~3
        for k in pairs..<quads { keys[k] = .max }
        // The keys of the two pairs a merge makes wait outside `keys` (which holds max there) until after the next
        // minimum pass, and join it through a branch that is rarely taken: the pass and the next merge then do not
        // wait for their lookups (a pair-cache load, or on a miss a rank-table probe), which the core speculates
        // past instead of stalling on. `dummy` is a slot past every pass.
        let dummy = BytePairEncoder.longThreshold + 1
        var pendingRight = dummy, pendingRightKey = Int32.max
        var pendingLeft = dummy, pendingLeftKey = Int32.max
        while true {
            // Scalar loads, in four chains: the keys just written are 4-byte stores, from which a wider load could
            // not take its data in the store buffer; it would wait for them to reach the cache, behind the lookups
            // still in flight (`tok_opaque_i32` keeps LLVM from widening the loads again).
            var m0 = tok_opaque_i32(keys[0]), m1 = tok_opaque_i32(keys[1])
            var m2 = tok_opaque_i32(keys[2]), m3 = tok_opaque_i32(keys[3])
            var k = 4
            while k < quads {
                m0 = min(m0, tok_opaque_i32(keys[k])); m1 = min(m1, tok_opaque_i32(keys[k &+ 1]))
                m2 = min(m2, tok_opaque_i32(keys[k &+ 2])); m3 = min(m3, tok_opaque_i32(keys[k &+ 3]))
                k &+= 4
            }
            var m = min(min(m0, m1), min(m2, m3))
            let pending = min(pendingRightKey, pendingLeftKey)
            if pending < m { tok_keep_branch(); m = pending }
            keys[pendingRight] = pendingRightKey
            keys[pendingLeft] = pendingLeftKey
            if m == .max { break }
            let mk = UInt32(truncatingIfNeeded: m)
            let a = Int(mk & 127)
            let j = Int(nx[a])
            let c = Int(nx[j])
            toks[a] = mk >> 7
            keys[j] = .max
            nx[a] = Int32(c)
            keys[a] = .max
            pendingRight = a
            if c < n {
                pv[c] = Int32(a)
                pendingRightKey = key(mergedRank(mk >> 7, toks[c], p, a, Int(nx[c])), a)
            } else {
                pendingRightKey = .max
            }
            if a > 0 {
                let h = Int(pv[a])
                keys[h] = .max
                pendingLeft = h
                pendingLeftKey = key(mergedRank(toks[h], mk >> 7, p, h, c), h)
            } else {
                pendingLeft = dummy
                pendingLeftKey = .max
            }
        }
        var k = 0
        while k < n {
            out.append(toks[k])
            k = Int(nx[k])
        }
    }
}
