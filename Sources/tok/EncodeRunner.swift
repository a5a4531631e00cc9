import TokCore
import TokIO
import TokICU
internal import CMalloc

/// Runs `tok encode` over its inputs: one pipeline for all of them, counts with names, and the output target.
enum EncodeRunner {
    static func run(tokenizer: Tokenizer, options: EncodeOptions, inputs: [String], output: String?) throws {
        fixMallocMapThreshold()
        let pipeline = EncodePipeline(tokenizer: tokenizer, options: options)
        // A user pattern that ICU gives up on ends the process (see `PreTokenizationFailure`), past the pipeline's
        // error handling: the message names the input as other input errors do, and the output of the inputs
        // before it is pushed out before each input, as an error thrown would have written it (a batched input
        // whose pattern fails is encoded again on this thread).
        let mayFail = tokenizer.preTokenizer is ICURegexPreTokenizer
        try withOutput(output, flushing: { write, flush in
            var total = 0
            try pipeline.run(paths: inputs, write: write, flush: flush, starting: { name in
                if mayFail {
                    try flush()
                    exitOnPreTokenizationFailure("encode", input: name)
                }
            }, finished: { path, name, summary in
                total += summary.tokens
                if options.countOnly && !options.lines {
                    let label = path == "-" && inputs.count == 1 ? "" : " " + displayName(name)
                    var line = "\(summary.tokens)\(label)\n"
                    try line.withUTF8 { try write($0) }
                }
            })
            if options.countOnly && !options.lines && inputs.count > 1 {
                var line = "\(total) total\n"
                try line.withUTF8 { try write($0) }
            }
        })
    }

    /// glibc raises its mmap threshold to the size of each large block freed (up to 32 MB); blocks of that size then
    /// come from the heap of whichever thread allocates them, which keeps their memory after they are freed. With two
    /// threads, the peak memory of long stretches (segments of 5 MB with their ids and output) then depended on which
    /// thread freed what: 121-179 MB against 84 MB on one thread, for runs of NUL bytes with Llama 3. With the threshold
    /// fixed at 1 MB, 102-104 MB against 73 MB. The usual segments' buffers (256 KB) stay in the heap, and the speed
    /// over a pipe is the same (10 MB, 16 alternating runs each: o200k one thread 98.3 -> 97.1 ms at best, two 60.5
    /// -> 60.5; cl100k 85.2 -> 86.0 and 52.8 -> 51.8). Not for `tok bench`: its result arrays (20 MB for 10 MB of
    /// text) would be mapped and faulted in afresh on every run, 5-7% slower.
    static func fixMallocMapThreshold() {
        _ = tok_fix_mmap_threshold(1 << 20)
    }
}
