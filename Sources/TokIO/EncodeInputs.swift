#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization
import TokCore

extension EncodePipeline {
    /// Encodes the files `paths` (`-` is standard input) one after the other into one output, exactly as `run` over
    /// each in turn would, with `finished` called after each input's output.
    ///
    /// With more than one thread, an input of one segment gives `run` nothing to do in parallel, so a corpus of many
    /// small files would be encoded on one thread. Here runs of regular files of one segment at most (1.5 times
    /// `segmentBytes`) are grouped into batches of about a segment, and each batch is encoded on a worker, file after
    /// file, while other batches are encoded on other workers and the calling thread writes their output in order.
    /// Other inputs (standard input, pipes, devices, larger files) are encoded on the calling thread through `run`,
    /// which cuts them into segments; so is a zstd file whose text turns out larger than one segment, and a batched
    /// file whose pre-tokenizer fails, from its start again (see below). The output, what is written before an
    /// error, and which error is thrown are those of the inputs run in turn. Small files are read ahead of their
    /// turn, as many as a few segments' worth while earlier inputs are being encoded, but never past an input that
    /// is not a regular file (standard input, a pipe: what writes it may change later files) until it is read.
    ///
    /// - Parameters:
    ///   - write: receives output bytes in order, on the calling thread.
    ///   - flush: pushes what `write` has received on to its destination (at pauses of slow inputs; see `run`).
    ///   - starting: called on the calling thread with an input's name before its output is written, and before it
    ///     is read if it is read there. A pre-tokenizer that fails on the calling thread ends the process, as in
    ///     `run`, with what `write` has received; a failure in a batched input only sends that input back to the
    ///     calling thread, once the inputs before it are written.
    ///   - finished: called on the calling thread after an input's output, with its path, name and totals.
    public func run(paths: [String],
                    write: (UnsafeBufferPointer<UInt8>) throws -> Void,
                    flush: () throws -> Void = {},
                    starting: (_ name: String) throws -> Void = { _ in },
                    finished: (_ path: String, _ name: String, _ summary: EncodeSummary) throws -> Void) throws {
        func runHere(_ path: String) throws {
            try starting(path == "-" ? InputSource.standardInputName : path)
            let src = try InputSource(path: path)
            let summary = try run(name: src.name, read: { try src.read(into: $0) }, write: write,
                                  paused: { src.inputPaused() }, flush: flush)
            try finished(path, src.name, summary)
        }
        let threads = max(1, options.threads)
        guard threads > 1 && paths.count > 1 else {
            for path in paths { try runHere(path) }
            return
        }
        var serialOptions = options
        serialOptions.threads = 1
        let serial = EncodePipeline(tokenizer: tokenizer, options: serialOptions)
        let segmentBytes = max(options.segmentBytes, 1024)
        let largestBatched = segmentBytes + segmentBytes / 2
        // Input bytes of the batches dispatched and not yet written: as many as `run` keeps in flight, so that their
        // output held for writing stays within what segments in flight hold.
        let pendingLimit = 2 * threads * segmentBytes
        let cancelled = CancelFlag()

        // Inputs planned ahead of the one being written, in order: batches are dispatched when planned.
        var planned: [PlannedInput?] = []
        var head = 0
        var next = 0
        var batchesPending = 0
        var bytesPending = 0
        var peeked: (index: Int, kind: InputKind)? = nil
        // The place in `planned` of an input that is not a regular file: nothing after it is planned until it is read.
        var barrierAt: Int? = nil
        func kind(_ k: Int) -> InputKind {
            if let p = peeked, p.index == k { return p.kind }
            let kind = InputKind(paths[k], largest: largestBatched)
            peeked = (k, kind)
            return kind
        }
        func plan() {
            if let b = barrierAt, head <= b { return }
            barrierAt = nil
            while next < paths.count && planned.count - head < 64
                    && (batchesPending == 0 || (batchesPending < 2 * threads && bytesPending < pendingLimit)) {
                let first = kind(next)
                guard case .small(var bytes) = first else {
                    planned.append(.here(next))
                    next += 1
                    if case .other = first {
                        barrierAt = planned.count - 1
                        return
                    }
                    continue
                }
                var end = next + 1
                while end < paths.count && bytes < segmentBytes && end - next < 1024, case .small(let s) = kind(end) {
                    bytes += s
                    end += 1
                }
                let batch = InputBatch(paths: Array(paths[next..<end]), bytes: bytes, largest: largestBatched,
                                       output: spare.take(capacity: 2 * bytes + 4096))
                DispatchQueue.global().async { batch.encode(with: serial, cancelled: cancelled) }
                planned.append(.batch(batch))
                batchesPending += 1
                bytesPending += bytes
                next = end
            }
            if head > 64 && head * 2 > planned.count { planned.removeFirst(head); head = 0 }
        }
        // On an error, batches still running stop at their next file; the call does not wait for them (one may be
        // in a slow file that would never have been started in turn). They hold only their own buffers.
        defer { cancelled.set() }
        while true {
            plan()
            guard head < planned.count, let item = planned[head] else { break }
            planned[head] = nil
            head += 1
            switch item {
            case .here(let k):
                try runHere(paths[k])
            case .batch(let b):
                b.done.wait()
                batchesPending -= 1
                bytesPending -= b.bytes
                for (j, outcome) in b.outcomes.enumerated() {
                    if outcome.handBack {
                        try runHere(b.paths[j])
                        continue
                    }
                    try starting(outcome.name)
                    try write(UnsafeBufferPointer(rebasing: b.output.bytes[outcome.outputStart..<outcome.outputEnd]))
                    if let failure = outcome.failure { throw failure }
                    try finished(b.paths[j], outcome.name, outcome.summary)
                }
                // A batch stops after a file sent back because its pre-tokenizer failed; if it did not fail here,
                // the rest of the batch is encoded here too.
                for j in b.outcomes.count..<b.paths.count { try runHere(b.paths[j]) }
                spare.give(b.output)
            }
        }
    }
}

