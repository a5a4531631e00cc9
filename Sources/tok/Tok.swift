import ArgumentParser
import TokCore

@main
struct Tok: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tok",
        abstract: "Byte-level BPE tokenizer toolkit: train vocabularies, encode and decode text with tiktoken-compatible ones, and compare tokenizers.",
        discussion: """
            Shipped vocabularies: cl100k_base, o200k_base, o200k_harmony (gpt-oss), llama3, and mixed-8k (trained by \
            tok on its shipped \
            training corpus). Any .tiktoken file works too, with its \
            pre-tokenization pattern and special tokens from a sidecar JSON or from flags.
            """,
        version: tokVersion,
        subcommands: [Encode.self, Decode.self, Train.self, Count.self, Eval.self, Bench.self])
}

let tokVersion = "0.1.0"
