/// GPT-2's reversible byte-to-character map (`bytes_to_unicode`), used to show tokens as printable text and to
/// read and write HF `vocab.json`/`merges.txt`/`tokenizer.json` vocabularies.
///
/// Printable Latin-1 bytes (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) stand for themselves; every other byte b, in increasing
/// order, becomes U+0100 + n. So a space shows as `Ġ` and a newline as `Ċ`, and no token string contains white space.
public enum ByteLevelAlphabet {
    /// The character standing for each byte.
    public static let characters: [Unicode.Scalar] = {
        var map = [Unicode.Scalar](repeating: "\0", count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                map[b] = Unicode.Scalar(UInt32(b))!
            } else {
                map[b] = Unicode.Scalar(0x100 + n)!
                n += 1
            }
        }
        return map
    }()

    /// The UTF-8 encoding of each byte's character, for fast output.
    public static let utf8: [[UInt8]] = characters.map { Array(String(Character($0)).utf8) }

    /// Inverse map: character value to byte, for characters below U+0144; nil elsewhere.
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        inverse[Int(min(scalar.value, 0x143))] == -1 || scalar.value > 0x143 ? nil : UInt8(inverse[Int(scalar.value)])
    }

    private static let inverse: [Int16] = {
        var inv = [Int16](repeating: -1, count: 0x144)
        for (b, c) in characters.enumerated() { inv[Int(c.value)] = Int16(b) }
        return inv
    }()

    /// `bytes` written in the alphabet.
    public static func encode<C: Sequence>(_ bytes: C) -> String where C.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(characters[Int(b)]) }
        return String(s)
    }

    /// The bytes of a string written in the alphabet, or nil if it has a character outside it.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        for u in text.unicodeScalars {
            guard let b = byte(for: u) else { return nil }
            out.append(b)
        }
        return out
    }
}
