// TEMPORARY: minimal stand-ins until TokIO's InputSource/writers land; delete when they do.
#if canImport(Glibc)
import Glibc
#endif
import TokIO

final class InputSource {
    let name: String
    let fd: Int32
    init(path: String) throws {
        name = path == "-" ? "<stdin>" : path
        fd = path == "-" ? 0 : open(path, O_RDONLY)
        if fd < 0 { throw TokIOError(message: "\(path): \(String(cString: strerror(errno)))") }
    }
    func read(into b: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, b.baseAddress, b.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw TokIOError(message: "\(name): read failed") }
            return n
        }
    }
}

struct TokIOError: Error, CustomStringConvertible {
    var message: String
    var isBrokenPipe = false
    var description: String { message }
}

func withOutput(_ path: String?, _ body: ((UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Void) throws {
    signal(SIGPIPE, SIG_IGN)
    try body { b in
        var off = 0
        while off < b.count {
            let n = write(1, b.baseAddress! + off, b.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw TokIOError(message: "write failed", isBrokenPipe: errno == EPIPE)
            }
            off += n
        }
    }
}
