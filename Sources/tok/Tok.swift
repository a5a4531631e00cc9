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
            let (parsed, trailing) = LongArgumentLists.split(Array(CommandLine.arguments.dropFirst()))
            var command: any ParsableCommand
            do {
                command = try parseAsRoot(parsed)
            } catch where !trailing.isEmpty {
                // A check that fails without the trailing names may not be the first to fail with them (the
                // parser validates in its own order): the whole list's parse says which error the user gets.
                _ = try parseAsRoot(Array(CommandLine.arguments.dropFirst()))
                throw error
            }
            if !trailing.isEmpty {
                LongArgumentLists.append(trailing, to: &command)
                do {
                    try command.validate()
                } catch {
                    // Rare, and only ArgumentParser's own parse of the whole list words its message as for any
                    // other list (with the command's full name in the usage line): slow, but it is an error.
                    _ = try parseAsRoot(Array(CommandLine.arguments.dropFirst()))
                    type(of: command).exit(withError: error)
                }
            }
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

/// ArgumentParser's parsing time grows with the square of the number of values of an array argument (each value's
/// origin joins a set that is copied for every value): 10,000 file names took 2.4 s to parse, 20,000 about 10 s, so
/// `xargs tok encode --count` spent most of its time there. The trailing file names of a long argument list are
/// parsed here instead, and appended to the command's array after ArgumentParser has parsed the rest.
enum LongArgumentLists {
    /// Commands whose last positional argument is an array of names.
    static let commands: Set<String> = ["encode", "decode", "train", "count", "eval"]
    /// Below this many arguments ArgumentParser parses everything.
    static let threshold = 64

    /// `arguments` (without the program name) split into what ArgumentParser parses and trailing names for the
    /// command's array. The trailing names are the end of the run of arguments that do not start with "-" at the
    /// end of the list, less its first two: the first may be an option's value, and the second is then a name,
    /// which keeps a required array non-empty for the parser. `train --counts` takes every following word, so a
    /// list with it is left whole.
    static func split(_ arguments: [String]) -> (parsed: [String], trailing: [String]) {
        guard arguments.count > threshold, let command = arguments.first, commands.contains(command),
              !arguments.contains(where: { $0.hasPrefix("--counts") }) else { return (arguments, []) }
        var start = arguments.count
        while start > 1 && (arguments[start - 1] == "-" || !arguments[start - 1].hasPrefix("-")) { start -= 1 }
        let keep = min(start + 2, arguments.count)
        return (Array(arguments[..<keep]), Array(arguments[keep...]))
    }

    /// Appends `trailing` to the positional array of `command`, after the names ArgumentParser found.
    static func append(_ trailing: [String], to command: inout any ParsableCommand) {
        switch command {
        case var c as Encode: c.files += trailing; command = c
        case var c as Decode: c.files += trailing; command = c
        case var c as Train: c.corpus.corpus += trailing; command = c
        case var c as Count: c.corpus.corpus += trailing; command = c
        case var c as Eval: c.corpus += trailing; command = c
        default: preconditionFailure("no positional array to append to in \(type(of: command))")
        }
    }
}
