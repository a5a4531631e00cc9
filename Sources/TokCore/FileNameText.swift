/// File names as tok takes them: UTF-8 text.
///
/// Swift strings hold Unicode text, and a name that is not UTF-8 (a Latin-1 name from an old archive) would turn
/// into another name with U+FFFD in it, which names no file, or, written, a different one. Such names are refused
/// with a message that shows their bytes, rather than read under the wrong name or skipped in a directory walk.
public enum FileNameText {
    /// `bytes` as text when they are UTF-8; nil when they are not.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        isValidUTF8(bytes) ? String(decoding: bytes, as: UTF8.self) : nil
    }

    /// `decode` of the bytes of an array or slice.
    public static func decode<C: Collection<UInt8>>(_ bytes: C) -> String? {
        if let r = bytes.withContiguousStorageIfAvailable({ decode($0) }) { return r }
        return Array(bytes).withUnsafeBufferPointer { decode($0) }
    }

    /// `bytes` for a message: the UTF-8 parts as text, every other byte as `\xNN`.
    public static func describe<C: Collection<UInt8>>(_ bytes: C) -> String {
        let a = Array(bytes)
        return a.withUnsafeBufferPointer { b in
            var out = ""
            var start = 0
            while start < b.count {
                let rest = UnsafeBufferPointer(rebasing: b[start...])
                guard let bad = firstInvalidUTF8Offset(rest) else {
                    out += String(decoding: rest, as: UTF8.self)
                    break
                }
                out += String(decoding: UnsafeBufferPointer(rebasing: rest[..<bad]), as: UTF8.self)
                let byte = rest[bad]
                out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
                start += bad + 1
            }
            return out
        }
    }

    /// `text` with each control character (C0, DEL and C1: a line break in a file name, say) written as an escape
    /// (`\n`, `\r`, `\t`, `\u{1b}`), so that a message naming it stays on one line.
    public static func escapingControlCharacters(_ text: String) -> String {
        guard hasControlCharacters(text) else { return text }
        var out = ""
        for u in text.unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isControl(u): out += "\\u{" + String(u.value, radix: 16) + "}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Whether `text` holds a control character (C0, DEL or C1).
    public static func hasControlCharacters(_ text: String) -> Bool { text.unicodeScalars.contains(where: isControl) }

    private static func isControl(_ u: Unicode.Scalar) -> Bool { u.value < 0x20 || (0x7F...0x9F).contains(u.value) }

    /// The message for a name that is not UTF-8.
    public static func notUTF8(_ bytes: some Collection<UInt8>) -> String {
        "the file name \"\(describe(bytes))\" is not UTF-8; tok takes UTF-8 file names only (rename the file)"
    }
}
