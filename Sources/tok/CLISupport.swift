#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import TokCore
import TokIO

/// Writes `message` as one line on standard error, prefixed with the command name.
func printError(_ command: String, _ message: String) {
    var line = "tok \(command): \(FileNameText.escapingControlCharacters(message))\n"
    line.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
}

/// A file name as `tok encode --count` prints it: as it is, or quoted as a JSON string when it holds a control
/// character (a line break would split its line) or starts with a quote (which would look like a quoted name).
func displayName(_ name: String) -> String {
    name.hasPrefix("\"") || FileNameText.hasControlCharacters(name) ? JSONValue.quote(name) : name
}

/// `exit` for code inside a `ParsableCommand`, where the name means the command's own method.
func exitProcess(_ code: Int32) -> Never { exit(code) }

func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}

/// Number of online CPUs, the default thread count.
func onlineCPUs() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

/// The worker threads for `--threads`: all CPUs by default, and at most four per CPU, since more only hold more
/// segments in memory (and a huge count would overflow the in-flight limits).
func workerThreads(_ requested: Int?) -> Int { min(requested ?? onlineCPUs(), 4 * onlineCPUs()) }

/// Makes a pre-tokenizer failure (see `PreTokenizationFailure`) print one line, naming `input` when given, remove
/// temporary output files and exit with status 1.
func exitOnPreTokenizationFailure(_ command: String, input: String? = nil) {
    PreTokenizationFailure.handler = { message in
        printError(command, input.map { "\($0): \(message)" } ?? message)
        AtomicFileWriter.removeTemporaryFilesBeforeExit()
        exit(1)
    }
}

/// Runs `body`, turning tok's errors into a one-line message and exit status 1, and a closed output pipe into
/// a quiet exit. A closed standard error (progress piped into `head`) no longer kills the process either.
func runReportingErrors(_ command: String, _ body: () throws -> Void) throws {
    ignoreSIGPIPE()
    exitOnPreTokenizationFailure(command)
    do {
        try body()
    } catch let e as TokIOError where e.isBrokenPipe {
        throw ExitCode.success
    } catch let e as ExitCode {
        throw e
    } catch let e as ValidationError {
        throw e
    } catch {
        printError(command, "\(error)")
        throw ExitCode.failure
    }
}

/// An error the CLI reports as one line.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// The process's peak resident memory in MB (from getrusage).
func peakMemoryMB() -> Int {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Int(u.ru_maxrss) / 1024
}

/// The inputs named by a command's file arguments and `--files-from` list, in that order; standard input alone when
/// there are neither.
func inputPaths(files: [String], filesFrom: String?) throws -> [String] {
    guard let filesFrom else { return files.isEmpty ? ["-"] : files }
    let listed = try InputList.paths(from: filesFrom)
    if filesFrom == "-", let k = listed.firstIndex(of: "-") {
        // Standard input is the list, read to its end: as an input too it would silently be empty.
        throw CLIError("standard input cannot be both the list of files (--files-from -) and an input (entry \(k + 1) of the list is \"-\")")
    }
    return files + listed
}

/// Rejects an empty output name, which names no file (the error would come after the work, as "no such file").
func validateOutput(_ path: String?, option: String = "-o") throws {
    if path == "" { throw ValidationError("\(option) needs a file name, not an empty one (- is standard output)") }
}

/// Rejects standard input as both the list of files and an input.
func validateInputs(files: [String], filesFrom: String?) throws {
    if filesFrom == "-" && files.contains("-") {
        throw ValidationError("standard input cannot be both the list of files (--files-from -) and an input")
    }
}
