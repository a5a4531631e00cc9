import XCTest
import Synchronization
import TokCore
import TokTestSupport
@testable import TokIO
#if canImport(Glibc)
import Glibc
#endif

/// Counts how many splits run at once and on which threads; with `waits`, a split waits until two have run at the
/// same time (10 s at most in all), so that a test sees whether inputs are encoded concurrently.
private final class Rendezvous: Sendable {
    struct State { var active = 0; var most = 0; var threads: Set<UInt> = []; var waitedMilliseconds = 0 }
    let state = Mutex(State())
    let waits: Bool
    init(waits: Bool) { self.waits = waits }

    func enter() {
        state.withLock {
            $0.active += 1
            $0.most = max($0.most, $0.active)
            $0.threads.insert(UInt(pthread_self()))
        }
        while waits && state.withLock({ $0.most < 2 && $0.waitedMilliseconds < 10_000 }) {
            usleep(1000)
            state.withLock { $0.waitedMilliseconds += 1 }
        }
    }
    func leave() { state.withLock { $0.active -= 1 } }

    /// Splits at spaces and line feeds, through `enter` and `leave`.
    func splitter() -> SpaceSplitter {
        SpaceSplitter(willSplit: { self.enter() }, didSplit: { self.leave() })
    }
}

/// `EncodePipeline.run(paths:)`: small files encoded in batches on workers, the rest on the calling thread, with
/// the output, the callbacks and the errors of the inputs encoded in turn.
final class ManyInputsTests: XCTestCase {
    static let cl100k = try! Tokenizer.load(name: "cl100k_base")

    struct Run: Equatable {
        var output: [UInt8] = []
        var finished: [String] = []
        var error: String?
    }

    /// Runs `paths` through a pipeline of `threads` threads with segments of 1 KB (so that files up to 1.5 KB are
    /// batched); the output, a line per finished input and the error thrown.
    static func run(_ paths: [String], _ tokenizer: Tokenizer, threads: Int, options: EncodeOptions = EncodeOptions()) -> Run {
        var options = options
        options.threads = threads
        options.segmentBytes = 1024
        let pipeline = EncodePipeline(tokenizer: tokenizer, options: options)
        var r = Run()
        do {
            try pipeline.run(paths: paths, write: { r.output += $0 }, finished: { path, name, s in
                r.finished.append("\(path) \(name) \(s.bytes) \(s.tokens) \(s.lines)")
            })
        } catch {
            r.error = "\(type(of: error)): \(error)"
        }
        return r
    }

    /// Text of about `bytes` bytes from several scripts, with line feeds, seeded.
    static func text(_ bytes: Int, seed: Int) -> [UInt8] {
        let words = ["the", "tokenizer", "日本語の", "naïve", "Привет", "مرحبا", "🙂👍", "42", "it's", "\t", "  ", "\r\n"]
        var out: [UInt8] = []
        var k = seed
        while out.count < bytes {
            k = (k &* 1103515245 &+ 12345) & 0x7fff_ffff
            out += Array(words[k % words.count].utf8)
            out.append(k % 7 == 0 ? 0x0A : 0x20)
        }
        return out
    }

    /// `text(_:seed:)` cut at a character's start and padded with "x" to exactly `bytes` bytes.
    static func text(exactly bytes: Int, seed: Int) -> [UInt8] {
        var t = Array(text(bytes, seed: seed).prefix(bytes))
        while let last = t.last, last >= 0x80 { t.removeLast() }   // no character is cut in two
        return t + [UInt8](repeating: UInt8(ascii: "x"), count: bytes - t.count)
    }

    func testSmallFilesAreEncodedTogetherOnWorkerThreads() throws {
        guard sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 else { throw XCTSkip("needs two CPUs") }
        let dir = ScratchDir()
        var paths: [String] = []
        for k in 0..<8 {
            writeFile(dir.file("f\(k).txt"), Self.text(1200, seed: k))
            paths.append(dir.file("f\(k).txt"))
        }
        let rendezvous = Rendezvous(waits: true)
        let tokenizer = Tokenizer(name: "recording", ranks: Self.cl100k.ranks, pattern: "(test)",
                                  preTokenizer: rendezvous.splitter(), specialTokens: .none)
        let caller = UInt(pthread_self())
        let parallel = Self.run(paths, tokenizer, threads: 2)
        let state = rendezvous.state.withLock { $0 }
        // Each file is one segment (1.5 segments at most): encoded in turn, every one would be split on the calling
        // thread, one at a time.
        XCTAssertGreaterThanOrEqual(state.most, 2, "no two files were encoded at the same time")
        XCTAssertFalse(state.threads.contains(caller), "a file was encoded on the calling thread")
        let serialTokenizer = Tokenizer(name: "recording", ranks: Self.cl100k.ranks, pattern: "(test)",
                                        preTokenizer: Rendezvous(waits: false).splitter(),
                                        specialTokens: .none)
        XCTAssertEqual(parallel, Self.run(paths, serialTokenizer, threads: 1))
        XCTAssertNil(parallel.error)
        XCTAssertEqual(parallel.finished.count, 8)
    }

