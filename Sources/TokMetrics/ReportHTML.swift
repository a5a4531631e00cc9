import TokCore

/// A self-contained HTML page for an `EvaluationReport`: tables and inline SVG charts, no scripts, no external
/// resources, so it opens anywhere without a network. Every chart is an `<svg class="chart" data-metric="...">`.
public enum ReportHTML {
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
                          "#9c755f", "#bab0ac"]

    static func esc(_ s: String) -> String {
        var o = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            default: o.unicodeScalars.append(c)
            }
        }
        return o
    }

    static func color(_ k: Int) -> String { palette[k % palette.count] }

    static func num(_ v: Double, _ digits: Int = 3) -> String { NumberText.fixed(v, digits) }

    /// Value text for a metric.
    static func show(_ v: Double, _ m: Metric?) -> String {
        guard let m else { return num(v, 2) }
        return ReportText.format(v, m)
    }

    static func legend(_ names: [String]) -> String {
        "<div class=\"legend\">" + names.enumerated().map {
            "<span><i style=\"background:\(color($0.offset))\"></i>\(esc($0.element))</span>"
        }.joined() + "</div>"
    }

    /// Horizontal bars grouped by category, one bar per series.
    static func groupedBars(id: String, title: String, categories: [String], series: [String], values: [[Double?]],
                            metric: Metric?, reference: Double? = nil, note: String = "") -> String {
        let barH = 12.0, gap = 8.0, labelW = 90.0, width = 640.0, valueW = 64.0
        let plotW = width - labelW - valueW
        let all = values.flatMap { $0.compactMap { $0 } }.filter { $0.isFinite }
        let maxV = max(all.max() ?? 1, reference ?? 0) * 1.05
        let groupH = Double(series.count) * barH + gap
        let height = Double(categories.count) * groupH + 24
        var s = "<figure><figcaption>\(esc(title))</figcaption>\(legend(series))"
        s += "<svg class=\"chart\" data-metric=\"\(id)\" role=\"img\" aria-label=\"\(esc(title))\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        for (c, cat) in categories.enumerated() {
            let y0 = Double(c) * groupH + 4
            s += "<text x=\"\(Int(labelW - 6))\" y=\"\(num(y0 + Double(series.count) * barH / 2 + 4, 1))\" text-anchor=\"end\" class=\"lab\">\(esc(cat))</text>"
            for k in series.indices {
                guard let v = values[c][k], v.isFinite else { continue }
                let w = max(1, v / maxV * plotW)
                let y = y0 + Double(k) * barH
                s += "<rect x=\"\(Int(labelW))\" y=\"\(num(y, 1))\" width=\"\(num(w, 1))\" height=\"\(Int(barH - 2))\" fill=\"\(color(k))\"><title>\(esc(cat)), \(esc(series[k])): \(show(v, metric))</title></rect>"
                s += "<text x=\"\(num(labelW + w + 4, 1))\" y=\"\(num(y + barH - 3, 1))\" class=\"val\">\(show(v, metric))</text>"
            }
        }
        if let r = reference {
            let x = labelW + r / maxV * plotW
            s += "<line x1=\"\(num(x, 1))\" y1=\"0\" x2=\"\(num(x, 1))\" y2=\"\(Int(height - 20))\" class=\"ref\"/>"
            s += "<text x=\"\(num(x, 1))\" y=\"\(Int(height - 6))\" text-anchor=\"middle\" class=\"val\">\(num(r, 1))</text>"
        }
        s += "</svg>"
        if !note.isEmpty { s += "<p class=\"note\">\(esc(note))</p>" }
        return s + "</figure>"
    }

    /// One bar per tokenizer.
    static func bars(metric m: Metric, series: [String], values: [Double?]) -> String {
        groupedBars(id: m.rawValue, title: m.label, categories: [""], series: series, values: [values], metric: m,
                    note: m.definition + (m.higherIsBetter.map { $0 ? " Higher is better." : " Lower is better." } ?? ""))
    }

    /// The page.
    public static func page(_ r: EvaluationReport, title: String = "tok eval") -> String {
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:1400px;color:#222}
        h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
        table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border:1px solid #ddd;text-align:right}
        th{background:#f4f4f4}td.l,th.l{text-align:left}td.best{font-weight:bold;outline:2px solid #222}
        figure{display:inline-block;vertical-align:top;margin:8px 16px 16px 0;max-width:660px}
        figcaption{font-weight:bold;margin-bottom:4px}.legend span{margin-right:12px;font-size:12px}
        .legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
        svg .lab{font-size:12px;fill:#333}svg .val{font-size:11px;fill:#555}svg .ref{stroke:#222;stroke-dasharray:3 3}
        .note{font-size:12px;color:#555;max-width:640px}dt{font-weight:bold;margin-top:6px}
        </style></head><body>
        <h1>\(esc(title))</h1>
        <p>Tokenizers: \(r.tokenizers.enumerated().map { "<b style=\"color:\(color($0.offset))\">\(esc($0.element))</b> (\(r.vocabularySizes[$0.offset]) tokens)" }.joined(separator: ", ")).
        """
        if !r.corpusFiles.isEmpty { h += " Corpus: \(esc(r.corpusFiles.joined(separator: ", ")))." }
        if let d = r.parallelDirectory { h += " Parallel corpus: \(esc(d)), pivot \(esc(r.pivot ?? ""))." }
        h += "</p>\n"
        let series = r.tokenizers
        if !r.languages.isEmpty {
            h += "<h2>Which tokenizer is cheapest for which language</h2>\n"
            h += "<p>Premium: tokens for a language's text divided by tokens for the same text in \(esc(r.pivot ?? "the pivot")) (lower is cheaper). The cheapest tokenizer for each language is outlined; colours run from green (cheap) to red (expensive).</p>\n"
            h += "<table><tr><th class=\"l\">language</th>" + series.map { "<th>\(esc($0))</th>" }.joined() + "<th class=\"l\">cheapest</th></tr>\n"
            let allP = r.languages.flatMap { $0.values.compactMap { $0[.premium] } }
            let lo = allP.min() ?? 1, hi = allP.max() ?? 1
            for s in r.languages {
                let p = s.values.map { $0[.premium] ?? .infinity }
                let best = p.min() ?? 0
                let tied = series.indices.filter { p[$0] == best }.map { series[$0] }
                let winner = s.name == r.pivot ? "(pivot)" : tied.joined(separator: ", ")
                h += "<tr><td class=\"l\">\(esc(s.name))</td>"
                for v in p {
                    let t = hi > lo ? (v - lo) / (hi - lo) : 0
                    let hue = Int(120 * (1 - min(1, max(0, t))))
                    h += "<td\(v == best ? " class=\"best\"" : "") style=\"background:hsl(\(hue),70%,85%)\">\(num(v, 2))</td>"
                }
                h += "<td class=\"l\">\(esc(winner))</td></tr>\n"
            }
            h += "<tr><td class=\"l\">Gini</td>" + r.gini.map { "<td>\(num($0, 3))</td>" }.joined() + "<td></td></tr></table>\n"
            h += "<h2>Parity</h2>\n"
            h += groupedBars(id: Metric.premium.rawValue, title: "Premium per language (relative to \(r.pivot ?? ""))",
                             categories: r.languages.map(\.name), series: series,
                             values: r.languages.map { s in s.values.map { $0[.premium] } }, metric: .premium,
                             reference: 1, note: Metric.premium.definition)
            h += bars(metric: .gini, series: series, values: r.gini.map { $0 })
            h += "<h2>Per language</h2>\n"
            for m in [Metric.fertilityWords, .fertilityWhitespace, .bytesPerToken, .retentionWords] {
                h += groupedBars(id: m.rawValue + "_per_language", title: "\(m.label) per language",
                                 categories: r.languages.map(\.name), series: series,
                                 values: r.languages.map { s in s.values.map { $0[m] } }, metric: m,
                                 note: m.definition)
            }
        }
        if let c = r.corpus {
            h += "<h2>Corpus metrics</h2>\n<table><tr><th class=\"l\">metric</th>" + series.map { "<th>\(esc($0))</th>" }.joined() + "</tr>\n"
            for m in r.corpusMetrics {
                h += "<tr><td class=\"l\">\(esc(m.label))</td>" + c.values.map { "<td>\(esc(ReportText.format($0[m], m)))</td>" }.joined() + "</tr>\n"
            }
            h += "</table>\n"
            for m in r.corpusMetrics { h += bars(metric: m, series: series, values: c.values.map { $0[m] }) }
            if !c.lengthHistograms.isEmpty {
                h += "<h2>Token lengths</h2>\n"
                let buckets = TokenCounts.histogramBuckets
                let cats = (1...buckets).map { $0 == buckets ? "\($0)+ bytes" : "\($0) byte\($0 == 1 ? "" : "s")" }
                let shares: [[Double?]] = (0..<buckets).map { b in
                    c.lengthHistograms.map { hist in
                        let t = hist.reduce(0, +)
                        return t == 0 ? nil : Double(hist[b]) / Double(t)
                    }
                }
                h += groupedBars(id: "token_length_histogram", title: "Share of tokens by length in bytes (corpus)",
                                 categories: cats, series: series, values: shares, metric: .utilization,
                                 note: "Each tokenizer's token occurrences on the corpus, by length in bytes.")
            }
        }
        h += "<h2>Definitions</h2>\n<dl>"
        for m in Metric.allCases { h += "<dt>\(esc(m.label)) <code>\(m.rawValue)</code></dt><dd>\(esc(m.definition))</dd>" }
        h += "</dl>\n</body></html>\n"
        return h
    }
}
