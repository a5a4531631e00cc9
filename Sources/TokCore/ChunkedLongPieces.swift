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
    /// dashes, `"a" * 1_000_000`) costs a memo lookup per chunk instead of a merge per byte.
    ///
    /// The tokens found so far are always the BPE encoding of the bytes they cover (their junctions were checked,
    /// see `isJunction`), and the next chunk starts where they end. The last token of a chunk is given back and
    /// encoded again with the next chunk, since a token cut by the chunk's end is rarely final. When the first
    /// token of a chunk does not form a junction with the token before it, the chunk and that token are dropped
    /// and the chunk starts one token earlier. A piece whose first chunks are all new (text, not a run) takes the
    /// rest in one `mergeLong` chunk; after too many retries (a bounded number, so the worst case stays O(n log n))
    /// the piece goes to `mergeLong` whole.
    func encodeChunked(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout TokenBuffer) {
        chunkStats.pieces += 1
        let start = out.count
        var pos = 0
        var retries = 0, known = 0, chunks = 0, restRetries = 0
        let maxRetries = 8 + n / BytePairEncoder.chunkBytes
        while pos < n {
            let rest = chunks >= 4 && known == 0
            var end = n
            if !rest && n - pos > BytePairEncoder.chunkBytes {
                end = pos + BytePairEncoder.chunkBytes
                let floor = end - 3
                while end > floor && p[end] & 0xC0 == 0x80 { end -= 1 }   // at a character start, if one is that close
            }
            let before = out.count
            if end - pos < BytePairEncoder.longThreshold {
                if end - pos > BytePairEncoder.cacheKeyBytes {
                    if encodeLongPiece(p + pos, end - pos, cut: false, into: &out) { known += 1 }
                } else {
                    encodePart(p + pos, end - pos, into: &out)
                }
            } else {
                mergeLong(p + pos, end - pos, into: &out)
            }
            chunks += 1
            chunkStats.chunks += 1
            if before > start && !isJunction(out.ids[before - 1], out.ids[before]) {
                retries += 1
                chunkStats.retries += 1
                if rest { restRetries += 1 }
                if retries > maxRetries || restRetries > 2 {
                    chunkStats.fallbacks += 1
                    out.removeLast(from: start)
                    mergeLong(p, n, into: &out)
                    return
                }
                pos -= Int(table.keyLength[Int(out.ids[before - 1])])
                out.removeLast(from: before - 1)
                continue
            }
            if end < n && out.count - before > 1 {
                end -= Int(table.keyLength[Int(out.ids[out.count - 1])])
                out.removeLast(from: out.count - 1)
            }
            pos = end
        }
    }
}
