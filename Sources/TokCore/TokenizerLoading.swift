/// Loading tokenizers from shipped names and from vocabulary files.
extension Tokenizer {
    /// The vocabularies tok ships, by name.
    public static let shippedNames = ["cl100k_base", "o200k_base", "o200k_harmony", "llama3", "mixed-8k"]

    /// Loads a shipped vocabulary ("cl100k_base", "o200k_base", "o200k_harmony" (o200k_base's ranks with the
    /// special tokens of the gpt-oss models' harmony chat format), "llama3", or "mixed-8k", which tok trained on
    /// its shipped training corpus) with its pattern and special tokens.
    ///
    /// The files are looked up in `$TOK_VOCABULARIES` (a colon-separated list of directories), then in
    /// `../share/tok/vocabularies` next to the executable, then in a `vocabularies` directory in the executable's
    /// directory or any of its parents, then in the source checkout this library was built from.
    public static func load(name: String) throws(VocabularyError) -> Tokenizer {
        switch try shippedFiles(name) {
        case .tiktoken(let path):
            return try load(contentsOf: path, name: name)
        case .sharedRanks(let sidecar, let ranks):
            // A vocabulary defined by its sidecar over another's ranks (o200k_harmony: o200k_base's ranks with the
            // harmony chat format's special tokens), which shares that file's cached image.
            guard let pattern = sidecar.pattern, sidecar.normalizer == nil, sidecar.preTokenizer == nil else {
                throw VocabularyError(file: sidecar.path ?? name, line: nil, reason: "a sidecar naming another's ranks needs pat_str, and no normalizer or pretokenizer")
            }
            return try load(contentsOf: ranks, name: name, pattern: pattern, specialTokens: sidecar.specialTokens ?? [])
        case nil:
            let known = shippedNames.joined(separator: ", ")
            if shippedNames.contains(name) {
                // Some shipped names (o200k_harmony) are a sidecar over another's ranks, with no .tiktoken of their own.
                let searched = vocabularySearchPath.joined(separator: ", ")
                throw VocabularyError(file: name, line: nil, reason: "shipped vocabulary not found in \(searched); set TOK_VOCABULARIES to the directory holding \(name).tiktoken, or \(name).json and the ranks file it names")
            }
            throw VocabularyError(file: name, line: nil, reason: "unknown tokenizer name (shipped: \(known); load(contentsOf:) reads a .tiktoken file)")
        }
    }

    /// The files that `load(name:)` reads for the shipped name `name` (the first found along
    /// `vocabularySearchPath`): the ranks file and the sidecar, if any (for a name such as o200k_harmony, the sidecar
    /// over another vocabulary's ranks); nil when there are none. Loading from these with
    /// `load(contentsOf:name:pattern:specialTokens:preTokenizer:normalizer:)` also runs a copy in `$TOK_VOCABULARIES`
    /// whose sidecar asks for a pattern or settings TokCore cannot run.
    public static func shippedVocabularyFiles(_ name: String) throws(VocabularyError) -> (ranks: String, sidecar: Sidecar?)? {
        guard shippedNames.contains(name) else { return nil }
        switch try shippedFiles(name) {
        case .tiktoken(let path)?: return (path, try Sidecar.find(for: path))
        case .sharedRanks(let sidecar, let ranks)?: return (ranks, sidecar)
        case nil: return nil
        }
    }

    /// Directories searched for shipped vocabularies, in order.
    public static var vocabularySearchPath: [String] {
        var dirs: [String] = []
        if let env = FileBytes.environment("TOK_VOCABULARIES") {
            dirs += env.split(separator: ":").map(String.init)
        }
        if var dir = FileBytes.executableDirectory() {
            dirs.append(dir + "/../share/tok/vocabularies")
            while !dir.isEmpty {
                dirs.append(dir + "/vocabularies")
                guard let slash = dir.lastIndex(of: "/") else { break }
                dir = String(dir[..<slash])
                if dir.isEmpty { dirs.append("/vocabularies") }
            }
        }
        // The checkout this file was compiled from: Sources/TokCore/TokenizerLoading.swift -> repo root.
        var src = #filePath
        for _ in 0..<3 { if let s = src.lastIndex(of: "/") { src = String(src[..<s]) } }
        dirs.append(src + "/vocabularies")
        return dirs
    }

