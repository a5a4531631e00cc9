import TokCore

/// A deterministic 64-bit generator (SplitMix64) so randomized tests are reproducible.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Shipped {
    /// Shipped tokenizers, loaded once per test process.
    static let cl100k = try! Tokenizer.load(name: "cl100k_base")
    static let o200k = try! Tokenizer.load(name: "o200k_base")
    static let llama3 = try! Tokenizer.load(name: "llama3")
    static var all: [Tokenizer] { [cl100k, o200k, llama3] }
}
