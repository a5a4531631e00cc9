import Synchronization

/// Encoders kept for reuse across tasks, so each thread keeps a warm piece cache and its scratch memory.
public final class EncoderPool: Sendable {
    public let tokenizer: Tokenizer
    private let idle = Mutex<[UncheckedEncoder]>([])

    struct UncheckedEncoder: @unchecked Sendable { let encoder: Encoder }

    public init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    /// Runs `body` with an encoder no other thread is using.
    public func withEncoder<R>(_ body: (Encoder) throws -> R) rethrows -> R {
        let e = idle.withLock { $0.popLast() }?.encoder ?? tokenizer.makeEncoder()
        defer { idle.withLock { $0.append(UncheckedEncoder(encoder: e)) } }
        return try body(e)
    }
}
