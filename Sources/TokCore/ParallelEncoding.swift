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
        let segments = Self.segments(of: text, target: segmentBytes, rule: preTokenizer.cutRule,
                                     asciiOnly: normalizer != nil, inert: normalizer?.inertCharacters,
                                     specials: special == .plain ? nil : specialTokens)
        // Each segment's ids stay in its own buffer (room for one id per two bytes, as `encode(bytes:)` gives its
        // one, so that it rarely grows) until all are done; then every segment is copied to its place in the
        // result, in parallel. Copying each to an array first and joining those on one thread (a serial tail)
        // made two threads 0-4% slower (means of six alternating runs, not significant on this noisy machine).
        typealias Part = Result<UnsafeMutableBufferPointer<UInt32>, SpecialTokenFound>
        var parts = [Part](repeating: .success(UnsafeMutableBufferPointer(start: nil, count: 0)), count: segments.count)
        defer { for case .success(let b) in parts { b.baseAddress?.deallocate() } }
        let scope = PreTokenizationFailure.currentScope
        parts.withUnsafeMutableBufferPointer { pp in
            nonisolated(unsafe) let pp = pp
            nonisolated(unsafe) let text = text
            DispatchQueue.concurrentPerform(iterations: segments.count) { k in
                PreTokenizationFailure.within(scope) { self.withEncoder { e in
                    let r = segments[k]
                    var out = TokenBuffer(capacity: (r.upperBound - r.lowerBound) / 2 + 16)
                    do throws(SpecialTokenFound) {
                        try e.encode(UnsafeBufferPointer(rebasing: text[r]), special: special, into: &out, baseOffset: r.lowerBound)
                        pp[k] = .success(out.takeStorage())
                    } catch {
                        pp[k] = .failure(error)
                    }
                } }
            }
        }
        var offsets = [Int](repeating: 0, count: segments.count + 1)
        for (k, p) in parts.enumerated() {
            switch p {
            case .success(let b): offsets[k + 1] = offsets[k] + b.count
            case .failure(let f): throw f
            }
        }
        let total = offsets[segments.count]
        let starts = offsets
        return parts.withUnsafeBufferPointer { pp in
            nonisolated(unsafe) let pp = pp
            return [UInt32](unsafeUninitializedCapacity: total) { dst, n in
                nonisolated(unsafe) let dst = dst
                DispatchQueue.concurrentPerform(iterations: segments.count) { k in
                    if case .success(let b) = pp[k], let src = b.baseAddress {
                        (dst.baseAddress! + starts[k]).initialize(from: src, count: b.count)
                    }
                }
                n = total
            }
        }
    }

    /// `encodeParallel` on the bytes of an array.
    public func encodeParallel(bytes: [UInt8], threads: Int, segmentBytes: Int = 1 << 20,
                               special: SpecialTokenPolicy = .plain) throws(SpecialTokenFound) -> [UInt32] {
        let r = bytes.withUnsafeBufferPointer { b in
            Result { () throws(SpecialTokenFound) -> [UInt32] in
                try encodeParallel(bytes: b, threads: threads, segmentBytes: segmentBytes, special: special)
            }
        }
        return try r.get()
    }

    /// `countParallel` on the bytes of an array.
    public func countParallel(bytes: [UInt8], threads: Int, segmentBytes: Int = 1 << 20) -> Int {
        bytes.withUnsafeBufferPointer { countParallel(bytes: $0, threads: threads, segmentBytes: segmentBytes) }
    }

    /// Number of tokens of a large in-memory text, counted on `threads` threads (normalized first, as `encode`
    /// does; special strings are ordinary text).
    public func countParallel(bytes text: UnsafeBufferPointer<UInt8>, threads: Int, segmentBytes: Int = 1 << 20) -> Int {
        let segments = Self.segments(of: text, target: segmentBytes, rule: preTokenizer.cutRule,
                                     asciiOnly: normalizer != nil, inert: normalizer?.inertCharacters, specials: nil)
        var counts = [Int](repeating: 0, count: segments.count)
        let scope = PreTokenizationFailure.currentScope
        counts.withUnsafeMutableBufferPointer { cp in
            nonisolated(unsafe) let cp = cp
            nonisolated(unsafe) let text = text
            let body: @Sendable (Int) -> Void = { k in
                PreTokenizationFailure.within(scope) { self.withEncoder { e in
                    var out = TokenBuffer(capacity: 1 << 16)
                    e.encodeNormalizingOrdinary(UnsafeBufferPointer(rebasing: text[segments[k]]), into: &out)
                    cp[k] = out.count
                } }
            }
            if threads <= 1 { for k in 0..<segments.count { body(k) } } else {
                DispatchQueue.concurrentPerform(iterations: segments.count, execute: body)
            }
        }
        return counts.reduce(0, +)
    }

    /// Cuts `text` into ranges of about `target` bytes at the cuts of `rule` (no cut when it is nil; with
    /// `asciiOnly`, for text normalized after it is cut, only cuts judged by ASCII characters or ones in `inert`),
    /// skipping places inside an occurrence of one of `specials`.
    public static func segments(of text: UnsafeBufferPointer<UInt8>, target: Int, rule: SafeCut.Rule? = .standard,
                                asciiOnly: Bool = false, inert: InertCharacters? = nil, specials: SpecialTokens?) -> [Range<Int>] {
        let n = text.count
        guard let rule else { return n == 0 ? [] : [0..<n] }
        var out: [Range<Int>] = []
        var s = 0
        while s < n {
            if n - s <= target + target / 2 { out.append(s..<n); break }
            var window = target
            var cut: Int? = nil
            while cut == nil {
                let end = min(s + window, n)
                cut = SafeCut.lastCut(in: text, above: s, below: end, rule: rule, asciiOnly: asciiOnly, inert: inert, specials: specials)
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
