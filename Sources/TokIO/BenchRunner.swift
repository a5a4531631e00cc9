#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TokCore

/// Seconds on a monotonic clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// In-process encode timing for `tok bench`.
public enum BenchRunner {
    /// Encodes `data` `repeats` times and returns the token count and the best time in seconds.
    public static func run(tokenizer: Tokenizer, data: [UInt8], threads: Int, repeats: Int) -> (tokens: Int, seconds: Double) {
        var best = Double.infinity
        var tokens = 0
        data.withUnsafeBufferPointer { b in
            for _ in 0..<repeats {
                // Every run starts with empty caches, as the peers' runs do on fresh instances: no piece or pair
                // remembered from the last run (scratch buffers stay allocated, as a warm allocator would keep them).
                tokenizer.clearCaches()
                let t0 = monotonicSeconds()
                let ids = (try? tokenizer.encodeParallel(bytes: b, threads: threads)) ?? []
                let t = monotonicSeconds() - t0
                tokens = ids.count
                best = min(best, t)
            }
        }
        return (tokens, best)
    }
}
