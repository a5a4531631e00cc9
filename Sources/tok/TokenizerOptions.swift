import ArgumentParser
import TokCore
import TokICU
import TokIO

/// How the pieces of text are found before BPE.
enum PreTokenizerChoice: String, ExpressibleByArgument, CaseIterable {
    /// The hand-written scanner when the pattern is a standard one, else ICU regex.
    case auto
    /// ICU's regex engine, even for standard patterns.
    case icuRegex = "icu-regex"
    /// ICU word boundaries (UAX #29) instead of a regex.
    case icuWords = "icu-words"
}

/// Options shared by every command that needs a tokenizer.
struct TokenizerOptions: ParsableArguments {
    @Option(name: [.customShort("t"), .customLong("tokenizer")],
            help: ArgumentHelp("A shipped vocabulary (cl100k_base, o200k_base, o200k_harmony, llama3, mixed-8k), a .tiktoken file, or an OpenAI model name that tiktoken maps to a shipped vocabulary (gpt-4o, gpt-4, ...).",
                               valueName: "name|file"))
    var tokenizer: String = "cl100k_base"

    @Option(help: ArgumentHelp("Pre-tokenization regex (ICU syntax), or one of gpt2, cl100k, o200k, llama3. Default: the vocabulary's own (shipped, or from the file's sidecar JSON).",
                               valueName: "regex"))
    var pattern: String?

    @Option(help: ArgumentHelp("How pieces are found: auto (hand-written scanner for standard patterns, else ICU regex), icu-regex, icu-words (UAX #29 word breaks).",
                               valueName: "kind"))
    var pretokenizer: PreTokenizerChoice = .auto

    @Option(name: .customLong("special-tokens"),
            help: ArgumentHelp("JSON file with the special tokens (an object of string to id, or a sidecar with special_tokens), replacing the vocabulary's own.",
                               valueName: "file"))
    var specialTokensFile: String?

    /// Loads the tokenizer these options describe; `patternFlag`: whether the command has `--pattern` (for
    /// messages); `needsPattern`: false for decoding, where a file without a pattern gets a placeholder.
    func load(patternFlag: Bool = true, needsPattern: Bool = true) throws -> Tokenizer {
        var base: Tokenizer
        switch try resolve() {
        case .file(let path, let shipped):
            // The sidecar is read once here and its contents passed on, so the loader does not read it again.
            let sidecar = try shipped.map { $0.sidecar } ?? Sidecar.find(for: path)
            // A vocabulary trained on UAX #29 words says so in its sidecar; --pretokenizer still overrides it.
            var choice = pretokenizer
            if let p = sidecar?.preTokenizer {
                // An unknown name is an error even when flags override it: read as the default, it would give other ids.
                guard let c = PreTokenizerChoice(rawValue: p) else {
                    let known = PreTokenizerChoice.allCases.map(\.rawValue).joined(separator: ", ")
                    throw CLIError("\(sidecar?.path ?? path): unknown pretokenizer \(JSONValue.quote(p)) (known: \(known))")
                }
                if choice == .auto && pattern == nil { choice = c }
            }
            let placeholder = needsPattern ? nil : StandardPattern.cl100k.patternString
            // A word-break vocabulary's sidecar has an empty pat_str: no pattern for a regex engine to run.
            let sidecarPattern = sidecar?.pattern.flatMap { $0.isEmpty && choice != .icuWords ? nil : $0 }
            guard let pat = pattern.map(Self.expandPattern) ?? sidecarPattern ?? (choice == .icuWords ? "" : placeholder) else {
                throw CLIError("\(path): no pre-tokenization pattern; \(patternFlag ? "pass --pattern or " : "")put pat_str in \(Sidecar.candidates(for: path)[0])")
            }
            let specials = try specialTokensFile.map(Self.readSpecials) ?? sidecar?.specialTokens ?? []
            let pre = try Self.makePreTokenizer(pat, choice, from: pattern != nil ? "--pattern" : sidecar?.path ?? path)
            let normalizer = try sidecar?.normalizer.map { form in
                guard let f = ICUNormalizer.Form(rawValue: form) else {
                    throw CLIError("\(sidecar?.path ?? path): unknown normalizer \(form)")
                }
                return ICUNormalizer(f)
            }
            base = try Tokenizer.load(contentsOf: path, name: shipped?.name, pattern: pat, specialTokens: specials,
                                      specialTokensFile: specialTokensFile ?? sidecar?.path ?? path, preTokenizer: pre,
                                      normalizer: normalizer)
        case .shipped(let name):
            // Its files were not found (`shipped(_:)`): TokCore says where it looked.
            base = try Tokenizer.load(name: name)
        }
        return base
    }

    /// A shipped vocabulary's name and the sidecar that goes with its ranks file.
    struct ShippedFiles {
        var name: String
        var sidecar: Sidecar
    }

