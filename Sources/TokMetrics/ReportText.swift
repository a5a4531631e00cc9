import TokCore

/// Plain renderings of an `EvaluationReport`: an aligned table, JSON and CSV.
public enum ReportText {
    static func format(_ v: Double?, _ m: Metric) -> String {
        guard let v, v.isFinite else { return "-" }
        if m.isShare { return NumberText.fixed(v * 100, 1) + "%" }
        if m == .unusedTokens { return String(Int(v)) }
        return NumberText.fixed(v, 3)
    }

    /// A value as JSON and CSV write it: full precision, counts as integers.
    static func raw(_ v: Double, _ m: Metric) -> String {
        m == .unusedTokens ? String(Int(v)) : "\(v)"
    }

    static func render(_ rows: [[String]], rightFrom: Int = 1) -> String {
        guard let first = rows.first else { return "" }
        let widths = (0..<first.count).map { c in rows.map { $0[c].unicodeScalars.count }.max() ?? 0 }
        var out = ""
        for (r, row) in rows.enumerated() {
            var cells: [String] = []
            for (c, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[c] - cell.unicodeScalars.count)
                cells.append(c >= rightFrom ? pad + cell : cell + pad)
            }
            out += cells.joined(separator: "  ") + "\n"
            if r == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        return out
    }

    /// The aligned tables for a terminal.
    public static func table(_ r: EvaluationReport) -> String {
        var out = ""
        if let c = r.corpus {
            if !r.corpusFiles.isEmpty {
                out += "corpus: \(r.corpusFiles.joined(separator: " ")) (\(NumberText.fixed(Double(c.bytes) / 1e6, 2)) MB)\n"
            }
            if let s = r.segmentationFile { out += "gold segmentation: \(s)\n" }
            if let l = r.lexiconFile { out += "lexicon: \(l)\n" }
            var rows = [["metric"] + r.tokenizers]
            rows.append(["vocabulary"] + r.vocabularySizes.map(String.init))
            if c.bytes > 0 { rows.append(["tokens"] + c.tokens.map(String.init)) }
            for m in r.corpusMetrics {
                rows.append([m.label] + c.values.map { format($0[m], m) })
            }
            out += render(rows) + "\n"
        }
        if !r.languages.isEmpty, let pivot = r.pivot {
            out += "parallel corpus \(r.parallelDirectory ?? ""): premium, tokens relative to \(pivot) (lower is cheaper; * cheapest)\n"
            var rows = [["language"] + r.tokenizers]
            for s in r.languages {
                let p = s.values.map { $0[.premium] ?? .infinity }
                let best = p.min() ?? 0
                rows.append([s.name] + p.map { NumberText.fixed($0, 2) + ($0 == best ? "*" : " ") })
            }
            rows.append(["Gini"] + r.gini.map { NumberText.fixed($0, 3) + " " })
            out += render(rows) + "\n"
            for m in [Metric.bytesPerToken, .fertilityWords, .fertilityWhitespace] {
                out += "\(m.label) per language\n"
                var rows = [["language"] + r.tokenizers]
                for s in r.languages { rows.append([s.name] + s.values.map { format($0[m], m) }) }
                out += render(rows) + "\n"
            }
        }
        return out
    }

    /// JSON: every value, by scope and tokenizer, with the metrics' definitions.
    public static func json(_ r: EvaluationReport) -> String {
        func num(_ v: Double?, _ m: Metric? = nil) -> String {
            guard let v, v.isFinite else { return "null" }
            return m.map { raw(v, $0) } ?? "\(v)"
        }
        func scope(_ s: EvaluationReport.Scope) -> String {
            var parts: [String] = []
            for (k, t) in r.tokenizers.enumerated() {
                var fields = ["\"tokens\": \(s.tokens[k])"]
                for m in Metric.allCases { if let v = s.values[k][m] { fields.append("\"\(m.rawValue)\": \(num(v, m))") } }
                if k < s.lengthHistograms.count {
                    fields.append("\"token_length_histogram\": [\(s.lengthHistograms[k].map(String.init).joined(separator: ", "))]")
                }
                parts.append("      \(JSONValue.quote(t)): {\(fields.joined(separator: ", "))}")
            }
            return "{\n    \"name\": \(JSONValue.quote(s.name)), \"bytes\": \(s.bytes), \"tokenizers\": {\n" + parts.joined(separator: ",\n") + "\n    }}"
        }
        var out = "{\n  \"tokenizers\": [\(r.tokenizers.map { JSONValue.quote($0) }.joined(separator: ", "))],\n"
        out += "  \"vocabulary_sizes\": [\(r.vocabularySizes.map(String.init).joined(separator: ", "))],\n"
        out += "  \"renyi_alpha\": \(r.alpha),\n"
        out += "  \"corpus_files\": [\(r.corpusFiles.map { JSONValue.quote($0) }.joined(separator: ", "))],\n"
        out += "  \"corpus\": \(r.corpus.map(scope) ?? "null"),\n"
        out += "  \"pivot\": \(r.pivot.map { JSONValue.quote($0) } ?? "null"),\n"
        out += "  \"languages\": [\(r.languages.map { "\n  " + scope($0) }.joined(separator: ","))],\n"
        out += "  \"gini\": {\(r.tokenizers.indices.filter { $0 < r.gini.count }.map { "\(JSONValue.quote(r.tokenizers[$0])): \(num(r.gini[$0]))" }.joined(separator: ", "))},\n"
        out += "  \"definitions\": {\n" + Metric.allCases.map { "    \"\($0.rawValue)\": \(JSONValue.quote($0.definition))" }.joined(separator: ",\n") + "\n  }\n}\n"
        return out
    }

    /// CSV: one `scope,tokenizer,metric,value` row per value (shares as fractions).
    public static func csv(_ r: EvaluationReport) -> String {
        var out = "scope,tokenizer,metric,value\n"
        func q(_ s: String) -> String { s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingAll("\"", "\"\"") + "\"" : s }
        let scopes = (r.corpus.map { [$0] } ?? []) + r.languages
        for s in scopes {
            for (k, t) in r.tokenizers.enumerated() {
                if s.bytes > 0 { out += "\(q(s.name)),\(q(t)),tokens,\(s.tokens[k])\n" }
                for m in Metric.allCases { if let v = s.values[k][m], v.isFinite { out += "\(q(s.name)),\(q(t)),\(m.rawValue),\(raw(v, m))\n" } }
            }
        }
        for (k, t) in r.tokenizers.enumerated() where k < r.gini.count { out += "parallel,\(q(t)),gini,\(r.gini[k])\n" }
        return out
    }
}

extension String {
    func replacingAll(_ a: String, _ b: String) -> String { split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b) }
}
