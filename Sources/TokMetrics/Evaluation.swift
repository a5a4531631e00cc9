#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TokCore
import TokTrain

/// Settings of an evaluation.
public struct EvaluationOptions: Sendable {
    /// Order of the Renyi entropy in `Metric.renyiEfficiency`.
    public var alpha = 2.5
    /// Worker threads for encoding (1 = everything on the calling thread).
    public var threads = 1
    /// The language the premiums of a parallel corpus are relative to.
    public var pivot = "en"
    /// What to do with text that is not UTF-8 (by default, stop with an error).
    public var invalidUTF8: CorpusOptions.InvalidUTF8 = .error
    /// Default settings: alpha 2.5, one thread, pivot `en`, invalid UTF-8 an error.
    public init() {}
}

/// The result of `tok eval`: metrics per tokenizer for the corpus, and per language for a parallel corpus.
public struct EvaluationReport: Sendable {
    /// The measurements on one text: the corpus, or one language of a parallel corpus.
    public struct Scope: Sendable {
        /// "corpus", or the language.
        public var name: String
        /// Bytes of text measured (0 for a corpus scope that holds only gold segmentation scores).
        public var bytes: Int
        /// Metric values by tokenizer (same order as `tokenizers`).
        public var values: [[Metric: Double]]
        /// Token counts by tokenizer.
        public var tokens: [Int]
        /// Tokens by length in bytes, by tokenizer (`TokenCounts.lengthHistogram`).
        public var lengthHistograms: [[Int]]
    }

    /// Tokenizer names, in the order of every per-tokenizer array of the report.
    public var tokenizers: [String]
    /// Ordinary tokens of each tokenizer (its rank table's size; special tokens not counted).
    public var vocabularySizes: [Int]
    /// Order of the Renyi entropy in `Metric.renyiEfficiency`.
    public var alpha: Double
    /// The positional corpus files, measured together, if any.
    public var corpus: Scope?
    /// One scope per language of the parallel corpus, pivot first.
    public var languages: [Scope] = []
    /// The language the premiums are relative to, when there is a parallel corpus.
    public var pivot: String?
    /// Tokenizer fairness Gini of the premiums, by tokenizer (when there is a parallel corpus).
    public var gini: [Double] = []
    /// The corpus arguments as given (before directories and glob patterns are expanded).
    public var corpusFiles: [String] = []
    /// The parallel corpus directory, if any.
    public var parallelDirectory: String?
    /// The gold segmentation file, if any.
    public var segmentationFile: String?
    /// The lexicon file, if any.
    public var lexiconFile: String?

    /// The metrics that have a value for at least one tokenizer in the corpus scope.
    public var corpusMetrics: [Metric] {
        guard let c = corpus else { return [] }
        return Metric.allCases.filter { m in c.values.contains { $0[m] != nil } }
    }
}