/// An input of `run(paths:)` in the order of writing: one encoded on the calling thread, or a batch on a worker.
private enum PlannedInput {
    case here(Int)
    case batch(InputBatch)
}

/// Set once `run(paths:)` gives up, so that its batches stop at their next file.
private final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Consecutive small files encoded on one worker thread, their output kept for the calling thread to write.
private final class InputBatch: @unchecked Sendable {
    struct Outcome {
        var name: String
        var outputStart: Int
        var outputEnd: Int
        var summary = EncodeSummary()
        var failure: (any Error)?
        /// The calling thread encodes this input instead, from its start: a zstd file whose text is larger than a
        /// batched file may be, or one whose pre-tokenizer failed (there, the failure ends the process with what
        /// `run` would have written of the input, which depends on how its output was written).
        var handBack = false
    }

    let paths: [String]
    /// The files' sizes when planned.
    let bytes: Int
    /// The most bytes of text a file may give; more and it is handed back.
    let largest: Int
    let output: ByteBuilder
    /// In the order of `paths`; it stops after a failure or a pre-tokenizer's failure.
    var outcomes: [Outcome] = []
    let done = DispatchSemaphore(value: 0)

    init(paths: [String], bytes: Int, largest: Int, output: ByteBuilder) {
        self.paths = paths
        self.bytes = bytes
        self.largest = largest
        self.output = output
    }

    /// Thrown by a read past `largest`.
    private struct TooLarge: Error {}

    func encode(with pipeline: EncodePipeline, cancelled: CancelFlag) {
        defer { done.signal() }
        for path in paths {
            if cancelled.isSet { return }
            let start = output.count
            var outcome = Outcome(name: path, outputStart: start, outputEnd: start)
            var failedToSplit = false
            do {
                let src = try InputSource(path: path)
                defer { src.close() }
                outcome.name = src.name
                var read = 0
                // Inside a scope of its own, a pre-tokenizer's failure is thrown here rather than ending the process
                // while the inputs before this one are still unwritten.
                outcome.summary = try PreTokenizationFailure.catching {
                    try pipeline.stream(name: src.name, read: {
                        let n = try src.read(into: $0)
                        read += n
                        if read > largest { throw TooLarge() }
                        return n
                    }, write: { output.append($0) }, paused: { false }, flush: {})
                }
            } catch is TooLarge {
                outcome.handBack = true
            } catch is PreTokenizationError {
                outcome.handBack = true
                failedToSplit = true
            } catch {
                outcome.failure = error
            }
            if outcome.handBack { output.removeLast(output.count - start) }
            outcome.outputEnd = output.count
            outcomes.append(outcome)
            // After a pre-tokenizer's failure the calling thread will most likely end the process at this file: the
            // files after it would each spend the pattern's whole budget for nothing.
            if outcome.failure != nil || failedToSplit { return }
        }
    }
}

/// What `run(paths:)` plans an input as, from its `stat`.
private enum InputKind {
    /// A regular file of at most the batched size, and its size.
    case small(Int)
    /// A larger regular file.
    case large
    /// Standard input, a pipe, a device, a directory, or a name that cannot be examined (`runHere` reports it in
    /// order): nothing after it is read ahead.
    case other

    init(_ path: String, largest: Int) {
        var st = stat()
        guard path != "-", stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            self = .other
            return
        }
        self = Int(st.st_size) <= largest ? .small(Int(st.st_size)) : .large
    }
}
