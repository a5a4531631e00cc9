import TokIO

/// Runs `body` with a write function for standard output (no `path`, or "-"), or for `path` written atomically
/// (the file appears complete when `body` succeeds, and not at all when it fails).
func withOutput(_ path: String?, _ body: ((UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Void) throws {
    ignoreSIGPIPE()
    if let path, path != "-" {
        AtomicFileWriter.removeTemporaryFilesOnSignal()
        let file = try AtomicFileWriter(path: path)
        do {
            try body { try file.write(bytes: $0) }
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
    } else {
        let out = OutputWriter.standardOutput()
        try body { try out.write(bytes: $0) }
        try out.flush()
    }
}
