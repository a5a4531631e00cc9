import Synchronization

/// Large scratch buffers kept for the next input instead of freed.
///
/// `tok encode` fixes glibc's mmap threshold at 1 MB (see `EncodeRunner`), so each megabyte buffer an input needs
/// (the reader's staging buffer, the pipeline's read buffer, the writer's output buffer) was a fresh mapping,
/// faulted in when touched and unmapped when freed: 10,000 files of 1 KB through `--files-from` spent 62% of their
/// time in the kernel (`mmap`, `munmap`, page faults). Buffers given back here serve the next input.
enum ScratchBuffers {
    private struct Held: @unchecked Sendable { let buffer: UnsafeMutableRawBufferPointer }
    private static let held = Mutex<[Held]>([])
    /// At most this many buffers wait (an input holds three; with several threads, `EncodePipeline.run(paths:)`
    /// reads one on the calling thread and batches of small files on the workers), and none above `largest`: a
    /// buffer grown for one huge line is not kept.
    private static let limit = 16
    private static let largest = 2 << 20

    /// A buffer of at least `capacity` bytes (contents undefined): a kept one if one is large enough.
    static func take(capacity: Int) -> UnsafeMutableRawBufferPointer {
        let kept = held.withLock { list -> UnsafeMutableRawBufferPointer? in
            guard let k = list.lastIndex(where: { $0.buffer.count >= capacity }) else { return nil }
            return list.remove(at: k).buffer
        }
        return kept ?? .allocate(byteCount: capacity, alignment: 16)
    }

    /// Keeps `buffer` (from `take` or allocated with alignment 16) for a later `take`, or frees it.
    static func give(_ buffer: UnsafeMutableRawBufferPointer) {
        let keep = buffer.count <= largest && held.withLock { list -> Bool in
            guard list.count < limit else { return false }
            list.append(Held(buffer: buffer))
            return true
        }
        if !keep { buffer.deallocate() }
    }
}