    /// What `-t` names.
    enum Source {
        /// A shipped vocabulary whose files were not found, by name.
        case shipped(String)
        /// A vocabulary file, by path; for a shipped name whose copy needs ICU, its files.
        case file(String, shipped: ShippedFiles? = nil)
    }

    /// What `-t` names. A shipped name always means the shipped vocabulary (the default too): a file of that name
    /// in the current directory is "./cl100k_base". An existing file comes before a model name, which tiktoken's
    /// table maps to a vocabulary.
    func resolve() throws -> Source {
        if tokenizer.isEmpty { throw CLIError("-t needs a vocabulary name or file, not an empty string") }
        if Tokenizer.shippedNames.contains(tokenizer) { return try Self.shipped(tokenizer) }
        if fileExists(tokenizer) { return .file(tokenizer) }
        if Tokenizer.vocabularyName(forModel: tokenizer) != nil {
            let name: String
            do { name = try Tokenizer.shippedVocabularyName(forModel: tokenizer) } catch {
                throw CLIError("\(tokenizer): \(error.reason)")
            }
            return try Self.shipped(name)
        }
        throw CLIError("\(tokenizer): no such file, not a shipped vocabulary (\(Tokenizer.shippedNames.joined(separator: ", "))) and not a model name tiktoken knows (gpt-4o, gpt-4, ...)")
    }

    /// A shipped vocabulary's files, found once and loaded as a file's are, with the flags applied the same way: a
    /// copy in $TOK_VOCABULARIES whose sidecar needs ICU (a pattern of its own, word breaks, a normalizer), which
    /// TokCore's `load(name:)` cannot run, works too. `.shipped` only when they are not found.
    static func shipped(_ name: String) throws -> Source {
        if let files = try Tokenizer.shippedVocabularyFiles(name), let sidecar = files.sidecar {
            return .file(files.ranks, shipped: ShippedFiles(name: name, sidecar: sidecar))
        }
        return .shipped(name)
    }

    func makePreTokenizer(_ pat: String) throws -> any PreTokenizer {
        try Self.makePreTokenizer(pat, pretokenizer)
    }

    /// `makePreTokenizer`, with a pattern ICU rejects reported as an error of `source` (the flag or the sidecar).
    static func makePreTokenizer(_ pat: String, _ choice: PreTokenizerChoice, from source: String) throws -> any PreTokenizer {
        do { return try makePreTokenizer(pat, choice) } catch let e as ICURegexError {
            throw CLIError("\(source): \(e)")
        }
    }

    /// The pre-tokenizer for a pattern and a choice of engine.
    static func makePreTokenizer(_ pat: String, _ choice: PreTokenizerChoice) throws -> any PreTokenizer {
        switch choice {
        case .auto:
            if let std = StandardPattern(pattern: pat) { return std.preTokenizer }
            return try ICURegexPreTokenizer(pattern: pat)
        case .icuRegex:
            return try ICURegexPreTokenizer(pattern: pat)
        case .icuWords:
            return try ICUWordBreakPreTokenizer()
        }
    }

    /// Standard pattern names stand for their regexes.
    func validate() throws {
        if let pattern { try Self.checkPattern(pattern, pretokenizer) }
    }

    /// `--pattern`'s checks: not empty (unless word breaks make the pieces), not a mistyped standard name.
    static func checkPattern(_ p: String, _ pretokenizer: PreTokenizerChoice) throws {
        if p.isEmpty && pretokenizer != .icuWords { throw ValidationError("--pattern is empty") }
        try checkPatternName(p)
    }

    /// A pattern of letters, digits, "_" and "-" only is a mistyped standard name (`cl100k_base`), not a regex
    /// anyone wants: it would match only itself, leaving all other text unsplit.
    private static func checkPatternName(_ p: String) throws {
        guard StandardPattern(rawValue: p) == nil, !p.isEmpty,
              p.utf8.allSatisfy({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D })
        else { return }
        throw ValidationError("--pattern \(p) is not a standard pattern name (gpt2, cl100k, o200k, llama3), and as a regex it would match only the text \"\(p)\"")
    }

    static func expandPattern(_ p: String) -> String {
        if let std = StandardPattern(rawValue: p) { return std.patternString }
        return p
    }

    /// The special tokens of `--special-tokens`: a sidecar's `special_tokens`, or a bare object of string to id
    /// (whose keys may be any strings, "pattern" too). Read once, so a pipe or `<(...)` works as a file does.
    static func readSpecials(_ path: String) throws -> [(String, UInt32)] {
        let data = try InputSource.contents(of: path)
        let json: JSONValue
        do {
            json = try data.withUnsafeBufferPointer { b in Result { () throws(JSONError) -> JSONValue in try JSONValue.parse(b) } }.get()
        } catch {
            throw CLIError("\(path): invalid JSON at \(error)")
        }
        // A sidecar's special_tokens is an object; in a bare object every value is an id.
        let wrapped = json["special_tokens"]?.objectValue != nil ? json : JSONValue.object([("special_tokens", json)])
        return try Sidecar.parse(wrapped, path: path).specialTokens ?? []
    }
}
