/// Hands out encoders for use on many threads at once; each thread keeps a warm piece cache and its scratch
/// memory. The scratch lives in the tokenizer's own pool (see `Tokenizer.withEncoder`), so every pool of one
/// tokenizer shares it.
public final class EncoderPool: Sendable {
    public let tokenizer: Tokenizer

    public init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    /// Runs `body` with an encoder no other thread is using.
    public func withEncoder<R>(_ body: (Encoder) throws -> R) rethrows -> R {
        try tokenizer.withEncoder(body)
    }
}
