import Dispatch
import TokCore
import Synchronization

/// A bounded queue of corpus segments between a reading thread and worker threads: `put` blocks while the queue
/// is full, so memory holds a few segments whatever the corpus size.
public final class SegmentQueue: @unchecked Sendable {
    private let items = Mutex<(list: [CorpusSegment], head: Int)>(([], 0))
    private let available = DispatchSemaphore(value: 0)
    private let space: DispatchSemaphore

    /// A queue that holds at most `capacity` segments; `put` waits while it is full.
    public init(capacity: Int) { space = DispatchSemaphore(value: capacity) }

    /// Adds a segment, waiting while the queue is full.
    public func put(_ s: CorpusSegment) {
        space.wait()
        items.withLock { q in
            q.list.append(s)
        }
        available.signal()
    }

    /// The next segment, or nil once the queue is closed and empty.
    public func take() -> CorpusSegment? {
        available.wait()
        let s: CorpusSegment? = items.withLock { q in
            if q.head < q.list.count {
                let s = q.list[q.head]
                q.list[q.head] = CorpusSegment()
                q.head += 1
                if q.head > 64 && q.head * 2 > q.list.count { q.list.removeFirst(q.head); q.head = 0 }
                return s
            }
            return nil
        }
        // After `close`, one extra signal wakes the workers in turn, each of which finds the queue empty.
        if s != nil { space.signal() } else { available.signal() }
        return s
    }

    /// No more segments: workers finish the queued ones and `take` returns nil.
    public func close() {
        available.signal()
    }
}

extension CorpusReader {
    /// Reads the corpus on the calling thread and hands its segments, in turn, to `workers` worker threads:
    /// `body(worker, segment)` runs on worker `worker` (0..<workers), so per-worker state needs no lock. With one
    /// worker everything runs on the calling thread. At most two segments per worker wait in between.
    public func process(workers: Int, onProgress: (CorpusProgress) -> Void = { _ in },
                        _ body: @escaping @Sendable (Int, CorpusSegment) -> Void) throws {
        if workers <= 1 {
            try read(emit: { body(0, $0) }, onProgress: onProgress)
            return
        }
        let queue = SegmentQueue(capacity: 2 * workers)
        let group = DispatchGroup()
        let scope = PreTokenizationFailure.currentScope
        for k in 0..<workers {
            DispatchQueue.global().async(group: group) {
                PreTokenizationFailure.within(scope) { while let s = queue.take() { body(k, s) } }
            }
        }
        defer {
            queue.close()
            group.wait()
        }
        try read(emit: { queue.put($0) }, onProgress: onProgress)
    }
}
