import TokCore

/// A small byte-level vocabulary whose extra tokens are multi-byte fragments, many of them ill-formed UTF-8 on
/// their own or only together, so that decoding has to join and repair them across token boundaries.
public enum TestVocabulary {
    public static let extra: [[UInt8]] = [
        Array("he".utf8), Array("ll".utf8), Array("hello".utf8), Array(" world".utf8), Array(" the".utf8),
        [0xE2, 0x82], [0xAC, 0x20, 0x20], [0xE2, 0x82, 0xAC], [0xC3, 0xA9], [0xF0, 0x9F], [0x98, 0x80], [0xF0, 0x9F, 0x98],
        [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE0, 0x80], [0xEF, 0xBF, 0xBD],
        [0x80, 0x80], [0xBF, 0x41], [0xF0, 0x90, 0x80], [0x80, 0x41, 0xC3], Array("€uro".utf8), [0xE2, 0x20], [0x82, 0xAC, 0x20],
        Array(repeating: 0x61, count: 300), Array(repeating: 0x62, count: 17),
    ]
    public static let specials: [(String, UInt32)] = [("<|endoftext|>", 1000), ("<|é|>", 1001), ("<|dup|>", 1002)]

    /// The vocabulary in tiktoken's file format: the 256 bytes, then the extra tokens, ranked in that order.
    public static func tiktokenText() -> [UInt8] {
        var out: [UInt8] = []
        for (rank, token) in ((0..<256).map { [UInt8($0)] } + extra).enumerated() {
            out += token.withUnsafeBufferPointer { Base64.encode($0) }
            out += Array(" \(rank)\n".utf8)
        }
        return out
    }

    public static let tokenizer: Tokenizer = {
        let text = tiktokenText()
        let table = try! text.withUnsafeBufferPointer { try TiktokenFile.parse($0, name: "test") }
        return Tokenizer(name: "test", ranks: table, pattern: StandardPattern.cl100k.patternString,
                         preTokenizer: StandardPattern.cl100k.preTokenizer,
                         specialTokens: try! SpecialTokens(specials))
    }()

    /// The ids that exist, then the special tokens' ids.
    public static let ids: [UInt32] = Array(0..<UInt32(256 + extra.count)) + specials.map(\.1)
}

/// A cl100k-patterned tokenizer over a rank table a harness built.
public func makeTokenizer(_ table: RankTable, specials: SpecialTokens = .none) -> Tokenizer {
    Tokenizer(name: "fuzz", ranks: table, pattern: StandardPattern.cl100k.patternString,
              preTokenizer: StandardPattern.cl100k.preTokenizer, specialTokens: specials)
}
