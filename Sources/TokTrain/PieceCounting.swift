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
        /// Counters at zero.
        public init() {}
    }

    /// Counts the pre-tokens `preTokenizer` finds in every segment `reader` produces.
    public static func count(reader: CorpusReader, preTokenizer: any PreTokenizer, threads: Int,
                             counters: Counters = Counters(),
                             onProgress: (CorpusProgress) -> Void = { _ in }) throws -> PieceCounts {
        let boxes = (0..<max(1, threads)).map { _ in TableBox() }
        try reader.process(workers: threads, onProgress: onProgress) { k, segment in
            let n = countSegment(segment, preTokenizer, into: &boxes[k].table)
            counters.pieces.add(n, ordering: .relaxed)
        }
        var total = boxes[0].table.take()
        for k in 1..<boxes.count {
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
