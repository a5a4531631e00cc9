import ArgumentParser
import TokCore
import TokIO

extension SpecialTokenPolicy: ExpressibleByArgument {}
extension OutputFormat: ExpressibleByArgument {}
extension InvalidUTF8Policy: ExpressibleByArgument {}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode text to token ids.",
        discussion: """
            Reads the files (plain or zstd-compressed, detected by content) or standard input, and writes the \
            ids of each input as one line of space-separated numbers. Output is identical for any --threads.
            """)

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(help: ArgumentHelp("Special-token strings in the text: plain (ordinary text, as tiktoken's encode_ordinary), allow (emit their ids), error (fail at the first one).", valueName: "policy"))
    var special: SpecialTokenPolicy = .plain

    @Option(name: .customLong("allow-special"), help: ArgumentHelp("A special token to emit as its id (repeat for more), as tiktoken's allowed_special; --special plain or error says what the others are.", valueName: "token"))
    var allowSpecial: [String] = []

    @Flag(help: "Encode each line on its own, without its newline; write one output line per input line.")
    var lines = false

    @Option(help: ArgumentHelp("Output: ids, tokens (byte-level strings, space as Ġ), jsonl (ids, token strings and byte offsets).", valueName: "format"))
    var format: OutputFormat = .ids

    @Flag(help: "Write token counts only: one per input (and a total for several inputs), or one per line with --lines. Not with --format tokens or jsonl.")
    var count = false

    @Option(help: ArgumentHelp("Worker threads (default: all CPUs): segments of each input, and small files, are encoded in parallel.", valueName: "n"))
    var threads: Int?

    @Option(name: .customLong("invalid-utf8"), help: ArgumentHelp("Input that is not UTF-8: error (report the byte offset), replace (U+FFFD), bytes (encode raw bytes).", valueName: "policy"))
    var invalidUTF8: InvalidUTF8Policy = .error

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write to this file (atomically: complete or not at all) instead of standard output (\"-\": standard output).", valueName: "file"))
    var output: String?

    @Option(name: .customLong("files-from"), help: ArgumentHelp("Also encode the files listed in this file, one path per line, or separated by NUL bytes if it has any (\"-\": standard input). Faster than thousands of paths as arguments.", valueName: "list"))
    var filesFrom: String?

    @Argument(help: ArgumentHelp("Input files; standard input if none (and no --files-from) or '-'.", valueName: "file"))
    var files: [String] = []

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if !allowSpecial.isEmpty && special == .allow {
            throw ValidationError("--special allow emits every special token already: with --allow-special, --special plain or error says what the others are")
        }
        if count && format != .ids { throw ValidationError("--count writes counts, not tokens: drop --format \(format.rawValue)") }
        try validateInputs(files: files, filesFrom: filesFrom)
        try validateOutput(output)
    }

    func run() throws {
        try runReportingErrors("encode") {
            var tokenizer = try tokenizerOptions.load()
            var options = EncodeOptions()
            options.special = special
            if !allowSpecial.isEmpty {
                do {
                    tokenizer = try tokenizer.selectingSpecialTokens(allowed: allowSpecial, others: special)
                } catch let e as VocabularyError {
                    throw CLIError("--allow-special: \(e.reason)")
                }
                options.special = .allow
            }
            options.lines = lines
            options.format = format
            options.countOnly = count
            options.threads = workerThreads(threads)
            options.invalidUTF8 = invalidUTF8
            let inputs = try inputPaths(files: files, filesFrom: filesFrom)
            try EncodeRunner.run(tokenizer: tokenizer, options: options, inputs: inputs, output: output)
        }
    }
}
