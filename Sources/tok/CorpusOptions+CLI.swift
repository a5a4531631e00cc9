import ArgumentParser
import TokCore
import TokICU
import TokTrain

extension CorpusOptions.Format: ExpressibleByArgument {}
extension CorpusOptions.InvalidUTF8: ExpressibleByArgument {}
extension ProgressReporter.Style: ExpressibleByArgument {}

/// How the text to count is found, read and pre-tokenized: shared by `tok train` and `tok count`.
struct CorpusArguments: ParsableArguments {
    @Argument(help: ArgumentHelp("Corpus files, directories (read recursively) or glob patterns, plain or zstd; standard input if none or '-'.", valueName: "corpus"))
    var corpus: [String] = []

    @Option(help: ArgumentHelp("Corpus format: text (each file is one text), jsonl (one JSON object per line; see --jsonl-field).", valueName: "format"))
    var format: CorpusOptions.Format = .text

    @Option(name: .customLong("jsonl-field"), help: ArgumentHelp("The string member of each JSONL record that holds its text.", valueName: "name"))
    var jsonlField: String = "text"

    @Option(name: .customLong("max-bytes"), help: ArgumentHelp("Use only the first N bytes of text (suffixes K, M, G), ending at the line or record that reaches N.", valueName: "n"))
    var maxBytes: String?

    @Option(help: ArgumentHelp("Use a reproducible sample: each line (text) or record (jsonl) with probability P, chosen by --seed.", valueName: "p"))
    var sample: Double?

    @Option(help: ArgumentHelp("Seed of --sample.", valueName: "n"))
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Unicode normalization of the text before pre-tokenization: none, nfc, nfkc.", valueName: "form"))
    var normalize: String = "none"

    @Option(name: .customLong("invalid-utf8"), help: ArgumentHelp("Input that is not UTF-8: error (report file and byte offset), replace (U+FFFD; also for a lone surrogate escape in JSONL).", valueName: "policy"))
    var invalidUTF8: CorpusOptions.InvalidUTF8 = .error

    @Option(help: ArgumentHelp("Pre-tokenization regex (ICU syntax), or one of gpt2, cl100k, o200k, llama3.", valueName: "regex"))
    var pattern: String = "o200k"

    @Option(help: ArgumentHelp("How pieces are found: auto (hand-written scanner for standard patterns, else ICU regex), icu-regex, icu-words (UAX #29 word breaks).", valueName: "kind"))
    var pretokenizer: PreTokenizerChoice = .auto

    @Option(help: ArgumentHelp("Threads that pre-tokenize and count (default: all CPUs). The result is the same for any number.", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("Progress on standard error: auto (a bar on a terminal, else plain lines), plain, json (one object per line), quiet.", valueName: "style"))
    var progress: ProgressReporter.Style = .auto

    @Flag(name: .shortAndLong, help: "No progress output (same as --progress quiet).")
    var quiet = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let sample, !(sample > 0 && sample <= 1) { throw ValidationError("--sample must be in (0, 1]") }
        if let m = maxBytes, Self.parseSize(m) == nil {
            // Well-formed but not a positive Int: zero, or too large for one.
            let digits = Self.sizeParts(m).digits
            let wellFormed = !digits.isEmpty && digits.allSatisfy { $0 >= "0" && $0 <= "9" }
            throw ValidationError(!wellFormed ? "--max-bytes: expected a positive number with an optional K, M or G suffix"
                : digits.allSatisfy { $0 == "0" } ? "--max-bytes must be at least 1"
                : "--max-bytes \(m) is too large (at most \(Int.max) bytes)")
        }
        if !["none", "nfc", "nfkc"].contains(normalize) { throw ValidationError("--normalize must be none, nfc or nfkc") }
        try TokenizerOptions.checkPattern(pattern, pretokenizer)
    }

    /// A size such as `64M` split into its number and the multiplier of its suffix.
    static func sizeParts(_ s: String) -> (digits: Substring, scale: Int) {
        switch s.last {
        case "K", "k": return (s.dropLast(), 1_000)
        case "M", "m": return (s.dropLast(), 1_000_000)
        case "G", "g": return (s.dropLast(), 1_000_000_000)
        default: return (Substring(s), 1)
        }
    }

    static func parseSize(_ s: String) -> Int? {
        let (digits, scale) = sizeParts(s)
        guard let n = Int(digits), n > 0 else { return nil }
        let (r, o) = n.multipliedReportingOverflow(by: scale)
        return o ? nil : r
    }

    var options: CorpusOptions {
        var o = CorpusOptions()
        o.format = format
        o.jsonlField = jsonlField
        o.maxBytes = maxBytes.flatMap(Self.parseSize)
        o.sample = sample
        o.seed = seed
        o.normalize = normalize == "none" ? nil : ICUNormalizer.Form(rawValue: normalize)
        o.invalidUTF8 = invalidUTF8
        return o
    }

    var expandedPattern: String {
        pretokenizer == .icuWords ? "" : TokenizerOptions.expandPattern(pattern)
    }

    func makePreTokenizer() throws -> any PreTokenizer {
        try TokenizerOptions.makePreTokenizer(expandedPattern, pretokenizer)
    }

    var progressStyle: ProgressReporter.Style { quiet ? .quiet : progress }

    /// Reads and counts the corpus, reporting progress; `command` names the command in warnings.
    func count(reporter: ProgressReporter, command: String) throws -> PieceCounts {
        let files = try CorpusInputs.expand(corpus.isEmpty ? ["-"] : corpus)
        let pre = try makePreTokenizer()
        var opts = options
        opts.cutRule = pre.cutRule ?? .basic
        let reader = CorpusReader(files: files, options: opts)
        let counters = PieceCounting.Counters()
        let counts: PieceCounts
        do {
            counts = try PieceCounting.count(reader: reader, preTokenizer: pre, threads: workerThreads(threads),
                                             counters: counters) { p in
                reporter.reading(raw: p.rawBytes, total: p.totalRawBytes, text: p.textBytes,
                                 pieces: counters.pieces.load(ordering: .relaxed))
            }
        } catch {
            reporter.interrupt()
            throw error
        }
        reporter.counted(distinct: counts.count, pieces: Int(counts.total), text: reader.progress.textBytes)
        if reader.jsonlRecords > 0 && reader.jsonlRecordsWithText == 0 {
            reporter.warning(command, "none of the \(reader.jsonlRecords) JSONL records has a string member \(JSONValue.quote(options.jsonlField)) (--jsonl-field)")
        }
        return counts
    }
}
