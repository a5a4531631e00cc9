/// The metrics `tok eval` reports, with what each means and where it comes from (the man page repeats these).
public enum Metric: String, CaseIterable, Sendable {
    case bytesPerToken = "bytes_per_token"
    case charactersPerToken = "chars_per_token"
    case fertilityWhitespace = "fertility_whitespace"
    case fertilityWords = "fertility_words"
    case retentionWhitespace = "single_token_words_whitespace"
    case retentionWords = "single_token_words"
    case pretokenPurity = "pretoken_purity"
    case pretokenPurityTypes = "pretoken_purity_types"
    case scriptPurity = "script_purity"
    case scriptPurityTypes = "script_purity_types"
    case classPurity = "class_purity"
    case classPurityTypes = "class_purity_types"
    case renyiEfficiency = "renyi_efficiency"
    case entropy = "entropy_bits"
    case utilization = "vocabulary_utilization"
    case unusedTokens = "unused_tokens"
    case byteFallbackRate = "byte_fallback_rate"
    case premium = "premium"
    case gini = "gini"
    case morphPrecision = "morph_precision"
    case morphRecall = "morph_recall"
    case morphF1 = "morph_f1"
    case morphPure = "morph_pure"
    case lexiconValidity = "lexicon_validity"

    /// A short column label.
    public var label: String {
        switch self {
        case .bytesPerToken: return "bytes/token"
        case .charactersPerToken: return "chars/token"
        case .fertilityWhitespace: return "fertility (ws)"
        case .fertilityWords: return "fertility (UAX29)"
        case .retentionWhitespace: return "1-token words (ws)"
        case .retentionWords: return "1-token words (UAX29)"
        case .pretokenPurity: return "pre-token pure"
        case .pretokenPurityTypes: return "pre-token pure types"
        case .scriptPurity: return "1-script"
        case .scriptPurityTypes: return "1-script types"
        case .classPurity: return "1-class"
        case .classPurityTypes: return "1-class types"
        case .renyiEfficiency: return "Renyi eff."
        case .entropy: return "entropy bits"
        case .utilization: return "vocab used"
        case .unusedTokens: return "unused tokens"
        case .byteFallbackRate: return "byte-fallback rate"
        case .premium: return "premium"
        case .gini: return "parity Gini"
        case .morphPrecision: return "morph P"
        case .morphRecall: return "morph R"
        case .morphF1: return "morph F1"
        case .morphPure: return "%Pure"
        case .lexiconValidity: return "lexicon valid"
        }
    }

    /// Whether a larger value is better (nil when neither is: entropy).
    public var higherIsBetter: Bool? {
        switch self {
        case .fertilityWhitespace, .fertilityWords, .unusedTokens, .byteFallbackRate, .premium, .gini: return false
        case .entropy: return nil
        default: return true
        }
    }

    /// Whether the value is a share (shown as a percentage).
    public var isShare: Bool {
        switch self {
        case .retentionWhitespace, .retentionWords, .pretokenPurity, .pretokenPurityTypes, .scriptPurity,
             .scriptPurityTypes, .classPurity, .classPurityTypes, .utilization, .byteFallbackRate, .morphPrecision,
             .morphRecall, .morphF1, .morphPure, .lexiconValidity, .renyiEfficiency:
            return true
        default:
            return false
        }
    }

    /// What the metric is, in one or two sentences, with its source.
    public var definition: String {
        switch self {
        case .bytesPerToken: return "UTF-8 bytes of the text divided by its tokens (compression)."
        case .charactersPerToken: return "Unicode scalars of the text divided by its tokens."
        case .fertilityWhitespace:
            return "Tokens per word, words being runs of non-white-space characters as Python's str.split() finds them (Ali et al., NAACL Findings 2024; meaningless for languages written without spaces)."
        case .fertilityWords:
            return "Tokens per word, words being ICU's UAX #29 word segments that are numbers, letters, kana or ideographs (Rust et al., 2021, count words from a word segmentation)."
        case .retentionWhitespace:
            return "Share of whitespace words that lie inside a single token (single-token retention rate)."
        case .retentionWords: return "Share of UAX #29 words that lie inside a single token."
        case .pretokenPurity:
            return "Share of token occurrences that lie inside one piece of the reference pre-tokenizer (o200k's pattern): tokens across word boundaries are impure."
        case .pretokenPurityTypes: return "Share of the token types used on the text that never cross a reference piece boundary."
        case .scriptPurity:
            return "Share of token occurrences whose characters belong to at most one Unicode script (Common and Inherited, and the bytes of cut characters, not counted)."
        case .scriptPurityTypes: return "The same over the token types used on the text."
        case .classPurity:
            return "Share of token occurrences whose characters are of one class: letters and marks, numbers, white space, or other (white space in front of something else not counted, as in \" the\")."
        case .classPurityTypes: return "The same over the token types used on the text."
        case .renyiEfficiency:
            return "Renyi entropy of order alpha of the token distribution divided by the log of the vocabulary size (Zouhar et al., ACL 2023; alpha 2.5 by default)."
        case .entropy: return "Shannon entropy of the token distribution, in bits."
        case .utilization: return "Share of the ordinary vocabulary that occurs on the text."
        case .unusedTokens: return "Ordinary tokens that never occur on the text (under-used vocabulary)."
        case .byteFallbackRate:
            return "Share of token occurrences whose bytes are not well-formed UTF-8 on their own (a character cut between tokens, the byte-level counterpart of unknown or byte-fallback tokens)."
        case .premium:
            return "Tokens of a language's text divided by the tokens of the pivot language's parallel text (Petrov et al., NeurIPS 2023): 1 is parity."
        case .gini:
            return "Gini coefficient of the premiums of all languages, sum |c_i - c_j| / (2 n^2 mean) (tokenizer fairness Gini, Meister 2025): 0 is equal cost for every language."
        case .morphPrecision:
            return "Of the token boundaries inside the gold-segmented words (each encoded alone after a space), the share that are morpheme boundaries."
        case .morphRecall: return "Of the gold morpheme boundaries, the share that are token boundaries."
        case .morphF1: return "Harmonic mean of morpheme-boundary precision and recall."
        case .morphPure:
            return "Share of the tokens of the gold-segmented words that are whole morphemes (%Pure, Bayram et al., 2025, computed on a gold segmentation)."
        case .lexiconValidity:
            return "Share of the token types used on the corpus that are words or morphemes of the lexicon, after stripping white space (%TR, Bayram et al., 2025)."
        }
    }
}
