import TokIO

/// Which files `tok train` writes.
public enum VocabularyFormat: String, Sendable, CaseIterable {
    /// `PREFIX.tiktoken` and its sidecar `PREFIX.json` (pattern and special tokens), read by `tok encode -t`.
    case tiktoken
    /// HF `tokenizers` file `PREFIX.tokenizer.json`.
    case hf
    /// GPT-2 style `PREFIX.vocab.json` and `PREFIX.merges.txt`.
    case merges
}

/// Writes a trained vocabulary's files all or nothing: every file goes to a temporary file first, and only when
/// all are written are they renamed into place. A failure (or a signal, with
/// `AtomicFileWriter.removeTemporaryFilesOnSignal`) leaves no partial file and no file of the set.
public enum VocabularyOutput {
    /// The prefix that an `-o` value names: the value without a final `.tiktoken` or `.tokenizer.json` (endings of
    /// files `write` makes, so `-o my.tiktoken` writes `my.tiktoken` and `my.json`, not `my.tiktoken.tiktoken`),
    /// else the value itself.
    public static func prefix(forOutput output: String) -> String {
        for suffix in [".tiktoken", ".tokenizer.json"] where output.hasSuffix(suffix) && output.count > suffix.count
            && !output.hasSuffix("/" + suffix) {
            return String(output.dropLast(suffix.count))
        }
        return output
    }

    /// The paths written for `prefix`, in order.
    public static func paths(prefix: String, formats: [VocabularyFormat]) -> [String] {
        var out: [String] = []
        for f in formats {
            switch f {
            case .tiktoken: out += [prefix + ".tiktoken", prefix + ".json"]
            case .hf: out.append(prefix + ".tokenizer.json")
            case .merges: out += [prefix + ".vocab.json", prefix + ".merges.txt"]
            }
        }
        return out
    }

    /// Writes the files; returns their paths. Throws before renaming anything if any file fails, or if a format
    /// cannot express the vocabulary (HF files for an `icu-words` vocabulary). `warn` hears of files that a peer
    /// reads differently from what they say.
    @discardableResult
    public static func write(_ v: TrainedVocabulary, prefix: String, formats: [VocabularyFormat],
                             warn: (String) -> Void = { _ in }) throws -> [String] {
        var files: [(String, [UInt8])] = []
        // The merges both HF formats list, worked out once.
        var merges: [(left: UInt32, right: UInt32)]? = nil
        func rankMerges() throws -> [(left: UInt32, right: UInt32)] {
            if let merges { return merges }
            guard let m = v.rankMerges() else {
                throw TrainError.invalid("a token does not split into two lower-ranked tokens, so there is no merge list for HF's formats")
            }
            merges = m
            return m
        }
        for f in formats {
            switch f {
            case .tiktoken:
                files.append((prefix + ".tiktoken", v.tiktokenFile()))
                files.append((prefix + ".json", v.sidecarFile()))
            case .hf:
                guard let data = v.hfTokenizerFile(merges: try rankMerges()) else {
                    throw TrainError.invalid("HF tokenizer.json cannot express this vocabulary (HF has no UAX #29 word-break pre-tokenizer); leave out --formats hf")
                }
                files.append((prefix + ".tokenizer.json", data))
            case .merges:
                files.append((prefix + ".vocab.json", v.vocabJSONFile()))
                files.append((prefix + ".merges.txt", v.mergesTextFile(merges: try rankMerges())))
                if let skipped = v.mergesHFSkips(try rankMerges()) {
                    warn("merges.txt line \(skipped.line) starts with \"#version\", which HF reads as a header and skips "
                         + "(\(skipped.count) such line\(skipped.count == 1 ? "" : "s")): HF's vocab.json + merges.txt then "
                         + "give other ids; tokenizer.json does not have this problem")
                }
            }
        }
        var writers: [AtomicFileWriter] = []
        do {
            for (path, data) in files {
                let w = try AtomicFileWriter(path: path)
                writers.append(w)
                try w.write(bytes: data)
            }
            try AtomicFileWriter.commitAll(writers)
        } catch {
            for w in writers { w.discard() }
            throw error
        }
        return files.map { $0.0 }
    }
}
