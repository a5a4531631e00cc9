// Checks tok's UTF-8 validation and repair (one-shot, and streaming over random splits), its character scanning
// and its JSON quoting of raw bytes against referenceRepair and the Swift standard library.
import TokCore
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buf = UnsafeBufferPointer(start: data, count: size)
    let arr = Array(buf)
    let (refOut, refFirst) = referenceRepair(arr)
    let first = firstInvalidUTF8Offset(buf)
    check(first == refFirst, "firstInvalidUTF8Offset \(String(describing: first)) != ref \(String(describing: refFirst)) for \(hex(arr))")
    check(isValidUTF8(buf) == (refFirst == nil), "isValidUTF8")
    let std = String(validating: arr, as: UTF8.self)
    check((std != nil) == (refFirst == nil), "stdlib String(validating:) disagrees with ref for \(hex(arr))")
    let rep = replacingInvalidUTF8(buf)
    check(rep == refOut, "replacingInvalidUTF8 != ref for \(hex(arr)): got \(hex(rep)) want \(hex(refOut))")
    let stdRep = Array(String(decoding: arr, as: UTF8.self).utf8)
    check(stdRep == refOut, "stdlib String(decoding:) replacement differs from ref for \(hex(arr))")
    // Streaming, three times with different random splits (empty chunks included).
    var rng = SplitMix(seed: seedOf(buf))
    for _ in 0..<3 {
        var v = UTF8StreamValidator()
        var r = UTF8StreamRepairer()
        var out: [UInt8] = []
        var i = 0
        while i < size {
            let k = Int(rng.next() % 6) == 0 ? 0 : min(size - i, 1 + Int(rng.next() % UInt64(rng.next() % 2 == 0 ? 4 : 64)))
            let chunk = UnsafeBufferPointer(rebasing: buf[i..<(i + k)])
            v.validate(chunk)
            r.process(chunk, into: &out)
            i += k
        }
        let vf = v.finish()
        r.finish(into: &out)
        check(vf == refFirst, "UTF8StreamValidator first \(String(describing: vf)) != ref \(String(describing: refFirst)) for \(hex(arr))")
        check(out == refOut, "UTF8StreamRepairer != ref for \(hex(arr)): got \(hex(out))")
    }
    // scannedCharacterLength: each step is 1 or a valid sequence.
    if let p = buf.baseAddress {
        var i = 0
        while i < size {
            let l = scannedCharacterLength(p, at: i, end: size)
            check(l >= 1 && i + l <= size, "scannedCharacterLength out of range")
            if l > 1 { check(String(validating: arr[i..<(i + l)], as: UTF8.self) != nil, "scanned multi-byte not valid") }
            i += l
        }
        var f = 0
        while f < size && data[f] < 0x80 { f += 1 }
        check(firstNonASCII(p, from: 0, end: size) == f, "firstNonASCII")
    }
    // JSON quoting of raw bytes repairs them: parsing the quoted literal gives the repaired bytes.
    let cap = JSONString.quotedCapacity(size)
    let q = [UInt8](unsafeUninitializedCapacity: cap) { b, n in n = JSONString.writeQuoted(buf, to: b.baseAddress!) }
    do {
        let v = try q.withUnsafeBufferPointer { b in try Result { () throws(JSONError) -> JSONValue in try JSONValue.parse(b) }.get() }
        check(v.stringValue.map { Array($0.utf8) } == refOut, "quote/parse round trip differs for \(hex(arr))")
    } catch {
        fail("quoted literal does not parse: \(error) for \(hex(arr))")
    }
    for x in q { check(x != 0x0A && x != 0x0D, "quoted literal holds a line break") }
    return 0
}

@_cdecl("FuzzUTF8_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}
