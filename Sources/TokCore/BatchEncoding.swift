import Dispatch
import Synchronization

/// A special-token string found by `Tokenizer.encodeBatch` under `SpecialTokenPolicy.error`: the first one in the
/// text of the lowest index that has one.
public struct SpecialTokenFoundInBatch: Error, CustomStringConvertible, Sendable {
    /// Index of the text in the batch.
    public var index: Int
    /// The special string and its byte offset in that text.
    public var found: SpecialTokenFound
    public var description: String { "text \(index): \(found)" }
}

/// An unknown id met by `Tokenizer.decodeBatch`: in the id list of the lowest index that has one.
public struct UnknownTokenIDInBatch: Error, CustomStringConvertible, Sendable {
    /// Index of the id list in the batch.
    public var index: Int
    /// The id and its position in that list.
    public var unknown: UnknownTokenID
    public var description: String { "list \(index): \(unknown)" }
}

/// Many independent texts at once, as tiktoken's `encode_batch` / `decode_batch` and HF's `encode_batch`.
extension Tokenizer {
    /// Encodes each text of `texts` on up to `threads` threads; `result[i]` is `encode(texts[i], special:)`.
    public func encodeBatch(_ texts: [String], threads: Int,
                            special: SpecialTokenPolicy = .plain) throws(SpecialTokenFoundInBatch) -> [[UInt32]] {
        var results = [[UInt32]](repeating: [], count: texts.count)
        var failures = [SpecialTokenFound?](repeating: nil, count: specialTokens.canRefuse(under: special) ? texts.count : 0)
        results.withUnsafeMutableBufferPointer { rp in
            failures.withUnsafeMutableBufferPointer { fp in
                nonisolated(unsafe) let rp = rp, fp = fp
                forEachText(texts, threads: threads) { e, i, text in
                    do throws(SpecialTokenFound) { rp[i] = try e.ids(text, special: special) } catch { fp[i] = error }
                }
            }
        }
        if let k = failures.firstIndex(where: { $0 != nil }) {
            throw SpecialTokenFoundInBatch(index: k, found: failures[k]!)
        }
        return results
    }

    /// Token counts of each text of `texts` (special strings as ordinary text, after the normalizer as `count`
    /// does), on up to `threads` threads.
    public func countBatch(_ texts: [String], threads: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: texts.count)
        counts.withUnsafeMutableBufferPointer { cp in
            nonisolated(unsafe) let cp = cp
            forEachText(texts, threads: threads) { e, i, text in cp[i] = e.count(text) }
        }
        return counts
    }

    /// Decodes each id list of `batch`; `result[i]` is `decode(batch[i])`.
    public func decodeBatch(_ batch: [[UInt32]]) throws(UnknownTokenIDInBatch) -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(batch.count)
        for (i, ids) in batch.enumerated() {
            do throws(UnknownTokenID) { out.append(try decode(ids)) } catch {
                throw UnknownTokenIDInBatch(index: i, unknown: error)
            }
        }
        return out
    }

    /// Calls `body(encoder, i, utf8)` once for every text, on up to `threads` threads. Threads take texts in
    /// short runs from a shared counter, so a batch of a few long texts and many short ones keeps every thread
    /// busy; each thread keeps one pooled encoder throughout (its caches stay warm across texts).
    private func forEachText(_ texts: [String], threads: Int,
                             _ body: @Sendable (TokenEncoder, Int, UnsafeBufferPointer<UInt8>) -> Void) {
        let workers = max(1, min(threads, texts.count))
        // Runs short enough that a thread rarely waits long for the last one, long enough that the counter is
        // touched once per several short texts.
        let run = max(1, min(64, texts.count / (workers * 16)))
        let next = Atomic<Int>(0)
        let scope = PreTokenizationFailure.currentScope
        @Sendable func work(_: Int) {
            PreTokenizationFailure.within(scope) { self.withEncoder { e in
                while true {
                    let first = next.add(run, ordering: .relaxed).oldValue
                    if first >= texts.count { break }
                    for i in first..<min(first + run, texts.count) {
                        var text = texts[i]
                        text.withUTF8 { body(e, i, $0) }
                    }
                }
            } }
        }
        if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
    }
}
