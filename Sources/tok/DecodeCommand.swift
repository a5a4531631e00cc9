import ArgumentParser
import TokCore
import TokIO

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode token ids to text.",
        discussion: """
            Reads decimal ids separated by ASCII white space, commas or square brackets (a Python list or JSON \
            array of ids decodes as printed) from the files or standard input \
            and writes the bytes they \
            stand for. A character split across tokens comes out whole. An unknown id is an error naming its \
            position; ids whose bytes are not UTF-8 are an error unless --lossy.
            """)

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Flag(help: "Decode each input line on its own and end it with a newline (the inverse of encode --lines).")
    var lines = false

    @Flag(help: "Replace invalid UTF-8 with U+FFFD (one per maximal invalid subpart, as Python's errors=\"replace\") instead of failing.")
    var lossy = false

    @Flag(help: "Write the tokens' bytes unchanged, even when they are not UTF-8 (the inverse of encode --invalid-utf8 bytes).")
    var raw = false

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write to this file (atomically) instead of standard output (\"-\": standard output).", valueName: "file"))
    var output: String?

    @Option(name: .customLong("files-from"), help: ArgumentHelp("Also decode the files listed in this file, one path per line, or separated by NUL bytes if it has any (\"-\": standard input).", valueName: "list"))
    var filesFrom: String?

    @Argument(help: ArgumentHelp("Files of ids; standard input if none (and no --files-from) or '-'.", valueName: "file"))
    var files: [String] = []

    func validate() throws {
        if lossy && raw { throw ValidationError("--lossy and --raw exclude each other") }
        try validateInputs(files: files, filesFrom: filesFrom)
        try validateOutput(output)
    }

    func run() throws {
        try runReportingErrors("decode") {
            let tokenizer = try tokenizerOptions.load(needsPattern: false)
            let inputs = try inputPaths(files: files, filesFrom: filesFrom)
            let pipeline = DecodePipeline(tokenizer: tokenizer, lines: lines, lossy: lossy, raw: raw)
            try withOutput(output) { write, flush in
                for f in inputs {
                    let src = try InputSource(path: f)
                    try pipeline.run(name: src.name, read: { try src.read(into: $0) }, write: write, flush: flush)
                }
            }
        }
    }
}
