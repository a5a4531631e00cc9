import ArgumentParser
import TokCore
import TokIO
import TokTrain

/// One `--formats` value: a format, or several separated by commas (`tiktoken,hf`). The option takes one value
/// each time it is given, so a corpus after it is not read as a format.
struct VocabularyFormatList: ExpressibleByArgument {
    let formats: [VocabularyFormat]

    init?(argument: String) {
        var list: [VocabularyFormat] = []
        for name in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let f = VocabularyFormat(rawValue: String(name)) else { return nil }
            list.append(f)
        }
        formats = list
    }

    static var allValueStrings: [String] { VocabularyFormat.allCases.map(\.rawValue) }
}
extension BPETrainer.TieBreak: ExpressibleByArgument {}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a byte-level BPE vocabulary on a corpus.",
        discussion: """
            Reads the corpus (files, directories, globs or standard input; plain or zstd; text or JSONL), \
            pre-tokenizes it with --pattern, counts the distinct pre-tokens on all threads, then learns merges \
            until the vocabulary has --vocab-size tokens (256 bytes + merges + special tokens). Ties between pairs \
            of equal count go to the pair whose left token's bytes come first, then its right token's (or, with \
            --tie-break hf, as in HF tokenizers' BpeTrainer): the same corpus and flags give byte-identical files whatever --threads is. With --counts the pre-token counts \
            come from files written by `tok count` (summed), instead of from a corpus. All output files are \
            written together at the end, or none of them.
            """)

    @OptionGroup var corpus: CorpusArguments

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Output path prefix: writes PREFIX.tiktoken and PREFIX.json (tiktoken), PREFIX.tokenizer.json (hf), PREFIX.vocab.json and PREFIX.merges.txt (merges). A final .tiktoken or .tokenizer.json is not part of the prefix.", valueName: "prefix"))
    var output: String

    @Option(name: .customLong("vocab-size"), help: ArgumentHelp("Tokens in the vocabulary, special tokens included.", valueName: "n"))
    var vocabSize: Int = 32000

    @Option(name: .customLong("min-frequency"), help: ArgumentHelp("Stop when the most frequent pair occurs fewer times than this.", valueName: "n"))
    var minFrequency: UInt64 = 2

    @Option(name: .customLong("special-tokens"), help: ArgumentHelp("Comma-separated special tokens, given ids after the ordinary tokens ('' for none).", valueName: "list"))
    var specialTokens: String = "<|endoftext|>"

    @Option(name: .customLong("tie-break"), help: ArgumentHelp("Order of pairs of equal count: bytes (the pair whose tokens' bytes come first), hf (as HF tokenizers' BpeTrainer, to reproduce its vocabularies).", valueName: "order"))
    var tieBreak: BPETrainer.TieBreak = .bytes

    @Option(name: .customLong("formats"), help: ArgumentHelp("Files to write: tiktoken, hf, merges, comma-separated or the option repeated (default: all three, or tiktoken and merges with --pretokenizer icu-words, which HF cannot express).", valueName: "format,..."))
    var formatLists: [VocabularyFormatList] = []

    /// The formats given with `--formats`, in order.
    var formats: [VocabularyFormat] { formatLists.flatMap(\.formats) }

    /// `--formats`, or the default: every format that can express the vocabulary, once each.
    var outputFormats: [VocabularyFormat] {
        var seen = Set<VocabularyFormat>()
        let given = formats.isEmpty ? VocabularyFormat.allCases.filter { $0 != .hf || corpus.pretokenizer != .icuWords } : formats
        return given.filter { seen.insert($0).inserted }
    }

    @Option(name: .customLong("counts"), parsing: .upToNextOption, help: ArgumentHelp("Train on pre-token counts written by `tok count` (plain or zstd; several files are summed) instead of a corpus.", valueName: "file"))
    var counts: [String] = []

    var specials: [String] {
        specialTokens.split(separator: ",", omittingEmptySubsequences: true).map(String.init)
    }

    /// The byte strings an ordinary token must not have, so as not to collide with special token `s` in some
    /// output format: its UTF-8, and the bytes its text stands for in GPT-2's byte-level alphabet (if it is
    /// spelled in that alphabet).
    static func collisionBytes(_ s: String) -> [[UInt8]] {
        [Array(s.utf8)] + (ByteLevelAlphabet.decode(s).map { [$0] } ?? [])
    }

    func validate() throws {
        if vocabSize < 256 + specials.count {
            throw ValidationError("--vocab-size must be at least \(256 + specials.count): 256 byte tokens plus \(specials.count) special token(s)")
        }
        if Set(specials).count != specials.count { throw ValidationError("--special-tokens lists a token twice") }
        for s in specials where Self.collisionBytes(s).contains(where: { $0.count == 1 }) {
            throw ValidationError("special token \(JSONValue.quote(s)) is one byte (as written or in the byte-level alphabet of vocab.json), which is always an ordinary token")
        }
        if !counts.isEmpty && !corpus.corpus.isEmpty { throw ValidationError("give a corpus or --counts, not both") }
        // `--formats tiktoken merges`, as it was written when the option took every following word.
        for c in corpus.corpus where VocabularyFormat(rawValue: c) != nil && !fileExists(c) {
            throw ValidationError("\(c): no such corpus file; to ask for several formats, write --formats a,b (or repeat --formats)")
        }
        if formats.contains(.hf) && corpus.pretokenizer == .icuWords {
            throw ValidationError("HF tokenizer.json cannot express a vocabulary trained on --pretokenizer icu-words (HF has no UAX #29 word-break pre-tokenizer); leave out --formats hf")
        }
        let prefix = VocabularyOutput.prefix(forOutput: output)
        if prefix.isEmpty || prefix.hasSuffix("/") {
            throw ValidationError("-o needs a path prefix that names files, such as \(prefix.isEmpty ? "" : prefix)vocab (it gets .tiktoken, .json, ... appended), not \(JSONValue.quote(output))")
        }
        if AtomicFileWriter.namesDescriptorOrDevice(prefix) {
            throw ValidationError("-o needs a path prefix that names files (it gets .tiktoken, .json, ... appended), not a device or descriptor: \(JSONValue.quote(output))")
        }
    }

    func run() throws {
        try runReportingErrors("train") {
            AtomicFileWriter.removeTemporaryFilesOnSignal()
            let reporter = ProgressReporter(style: corpus.progressStyle)
            let pattern = corpus.expandedPattern
            // Check the pattern before reading anything.
            _ = try corpus.makePreTokenizer()
            if outputFormats.contains(.hf) && corpus.pretokenizer != .icuWords && StandardPattern(pattern: pattern) == nil {
                reporter.warning("train", "HF's tokenizer.json reads the pattern with Oniguruma, not ICU; possessive {n,m}+ and ICU-only syntax (\\h, set operations) mean something else there: check its ids")
            }
            if outputFormats.contains(.merges) && (corpus.pretokenizer == .icuWords || StandardPattern(pattern: pattern) == nil
                                             || corpus.normalize != "none") {
                reporter.warning("train", corpus.pretokenizer == .icuWords
                    ? "vocab.json and merges.txt cannot record the icu-words pre-tokenizer; the sidecar does (tokenizer.json cannot express it)"
                    : "vocab.json and merges.txt cannot record the pattern, pre-tokenizer or normalizer; the sidecar and tokenizer.json do")
            }
            var table: PieceCounts
            if counts.isEmpty {
                table = try corpus.count(reporter: reporter, command: "train")
            } else {
                table = PieceCounts()
                for f in try CorpusInputs.expand(counts) { try CountsFile.read(path: f, into: &table) }
                reporter.counted(distinct: table.count, pieces: Int(clamping: table.total), text: 0)
            }
            if table.count == 0 { throw CLIError("the corpus has no text to train on") }
            let target = vocabSize - specials.count
            let trainer = BPETrainer(counts: table)
            trainer.tieBreak = tieBreak
            // No ordinary token may spell a special token (as its bytes, or as the byte-level string vocab.json and
            // tokenizer.json key it by): HF would give the special the ordinary id, and vocab.json would hold the
            // key twice. Such merges are vetoed.
            let reserved = Set(specials.flatMap(Self.collisionBytes))
            if !reserved.isEmpty {
                trainer.allowMerge = { [unowned trainer] l, r, _ in !reserved.contains(Array(trainer.bytes(of: l) + trainer.bytes(of: r))) }
            }
            table = PieceCounts(expected: 16)
            trainer.train(targetTokens: target, minFrequency: minFrequency) { n in
                reporter.merging(tokens: n + specials.count, target: vocabSize)   // counted as the final line counts
            }
            let vocabulary = TrainedVocabulary(
                trainer: trainer, specialTokens: specials, pattern: pattern,
                preTokenizer: corpus.pretokenizer == .icuWords ? "icu-words" : nil,
                normalization: corpus.normalize == "none" ? nil : corpus.normalize)
            let written = try VocabularyOutput.write(vocabulary, prefix: VocabularyOutput.prefix(forOutput: output), formats: outputFormats,
                                                     warn: { reporter.warning("train", $0) })
            var note = ""
            if trainer.tokenCount < target {
                note = " (no pair occurs --min-frequency \(minFrequency) times any more: \(trainer.tokenCount) of \(target) ordinary tokens)"
            }
            reporter.done("wrote \(written.joined(separator: ", ")): \(trainer.tokenCount + specials.count) tokens\(note); peak memory \(peakMemoryMB()) MB")
        }
    }
}

struct Count: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "Count the pre-tokens of a corpus (the map step of distributed training).",
        discussion: """
            Writes one `piece<TAB>count` line per distinct pre-token, sorted by the pieces' bytes, with \
            backslash escapes (\\\\, \\t, \\n, \\r, \\xHH) so that any byte string survives. Counting shards of a \
            corpus on many machines and passing all the files to `tok train --counts` gives the same vocabulary \
            as training on the whole corpus.
            """)

    @OptionGroup var corpus: CorpusArguments

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write to this file (atomically) instead of standard output (\"-\": standard output).", valueName: "file"))
    var output: String?

    func validate() throws { try validateOutput(output) }

    func run() throws {
        try runReportingErrors("count") {
            let reporter = ProgressReporter(style: corpus.progressStyle)
            let table = try corpus.count(reporter: reporter, command: "count")
            let data = CountsFile.contents(of: table)
            try withOutput(output) { write in try data.withUnsafeBufferPointer { try write($0) } }
        }
    }
}
