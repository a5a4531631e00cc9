#if canImport(Glibc)
import Glibc
#endif

/// Reports a broken invariant and aborts, so that libFuzzer saves the input as a crash.
public func fail(_ message: String) -> Never {
    fputs("FUZZ CHECK FAILED: " + message + "\n", stderr)
    abort()
}

public func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fail(message()) }
}

/// Bytes as space-separated hex, for failure messages.
public func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
}
