import TokCore

enum Shipped {
    /// Shipped tokenizers, loaded once per test process.
    static let cl100k = try! Tokenizer.load(name: "cl100k_base")
    static let o200k = try! Tokenizer.load(name: "o200k_base")
    static let llama3 = try! Tokenizer.load(name: "llama3")
    static var all: [Tokenizer] { [cl100k, o200k, llama3] }
}
