/// OpenAI model names, mapped to their vocabularies as tiktoken 0.14 maps them (`tiktoken.model`), so that
/// `-t gpt-4o` means what `tiktoken.encoding_for_model("gpt-4o")` does. The compat suite checks every entry, and
/// each prefix, against the installed tiktoken.
extension Tokenizer {
    /// Exact model names (tiktoken's `MODEL_TO_ENCODING`), looked up first.
    static let modelVocabularies: [String: String] = [
        "o1": "o200k_base", "o3": "o200k_base", "o4-mini": "o200k_base", "gpt-5": "o200k_base",
        "gpt-4.1": "o200k_base", "gpt-4o": "o200k_base",
        "gpt-4": "cl100k_base", "gpt-3.5-turbo": "cl100k_base", "gpt-3.5": "cl100k_base",
        "gpt-35-turbo": "cl100k_base", "davinci-002": "cl100k_base", "babbage-002": "cl100k_base",
        "text-embedding-ada-002": "cl100k_base", "text-embedding-3-small": "cl100k_base",
        "text-embedding-3-large": "cl100k_base",
        "text-davinci-003": "p50k_base", "text-davinci-002": "p50k_base", "text-davinci-001": "r50k_base",
        "text-curie-001": "r50k_base", "text-babbage-001": "r50k_base", "text-ada-001": "r50k_base",
        "davinci": "r50k_base", "curie": "r50k_base", "babbage": "r50k_base", "ada": "r50k_base",
        "code-davinci-002": "p50k_base", "code-davinci-001": "p50k_base", "code-cushman-002": "p50k_base",
        "code-cushman-001": "p50k_base", "davinci-codex": "p50k_base", "cushman-codex": "p50k_base",
        "text-davinci-edit-001": "p50k_edit", "code-davinci-edit-001": "p50k_edit",
        "text-similarity-davinci-001": "r50k_base", "text-similarity-curie-001": "r50k_base",
        "text-similarity-babbage-001": "r50k_base", "text-similarity-ada-001": "r50k_base",
        "text-search-davinci-doc-001": "r50k_base", "text-search-curie-doc-001": "r50k_base",
        "text-search-babbage-doc-001": "r50k_base", "text-search-ada-doc-001": "r50k_base",
        "code-search-babbage-code-001": "r50k_base", "code-search-ada-code-001": "r50k_base",
        "gpt2": "gpt2", "gpt-2": "gpt2",
    ]

    /// Model-name prefixes (tiktoken's `MODEL_PREFIX_TO_ENCODING`), tried in this order when no exact name
    /// matches: the first prefix of the name wins, so the order is part of the mapping.
    static let modelPrefixVocabularies: [(prefix: String, vocabulary: String)] = [
        ("o1-", "o200k_base"), ("o3-", "o200k_base"), ("o4-mini-", "o200k_base"), ("gpt-5", "o200k_base"),
        ("gpt-4.5-", "o200k_base"), ("gpt-4.1-", "o200k_base"), ("chatgpt-4o-", "o200k_base"),
        ("gpt-4o-", "o200k_base"), ("gpt-4-", "cl100k_base"), ("gpt-3.5-turbo-", "cl100k_base"),
        ("gpt-35-turbo-", "cl100k_base"), ("gpt-oss-", "o200k_harmony"), ("ft:gpt-4o", "o200k_base"),
        ("ft:gpt-4", "cl100k_base"), ("ft:gpt-3.5-turbo", "cl100k_base"), ("ft:davinci-002", "cl100k_base"),
        ("ft:babbage-002", "cl100k_base"),
    ]

    /// The vocabulary tiktoken uses for an OpenAI model name ("gpt-4o" → "o200k_base"), or nil for a name it does
    /// not know. The answer may be a vocabulary tok does not ship (`shippedNames`), such as "p50k_base".
    public static func vocabularyName(forModel model: String) -> String? {
        if let v = modelVocabularies[model] { return v }
        return modelPrefixVocabularies.first { model.hasPrefix($0.prefix) }?.vocabulary
    }

    /// The shipped vocabulary that tiktoken uses for an OpenAI model name. Fails for a name tiktoken does not know,
    /// and for one whose vocabulary tok does not ship.
    public static func shippedVocabularyName(forModel model: String) throws(VocabularyError) -> String {
        guard let name = vocabularyName(forModel: model) else {
            throw VocabularyError(file: model, line: nil, reason: "not a model name tiktoken knows")
        }
        guard shippedNames.contains(name) else {
            throw VocabularyError(file: model, line: nil, reason: "tiktoken maps this model to \(name), which tok does not ship (shipped: \(shippedNames.joined(separator: ", ")))")
        }
        return name
    }

    /// Loads the shipped vocabulary that tiktoken uses for an OpenAI model name (see `vocabularyName(forModel:)`).
    /// Fails for a name tiktoken does not know, and for one whose vocabulary tok does not ship.
    public static func load(model: String) throws(VocabularyError) -> Tokenizer {
        try load(name: shippedVocabularyName(forModel: model))
    }
}
