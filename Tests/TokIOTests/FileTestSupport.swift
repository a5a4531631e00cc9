#if canImport(Glibc)
import Glibc
#endif

// Files and commands for the tests that read real files.

/// A scratch directory removed after the test.
final class ScratchDir {
    let path: String
    init() { path = String(cString: mkdtemp(strdup("/tmp/tok-io-XXXXXX"))!) }
    deinit { _ = shell("rm -rf '\(path)'") }
    func file(_ name: String) -> String { path + "/" + name }
    /// Writes the file `name` in the directory; returns its path.
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        writeFile(file(name), bytes)
        return file(name)
    }
}

/// Runs `command` with /bin/sh; returns its exit status.
@discardableResult
func shell(_ command: String) -> Int32 {
    guard let f = popen(command, "r") else { return -1 }
    var sink = [UInt8](repeating: 0, count: 4096)
    while fread(&sink, 1, sink.count, f) > 0 {}
    return (pclose(f) >> 8) & 0xFF
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let f = fopen(path, "wb")!
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

func readFile(_ path: String) -> [UInt8] {
    let f = fopen(path, "rb")!
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while case let n = fread(&buf, 1, buf.count, f), n > 0 { out.append(contentsOf: buf[..<n]) }
    return out
}
