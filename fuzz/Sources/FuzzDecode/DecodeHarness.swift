// Checks `tok decode`'s pipeline (id text in, bytes out; strict, lossy and raw; whole or per line) against a
// reference id parser and referenceRepair, over reads of the whole input and of random small chunks, and the
// lossy StreamingDecoder against one-shot decoding. Uses TestVocabulary, whose tokens split UTF-8 sequences.
import TokCore
import TokIO
import FuzzSupport

let tok = TestVocabulary.tokenizer

/// Reference parse of the id text: the ids of each line, or nil if the text is not ids and separators.
func refParse(_ t: [UInt8]) -> [[UInt32]]? {
    var s = t[...]
    if s.starts(with: [0xEF, 0xBB, 0xBF]) { s = s.dropFirst(3) }
    var lines: [[UInt32]] = [[]]
    var v: UInt64 = 0, inNum = false
    for c in s {
        if c >= 0x30 && c <= 0x39 {
            v = v * 10 + UInt64(c - 0x30); inNum = true
            if v > UInt64(UInt32.max) { return nil }
        } else if [0x20, 0x09, 0x0D, 0x0A, 0x2C, 0x5B, 0x5D, 0x0B, 0x0C].contains(c) {
            if inNum { lines[lines.count - 1].append(UInt32(v)); v = 0; inNum = false }
            if c == 0x0A { lines.append([]) }
        } else { return nil }
    }
    if inNum { lines[lines.count - 1].append(UInt32(v)) }
    return lines
}

enum Mode { case strict, lossy, raw }

/// Reference decode of one stream: nil on error (an unknown id, or ill-formed UTF-8 in strict mode).
func refDecode(_ ids: [UInt32], _ mode: Mode) -> [UInt8]? {
    var b: [UInt8] = []
    for id in ids { guard let x = tok.bytes(of: id) else { return nil }; b += x }
    if mode == .raw { return b }
    let (repaired, first) = referenceRepair(b)
    if mode == .strict { return first == nil ? b : nil }
    return repaired
}

func refExpected(_ text: [UInt8], lines: Bool, mode: Mode) -> [UInt8]? {
    guard let ls = refParse(text) else { return nil }
    if !lines { return refDecode(ls.flatMap { $0 }, mode) }
    var out: [UInt8] = []
    // Every line's output ends with a newline, except an empty last line (the text after the last LF).
    for (k, l) in ls.enumerated() {
        guard let d = refDecode(l, mode) else { return nil }
        out += d
        if k < ls.count - 1 || !l.isEmpty { out.append(0x0A) }
    }
    return out
}

/// Byte 0 is flags: 1 renders the rest as ids (each byte picks one) with random separators instead of using it as
/// text, 2 decodes per line, 4 lossy, 8 raw, 0x40 starts the text with a byte order mark.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let flags = data[0]
    let body = UnsafeBufferPointer(start: data + 1, count: size - 1)
    var rng = SplitMix(seed: seedOf(body) ^ UInt64(flags))
    let text: [UInt8]
    if flags & 1 == 0 {
        text = Array(body)
    } else {
        // 0xFF is an id that does not exist.
        var t: [UInt8] = []
        if flags & 0x40 != 0 { t += [0xEF, 0xBB, 0xBF] }
        if rng.next() % 2 == 0 { t.append(0x5B) }
        for (k, x) in body.enumerated() {
            let id: UInt32 = x == 0xFF ? 999_999 : TestVocabulary.ids[Int(x) % TestVocabulary.ids.count]
            if k > 0 {
                switch rng.next() % 8 {
                case 0: t += [0x2C, 0x20]
                case 1: t.append(0x0A)
                case 2: t += [0x0D, 0x0A]
                case 3: t += [0x5D, 0x09, 0x5B]
                case 4: t += [0x0B, 0x0C, 0x2C]
                default: t.append(0x20)
                }
            }
            if rng.next() % 16 == 0 { t += [0x30, 0x30] }   // leading zeros
            t += Array(String(id).utf8)
        }
        if rng.next() % 2 == 0 { t.append(0x5D) }
        if rng.next() % 2 == 0 { t.append(0x0A) }
        text = t
    }
    let lines = flags & 2 != 0
    let mode: Mode = flags & 4 != 0 ? .lossy : flags & 8 != 0 ? .raw : .strict
    let expected = refExpected(text, lines: lines, mode: mode)
    let pipe = DecodePipeline(tokenizer: tok, lines: lines, lossy: mode == .lossy, raw: mode == .raw)
    // Round 0 reads the text at once, round 1 in chunks of 1 to 7 bytes, to split ids and UTF-8 sequences.
    for round in 0..<2 {
        var pos = 0
        var out: [UInt8] = []
        var failure: DecodeFailure? = nil
        do {
            try pipe.run(name: "in", read: { buf in
                let want = round == 0 ? text.count : 1 + Int(rng.next() % 7)
                let k = min(want, buf.count, text.count - pos)
                for j in 0..<k { buf[j] = text[pos + j] }
                pos += k
                return k
            }, write: { out += $0 })
        } catch let e as DecodeFailure {
            failure = e
            _ = e.description   // building the message must not crash either
        } catch {
            fail("unexpected error type \(error)")
        }
        if let exp = expected {
            check(failure == nil, "pipeline failed where reference succeeds: \(failure!) text \(hex(text)) flags \(flags)")
            check(out == exp, "pipeline output differs: got \(hex(out)) want \(hex(exp)) text \(hex(text)) flags \(flags)")
        } else {
            check(failure != nil, "pipeline succeeded where reference fails: text \(hex(text)) flags \(flags) out \(hex(out))")
        }
    }
    // StreamingDecoder directly vs one-shot decode (whole stream).
    if let ls = refParse(text) {
        let ids = ls.flatMap { $0 }
        if let all = try? tok.decode(ids) {
            var d = StreamingDecoder(tokenizer: tok, lossy: true)
            var out: [UInt8] = []
            for id in ids {
                let before = out.count
                try? d.append(id, to: &out)
                check(String(validating: out[before...], as: UTF8.self) != nil, "streaming chunk is not valid UTF-8 on its own")
            }
            try? d.finish(to: &out)
            let want = all.withUnsafeBufferPointer { replacingInvalidUTF8($0) }
            check(out == want, "lossy streaming differs from replacingInvalidUTF8(one-shot): \(hex(out)) vs \(hex(want))")
            check(out == referenceRepair(all).repaired, "lossy streaming differs from referenceRepair")
        }
    }
    return 0
}

@_cdecl("FuzzDecode_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}
