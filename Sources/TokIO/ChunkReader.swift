/// Hands out an input as a sequence of large contiguous chunks, letting the caller keep an unfinished tail.
///
/// Typical use, where a line or pre-token may straddle two chunks:
///
///     let reader = ChunkReader(source: try InputSource(path: path))
///     while let chunk = try reader.next() {
///         let done = chunk.isFinal ? chunk.bytes.count : lastSafeCut(chunk.bytes)
///         process(UnsafeBufferPointer(rebasing: chunk.bytes[..<done]))
///         reader.consume(upTo: done)   // bytes[done...] come back at the start of the next chunk
///     }
///
/// Each chunk is the kept tail of the previous chunk followed by newly read input. Memory stays bounded: the
/// buffer holds twice the chunk size and grows only while the caller keeps more than one chunk's worth of tail.
/// Exactly one chunk, the last, has `isFinal == true` (it may be empty, for example for empty input), so callers
/// have one place to flush whatever they still hold.
public final class ChunkReader {
    /// One contiguous view of the input.
    public struct Chunk {
        /// The bytes; valid only until the next call to `next()`.
        public let bytes: UnsafeBufferPointer<UInt8>
        /// Offset of `bytes[0]` from the start of the (decompressed) input.
        public let offset: Int
        /// Whether this is the last chunk: the input has ended and nothing follows `bytes`.
        public let isFinal: Bool
    }

    /// The amount of new input each chunk aims for.
    public let chunkSize: Int
    private let source: ByteSource
    private let eager: Bool
    private var buffer: UnsafeMutableRawBufferPointer
    /// Valid bytes in `buffer`, from 0.
    private var filled = 0
    /// Where the caller's kept tail starts in `buffer`; `filled` when nothing is kept.
    private var keepFrom = 0
    /// Input offset of `buffer[0]`.
    private var bufferOffset = 0
    private var finished = false

    /// - Parameters:
    ///   - source: where the bytes come from, usually an `InputSource`.
    ///   - chunkSize: how much new input each chunk should bring (default 1 MiB).
    ///   - eager: hand out whatever one read returns instead of filling a whole chunk. Use it for interactive
    ///     input (a terminal or a slow pipe), where waiting for a full chunk would delay output.
    public init(source: ByteSource, chunkSize: Int = 1 << 20, eager: Bool = false) {
        precondition(chunkSize > 0, "chunkSize must be positive")
        self.source = source
        self.chunkSize = chunkSize
        self.eager = eager
        buffer = .allocate(byteCount: 2 * chunkSize, alignment: 16)
        buffer.bindMemory(to: UInt8.self)
    }

    deinit { buffer.deallocate() }

    /// Marks `bytes[..<k]` of the chunk last returned by `next()` as consumed; `bytes[k...]` will start the next
    /// chunk. Without a call, the whole chunk counts as consumed. Bytes kept from the final chunk are dropped.
    public func consume(upTo k: Int) {
        // A chunk always starts at buffer[0]: the kept tail is moved to the front before reading more.
        precondition(k >= 0 && k <= filled, "consume(upTo:) beyond the end of the chunk")
        keepFrom = k
    }

    /// Returns the next chunk, or `nil` after the final chunk has been returned.
    ///
    /// Blocks until a whole chunk of new input has arrived or the input ends (unless `eager`).
    /// Throws whatever the source throws (`TokIOError` for an `InputSource`).
    public func next() throws -> Chunk? {
        if finished { return nil }
        // Move the kept tail to the front.
        let kept = filled - keepFrom
        if kept > 0 && keepFrom > 0 {
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + keepFrom, byteCount: kept)
        }
        bufferOffset += keepFrom
        filled = kept
        keepFrom = 0
        // Leave room for a full chunk of new input; grows only when the caller keeps more than one chunk.
        if buffer.count - filled < chunkSize {
            var capacity = buffer.count
            while capacity - filled < chunkSize { capacity *= 2 }
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
            bigger.bindMemory(to: UInt8.self)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: filled)
            buffer.deallocate()
            buffer = bigger
        }
        let target = filled + chunkSize
        var atEOF = false
        while filled < target {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<buffer.count]))
            if n == 0 { atEOF = true; break }
            filled += n
            if eager { break }
        }
        if atEOF { finished = true }
        // A default of "everything consumed" unless the caller says otherwise.
        keepFrom = filled
        let bytes = UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: filled)
        return Chunk(bytes: bytes, offset: bufferOffset, isFinal: atEOF)
    }
}
