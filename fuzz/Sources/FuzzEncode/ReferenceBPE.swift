import FuzzSupport

/// tiktoken's merge loop written the obvious way (repeatedly merge the adjacent pair with the lowest rank),
/// with none of tok's encoder's machinery, as the oracle for it. Reads the .tiktoken file itself.
final class ReferenceBPE {
    private var ranks: [[UInt8]: Int] = [:]
    private var memo: [[UInt8]: [Int]] = [:]

    init(path: String) {
        guard let data = readFile(path) else { fail("cannot read \(path)") }
        for line in data.split(separator: 0x0A) {
            guard let space = line.firstIndex(of: 0x20) else { fail("bad line in \(path)") }
            var rank = 0
            for c in line[(space + 1)...] where c >= 0x30 && c <= 0x39 { rank = rank * 10 + Int(c - 0x30) }
            ranks[base64Decode(line[..<space])] = rank
        }
    }

    /// The ranks of one pre-token's tokens.
    func encode(_ piece: [UInt8]) -> [Int] {
        if let r = ranks[piece] { return [r] }
        if let m = memo[piece] { return m }
        var parts: [[UInt8]] = piece.map { [$0] }
        // pairRanks[i]: the rank of parts[i] + parts[i + 1], or Int.max if that is not a token.
        var pairRanks = (0..<(parts.count - 1)).map { ranks[parts[$0] + parts[$0 + 1]] ?? Int.max }
        while parts.count > 1 {
            var best = Int.max, at = -1
            for i in 0..<pairRanks.count where pairRanks[i] < best { best = pairRanks[i]; at = i }
            if at < 0 { break }
            parts[at] += parts[at + 1]
            parts.remove(at: at + 1)
            pairRanks.remove(at: at)
            if at < parts.count - 1 { pairRanks[at] = ranks[parts[at] + parts[at + 1]] ?? Int.max }
            if at > 0 { pairRanks[at - 1] = ranks[parts[at - 1] + parts[at]] ?? Int.max }
        }
        let result = parts.map { part in
            guard let r = ranks[part] else { fail("byte \(hex(part)) is not a token") }
            return r
        }
        // Bounded, since the fuzzer feeds an endless stream of distinct pieces.
        if memo.count > 200_000 { memo.removeAll(keepingCapacity: true) }
        memo[piece] = result
        return result
    }

    private func base64Decode(_ s: ArraySlice<UInt8>) -> [UInt8] {
        func value(_ c: UInt8) -> UInt32 {
            switch c {
            case 0x41...0x5A: return UInt32(c - 0x41)
            case 0x61...0x7A: return UInt32(c - 0x61 + 26)
            case 0x30...0x39: return UInt32(c - 0x30 + 52)
            case 0x2B: return 62
            case 0x2F: return 63
            default: fail("bad base64 byte \(c)")
            }
        }
        var out: [UInt8] = []
        var acc: UInt32 = 0, bits = 0
        for c in s where c != 0x3D {
            acc = acc << 6 | value(c); bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8((acc >> UInt32(bits)) & 0xFF)) }
        }
        return out
    }
}