    /// Where a shipped vocabulary's files are.
    enum ShippedFiles {
        /// Its own `.tiktoken` file (its sidecar next to it).
        case tiktoken(String)
        /// A sidecar naming another vocabulary's ranks file (`"ranks"`), which lies in the sidecar's directory.
        case sharedRanks(Sidecar, String)
    }

    /// The files of the shipped vocabulary `name`, from the first directory of `vocabularySearchPath` that has
    /// them, or nil.
    static func shippedFiles(_ name: String) throws(VocabularyError) -> ShippedFiles? {
        guard !name.contains("/") else { return nil }
        for dir in vocabularySearchPath {
            let path = dir + "/" + name + ".tiktoken"
            if FileBytes.exists(path) { return .tiktoken(path) }
            let json = dir + "/" + name + ".json"
            guard FileBytes.exists(json) else { continue }
            let sidecar = try Sidecar.read(json)
            guard let ranks = sidecar.ranksFile else { continue }
            if ranks.contains("/") || ranks.hasPrefix(".") {
                throw VocabularyError(file: json, line: nil, reason: "ranks must name a file in the same directory")
            }
            return .sharedRanks(sidecar, dir + "/" + ranks)
        }
        return nil
    }

    /// Loads a `.tiktoken` file.
    ///
    /// - Parameters:
    ///   - path: the vocabulary file.
    ///   - pattern: the pre-tokenization regex; when nil, taken from the sidecar JSON (`pat_str`).
    ///   - specialTokens: special tokens; when nil, taken from the sidecar JSON (`special_tokens`), else none.
    ///   - specialTokensFile: the file the special tokens came from, which errors about them name (by default
    ///     `path`, and "special tokens" for a malformed list).
    ///   - preTokenizer: overrides the pre-tokenizer built from the pattern. Needed for patterns other than the
    ///     standard ones (gpt2, cl100k, o200k, llama3), which only TokICU's regex engine runs, and for a
    ///     vocabulary whose sidecar says `"pretokenizer": "icu-words"` (TokICU's `ICUWordBreakPreTokenizer`).
    ///   - normalizer: the normalization applied before encoding. Required when the sidecar (if it is read, that
    ///     is when `pattern` or `specialTokens` is nil) names one, as `tok train --normalize` writes: TokCore has
    ///     none of its own (TokICU's `ICUNormalizer` is one), and encoding without it would give other ids.
    ///
    /// The parsed table is kept as an image in `$TOK_CACHE_DIR` (default `~/.cache/tok`; `off` disables it), found
    /// by the fingerprint of the file's bytes, so later loads of the same file skip parsing; images of files that
    /// changed stay until the directory is cleaned.
    ///
    /// The sidecar is `<path minus .tiktoken>.json` or `<path>.json`, an object with `pat_str` (or `pattern`),
    /// `special_tokens` (an object of string to id) and optionally `normalizer` and `pretokenizer`, as written by
    /// `tok train`.
    public static func load(contentsOf path: String, name: String? = nil, pattern: String? = nil,
                            specialTokens: [(String, UInt32)]? = nil, specialTokensFile: String? = nil,
                            preTokenizer: (any PreTokenizer)? = nil,
                            normalizer: (any TextNormalizer)? = nil) throws(VocabularyError) -> Tokenizer {
        let table = try VocabularyCache.table(path: path)
        let sidecar = pattern == nil || specialTokens == nil ? try Sidecar.find(for: path) : nil
        if let form = sidecar?.normalizer, normalizer == nil {
            throw VocabularyError(file: sidecar?.path ?? path, line: nil, reason: "the vocabulary wants its text normalized (\(form)); pass normalizer: (TokICU's ICUNormalizer)")
        }
        if let words = sidecar?.preTokenizer, preTokenizer == nil, pattern == nil {
            throw VocabularyError(file: sidecar?.path ?? path, line: nil, reason: "the vocabulary's pieces come from the \(words) pre-tokenizer; pass preTokenizer: (TokICU's ICUWordBreakPreTokenizer)")
        }
        guard let pat = pattern ?? sidecar?.pattern else {
            throw VocabularyError(file: path, line: nil, reason: "no pre-tokenization pattern: pass pattern:, or put pat_str in \(Sidecar.candidates(for: path)[0])")
        }
        let specials: SpecialTokens
        do { specials = try SpecialTokens(specialTokens ?? sidecar?.specialTokens ?? []) } catch {
            throw specialTokensFile.map { VocabularyError(file: $0, line: nil, reason: error.reason) } ?? error
        }
        try specials.checkDisjoint(from: table, file: specialTokensFile ?? path)
        let pre: any PreTokenizer
        if let preTokenizer {
            pre = preTokenizer
        } else if let std = StandardPattern(pattern: pat) {
            pre = std.preTokenizer
        } else {
            throw VocabularyError(file: path, line: nil, reason: "pattern is not one of the standard patterns; TokCore alone cannot run it (use TokICU's ICURegexPreTokenizer)")
        }
        var base = name ?? path
        if name == nil {
            if let s = base.lastIndex(of: "/") { base = String(base[base.index(after: s)...]) }
            if base.hasSuffix(".tiktoken") { base = String(base.dropLast(9)) }
        }
        return Tokenizer(name: base, ranks: table, pattern: pat, preTokenizer: pre, specialTokens: specials,
                         normalizer: normalizer)
    }
}

