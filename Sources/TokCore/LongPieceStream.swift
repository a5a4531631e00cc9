/// One pre-token too long to hold in memory (a gigabyte of one letter, of NUL bytes, of Chinese without
/// punctuation), encoded as its bytes arrive.
///
/// Exactness rests on the junction property of BPE (`BytePairEncoder.isJunction`): a sequence of tokens is the
/// encoding of its bytes if and only if each token encodes its own bytes and every adjacent pair is a junction.
/// The stream holds the last bytes of the piece with their tokens not yet given out. Each time it has enough
/// bytes it encodes what it holds (chunked, so that every pair inside is a junction), checks that the first of
/// those tokens forms a junction with the last token already given out, and gives out the tokens that end more
/// than `keepBytes` before the end of what it holds. The tokens given out so far and those held are then always
/// the encoding of the bytes seen so far, and the last call (`final`) gives out the rest: the encoding of the
/// whole piece, as tiktoken would make it.
///
/// The check can fail only if more bytes changed the piece's encoding more than `keepBytes` back: no real text
/// does, but a vocabulary can be built to. The stream then reports it (`feed` returns false) rather than give
/// wrong tokens, as the ones already given out cannot be taken back.
public struct LongPieceStream {
    /// Bytes of the piece whose tokens have not been given out.
    var held: [UInt8] = []
    /// The last token given out.
    var last: UInt32? = nil
    /// Bytes whose tokens are kept back, since more bytes may still change them.
    public let keepBytes: Int
    /// Bytes encoded at a time beyond `keepBytes`: what the stream holds at most is about the sum of the two.
    public let stepBytes: Int
    /// Bytes of the piece given to `feed` so far.
    public internal(set) var bytesSeen = 0

    /// A stream for one piece. `keepBytes` bounds how far back more bytes may change the encoding (64 KB by
    /// default); each step re-encodes that much again, so a longer `stepBytes` costs less per byte.
    public init(keepBytes: Int = 64 << 10, stepBytes: Int = 256 << 10) {
        self.keepBytes = max(keepBytes, 256)
        self.stepBytes = max(stepBytes, 256)
    }

    /// A stream for a piece whose tokens continue those of the piece before it, which ended with `token`: the
    /// stream's first tokens must form a junction with it (see `BytePairEncoder.isJunction`), or `feed` fails.
    public init(keepBytes: Int, stepBytes: Int, after token: UInt32?) {
        self.init(keepBytes: keepBytes, stepBytes: stepBytes)
        last = token
    }

    /// The last token given out (or the one the stream was started after).
    public var lastToken: UInt32? { last }
}

extension TokenEncoder {
    /// Feeds the next bytes of a long piece (`final`: its last ones) and appends to `out` the tokens they make
    /// final. Returns false if the tokens already given out cannot be continued exactly (see `LongPieceStream`);
    /// the stream is then spent.
    ///
    /// The piece must be one pre-token of this tokenizer's pre-tokenizer, longer than any token: its tokens are
    /// those of BPE over its bytes, with no whole-piece lookup. No normalizer is applied.
    public func feed(_ stream: inout LongPieceStream, _ bytes: UnsafeBufferPointer<UInt8>, final: Bool,
                     into out: inout TokenBuffer) -> Bool {
        stream.bytesSeen += bytes.count
        stream.held.append(contentsOf: bytes)
        let window = stream.keepBytes + stream.stepBytes
        var tokens = TokenBuffer(capacity: window / 2 + 16)
        // Steps of `window` bytes, each giving out the tokens of about its first `stepBytes`.
        while stream.held.count >= window && !(final && stream.held.count == window) {
            tokens.removeAll()
            stream.held.withUnsafeBufferPointer { bpe.mergeWhole($0.baseAddress!, window, into: &tokens) }
            let ids = tokens.ids
            if let l = stream.last, !bpe.isJunction(l, ids[0]) { return false }
            // At least one token is kept back (tokens are far shorter than `stepBytes`), so that the next step
            // starts where a token of this one starts.
            var take = 0, covered = 0
            while take < ids.count - 1 {
                let len = Int(bpe.table.keyLength[Int(ids[take])])
                if covered + len > stream.stepBytes { break }
                covered += len
                take += 1
            }
            guard take > 0 else { break }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: ids[0..<take]))
            stream.last = ids[take - 1]
            stream.held.removeFirst(covered)
        }
        guard final, !stream.held.isEmpty else { return true }
        tokens.removeAll()
        if let (_, r) = wholePieceToken(stream, then: UnsafeBufferPointer(start: nil, count: 0)) {
            tokens.append(r)   // a piece no longer than a token after all: tiktoken's whole-piece lookup first
        } else if stream.held.count == 1 {
            tokens.append(bpe.byteRank[Int(stream.held[0])])   // `mergeWhole` takes two bytes or more
        } else {
            stream.held.withUnsafeBufferPointer { bpe.mergeWhole($0.baseAddress!, $0.count, into: &tokens) }
        }
        if let l = stream.last, !bpe.isJunction(l, tokens.ids[0]) { return false }
        out.append(contentsOf: tokens.ids)
        stream.last = tokens.ids[tokens.count - 1]
        stream.held.removeAll()
        return true
    }
}

extension TokenEncoder {
    /// Whether ending the piece of `stream` with `bytes` (`final`) gives the tokens that BPE's merges give those
    /// bytes inside a longer piece: always, unless the piece is a token that the merges do not build (`feed` then
    /// gives the token, as tiktoken's whole-piece lookup does).
    public func endingAgreesWithMerges(_ stream: LongPieceStream, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let (piece, r) = wholePieceToken(stream, then: bytes), piece.count > 1 else { return true }
        var tokens = TokenBuffer(capacity: piece.count + 16)
        piece.withUnsafeBufferPointer { bpe.mergeWhole($0.baseAddress!, $0.count, into: &tokens) }
        return tokens.count == 1 && tokens.ids[0] == r
    }

    /// The piece of `stream` continued by `more`, and the token it is, when tiktoken would look it up whole: nothing
    /// given out yet and no longer than a token. Otherwise nil.
    func wholePieceToken(_ stream: LongPieceStream, then more: UnsafeBufferPointer<UInt8>) -> (piece: [UInt8], rank: UInt32)? {
        guard stream.last == nil, stream.held.count + more.count <= bpe.table.maxKeyLength else { return nil }
        let piece = stream.held + Array(more)
        return bpe.table.rank(of: piece).map { (piece, $0) }
    }
}
