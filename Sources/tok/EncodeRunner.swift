import TokCore
import TokIO

/// Runs `tok encode` over its inputs: one pipeline per input, counts with names, and the output target.
enum EncodeRunner {
    static func run(tokenizer: Tokenizer, options: EncodeOptions, inputs: [String], output: String?) throws {
        let pipeline = EncodePipeline(tokenizer: tokenizer, options: options)
        try withOutput(output) { write in
            var total = 0
            for path in inputs {
                let src = try InputSource(path: path)
                let summary = try pipeline.run(name: src.name, read: { try src.read(into: $0) }, write: write)
                total += summary.tokens
                if options.countOnly && !options.lines {
                    let label = path == "-" && inputs.count == 1 ? "" : " " + src.name
                    var line = "\(summary.tokens)\(label)\n"
                    try line.withUTF8 { try write($0) }
                }
            }
            if options.countOnly && !options.lines && inputs.count > 1 {
                var line = "\(total) total\n"
                try line.withUTF8 { try write($0) }
            }
        }
    }
}
