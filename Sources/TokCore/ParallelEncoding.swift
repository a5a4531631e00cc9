import Dispatch

extension Tokenizer {
    /// Encodes a large in-memory text on `threads` threads; the result equals `encode(bytes:)`.
    ///
    /// The text is cut into segments of about `segmentBytes` at safe cuts (see `SafeCut`), each segment is
    /// encoded on its own, and the results are joined in order.
    public func encodeParallel(bytes text: UnsafeBufferPointer<UInt8>, threads: Int, segmentBytes: Int = 1 << 20,
                               special: SpecialTokenPolicy = .plain) throws(SpecialTokenFound) -> [UInt32] {
        // One thread gains nothing from segments, and joining them would copy every id once more.
        if threads <= 1 { return try encode(bytes: text, special: special) }
        let segments = Self.segments(of: text, target: segmentBytes,
                                     specials: special == .plain ? nil : specialTokens)
        var results = [Result<[UInt32], SpecialTokenFound>](repeating: .success([]), count: segments.count)
        let work: @Sendable (Int, UnsafeBufferPointer<UInt8>, UnsafeMutableBufferPointer<Result<[UInt32], SpecialTokenFound>>) -> Void = { k, text, rp in
            self.withEncoder { e in
            let r = segments[k]
            var out = TokenBuffer(capacity: (r.upperBound - r.lowerBound) / 3 + 16)
            rp[k] = Result { () throws(SpecialTokenFound) -> [UInt32] in
                try e.encode(UnsafeBufferPointer(rebasing: text[r]), special: special, into: &out, baseOffset: r.lowerBound)
                return out.array
            }
            }
        }
        results.withUnsafeMutableBufferPointer { rp in
            nonisolated(unsafe) let rp = rp
            nonisolated(unsafe) let text = text
            if threads <= 1 {
                for k in 0..<segments.count { work(k, text, rp) }
            } else {
                DispatchQueue.concurrentPerform(iterations: segments.count) { k in work(k, text, rp) }
            }
        }
        var ids: [UInt32] = []
        ids.reserveCapacity(results.reduce(0) { n, r in n + ((try? r.get())?.count ?? 0) })
        for r in results { ids += try r.get() }
        return ids
    }

    /// Number of tokens of a large in-memory text, counted on `threads` threads.
    public func countParallel(bytes text: UnsafeBufferPointer<UInt8>, threads: Int, segmentBytes: Int = 1 << 20) -> Int {
        let segments = Self.segments(of: text, target: segmentBytes, specials: nil)
        var counts = [Int](repeating: 0, count: segments.count)
        counts.withUnsafeMutableBufferPointer { cp in
            nonisolated(unsafe) let cp = cp
            nonisolated(unsafe) let text = text
            let body: @Sendable (Int) -> Void = { k in
                self.withEncoder { e in
                    var out = TokenBuffer(capacity: 1 << 16)
                    e.encodeOrdinary(UnsafeBufferPointer(rebasing: text[segments[k]]), into: &out)
                    cp[k] = out.count
                }
            }
            if threads <= 1 { for k in 0..<segments.count { body(k) } } else {
                DispatchQueue.concurrentPerform(iterations: segments.count, execute: body)
            }
        }
        return counts.reduce(0, +)
    }

    /// Cuts `text` into ranges of about `target` bytes at safe cuts.
    public static func segments(of text: UnsafeBufferPointer<UInt8>, target: Int, specials: SpecialTokens?) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var s = 0
        let n = text.count
        while s < n {
            if n - s <= target + target / 2 { out.append(s..<n); break }
            var window = target
            var cut: Int? = nil
            while cut == nil {
                let end = min(s + window, n)
                cut = SafeCut.lastCut(in: UnsafeBufferPointer(rebasing: text[0..<end]), above: s, specials: specials)
                if end == n { break }
                window *= 2
            }
            let c = cut ?? n
            out.append(s..<c)
            s = c
        }
        return out
    }
}
