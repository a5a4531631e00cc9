#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Makes writes to a closed pipe fail with EPIPE instead of killing the process with SIGPIPE.
///
/// Call once at startup, before any output. `OutputWriter` then throws `TokIOError.brokenPipe`, so that
/// `tok encode big.txt | head -1` can stop quietly, without a message on standard error.
public func ignoreSIGPIPE() {
    _ = signal(SIGPIPE, SIG_IGN)
}
