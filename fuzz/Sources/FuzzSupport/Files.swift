#if canImport(Glibc)
import Glibc
#endif

/// The repository this package sits in (fuzz/Sources/<Target>/ is three levels below fuzz/), for vocabularies and
/// corpora; derived from the source path so that a built harness also runs outside fuzz/run.sh.
public func repositoryPath(_ file: String = #filePath) -> String {
    var parts = file.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(4)
    return parts.joined(separator: "/")
}

public func readFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress!, 1, $0.count, f) }
        if n <= 0 { break }
        out += buffer[0..<n]
    }
    return out
}

public func writeFile(_ path: String, _ bytes: [UInt8]) {
    guard let f = fopen(path, "wb") else { fail("cannot write \(path)") }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

/// A path for a scratch file holding the current input, for the readers that take only paths; per process, so
/// that parallel runs do not collide.
public func scratchPath(_ suffix: String) -> String {
    "/dev/shm/tok-fuzz-\(getpid())" + suffix
}
