import ArgumentParser
import TokCore
import TokIO

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure in-process encoding speed on a file.",
        discussion: """
            Loads the file into memory, encodes it --repeat times on --threads threads (special strings as \
            ordinary text) and prints one JSON object: bytes, tokens, seconds (best run) and mb_per_s (10^6 bytes \
            per second), plus load_seconds. Reading and loading are not timed. Each run starts with empty piece \
            and pair caches, so no run reuses what an earlier one computed from the text; tables derived from \
            the vocabulary alone (the filter of places no token spans, built on first need) are kept.
            """)

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(help: ArgumentHelp("Worker threads (default: all CPUs).", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("Timed runs; the best is reported.", valueName: "n"))
    var `repeat`: Int = 3

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if `repeat` < 1 { throw ValidationError("--repeat must be at least 1") }
    }

    @Argument(help: ArgumentHelp("Input file (plain or zstd).", valueName: "file"))
    var file: String

    func run() throws {
        try runReportingErrors("bench") {
            let loadStart = monotonicSeconds()
            let tokenizer = try tokenizerOptions.load()
            let loadSeconds = monotonicSeconds() - loadStart
            let data = try InputSource.contents(of: file, limit: .max)   // bench inputs of any size, as before
            // Text only, as `tok encode` takes by default: invalid bytes would be timed as something else.
            if let bad = data.withUnsafeBufferPointer({ firstInvalidUTF8Offset($0) }) {
                throw CLIError("\(file == "-" ? "<stdin>" : file): invalid UTF-8 at byte offset \(bad) (tok bench measures text)")
            }
            let n = workerThreads(threads)
            let result = BenchRunner.run(tokenizer: tokenizer, data: data, threads: n, repeats: `repeat`)
            let mbps = Double(data.count) / result.seconds / 1e6
            let line = "{\"tokenizer\":\(JSONValue.quote(tokenizer.name)),\"threads\":\(n),\"bytes\":\(data.count),\"tokens\":\(result.tokens),\"seconds\":\(result.seconds),\"mb_per_s\":\(mbps),\"load_seconds\":\(loadSeconds)}\n"
            try withOutput(nil) { write in
                var l = line
                try l.withUTF8 { try write($0) }
            }
        }
    }
}
