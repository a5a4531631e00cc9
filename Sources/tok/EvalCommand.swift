import ArgumentParser
import Dispatch
import TokCore
import TokIO
import TokMetrics
import TokTrain

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Compare tokenizers: compression, fertility, parity, purity, morphology and more.",
        discussion: """
            Encodes the corpus files (one text per file; plain or zstd) with every -t tokenizer and prints the \
            metrics side by side. With --parallel, also encodes each language file of a parallel corpus and \
            reports each language's premium against --pivot and the Gini coefficient of the premiums. \
            --segmentation adds morpheme-boundary scores on a gold segmentation, --lexicon the share of token \
            types that are words or morphemes. The man page defines every metric and gives its source.
            """)

    @Option(name: [.customShort("t"), .customLong("tokenizer")],
            help: ArgumentHelp("A tokenizer to evaluate: a shipped name, a .tiktoken file (with its sidecar) or an OpenAI model name (gpt-4o, ...). Repeat for more (default: cl100k_base).", valueName: "name|file"))
    var tokenizers: [String] = []

    @Argument(help: ArgumentHelp("Corpus files, directories or globs (plain or zstd), measured as one corpus.", valueName: "corpus"))
    var corpus: [String] = []

    @Option(help: ArgumentHelp("A directory with one file per language (named LANG.txt or LANG.txt.zst), aligned line by line.", valueName: "dir"))
    var parallel: String?

    @Option(help: ArgumentHelp("The language the premiums of --parallel are relative to (default: en).", valueName: "lang"))
    var pivot: String?

    @Option(help: ArgumentHelp("Gold segmentation file: word<TAB>morph morph ... per line (plain or zstd).", valueName: "file"))
    var segmentation: String?

    @Option(help: ArgumentHelp("Lexicon file: one valid word or morpheme per line; scores the token types used on the corpus.", valueName: "file"))
    var lexicon: String?

    @Option(help: ArgumentHelp("Order of the Renyi entropy in the Renyi efficiency.", valueName: "alpha"))
    var alpha: Double = 2.5

    @Flag(help: "Write JSON instead of the table.")
    var json = false

    @Flag(help: "Write CSV (scope,tokenizer,metric,value) instead of the table.")
    var csv = false

    @Option(help: ArgumentHelp("Also write a self-contained HTML report with SVG charts to this file (atomically; \"-\": to standard output, instead of the table).", valueName: "file"))
    var html: String?

    @Option(help: ArgumentHelp("Worker threads (default: all CPUs).", valueName: "n"))
    var threads: Int?

    @Option(name: .customLong("invalid-utf8"), help: ArgumentHelp("Input that is not UTF-8: error (report file and byte offset), replace (U+FFFD).", valueName: "policy"))
    var invalidUTF8: CorpusOptions.InvalidUTF8 = .error

    func validate() throws {
        if json && csv { throw ValidationError("--json and --csv cannot be used together") }
        try validateOutput(html, option: "--html")
        if html == "-" && (json || csv) { throw ValidationError("--html - writes the report to standard output, where --json or --csv would go") }
        if pivot != nil && parallel == nil { throw ValidationError("--pivot needs --parallel") }
        var seen = Set<String>()
        for t in tokenizers where !seen.insert(t).inserted { throw ValidationError("-t \(t) is given twice") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if !(alpha > 0) || !alpha.isFinite {
            throw ValidationError(alpha == .infinity ? "--alpha must be finite: a large order such as 1000 gives the min-entropy"
                                                     : "--alpha must be a positive number, not \(alpha)")
        }
    }

    func run() throws {
        try runReportingErrors("eval") {
            let names = tokenizers.isEmpty ? ["cl100k_base"] : tokenizers
            let loaded = try loadConcurrently(names)
            var options = EvaluationOptions()
            options.alpha = alpha
            options.threads = workerThreads(threads)
            options.pivot = pivot ?? "en"
            options.invalidUTF8 = invalidUTF8
            var report = try Evaluation.run(tokenizers: loaded, corpus: corpus, parallel: parallel,
                                            segmentation: segmentation, lexicon: lexicon, options: options)
            // Names as the user gave them, so that two files with the same base name stay apart.
            report.tokenizers = names.map { n in Tokenizer.shippedNames.contains(n) ? n : shortName(n, among: names) }
            let text = html == "-" ? ReportHTML.page(report)
                : json ? ReportText.json(report) : csv ? ReportText.csv(report) : ReportText.table(report)
            if let html, html != "-" {
                let page = ReportHTML.page(report)
                try withOutput(html) { write in
                    var p = page
                    try p.withUTF8 { try write($0) }
                }
            }
            try withOutput(nil) { write in
                var t = text
                try t.withUTF8 { try write($0) }
            }
        }
    }

    /// A file's base name without `.tiktoken`, or its whole path when another tokenizer has the same base name.
    func shortName(_ path: String, among all: [String]) -> String {
        func base(_ p: String) -> String {
            var b = p.split(separator: "/").last.map(String.init) ?? p
            if b.hasSuffix(".tiktoken") { b = String(b.dropLast(9)) }
            return b
        }
        let b = base(path)
        return all.filter { base($0) == b }.count > 1 ? path : b
    }
}

/// Loads the named tokenizers at the same time (each is a table image to read and check); the first failure in
/// command-line order is the one reported.
private func loadConcurrently(_ names: [String]) throws -> [Tokenizer] {
    var results = [Result<Tokenizer, any Error>?](repeating: nil, count: names.count)
    results.withUnsafeMutableBufferPointer { buffer in
        nonisolated(unsafe) let slots = buffer.baseAddress!
        DispatchQueue.concurrentPerform(iterations: names.count) { i in
            slots[i] = Result { try TokenizerOptions.parse(["-t", names[i]]).load(patternFlag: false) }
        }
    }
    return try results.map { try $0!.get() }
}