/// `tok eval`: measures tokenizers on corpus files, a parallel corpus and a gold segmentation.
public enum Evaluation {
    /// Measures `tokenizers` on the corpus files (one scope) and on each language file of `parallel` (a
    /// directory holding one file per language, `LANG.txt` or `LANG.txt.zst`, aligned line by line; other files
    /// are ignored).
    public static func run(tokenizers: [Tokenizer], corpus: [String], parallel: String?, segmentation: String?,
                           lexicon: String?, options: EvaluationOptions) throws -> EvaluationReport {
        guard !tokenizers.isEmpty else { throw EvalError.invalid("no tokenizer to evaluate") }
        guard !corpus.isEmpty || parallel != nil || segmentation != nil else {
            throw EvalError.invalid("nothing to evaluate on: give corpus files, --parallel or --segmentation")
        }
        let evaluator = try Evaluator(tokenizers: tokenizers)
        var report = EvaluationReport(tokenizers: tokenizers.map(\.name), vocabularySizes: tokenizers.map(\.ranks.count),
                                      alpha: options.alpha)
        report.corpusFiles = corpus
        report.parallelDirectory = parallel
        report.segmentationFile = segmentation
        report.lexiconFile = lexicon
        let gold = try segmentation.map { try GoldSegmentation(path: $0) }
        let lex = try lexicon.map { try Lexicon(path: $0) }

        if !corpus.isEmpty {
            let files = try CorpusInputs.expand(corpus)
            let counts = try evaluator.measure(files: files, threads: options.threads, invalidUTF8: options.invalidUTF8)
            guard counts[0].bytes > 0 else { throw EvalError.invalid("the corpus is empty: \(corpus.joined(separator: ", "))") }
            var scope = makeScope("corpus", counts, evaluator, options)
            for (k, t) in tokenizers.enumerated() {
                if let lex { scope.values[k][.lexiconValidity] = lex.validity(t, idCounts: counts[k].idCounts) }
            }
            report.corpus = scope
        }
        if let gold {
            if report.corpus == nil {
                report.corpus = EvaluationReport.Scope(name: "corpus", bytes: 0, values: tokenizers.map { _ in [:] },
                                                       tokens: tokenizers.map { _ in 0 }, lengthHistograms: [])
            }
            for (k, t) in tokenizers.enumerated() {
                let s = gold.scores(t)
                report.corpus!.values[k][.morphPrecision] = s.precision
                report.corpus!.values[k][.morphRecall] = s.recall
                report.corpus!.values[k][.morphF1] = s.f1
                report.corpus!.values[k][.morphPure] = s.pure
            }
        }
        if lex != nil && corpus.isEmpty {
            throw EvalError.invalid("--lexicon needs corpus files: the token types it checks are those used on them")
        }
        if let parallel {
            let files = try parallelFiles(parallel, pivot: options.pivot)
            var scopes: [EvaluationReport.Scope] = []
            for (lang, path) in files {
                let counts = try evaluator.measure(files: [path], threads: options.threads, invalidUTF8: options.invalidUTF8)
                guard counts[0].bytes > 0 else { throw EvalError.content(name: path, line: nil, reason: "empty file") }
                scopes.append(makeScope(lang, counts, evaluator, options))
            }
            let pivotTokens = scopes[0].tokens
            for s in scopes.indices {
                for k in tokenizers.indices {
                    scopes[s].values[k][.premium] = Double(scopes[s].tokens[k]) / Double(max(1, pivotTokens[k]))
                }
            }
            report.gini = tokenizers.indices.map { k in gini(scopes.map { $0.values[k][.premium] ?? 0 }) }
            report.languages = scopes
            report.pivot = options.pivot
        }
        return report
    }

