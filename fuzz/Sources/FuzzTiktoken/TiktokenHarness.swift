// Checks tok's .tiktoken parser: an accepted table is consistent (ranks and bytes map to each other, one token
// per non-blank line), serializes to a file that parses to the same shape, and encodes and decodes text losslessly.
import TokCore
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buf = UnsafeBufferPointer(start: data, count: size)
    let table: RankTable
    do { table = try TiktokenFile.parse(buf, name: "f.tiktoken") } catch {
        _ = error.description   // building the message must not crash either
        return 0
    }
    // Every present rank maps back to itself, and the ranks present are the table's count.
    var present = 0
    for r in 0..<table.rankLimit {
        if let b = table.bytes(ofRank: UInt32(r)) {
            present += 1
            check(b.count > 0, "empty key at rank \(r)")
            check(table.rank(of: Array(b)) == UInt32(r), "rank(of: bytes(ofRank: \(r))) != \(r)")
        }
    }
    check(present == table.count, "present \(present) != count \(table.count)")
    check(UInt64(table.rankLimit) <= TiktokenFile.rankLimit(tokens: table.count), "rankLimit over bound")
    // Lines holding only spaces and tabs (and a CR before the LF) are skipped; every other line is one token.
    var lines = 0
    var i = 0
    while i < size {
        var j = i
        while j < size && data[j] != 0x0A { j += 1 }
        var blank = true
        for k in i..<j where !(data[k] == 0x20 || data[k] == 0x09 || (data[k] == 0x0D && k == j - 1)) { blank = false; break }
        if !blank { lines += 1 }
        i = j + 1
    }
    check(lines == table.count, "non-blank lines \(lines) != tokens \(table.count)")
    // Serialize round trip.
    let ser = TiktokenFile.serialize(table)
    let t2: RankTable
    do { t2 = try ser.withUnsafeBufferPointer { try TiktokenFile.parse($0, name: "ser") } } catch {
        fail("serialized table does not parse: \(error)")
    }
    check(t2.count == table.count && t2.rankLimit == table.rankLimit, "serialize round trip")
    // Encode and decode round trip: fixed text, invalid UTF-8, and the input's own ends.
    let tok = makeTokenizer(table)
    var texts: [[UInt8]] = [Array("hello world, the €uro 😀 aaaa".utf8), Array(buf.prefix(80)), Array(buf.suffix(40))]
    texts.append([0xFF, 0xC3, 0x28, 0xE2, 0x82, 0x20, 0xED, 0xA0, 0x80])
    for t in texts {
        let ids = (try? tok.encode(bytes: t)) ?? []
        let back = try? tok.decode(ids)
        check(back == t, "encode/decode round trip failed for \(hex(t)): ids \(ids)")
    }
    return 0
}

@_cdecl("FuzzTiktoken_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}
