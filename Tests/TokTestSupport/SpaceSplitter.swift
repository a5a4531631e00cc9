import TokCore

/// A pre-tokenizer for tests: a piece ends after each space or line feed. With `failsOnX`, an "X" fails the split
/// the way ICU's regex pre-tokenizer fails on a pattern that backtracks without end: it reports the failure and
/// tiles the rest. `willSplit` and `didSplit` run around every split, for tests that watch which threads split.
public struct SpaceSplitter: PreTokenizer {
    public var failsOnX: Bool
    public var willSplit: @Sendable () -> Void
    public var didSplit: @Sendable () -> Void

    public init(failsOnX: Bool = false, willSplit: @escaping @Sendable () -> Void = {},
                didSplit: @escaping @Sendable () -> Void = {}) {
        self.failsOnX = failsOnX
        self.willSplit = willSplit
        self.didSplit = didSplit
    }

    public func split(_ text: UnsafeBufferPointer<UInt8>, into ends: inout [Int]) {
        willSplit()
        defer { didSplit() }
        for i in text.indices {
            if failsOnX && text[i] == UInt8(ascii: "X") {
                PreTokenizationFailure.report("X at byte \(i)")
                ends.append(text.count)
                return
            }
            if text[i] == 0x20 || text[i] == 0x0A { ends.append(i + 1) }
        }
        if ends.last != text.count { ends.append(text.count) }
    }

    // Cuts after line feeds, so that long texts are cut into segments for worker threads.
    public var cutRule: SafeCut.Rule? { .basic }
}
