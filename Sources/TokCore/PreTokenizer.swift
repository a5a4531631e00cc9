#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

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
///
/// `PreTokenizer.split` has no way to fail, and pieces made up after a failure would be wrong ids. Inside
/// `PreTokenizationFailure.catching` the failure is thrown as a `PreTokenizationError` once the work is done, and
/// whatever was computed meanwhile is thrown away:
///
/// ```swift
/// do {
///     let ids = try PreTokenizationFailure.catching { try tokenizer.encode(userText) }
/// } catch let e as PreTokenizationError {
///     print(e)   // matching the pattern "(a|aa)*c" takes too long ... at byte 0 ...
/// }
/// ```
///
/// Elsewhere the failure ends the process: through `handler` when one is set (the CLI prints one line, removes
/// its temporary files and exits with status 1), else through `fatalError`.
public enum PreTokenizationFailure {
    /// Called with a one-line message outside `catching`; must not return.
    nonisolated(unsafe) public static var handler: (@Sendable (String) -> Never)?

    /// Runs `body` and throws `PreTokenizationError` if a pre-tokenizer failed on the calling thread meanwhile, or
    /// on a worker thread of TokCore's parallel calls made from it (`encodeParallel`, `countParallel`,
    /// `encodeBatch`, `countBatch`; TokTrain's and TokMetrics' corpus workers). The failure is thrown even when
    /// `body` itself returned or threw otherwise. Scopes nest. Work on threads of your own is covered when they
    /// run it in `within(currentScope)`. TokIO's `EncodePipeline` writes as it goes, so a failure there ends the
    /// process even inside `catching`.
    public static func catching<R>(_ body: () throws -> R) throws -> R {
        let scope = Scope()
        let outer = Scope.current
        Scope.current = scope
        defer { Scope.current = outer }
        let result: Result<R, any Error>
        do { result = .success(try body()) } catch { result = .failure(error) }
        if let message = scope.message { throw PreTokenizationError(message: message) }
        return try result.get()
    }

    /// Whether a failure has been reported in the calling thread's `catching` scope: the work's result will be thrown
    /// away, so a pre-tokenizer may tile its text at once instead of trying (an ICU regex that backtracks without end
    /// would spend its whole budget, a second or more, on each later text).
    public static var hasFailedInScope: Bool { Scope.current?.message != nil }

    /// For pre-tokenizers: reports a failure with a one-line `message`. Inside `catching` it records the first
    /// failure and returns, and the caller must then tile the rest of its text in some way (the pieces no longer
    /// matter); elsewhere it ends the process as `fail` does.
    public static func report(_ message: String) {
        guard let scope = Scope.current else { fail(message) }
        scope.record(message)
    }

    /// Ends the process with `message`, whether or not inside `catching`: for failures that cannot be recovered
    /// from. Pre-tokenizers call `report` instead.
    public static func fail(_ message: String) -> Never {
        if let handler { handler(message) }
        fatalError(message)
    }

    /// Runs `body` inside `scope`: on a thread of your own, the `currentScope` of the thread that handed it the
    /// work, so that failures there are thrown by that thread's `catching`; nil runs `body` outside any scope
    /// (work whose output is already on its way, such as a streaming encoder's, must not go on after a failure).
    public static func within<R>(_ scope: Scope?, _ body: () throws -> R) rethrows -> R {
        let outer = Scope.current
        Scope.current = scope
        defer { Scope.current = outer }
        return try body()
    }

    /// The calling thread's innermost `catching` scope, to hand to `within` on other threads.
    public static var currentScope: Scope? { Scope.current }

    /// One `catching` call's record of the first failure; shared by the worker threads of the work it covers.
    public final class Scope: @unchecked Sendable {
        private let lock = Mutex<String?>(nil)
        var message: String? { lock.withLock { $0 } }
        func record(_ message: String) { lock.withLock { if $0 == nil { $0 = message } } }

        /// A thread-specific slot: Swift has no thread-local variables, and a task local would not follow
        /// `DispatchQueue.concurrentPerform`'s threads either.
        private static let key: pthread_key_t = {
            var k = pthread_key_t()
            precondition(pthread_key_create(&k, nil) == 0, "pthread_key_create failed")
            return k
        }()

        static var current: Scope? {
            get { pthread_getspecific(key).map { Unmanaged<Scope>.fromOpaque($0).takeUnretainedValue() } }
            set { pthread_setspecific(key, newValue.map { Unmanaged.passUnretained($0).toOpaque() }) }
        }
    }
}

/// A pre-tokenizer's failure inside `PreTokenizationFailure.catching`.
public struct PreTokenizationError: Error, CustomStringConvertible, Sendable {
    /// One line: what failed and at which byte of the text being split.
    public var message: String
    public var description: String { message }
}
