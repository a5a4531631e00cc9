#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import TokCore
import TokIO

/// Progress of a training run on standard error: a bar that redraws itself on a terminal, a plain line every few
/// seconds otherwise, one JSON object per line with `json`, nothing with `quiet`.
public final class ProgressReporter {
    /// How progress is shown.
    public enum Style: String, Sendable, CaseIterable {
        /// A bar when standard error is a terminal, plain lines when it is not.
        case auto
        /// Plain lines every few seconds.
        case plain
        /// One JSON object per line: `{"phase": ..., ...}`.
        case json
        /// Nothing.
        case quiet
    }

    private let style: Style
    private let isTerminal: Bool
    private let start = monotonicSeconds()
    private var last = -1e9
    private var phaseStart = monotonicSeconds()
    private var barShown = false

    /// A reporter in `style`; with `auto` it checks now whether standard error is a terminal.
    public init(style: Style) {
        self.style = style
        isTerminal = style == .auto && isatty(2) != 0
        // A bar appears at once; lines only once there is something to say.
        if !isTerminal { last = monotonicSeconds() }
    }

    private var interval: Double { isTerminal ? 0.1 : (style == .json ? 1.0 : 5.0) }

    private func due(force: Bool) -> Bool {
        if style == .quiet { return false }
        let now = monotonicSeconds()
        if !force && now - last < interval { return false }
        last = now
        return true
    }

    private func emit(_ s: String) {
        var line = s
        line.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
    }

    private static func mb(_ bytes: Int) -> String { NumberText.fixed(Double(bytes) / 1e6, 1) + " MB" }

    private static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(t / 60 % 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }

    private func bar(_ fraction: Double) -> String {
        let width = 24
        let filled = max(0, min(width, Int(fraction * Double(width))))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    private func eta(_ fraction: Double) -> Double {
        let spent = monotonicSeconds() - phaseStart
        return fraction > 0.001 ? spent * (1 - fraction) / fraction : .infinity
    }

    /// Reading and counting: `raw` bytes of `total` read (0 when unknown), `pieces` pre-tokens counted.
    public func reading(raw: Int, total: Int, text: Int, pieces: Int, force: Bool = false) {
        guard due(force: force) else { return }
        let fraction = total > 0 ? min(1, Double(raw) / Double(total)) : 0
        switch style {
        case .quiet: return
        case .json:
            emit("{\"phase\":\"count\",\"bytes_read\":\(raw),\"bytes_total\":\(total),\"text_bytes\":\(text),\"pretokens\":\(pieces),\"elapsed\":\(NumberText.fixed(monotonicSeconds() - start, 2))}\n")
        case .auto, .plain:
            let eta = total > 0 ? " ETA " + Self.duration(eta(fraction)) : ""
            let what = "counting " + (total > 0 ? bar(fraction) + " " : "") + Self.mb(raw) + (total > 0 ? " of " + Self.mb(total) : "")
                + ", \(pieces) pre-token\(pieces == 1 ? "" : "s")" + eta
            if isTerminal { emit("\r\u{1B}[K" + what); barShown = true } else { emit(what + "\n") }
        }
    }

    /// Counting is over: `distinct` different pre-tokens.
    public func counted(distinct: Int, pieces: Int, text: Int) {
        phaseStart = monotonicSeconds()
        switch style {
        case .quiet: return
        case .json:
            emit("{\"phase\":\"counted\",\"text_bytes\":\(text),\"pretokens\":\(pieces),\"distinct\":\(distinct),\"elapsed\":\(NumberText.fixed(monotonicSeconds() - start, 2))}\n")
        case .auto, .plain:
            // Counts read from files (`train --counts`) come with no text size.
            let source = text > 0 || pieces == 0 ? " in \(Self.mb(text)) of text" : ""
            let line = "counted \(pieces) pre-token\(pieces == 1 ? "" : "s") (\(distinct) distinct)\(source), \(NumberText.fixed(monotonicSeconds() - start, 1)) s"
            if isTerminal { emit("\r\u{1B}[K" + line + "\n") } else { emit(line + "\n") }
            barShown = false
        }
        last = isTerminal ? -1e9 : monotonicSeconds()
    }

    /// Merging: `tokens` of `target` tokens so far.
    public func merging(tokens: Int, target: Int, force: Bool = false) {
        guard due(force: force) else { return }
        let fraction = Double(max(0, tokens - 256)) / Double(max(1, target - 256))
        switch style {
        case .quiet: return
        case .json:
            emit("{\"phase\":\"merge\",\"tokens\":\(tokens),\"target\":\(target),\"elapsed\":\(NumberText.fixed(monotonicSeconds() - start, 2))}\n")
        case .auto, .plain:
            let what = "merging " + bar(fraction) + " \(tokens) of \(target) tokens ETA " + Self.duration(eta(fraction))
            if isTerminal { emit("\r\u{1B}[K" + what); barShown = true } else { emit(what + "\n") }
        }
    }

    /// A final line.
    public func done(_ message: String) {
        switch style {
        case .quiet: return
        case .json:
            emit("{\"phase\":\"done\",\"message\":\(JSONValue.quote(message)),\"elapsed\":\(NumberText.fixed(monotonicSeconds() - start, 2))}\n")
        case .auto, .plain:
            if isTerminal && barShown { emit("\r\u{1B}[K") }
            emit(message + "\n")
        }
    }

    /// A warning: `tok COMMAND: warning: ...` (after ending a bar line), one `{"phase": "warning", ...}` object
    /// with `json`, nothing with `quiet`.
    public func warning(_ command: String, _ message: String) {
        switch style {
        case .quiet: return
        case .json:
            emit("{\"phase\":\"warning\",\"message\":\(JSONValue.quote(message)),\"elapsed\":\(NumberText.fixed(monotonicSeconds() - start, 2))}\n")
        case .auto, .plain:
            interrupt()
            emit("tok \(command): warning: \(message)\n")
        }
    }

    /// Ends a bar line before an error message is printed.
    public func interrupt() {
        if isTerminal && barShown { emit("\n"); barShown = false }
    }
}
