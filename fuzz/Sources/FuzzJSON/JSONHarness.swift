// Checks tok's JSON parser: errors point inside the input; a parsed value written back out with tok's quoting
// parses to the same value; a value read as a sidecar gives special tokens that are found, matched and
// round-trip through a tokenizer.
import TokCore
import FuzzSupport

func parseBytes(_ b: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONError> {
    Result { () throws(JSONError) -> JSONValue in try JSONValue.parse(b) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buf = UnsafeBufferPointer(start: data, count: size)
    let v: JSONValue
    switch parseBytes(buf) {
    case .failure(let e):
        check(e.offset >= 0 && e.offset <= size, "error offset \(e.offset) outside 0...\(size)")
        _ = e.description   // building the message must not crash either
        return 0
    case .success(let x): v = x
    }
    if let s = serialize(v) {
        do {
            let w = try JSONValue.parse(s)
            check(w == v, "re-serialized value differs: \(s)")
        } catch {
            fail("re-serialized text does not parse: \(error) text \(s)")
        }
    }
    // Sidecar interpretation and special tokens.
    if let sc = try? Sidecar.parse(v, path: "side.json") {
        if let st = sc.specialTokens {
            if let sp = try? SpecialTokens(st) {
                for e in sp.entries { check(sp.id(of: e.text) != nil, "special id lookup"); _ = sp.bytes(of: e.id) }
                let text = Array(sp.entries.map(\.text).joined(separator: "x").utf8)
                text.withUnsafeBufferPointer { b in
                    var i = 0
                    while let m = sp.firstMatch(in: b, from: i, end: b.count) {
                        check(m.start >= i && m.start + m.length <= b.count, "firstMatch range")
                        i = m.start + m.length
                    }
                }
                // Build a tokenizer with them over the test vocabulary when they are disjoint, and encode.
                let t = TestVocabulary.tokenizer
                if (try? sp.checkDisjoint(from: t.ranks, file: "x")) != nil, Set(sp.entries.map(\.id)).count == sp.entries.count {
                    let tk = Tokenizer(name: "s", ranks: t.ranks, pattern: t.pattern, preTokenizer: StandardPattern.cl100k.preTokenizer, specialTokens: sp)
                    if let ids = try? tk.encode(bytes: text, special: .allow) {
                        let back = try? tk.decode(ids)
                        check(back == text, "special encode/decode round trip")
                    }
                }
            }
        }
    }
    return 0
}

@_cdecl("FuzzJSON_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}

/// The value as JSON text, strings quoted by tok; nil if it holds a number JSON cannot write (infinite).
func serialize(_ v: JSONValue) -> String? {
    switch v {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .number(let d): return d.isFinite ? "\(d)" : nil
    case .string(let s): return JSONValue.quote(s)
    case .array(let a):
        var parts: [String] = []
        for x in a { guard let s = serialize(x) else { return nil }; parts.append(s) }
        return "[" + parts.joined(separator: ",") + "]"
    case .object(let m):
        var parts: [String] = []
        for (k, x) in m { guard let s = serialize(x) else { return nil }; parts.append(JSONValue.quote(k) + ":" + s) }
        return "{" + parts.joined(separator: ",") + "}"
    }
}
