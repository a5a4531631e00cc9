// Reads the input as a file, through InputSource (which decompresses zstd) in small buffers and through the
// training CorpusReader (text or JSON lines; invalid UTF-8 an error or replaced). Checks that plain files come
// through unchanged, decompression stays bounded, and every piece the reader emits is valid UTF-8.
import TokCore
import TokIO
import TokTrain
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

/// Byte 0 is flags: 1 reads JSON lines, 2 replaces invalid UTF-8, 4 sets a 1 MiB byte limit, the high four bits
/// size InputSource's read buffer. The rest is the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let flags = data[0]
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let path = scratchPath(".in")
    writeFile(path, body)
    defer { unlink(path) }
    var raw: [UInt8] = []
    var compressed = false
    do {
        let src = try InputSource(path: path)
        var buf = [UInt8](repeating: 0, count: 1 + Int(flags >> 4) * 37)
        while true {
            let n = try buf.withUnsafeMutableBytes { try src.read(into: $0) }
            if n == 0 { break }
            raw += buf[0..<n]
            check(raw.count < 1 << 28, "decompressed output unbounded")
        }
        compressed = src.isCompressed
        src.close()
        if !compressed { check(raw == body, "uncompressed InputSource bytes differ") }
    } catch {
        _ = "\(error)"   // malformed zstd is an error; building its message must not crash
    }
    var opts = CorpusOptions()
    opts.format = flags & 1 != 0 ? .jsonl : .text
    opts.invalidUTF8 = flags & 2 != 0 ? .replace : .error
    opts.segmentBytes = 64
    if flags & 4 != 0 { opts.maxBytes = 1 << 20 }
    let reader = CorpusReader(files: [path], options: opts)
    var text: [UInt8] = []
    do {
        try reader.read(emit: { seg in
            var start = 0
            for e in seg.ends {
                check(e >= start && e <= seg.bytes.count, "segment ends out of order")
                check(String(validating: seg.bytes[start..<e], as: UTF8.self) != nil, "segment piece is not valid UTF-8: \(hex(seg.bytes[start..<e]))")
                start = e
            }
            text += seg.bytes
        })
        if opts.format == .text && !compressed && flags & 4 == 0 {
            let want = opts.invalidUTF8 == .replace ? referenceRepair(body).repaired : body
            check(text == want, "text corpus bytes differ from input: got \(hex(text.prefix(64))) want \(hex(want.prefix(64)))")
        }
    } catch {
        _ = "\(error)"
    }
    return 0
}

@_cdecl("FuzzCorpus_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}