/// The JSON file next to a `.tiktoken` vocabulary that holds its pattern and special tokens.
public struct Sidecar: Sendable {
    /// `pat_str`: the pre-tokenization regular expression.
    public var pattern: String?
    /// `special_tokens`: each special token's text and id.
    public var specialTokens: [(String, UInt32)]?
    /// `icu-words` for a vocabulary whose pieces are UAX #29 words rather than regex matches (`tok train
    /// --pretokenizer icu-words`).
    public var preTokenizer: String?
    /// The Unicode normalization (`nfc`, `nfkc`, ...) of the text the vocabulary was trained on.
    public var normalizer: String?
    /// The file it was read from, for messages.
    public var path: String?
    /// `ranks`: for a shipped vocabulary with no `.tiktoken` file of its own, the file (in the same directory)
    /// whose ranks it uses.
    public var ranksFile: String?

    /// Where the sidecar of `path` may be, in order of preference.
    public static func candidates(for path: String) -> [String] {
        var c: [String] = []
        if path.hasSuffix(".tiktoken") { c.append(String(path.dropLast(9)) + ".json") }
        c.append(path + ".json")
        return c
    }

    /// Reads the first sidecar that exists, or returns nil when none does.
    public static func find(for path: String) throws(VocabularyError) -> Sidecar? {
        for c in candidates(for: path) where FileBytes.exists(c) { return try read(c) }
        return nil
    }

    /// Reads a sidecar file.
    public static func read(_ path: String) throws(VocabularyError) -> Sidecar {
        let data = try FileBytes.contents(of: path)
        let json: JSONValue
        do {
            json = try data.withUnsafeBufferPointer { b in
                Result { () throws(JSONError) -> JSONValue in try JSONValue.parse(b) }
            }.get()
        } catch {
            throw VocabularyError(file: path, line: nil, reason: "invalid JSON at \(error)")
        }
        return try parse(json, path: path)
    }

    /// Interprets a parsed sidecar.
    public static func parse(_ json: JSONValue, path: String) throws(VocabularyError) -> Sidecar {
        guard json.objectValue != nil else { throw VocabularyError(file: path, line: nil, reason: "expected a JSON object") }
        var s = Sidecar()
        s.path = path
        if let p = json["pat_str"] ?? json["pattern"] {
            guard let ps = p.stringValue else { throw VocabularyError(file: path, line: nil, reason: "pat_str must be a string") }
            s.pattern = ps
        }
        for (key, path2) in [("pretokenizer", \Sidecar.preTokenizer), ("normalizer", \Sidecar.normalizer), ("ranks", \Sidecar.ranksFile)] {
            guard let v = json[key] else { continue }
            guard let str = v.stringValue else { throw VocabularyError(file: path, line: nil, reason: "\(key) must be a string") }
            s[keyPath: path2] = str
        }
        if let st = json["special_tokens"] {
            guard let members = st.objectValue else {
                throw VocabularyError(file: path, line: nil, reason: "special_tokens must be an object of string to id")
            }
            var list: [(String, UInt32)] = []
            for (k, v) in members {
                guard let d = v.numberValue, d >= 0, d < 4_294_967_295, d == d.rounded() else {
                    throw VocabularyError(file: path, line: nil, reason: "special token \(JSONValue.quote(k)) has an invalid id")
                }
                list.append((k, UInt32(d)))
            }
            s.specialTokens = list
        }
        return s
    }
}
