#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import TokCore

@main
struct Tok: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tok",
        abstract: "Byte-level BPE tokenizer toolkit: train vocabularies, encode and decode text with tiktoken-compatible ones, and compare tokenizers.",
        discussion: """
            Shipped vocabularies: cl100k_base, o200k_base, o200k_harmony (gpt-oss), llama3, and mixed-8k (trained by \
            tok on its shipped \
            training corpus). Any .tiktoken file works too, with its \
            pre-tokenization pattern and special tokens from a sidecar JSON or from flags.
            """,
        version: tokVersion,
        subcommands: [Encode.self, Decode.self, Train.self, Count.self, Eval.self, Bench.self])

    /// Refuses arguments that are not UTF-8 before parsing: Swift would read them with U+FFFD in place of the bad
    /// bytes, so a Latin-1 file name would name no file, or with -o a different one (see `FileNameText`). Runs the
    /// command as ArgumentParser's `main` does, but a usage error that quotes a value with a line break in it keeps
    /// its message on one line.
    static func main() {
        for k in 1..<Int(CommandLine.argc) {
            guard let arg = CommandLine.unsafeArgv[k] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(arg).assumingMemoryBound(to: UInt8.self), count: strlen(arg))
            if FileNameText.decode(bytes) == nil {
                var line = "tok: argument \(k) \"\(FileNameText.escapingControlCharacters(FileNameText.describe(bytes)))\" is not UTF-8; "
                    + "tok takes UTF-8 arguments and file names only\n"
                line.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
                exitProcess(64)
            }
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            let message = message(for: error)
            let escaped = FileNameText.escapingControlCharacters(message)
            // Help, version, and errors already reported (ExitCode) go as ArgumentParser sends them.
            guard code != .success, !message.isEmpty, escaped != message else { exit(withError: error) }
            var text = fullMessage(for: error).replacing(message, with: escaped)
            if !text.hasSuffix("\n") { text += "\n" }
            text.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
            exitProcess(code.rawValue)
        }
    }
}

let tokVersion = "0.1.0"