    /// Files batched and not (sizes around the 1.5 KB limit and the 1 KB batch size, empty ones, a zstd file of
    /// less text than the limit, and one of more, which is handed back to the calling thread), in every output
    /// format: the same output and callbacks for 1, 2 and 3 threads.
    func testOutputIsThatOfTheInputsInTurn() throws {
        let dir = ScratchDir()
        var paths: [String] = []
        func add(_ name: String, _ bytes: [UInt8]) { paths.append(dir.write(name, bytes)) }
        add("empty.txt", [])
        add("tiny.txt", Array("hello".utf8))
        for k in 0..<12 { add("s\(k).txt", Self.text(300 + 37 * k, seed: 100 + k)) }
        add("at-limit.txt", Self.text(exactly: 1536, seed: 1))
        add("over-limit.txt", Self.text(exactly: 1537, seed: 2))
        add("large.txt", Self.text(20_000, seed: 3))
        add("no-final-lf.txt", Array("last line without a line feed".utf8))
        add("plain-for-zstd.txt", Self.text(3000, seed: 4))
        add("small-for-zstd.txt", Self.text(1000, seed: 5))
        let zstdAvailable = shell("command -v zstd >/dev/null 2>&1") == 0
        if zstdAvailable {
            XCTAssertEqual(shell("cd '\(dir.path)' && zstd -q -c plain-for-zstd.txt > packed.zst && zstd -q -c small-for-zstd.txt > small.zst"), 0)
            paths += [dir.file("packed.zst"), dir.file("s0.txt"), dir.file("small.zst")]
        }
        for k in 0..<5 { add("t\(k).txt", Self.text(800, seed: 200 + k)) }
        add("empty2.txt", [])

        var formats: [EncodeOptions] = []
        for (lines, count, format) in [(false, false, OutputFormat.ids), (true, false, .ids), (false, true, .ids),
                                       (true, true, .ids), (false, false, .tokens), (false, false, .jsonl),
                                       (true, false, .jsonl)] {
            var o = EncodeOptions()
            o.lines = lines
            o.countOnly = count
            o.format = format
            formats.append(o)
        }
        for options in formats {
            let one = Self.run(paths, Self.cl100k, threads: 1, options: options)
            XCTAssertNil(one.error)
            XCTAssertEqual(one.finished.count, paths.count)
            for threads in [2, 3] {
                XCTAssertEqual(Self.run(paths, Self.cl100k, threads: threads, options: options), one,
                               "lines \(options.lines), count \(options.countOnly), \(options.format), \(threads) threads")
            }
        }
        // The ids of each input are those of the tokenizer on its text.
        var expected: [UInt8] = []
        for path in paths {
            let text = readFile(path.hasSuffix("packed.zst") ? dir.file("plain-for-zstd.txt")
                                : path.hasSuffix("small.zst") ? dir.file("small-for-zstd.txt") : path)
            let ids = try Self.cl100k.encode(bytes: text)
            expected += Array((ids.map(String.init).joined(separator: " ") + "\n").utf8)
        }
        XCTAssertEqual(Self.run(paths, Self.cl100k, threads: 2).output, expected)
    }

    /// An error in a batched file is thrown after the output of the inputs before it and what was written of it,
    /// as in turn; nothing of the inputs after it is written. (A pre-tokenizer's failure sends the file back to the
    /// calling thread, where it ends the process: the CLI tests check that.)
    func testErrorsComeInInputOrder() throws {
        let dir = ScratchDir()
        var paths: [String] = []
        func add(_ name: String, _ bytes: [UInt8]) { paths.append(dir.write(name, bytes)) }
        for k in 0..<6 { add("a\(k).txt", Self.text(500, seed: k)) }
        let good = paths
        var failing: [(String, [UInt8], EncodeOptions)] = []
        var special = EncodeOptions()
        special.special = .error
        failing.append(("invalid.txt", Self.text(700, seed: 9) + [0xFF] + Self.text(100, seed: 10), EncodeOptions()))
        failing.append(("special.txt", Self.text(700, seed: 9) + Array("<|endoftext|>".utf8), special))
        for (name, bytes, options) in failing {
            writeFile(dir.file(name), bytes)
            for at in [0, 3, 6] {
                var list = good
                list.insert(dir.file(name), at: at)
                let one = Self.run(list, Self.cl100k, threads: 1, options: options)
                XCTAssertNotNil(one.error)
                XCTAssertTrue(one.error!.contains(name), one.error!)
                XCTAssertEqual(one.finished.count, at)
                XCTAssertEqual(Self.run(list, Self.cl100k, threads: 2, options: options), one, "\(name) at \(at)")
            }
        }
        var list = good
        list.insert(dir.file("missing.txt"), at: 2)
        let missing = Self.run(list, Self.cl100k, threads: 2)
        XCTAssertEqual(missing, Self.run(list, Self.cl100k, threads: 1))
        XCTAssertEqual(missing.output, Self.run(Array(good[..<2]), Self.cl100k, threads: 1).output)
    }
}