    /// The language files of a parallel corpus, pivot first, checked to have the same number of lines.
    public static func parallelFiles(_ dir: String, pivot: String) throws -> [(String, String)] {
        // Regular files named LANG.txt or LANG.txt.zst, in byte order of their names.
        if dir.isEmpty { throw EvalError.content(name: "\"\"", line: nil, reason: "an empty directory name names no directory") }
        guard let d = opendir(dir) else {
            throw EvalError.content(name: dir, line: nil, reason: "cannot read the parallel corpus directory")
        }
        var names: [String] = []
        defer { closedir(d) }
        while let e = readdir(d) {
            let bytes = withUnsafeBytes(of: e.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            guard let name = FileNameText.decode(bytes) else {
                let tail = bytes.suffix(8)
                if bytes.first != UInt8(ascii: ".") && (tail.elementsEqual(".txt.zst".utf8) || tail.suffix(4).elementsEqual(".txt".utf8)) {
                    throw EvalError.content(name: dir, line: nil, reason: FileNameText.notUTF8(bytes))
                }
                continue
            }
            if !name.hasPrefix(".") && (name.hasSuffix(".txt") || name.hasSuffix(".txt.zst")) { names.append(name) }
        }
        names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var files: [(String, String)] = []
        for n in names {
            let path = dir.hasSuffix("/") ? dir + n : dir + "/" + n
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let lang = String(n.split(separator: ".", maxSplits: 1)[0])
            if let other = files.first(where: { $0.0 == lang }) {
                throw EvalError.content(name: dir, line: nil, reason: "two files for the language \(lang) (\(other.1) and \(path)); keep one")
            }
            files.append((lang, path))
        }
        guard let p = files.firstIndex(where: { $0.0 == pivot }) else {
            throw EvalError.content(name: dir, line: nil, reason: "no file for the pivot language \(pivot) (\(pivot).txt or \(pivot).txt.zst)")
        }
        files.insert(files.remove(at: p), at: 0)
        guard files.count >= 2 else {
            throw EvalError.content(name: dir, line: nil, reason: "a parallel corpus needs at least two language files")
        }
        let pivotLines = try TextLines.count(files[0].1)
        for (_, path) in files.dropFirst() {
            let n = try TextLines.count(path)
            if n != pivotLines {
                func lines(_ k: Int) -> String { k == 1 ? "1 line" : "\(k) lines" }
                throw EvalError.invalid("\(path) has \(lines(n)) but \(files[0].1) has \(lines(pivotLines)): parallel files must be aligned line by line")
            }
        }
        return files
    }

    static func makeScope(_ name: String, _ counts: [TokenCounts], _ e: Evaluator, _ o: EvaluationOptions) -> EvaluationReport.Scope {
        EvaluationReport.Scope(
            name: name, bytes: counts[0].bytes,
            values: counts.indices.map { values(counts[$0], traits: e.traits[$0], alpha: o.alpha) },
            tokens: counts.map(\.tokens), lengthHistograms: counts.map(\.lengthHistogram))
    }

    /// The metrics that follow from the counts of one text.
    public static func values(_ c: TokenCounts, traits: TokenTraits, alpha: Double) -> [Metric: Double] {
        var v: [Metric: Double] = [:]
        func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }
        v[.bytesPerToken] = ratio(c.bytes, c.tokens)
        v[.charactersPerToken] = ratio(c.characters, c.tokens)
        v[.fertilityWhitespace] = ratio(c.tokens, c.whitespaceWords)
        v[.fertilityWords] = ratio(c.tokens, c.words)
        v[.retentionWhitespace] = ratio(c.whitespaceWordsWhole, c.whitespaceWords)
        v[.retentionWords] = ratio(c.wordsWhole, c.words)
        v[.pretokenPurity] = ratio(c.tokens - c.crossingTokens, c.tokens)
        var types = 0, crossingTypes = 0, scriptTypes = 0, classTypes = 0
        var scriptTokens: UInt64 = 0, classTokens: UInt64 = 0, partialTokens: UInt64 = 0
        var entropy = 0.0, renyiSum = 0.0
        let total = Double(c.tokens)
        // The Renyi sum is taken relative to the largest count, (n / max)^alpha, which cannot underflow to 0 for a
        // large alpha (p^alpha did from alpha of about 400 on); log sum p^alpha = log sum + alpha log(max / total).
        let most = Double(c.idCounts.max() ?? 0)
        for (id, n) in c.idCounts.enumerated() where n > 0 {
            types += 1
            let f = traits.flags(id)
            if c.crossingIDs[id >> 6] >> UInt64(id & 63) & 1 != 0 { crossingTypes += 1 }
            if f & TokenTraits.oneScript != 0 { scriptTypes += 1; scriptTokens += n }
            if f & TokenTraits.oneClass != 0 { classTypes += 1; classTokens += n }
            if f & TokenTraits.partial != 0 { partialTokens += n }
            let p = Double(n) / total
            entropy -= p * log2(p)
            renyiSum += pow(Double(n) / most, alpha)
        }
        v[.pretokenPurityTypes] = ratio(types - crossingTypes, types)
        v[.scriptPurity] = ratio(Int(scriptTokens), c.tokens)
        v[.scriptPurityTypes] = ratio(scriptTypes, types)
        v[.classPurity] = ratio(Int(classTokens), c.tokens)
        v[.classPurityTypes] = ratio(classTypes, types)
        v[.byteFallbackRate] = ratio(Int(partialTokens), c.tokens)
        if c.tokens > 0 {
            v[.entropy] = entropy
            let renyi = alpha == 1 ? entropy * log(2) : (log(renyiSum) + alpha * log(most / total)) / (1 - alpha)
            v[.renyiEfficiency] = renyi / log(Double(max(2, traits.ordinaryCount)))
        }
        let usedOrdinary = c.idCounts.prefix(traits.ordinaryCount).filter { $0 > 0 }.count
        v[.utilization] = ratio(usedOrdinary, traits.ordinaryCount)
        v[.unusedTokens] = Double(traits.ordinaryCount - usedOrdinary)
        return v
    }

    /// Gini coefficient: sum over all pairs |x_i - x_j| / (2 n^2 mean).
    public static func gini(_ x: [Double]) -> Double {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        guard n > 0, mean > 0 else { return 0 }
        var s = 0.0
        for a in x { for b in x { s += abs(a - b) } }
        return s / (2 * n * n * mean)
    }
}
