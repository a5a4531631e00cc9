import Dispatch
import Synchronization
import TokCore

/// Counts the pre-tokens of a corpus on several threads.
///
/// The calling thread reads the corpus and hands segments to worker threads, each of which pre-tokenizes them and
/// counts into a table of its own; the tables are summed at the end. Sums do not depend on which thread counted
/// what, so the result is the same for any thread count. At most two segments per worker wait in the queue, so
/// memory holds the tables plus a few segments, whatever the corpus size.
public enum PieceCounting {
    /// Live counters for progress reports.
    public final class Counters: Sendable {
        /// Pre-tokens counted so far.
        public let pieces = Atomic<Int>(0)
        public init() {}
    }

    /// Counts the pre-tokens `preTokenizer` finds in every segment `reader` produces.
    public static func count(reader: CorpusReader, preTokenizer: any PreTokenizer, threads: Int,
                             counters: Counters = Counters(),
                             onProgress: (CorpusProgress) -> Void = { _ in }) throws -> PieceCounts {
        if threads <= 1 {
            var table = PieceCounts(expected: 1 << 16)
            try reader.read(emit: { segment in
                let n = countSegment(segment, preTokenizer, into: &table)
                counters.pieces.add(n, ordering: .relaxed)
            }, onProgress: onProgress)
            return table
        }
        let queue = SegmentQueue(capacity: 2 * threads)
        let boxes = (0..<threads).map { _ in TableBox() }
        let group = DispatchGroup()
        for k in 0..<threads {
            let box = boxes[k]
            DispatchQueue.global().async(group: group) {
                while let segment = queue.take() {
                    let n = countSegment(segment, preTokenizer, into: &box.table)
                    counters.pieces.add(n, ordering: .relaxed)
                }
            }
        }
        do {
            try reader.read(emit: { queue.put($0) }, onProgress: onProgress)
        } catch {
            queue.close()
            group.wait()
            throw error
        }
        queue.close()
        group.wait()
        var total = boxes[0].table.take()
        for k in 1..<threads {
            let t = boxes[k].table.take()
            total.merge(t)
        }
        return total
    }

    /// Counts the pieces of each text of `segment`; returns how many pieces there were.
    static func countSegment(_ segment: CorpusSegment, _ pre: any PreTokenizer, into table: inout PieceCounts) -> Int {
        var pieces = 0
        segment.bytes.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress else { return }
            var start = 0
            for end in segment.ends {
                let text = UnsafeBufferPointer(rebasing: all[start..<end])
                var s = start
                pre.forEachBatch(text) { batch in
                    for e in batch {
                        let absolute = start + e
                        table.add(base + s, absolute - s)
                        s = absolute
                    }
                    pieces += batch.count
                }
                start = end
            }
        }
        return pieces
    }

    /// One worker's table.
    final class TableBox: @unchecked Sendable {
        var table = PieceCounts(expected: 1 << 16)
    }
}

extension PieceCounts {
    /// Moves the table out, leaving an empty one.
    mutating func take() -> PieceCounts {
        var empty = PieceCounts(expected: 16)
        swap(&self, &empty)
        return empty
    }
}
