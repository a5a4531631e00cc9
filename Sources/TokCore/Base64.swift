/// Standard base64 (RFC 4648, `+/`, `=` padding) decoding for `.tiktoken` lines, without Foundation.
public enum Base64 {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Appends the decoding of `p[0..<len]` to `out`; false if it is not valid padded base64.
    static func decode(_ p: UnsafePointer<UInt8>, _ len: Int, into out: inout [UInt8]) -> Bool {
        if len == 0 || len % 4 != 0 { return false }
        return table.withUnsafeBufferPointer { t in
            var i = 0
            while i < len {
                let c0 = t[Int(p[i])], c1 = t[Int(p[i + 1])]
                let ch2 = p[i + 2], ch3 = p[i + 3]
                if c0 == 0xFF || c1 == 0xFF { return false }
                let last = i + 4 == len
                if ch2 == UInt8(ascii: "=") {
                    guard last, ch3 == UInt8(ascii: "="), c1 & 0x0F == 0 else { return false }
                    out.append(c0 << 2 | c1 >> 4)
                } else if ch3 == UInt8(ascii: "=") {
                    let c2 = t[Int(ch2)]
                    guard last, c2 != 0xFF, c2 & 0x03 == 0 else { return false }
                    out.append(c0 << 2 | c1 >> 4)
                    out.append(c1 << 4 | c2 >> 2)
                } else {
                    let c2 = t[Int(ch2)], c3 = t[Int(ch3)]
                    if c2 == 0xFF || c3 == 0xFF { return false }
                    out.append(c0 << 2 | c1 >> 4)
                    out.append(c1 << 4 | c2 >> 2)
                    out.append(c2 << 6 | c3)
                }
                i += 4
            }
            return true
        }
    }

    /// The base64 encoding of `bytes`.
    public static func encode(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], alphabet[Int(v & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], UInt8(ascii: "=")]
        }
        return out
    }
}
