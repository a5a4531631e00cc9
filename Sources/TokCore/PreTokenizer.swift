/// Splits UTF-8 text into pre-tokens ("pieces"), the units that BPE encodes independently.
///
/// Implementations must tile the text: the first piece starts at offset 0, each piece starts where the
/// previous one ended, and the last ends at `text.count`. Text that a regular expression does not match is kept
/// as a piece of its own (HF `Split` "isolated" behaviour) so that no byte is ever lost. Bytes that are not valid
/// UTF-8 are treated as one-byte characters that are neither letters, numbers nor white space.
///
/// Conformers are immutable and `Sendable`: one instance is shared by every thread that encodes.
public protocol PreTokenizer: Sendable {
    /// Appends the exclusive end offset of every piece of `text` to `ends`, in order.
    /// Appends nothing for empty text.
    func split(_ text: UnsafeBufferPointer<UInt8>, into ends: inout [Int])

    /// Calls `body` with the piece ends of `text`, in order, a batch at a time (all of them, or a few hundred
    /// whose list stays in the L1 cache while the caller encodes them). Calls nothing for empty text.
    func forEachBatch(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<Int>) -> Void)

    /// Where text may be cut into parts that split into exactly the pieces of the whole (`SafeCut`), so that
    /// long inputs are streamed and encoded in parallel; nil when no such place is known, and the input is then
    /// pre-tokenized whole. Defaults to nil.
    var cutRule: SafeCut.Rule? { get }
}

extension PreTokenizer {
    public var cutRule: SafeCut.Rule? { nil }

    public func forEachBatch(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<Int>) -> Void) {
        var ends: [Int] = []
        split(text, into: &ends)
        if !ends.isEmpty { ends.withUnsafeBufferPointer(body) }
    }
}

/// Rewrites text before it is pre-tokenized (Unicode normalization, for example). TokICU's `ICUNormalizer` is one.
public protocol TextNormalizer: Sendable {
    /// A short name for the sidecar and messages (`nfc`, `nfkc`, ...).
    var name: String { get }
    /// The normalized form of well-formed UTF-8 `text`.
    func normalize(_ text: UnsafeBufferPointer<UInt8>) throws -> [UInt8]
    /// Characters this normalizer leaves unchanged and never joins with a neighbour, next to which text can be cut
    /// before it is normalized (see `SafeCut`); nil (the default) allows cuts next to ASCII only.
    var inertCharacters: InertCharacters? { get }
    /// Characters that never join with what precedes them: text normalized in pieces that each start with one
    /// (or with ASCII after ASCII, or after an inert character) gives the normalized whole, which lets a long
    /// stretch be normalized as it is read (`InertCharacters.isNormalizationPlace`); nil (the default): no more
    /// than those.
    var boundaryBeforeCharacters: InertCharacters? { get }
}

extension TextNormalizer {
    public var inertCharacters: InertCharacters? { nil }
    public var boundaryBeforeCharacters: InertCharacters? { nil }
}

/// What happens when a pre-tokenizer cannot split a text at all: a user's regular expression that backtracks
/// without end (`(a|aa)*c` on a run of a's), which ICU's engine gives up on after a bounded number of steps, or ICU
/// failing to allocate a matcher or iterator.
/// `PreTokenizer.split` has no way to fail, and pieces made up after a failure would be wrong ids, so the failure
/// ends the process: through `handler` when one is set (the CLI prints one line, removes its temporary files and
/// exits with status 1), else through `fatalError`.
public enum PreTokenizationFailure {
    /// Called with a one-line message; must not return.
    nonisolated(unsafe) public static var handler: (@Sendable (String) -> Never)?

    /// Ends the process with `message`.
    public static func fail(_ message: String) -> Never {
        if let handler { handler(message) }
        fatalError(message)
    }
}
