/// A small JSON reader and string escaper, enough for sidecar files and `tokenizer.json`, without Foundation.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member `key` of an object (the last one, if repeated, as Python's `json` and JavaScript read it).
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.last(where: { $0.0 == key })?.1 }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var numberValue: Double? { if case .number(let d) = self { return d }; return nil }
    public var objectValue: [(String, JSONValue)]? { if case .object(let m) = self { return m }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }

    /// Parses a complete JSON document.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        var p = JSONParser(bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.pos != bytes.count { throw JSONError(offset: p.pos, reason: "unexpected data after the JSON value") }
        return v
    }

    /// Parses one JSON value from `text` (nothing but white space may follow it).
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        var t = text
        let r = t.withUTF8 { b in Result { () throws(JSONError) -> JSONValue in try parse(b) } }
        return try r.get()
    }

    /// `s` as a JSON string literal, quotes included. Non-ASCII characters are written as UTF-8, except the C1
    /// controls (U+0085, a line break, among them) and the line breaks U+2028 and U+2029: JSON allows them raw, but
    /// readers that split JSON Lines by Unicode line breaks (Python's `str.splitlines`, JavaScript before ES2019)
    /// would cut a record in two, and a terminal acts on C1 controls.
    public static func quote(_ s: String) -> String {
        var s = s
        return s.withUTF8 { bytes in
            String(unsafeUninitializedCapacity: JSONString.quotedCapacity(bytes.count)) {
                JSONString.writeQuoted(bytes, to: $0.baseAddress!)
            }
        }
    }
}

/// A JSON syntax error at a byte offset.
public struct JSONError: Error, CustomStringConvertible, Sendable {
    /// Byte offset of the error in the parsed text.
    public var offset: Int
    /// What is wrong, for the message.
    public var reason: String
    public var description: String { "byte \(offset): \(reason)" }
}

struct JSONParser {
    let b: UnsafeBufferPointer<UInt8>
    var pos = 0
    init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    mutating func skipSpace() {
        while pos < b.count, b[pos] == 0x20 || b[pos] == 0x0A || b[pos] == 0x0D || b[pos] == 0x09 { pos += 1 }
    }

    func fail(_ reason: String) -> JSONError { JSONError(offset: pos, reason: reason) }

    mutating func value(depth: Int) throws(JSONError) -> JSONValue {
        if depth > 512 { throw fail("nesting too deep") }
        guard pos < b.count else { throw fail("unexpected end of input") }
        switch b[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            var members: [(String, JSONValue)] = []
            skipSpace()
            if pos < b.count, b[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
            while true {
                skipSpace()
                guard pos < b.count, b[pos] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let k = try string()
                skipSpace()
                guard pos < b.count, b[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                pos += 1
                skipSpace()
                members.append((k, try value(depth: depth + 1)))
                skipSpace()
                guard pos < b.count else { throw fail("unexpected end of input in an object") }
                if b[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if b[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            pos += 1
            var items: [JSONValue] = []
            skipSpace()
            if pos < b.count, b[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard pos < b.count else { throw fail("unexpected end of input in an array") }
                if b[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if b[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            return .number(try number())
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= b.count else { throw fail("invalid literal") }
        for i in 0..<n where b[pos + i] != word.utf8Start[i] { throw fail("invalid literal") }
        pos += n
    }

    /// A number as RFC 8259 writes it: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. What else
    /// `Double` would take (`+1`, `01`, `1.`, `.5`) is refused, as Python's `json` refuses it.
    mutating func number() throws(JSONError) -> Double {
        let start = pos
        func digits() -> Int {
            let from = pos
            while pos < b.count, b[pos] >= 0x30 && b[pos] <= 0x39 { pos += 1 }
            return pos - from
        }
        func at(_ c: Unicode.Scalar) -> Bool { pos < b.count && b[pos] == UInt8(ascii: c) }
        var valid = true
        if at("-") { pos += 1 }
        let leadingZero = at("0")
        let whole = digits()
        if whole == 0 || (leadingZero && whole > 1) { valid = false }
        if valid && at(".") {
            pos += 1
            if digits() == 0 { valid = false }
        }
        if valid && (at("e") || at("E")) {
            pos += 1
            if at("+") || at("-") { pos += 1 }
            if digits() == 0 { valid = false }
        }
        guard valid, let d = Double(String(decoding: UnsafeBufferPointer(rebasing: b[start..<pos]), as: UTF8.self)) else {
            pos = start
            throw fail("invalid value")
        }
        return d
    }

    mutating func string() throws(JSONError) -> String {
        var bytes: [UInt8] = []
        try JSONString.decode(b, at: &pos, into: &bytes, loneSurrogates: .replace)
        return String(decoding: bytes, as: UTF8.self)
    }
}
