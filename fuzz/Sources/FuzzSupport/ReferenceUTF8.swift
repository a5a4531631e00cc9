/// An independent UTF-8 repair to compare tok's against: one U+FFFD per maximal subpart of an ill-formed sequence
/// (Unicode's recommended practice, as in WHATWG and Python's errors='replace').
/// Returns the repaired bytes and the offset of the first ill-formed sequence, or nil if there is none.
public func referenceRepair(_ b: [UInt8]) -> (repaired: [UInt8], firstInvalid: Int?) {
    let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
    var out: [UInt8] = []
    var first: Int? = nil
    var i = 0
    while i < b.count {
        let c = b[i]
        if c < 0x80 { out.append(c); i += 1; continue }
        // Continuation count and the allowed range of the first continuation byte (Unicode Table 3-7).
        var need = 0
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default:
            if first == nil { first = i }
            out += replacement; i += 1; continue
        }
        var j = 1
        var ok = true
        while j <= need {
            if i + j >= b.count { ok = false; break }
            let d = b[i + j]
            if d < (j == 1 ? lo : 0x80) || d > (j == 1 ? hi : 0xBF) { ok = false; break }
            j += 1
        }
        if ok {
            out += b[i...(i + need)]; i += need + 1
        } else {
            if first == nil { first = i }
            out += replacement; i += j
        }
    }
    return (out, first)
}
