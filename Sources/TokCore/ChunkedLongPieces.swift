// Long pieces encoded in chunks joined at checked junctions (the state they use is declared with the encoder's
// other stored properties, under "Long pieces in chunks").

extension BytePairEncoder {
    /// Whether BPE encodes the bytes of token `a` followed by those of token `b` as exactly `[a, b]`.
    ///
    /// This is what makes chunking exact. A sequence of tokens is the BPE encoding of its bytes if and only if
    /// every token is the encoding of its own bytes and every adjacent pair is a junction in this sense. (Only
    /// if: in the merge run of the whole text, the parts inside two neighbouring final tokens evolve exactly as in
    /// the run of the pair alone, and the boundary between them never merges. If: run the whole text; by
    /// induction no boundary between the tokens is ever the lowest-ranked pair, because in the run of that pair
    /// alone, in the same state, some merge inside one of the two tokens ranks lower; ties go leftmost in both.)
    @usableFromInline
    func isJunction(_ a: UInt32, _ b: UInt32) -> Bool {
        let k = UInt64(a) << 32 | UInt64(b)
        let slot = ByteKey.slot(k, shift: UInt64(64 - BytePairEncoder.junctionCacheBits))
        if junctionKey[slot] == k { return junctionValid[slot] }
        guard let ba = table.bytes(ofRank: a), let bb = table.bytes(ofRank: b) else { return false }
        junctionBytes.update(from: ba.baseAddress!, count: ba.count)
        (junctionBytes + ba.count).update(from: bb.baseAddress!, count: bb.count)
        let n = ba.count + bb.count
        junctionOut.removeAll()
        mergeShort(junctionBytes, n, into: &junctionOut)
        let ids = junctionOut.ids
        let valid = ids.count == 2 && ids[0] == a && ids[1] == b
        junctionKey[slot] = k
        junctionValid[slot] = valid
        return valid
    }

    /// Encodes a long piece chunk by chunk, so that a long run of one character or of a short pattern (a line of
    /// dashes, `"a" * 1_000_000`) costs a memo lookup per chunk instead of a merge per byte, and no piece needs
    /// scratch memory for more than a chunk (the priority-queue merge takes about 100 bytes per byte).
    ///
    /// The tokens found so far are always the BPE encoding of the bytes they cover (their junctions were checked,
    /// see `isJunction`), and the next chunk starts where they end. The last token of a chunk is given back and
    /// encoded again with the next chunk, since a token cut by the chunk's end is rarely final. When the first
    /// token of a chunk does not form a junction with the token before it, the chunk and that token are dropped,
    /// the chunk starts one token earlier and chunks double in size from then on (up to `maxChunkBytes`): a run
    /// whose tokens are longer than a chunk (cl100k's 128 spaces) then fits. A piece whose first chunks are all
    /// new (text, not a run) goes on in chunks of `maxChunkBytes`, merged by `mergeLong`, which costs less per byte
    /// than many small chunks and their junctions there. After too many retries (a bounded number, so the worst
    /// case stays O(n log n)) the piece goes to `mergeLong` whole.
    func encodeChunked(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        chunkStats.pieces += 1
        let start = out.count
        var pos = 0
        var retries = 0, known = 0, chunks = 0
        var size = BytePairEncoder.chunkBytes
        let maxRetries = chunkRetryLimit ?? 8 + n / BytePairEncoder.chunkBytes
        while pos < n {
            let rest = chunks >= 4 && known == 0
            var end = n
            let want = rest ? BytePairEncoder.maxChunkBytes : size
            if n - pos > want {
                end = pos + want
                let floor = end - 3
                while end > floor && p[end] & 0xC0 == 0x80 { end -= 1 }   // at a character start, if one is that close
            }
            let before = out.count
            if end - pos <= BytePairEncoder.cacheKeyBytes {
                encodePart(p + pos, end - pos, into: &out)
            } else if encodeChunk(p + pos, end - pos, into: &out) {
                known += 1
            }
            chunks += 1
            chunkStats.chunks += 1
            if before > start && !isJunction(out.ids[before - 1], out.ids[before]) {
                retries += 1
                chunkStats.retries += 1
                if retries > maxRetries {
                    chunkStats.fallbacks += 1
                    out.removeLast(from: start)
                    mergeLong(p, n, into: &out)
                    return
                }
                size = min(2 * size, BytePairEncoder.maxChunkBytes)
                pos -= Int(table.keyLength[Int(out.ids[before - 1])])
                out.removeLast(from: before - 1)
                continue
            }
            if end < n && out.count - before > 1 {
                // Give back the last token, and for a large chunk of text the tokens of its last 64 bytes or so:
                // the chunk's end changes merges a few tokens back, and a junction there would fail.
                let keep = rest ? BytePairEncoder.chunkBytes : 1
                var given = 0
                repeat {
                    let len = Int(table.keyLength[Int(out.ids[out.count - 1])])
                    end -= len
                    given += len
                    out.removeLast(from: out.count - 1)
                } while given < keep && out.count - before > 1
            }
            pos = end
        }
    }

    /// Largest chunk of a long piece, in bytes: `mergeLong`'s scratch for it is about 400 KB.
    @usableFromInline static let maxChunkBytes = 4096

    /// One chunk of a long piece (more than `cacheKeyBytes` bytes, at most `maxChunkBytes`): a whole token, or
    /// from the long-piece memo, or merged and remembered. Returns whether it was known (a token or a memo hit).
    func encodeChunk(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) -> Bool {
        let prefix = ByteKey.prefixWord(p, n)
        let h = ByteKey.hash(p, n, prefix: prefix)
        if n <= maxTokenLength {
            let r = table.rank(p, n, prefix: prefix, hash: h)
            if r != .max && appendToken(r, p, n, asPart: true, into: &out) { return true }
        }
        if longMemo.lookup(p, n, hash: h, into: &out) { return true }
        let before = out.count
        if n < BytePairEncoder.longThreshold { mergeShort(p, n, into: &out) } else { mergeLong(p, n, into: &out) }
        longMemo.insert(p, n, hash: h, tokens: UnsafeBufferPointer(rebasing: out.ids[before...]))
        return false
    }
}
