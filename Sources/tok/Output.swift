import TokIO

/// Runs `body` with a write function for standard output (no `path`, or "-"), or for `path` written atomically
/// (the file appears complete when `body` succeeds, and not at all when it fails).
func withOutput(_ path: String?, _ body: ((UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Void) throws {
    try withOutput(path, flushing: { write, _ in try withoutActuallyEscaping(write) { try body($0) } })
}

/// `withOutput` with a second function that pushes what was written so far to standard output (a no-op for a
/// file, which appears only when complete), for output that should keep up with input arriving slowly.
func withOutput(_ path: String?, flushing body: (_ write: (UnsafeBufferPointer<UInt8>) throws -> Void,
                                                  _ flush: () throws -> Void) throws -> Void) throws {
    ignoreSIGPIPE()
    if let path, path != "-" {
        AtomicFileWriter.removeTemporaryFilesOnSignal()
        let file = try AtomicFileWriter(path: path)
        do {
            try body({ try file.write(bytes: $0) }, {})
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
    } else {
        let out = OutputWriter.standardOutput()
        try body({ try out.write(bytes: $0) }, { try out.flush() })
        try out.flush()
    }
}
