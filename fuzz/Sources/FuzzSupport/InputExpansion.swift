/// Turns a fuzz input into text, so that short inputs can reach the long repetitive pieces where the encoder
/// switches strategies. Byte 0 picks the form (its low two bits; bit 2 adds 44 repeats):
/// 0: the rest as is; 1: rest[0] + 1 repeats of rest[1...];
/// 2: the tail's first half, rest[0] + 1 repeats of a fragment of rest[1] % 16 + 1 bytes, the tail's second half.
/// The result is cut at `cap` bytes.
public func expandInput(_ data: UnsafeBufferPointer<UInt8>, cap: Int) -> [UInt8] {
    guard data.count >= 1 else { return [] }
    let rest = Array(data[1...])
    let repeats = { (count: UInt8) in Int(count) + 1 + (Int(data[0] >> 2) & 1) * 44 }
    switch data[0] & 3 {
    case 1 where rest.count >= 2:
        let fragment = rest[1...]
        var out: [UInt8] = []
        for _ in 0..<repeats(rest[0]) where out.count + fragment.count <= cap { out += fragment }
        return out
    case 2 where rest.count >= 3:
        let length = max(1, min(Int(rest[1]) % 16 + 1, rest.count - 2))
        let fragment = rest[2..<(2 + length)]
        let tail = rest[(2 + length)...]
        var out = Array(tail.prefix(tail.count / 2))
        for _ in 0..<repeats(rest[0]) where out.count + fragment.count <= cap { out += fragment }
        out += tail.dropFirst(tail.count / 2)
        return Array(out.prefix(cap))
    default:
        return Array(rest.prefix(cap))
    }
}
