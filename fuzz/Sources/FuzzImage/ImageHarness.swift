// Loads damaged rank-table images (the cache tok keeps next to a vocabulary) from memory and through mmap.
// Loading must never crash, whatever the damage. An image whose checksum was not fixed up after the damage must be
// rejected, or (the damage missed everything the loader reads) give a consistent table. One whose checksum was
// forged may give any table, which must still be safe to use.
import TokCore
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

let base: [UInt8] = TestVocabulary.tokenizer.ranks.image(sourceFingerprint: 1, sourceLength: 2)

func word(_ b: [UInt8], _ i: Int) -> UInt64 {
    var w: UInt64 = 0
    for k in 0..<8 where i * 8 + k < b.count { w |= UInt64(b[i * 8 + k]) << (8 * UInt64(k)) }
    return w
}
func padded(_ n: Int) -> Int { (n + 7) & ~7 }

/// The base image's sections as (start, length): the 96-byte header, then the sections whose sizes it records.
let sections: [(Int, Int)] = {
    let cap = Int(word(base, 5)), limit = Int(word(base, 6)), arena = Int(word(base, 8)), fw = Int(word(base, 9)), sw = Int(word(base, 11))
    var out: [(Int, Int)] = [(0, 96)]
    var off = 96
    for len in [cap * 16, arena, limit * 4, limit * 4, fw * 8, sw * 8] { out.append((off, len)); off += padded(len) }
    return out
}()

func checksum(_ b: [UInt8]) -> UInt64 {
    b.withUnsafeBytes { Fingerprint64.of(UnsafeRawBufferPointer(rebasing: $0[96...])) }
}

/// Byte 0 is flags: 0x10 XORs the records' values in instead of storing them, 0x04 truncates the image (by two
/// bytes after the records, times 8, plus flags >> 5), 0x01 fixes up the checksum, 0x02 loads from a file.
/// The rest is 4-byte records: a section, a 16-bit offset in it, a byte value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let flags = data[0]
    var img = base
    var i = 1
    while i + 4 <= size {
        let (start, len) = sections[Int(data[i]) % sections.count]
        if len > 0 {
            let off = (Int(data[i + 1]) << 8 | Int(data[i + 2])) % len
            if flags & 0x10 != 0 { img[start + off] ^= data[i + 3] } else { img[start + off] = data[i + 3] }
        }
        i += 4
    }
    if flags & 0x04 != 0, i + 2 <= size {
        let cut = (Int(data[i]) << 8 | Int(data[i + 1])) * 8 + Int(flags >> 5)
        img = Array(img.prefix(max(0, img.count - cut)))
    }
    let forged = flags & 0x01 != 0
    if forged, img.count >= 96 {
        let c = checksum(img)
        for k in 0..<8 { img[80 + k] = UInt8(truncatingIfNeeded: c >> (8 * UInt64(k))) }
    }
    let fp = word(img, 2), len = max(0, Int(truncatingIfNeeded: word(img, 3)))   // tok passes a real file length (never negative)
    let table: RankTable?
    if flags & 0x02 != 0 {
        let path = scratchPath(".tokrank")
        writeFile(path, img)
        table = RankTable(imageFile: path, sourceFingerprint: fp, sourceLength: len)
        unlink(path)
    } else {
        table = img.withUnsafeBytes { RankTable(image: $0, sourceFingerprint: fp, sourceLength: len) }
    }
    guard let t = table, img != base else { return 0 }
    var consistent = t.count > 0
    var present = 0
    for r in 0..<t.rankLimit {
        if let b = t.bytes(ofRank: UInt32(r)) {
            present += 1
            if t.rank(of: Array(b)) != UInt32(r) { consistent = false }
        }
    }
    if present != t.count { consistent = false }
    for b in 0..<256 where t.rank(of: [UInt8(b)]) == nil { consistent = false }
    let tok = makeTokenizer(t)
    for text in [Array("hello world €uro 😀 aaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbb".utf8), Array(repeating: UInt8(0x61), count: 700),
                 [0xFF, 0xC3, 0x28, 0xE2, 0x82, 0x20, 0xED, 0xA0, 0x80, 0xF0, 0x9F, 0x98, 0x80]] {
        let ids = (try? tok.encode(bytes: text)) ?? []
        if (try? tok.decode(ids)) != text { consistent = false }
    }
    check(consistent || forged, "accepted a damaged image with an unforged checksum, and its table is inconsistent (flags \(flags))")
    return 0
}

@_cdecl("FuzzImage_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}
