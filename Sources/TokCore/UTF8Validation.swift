// Strict UTF-8 validation and U+FFFD repair, one-shot and streaming.
//
// "Strict" is Unicode's Table 3-7 of well-formed byte sequences: no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF. Repair replaces each *maximal subpart* of an ill-formed
// subsequence with one U+FFFD (Unicode §3.9 "U+FFFD Substitution of Maximal Subparts", also the WHATWG
// Encoding Standard), which is what Python's `bytes.decode("utf-8", errors="replace")` produces.

/// The three outcomes of decoding one sequence whose lead byte is not ASCII.
enum SequenceCheck {
    /// A well-formed sequence of this many bytes.
    case valid(Int)
    /// An ill-formed sequence; the payload is the length of its maximal subpart (≥ 1), the bytes one U+FFFD replaces.
    case invalid(Int)
    /// The buffer ended after this many bytes, all of them a valid prefix of a longer sequence.
    case truncated(Int)
}

private let asciiMask: UInt64 = 0x8080_8080_8080_8080
/// U+FFFD REPLACEMENT CHARACTER in UTF-8.
private let replacementCharacter: (UInt8, UInt8, UInt8) = (0xEF, 0xBF, 0xBD)

/// Decodes the sequence starting at `p[i]` (which must be ≥ 0x80) against Table 3-7.
@inline(__always)
func checkSequence(_ p: UnsafePointer<UInt8>, at i: Int, end n: Int) -> SequenceCheck {
    let lead = p[i]
    let continuationCount: Int
    // Only the second byte has a lead-dependent range; that range is what excludes overlongs (E0, F0),
    // surrogates (ED) and code points above U+10FFFF (F4).
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF: continuationCount = 1
    case 0xE0: continuationCount = 2; low = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: continuationCount = 2
    case 0xED: continuationCount = 2; high = 0x9F
    case 0xF0: continuationCount = 3; low = 0x90
    case 0xF1...0xF3: continuationCount = 3
    case 0xF4: continuationCount = 3; high = 0x8F
    default: return .invalid(1)  // 80..C1 (stray continuation or overlong lead), F5..FF
    }
    if i + 1 >= n { return .truncated(1) }
    let second = p[i + 1]
    if second < low || second > high { return .invalid(1) }
    var k = 2
    while k <= continuationCount {
        if i + k >= n { return .truncated(k) }
        if p[i + k] & 0xC0 != 0x80 { return .invalid(k) }
        k += 1
    }
    return .valid(continuationCount + 1)
}

/// The length of the character at `p[i]` as the pre-tokenizers read bytes (`--invalid-utf8 bytes`): a well-formed
/// sequence (Table 3-7) that ends by `n` is one character, any other byte a character of its own. A byte that is
/// not a lead byte is the start of a character unless a well-formed sequence of the three bytes before covers it.
@inline(__always)
public func scannedCharacterLength(_ p: UnsafePointer<UInt8>, at i: Int, end n: Int) -> Int {
    if p[i] < 0x80 { return 1 }
    if case .valid(let length) = checkSequence(p, at: i, end: n) { return length }
    return 1
}

/// The offset of the first byte >= 0x80 in `p[start..<n]`, or `n`: sixteen (then eight) bytes per step.
@inline(__always)
public func firstNonASCII(_ p: UnsafePointer<UInt8>, from start: Int, end n: Int) -> Int {
    var i = start
    let raw = UnsafeRawPointer(p)
    while i + 16 <= n {
        let a = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        let b = raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
        if (a | b) & asciiMask != 0 { break }
        i += 16
    }
    while i + 8 <= n {
        let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) & asciiMask
        if w != 0 { return i + w.trailingZeroBitCount >> 3 }
        i += 8
    }
    while i < n && p[i] < 0x80 { i += 1 }
    return i
}

/// Finds the first ill-formed or truncated sequence at or after `start`.
/// Returns `(n, nil)` when everything up to `n` is well formed.
private func scanUTF8(_ p: UnsafePointer<UInt8>, from start: Int, end n: Int) -> (offset: Int, problem: SequenceCheck?) {
    var i = start
    while true {
        i = firstNonASCII(p, from: i, end: n)
        if i >= n { return (n, nil) }
        // Stay out of the word-sized fast path while inside non-ASCII text: it would fail on almost every word.
        repeat {
            let lead = p[i]
            if i + 4 <= n {
                // Fast checks for well-formed sequences with room to read ahead; anything else (errors, the last
                // bytes of the buffer) takes the exact path below.
                if lead & 0xE0 == 0xC0 {
                    if lead >= 0xC2 && p[i + 1] & 0xC0 == 0x80 { i += 2; continue }
                } else if lead & 0xF0 == 0xE0 {
                    let b1 = p[i + 1]
                    if b1 & 0xC0 == 0x80 && p[i + 2] & 0xC0 == 0x80
                        && (lead != 0xE0 || b1 >= 0xA0) && (lead != 0xED || b1 < 0xA0) {
                        i += 3
                        continue
                    }
                } else if lead >= 0xF0 && lead <= 0xF4 {
                    let b1 = p[i + 1]
                    if b1 & 0xC0 == 0x80 && p[i + 2] & 0xC0 == 0x80 && p[i + 3] & 0xC0 == 0x80
                        && (lead != 0xF0 || b1 >= 0x90) && (lead != 0xF4 || b1 < 0x90) {
                        i += 4
                        continue
                    }
                }
            }
            let r = checkSequence(p, at: i, end: n)
            guard case .valid(let len) = r else { return (i, r) }
            i += len
        } while i < n && p[i] >= 0x80
    }
}

/// Returns the offset of the first byte of the first ill-formed UTF-8 sequence in `bytes`, or `nil` when all of
/// `bytes` is well-formed UTF-8.
///
/// Validation is strict (Unicode Table 3-7): overlong encodings, surrogates (U+D800..U+DFFF), code points above
/// U+10FFFF and sequences cut off by the end of the buffer are all ill-formed. The offset is the start of the
/// offending sequence, the same position Python reports as `UnicodeDecodeError.start`.
public func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    guard let p = bytes.baseAddress, bytes.count > 0 else { return nil }
    let (offset, problem) = scanUTF8(p, from: 0, end: bytes.count)
    return problem == nil ? nil : offset
}

/// Whether `bytes` is entirely well-formed UTF-8 (see `firstInvalidUTF8Offset(_:)`).
public func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    firstInvalidUTF8Offset(bytes) == nil
}

@inline(__always)
private func appendReplacement(_ out: inout [UInt8]) {
    out.append(replacementCharacter.0)
    out.append(replacementCharacter.1)
    out.append(replacementCharacter.2)
}

@inline(__always)
private func append(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, to out: inout [UInt8]) {
    if range.isEmpty { return }
    out.append(contentsOf: UnsafeBufferPointer(start: p + range.lowerBound, count: range.count))
}

/// Copies `p[start..<n]` to `out`, replacing each maximal subpart of every ill-formed sequence with U+FFFD.
/// A valid-but-incomplete sequence at the very end is not written; its start offset is returned instead so that
/// the caller decides whether it is an error (end of input) or the head of a character split across chunks.
private func appendRepairing(_ p: UnsafePointer<UInt8>, from start: Int, end n: Int, to out: inout [UInt8]) -> Int? {
    var i = start
    while i < n {
        let (offset, problem) = scanUTF8(p, from: i, end: n)
        append(p, i..<offset, to: &out)
        switch problem {
        case nil:
            return nil
        case .invalid(let len)?:
            appendReplacement(&out)
            i = offset + len
        case .truncated?:
            return offset
        case .valid?:
            preconditionFailure("scanUTF8 reports only problems")
        }
    }
    return nil
}

/// Returns `bytes` with every ill-formed UTF-8 subsequence replaced by U+FFFD (EF BF BD), one U+FFFD per maximal
/// subpart, exactly like Python's `bytes.decode("utf-8", errors="replace").encode("utf-8")`.
///
/// Well-formed input is returned as an unchanged copy.
public func replacingInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    guard let p = bytes.baseAddress, bytes.count > 0 else { return [] }
    let n = bytes.count
    let (firstProblem, problem) = scanUTF8(p, from: 0, end: n)
    if problem == nil { return Array(bytes) }
    var out: [UInt8] = []
    // Each replaced byte grows by at most 2 (one byte -> three); reserve for the common case of a few errors.
    out.reserveCapacity(n + n / 8 + 16)
    append(p, 0..<firstProblem, to: &out)
    if appendRepairing(p, from: firstProblem, end: n, to: &out) != nil {
        // A truncated final sequence is one maximal subpart.
        appendReplacement(&out)
    }
    return out
}

/// Completes a sequence that began in an earlier chunk: `pending` (1...3 bytes, a valid prefix) followed by the
/// first bytes of `chunk`. Returns the check of that joined sequence and the joined bytes (for the truncated case).
private func checkStraddling(_ pending: [UInt8], _ chunk: UnsafeBufferPointer<UInt8>) -> (SequenceCheck, [UInt8]) {
    var joined = pending
    // At most 4 bytes can matter, and pending has at least one of them.
    joined.append(contentsOf: chunk.prefix(4 - pending.count))
    let r = joined.withUnsafeBufferPointer { checkSequence($0.baseAddress!, at: 0, end: $0.count) }
    return (r, joined)
}

/// Validates UTF-8 that arrives in chunks, where a multi-byte character may straddle a chunk boundary.
///
/// Feed every chunk, in order, to `validate(_:)`, then call `finish()` once at the end of input. Offsets are
/// absolute (counted from the first byte of the first chunk). After the first error the validator only counts
/// bytes; the reported offset never changes.
public struct UTF8StreamValidator: Sendable {
    /// Total number of bytes passed to `validate(_:)` so far.
    public private(set) var bytesSeen: Int = 0
    /// The absolute offset of the first ill-formed sequence found so far, if any.
    public private(set) var firstInvalidOffset: Int?
    /// A valid prefix of a character cut off by the end of the previous chunk.
    private var pending: [UInt8] = []

    /// A validator at the start of a stream.
    public init() {}

    /// Validates the next chunk. Returns the absolute offset of the first ill-formed sequence seen so far (in this
    /// or an earlier chunk), or `nil`. A character cut off at the end of the chunk is not an error yet: it is
    /// completed by the next chunk or reported by `finish()`.
    @discardableResult
    public mutating func validate(_ chunk: UnsafeBufferPointer<UInt8>) -> Int? {
        let chunkStart = bytesSeen
        bytesSeen += chunk.count
        if firstInvalidOffset != nil { return firstInvalidOffset }
        guard let p = chunk.baseAddress, chunk.count > 0 else { return nil }
        var i = 0
        if !pending.isEmpty {
            let pendingStart = chunkStart - pending.count
            let (check, joined) = checkStraddling(pending, chunk)
            switch check {
            case .valid(let len):
                i = len - pending.count
                pending.removeAll(keepingCapacity: true)
            case .invalid:
                firstInvalidOffset = pendingStart
                return pendingStart
            case .truncated:
                // Only possible when the whole (tiny) chunk went into `joined`.
                pending = joined
                return nil
            }
        }
        let (offset, problem) = scanUTF8(p, from: i, end: chunk.count)
        switch problem {
        case nil:
            return nil
        case .truncated?:
            pending = Array(UnsafeBufferPointer(rebasing: chunk[offset...]))
            return nil
        case .invalid?, .valid?:
            firstInvalidOffset = chunkStart + offset
            return firstInvalidOffset
        }
    }

    /// Ends the input. Returns the absolute offset of the first ill-formed sequence, which may be a character
    /// truncated by the end of input, or `nil` when the whole stream was well-formed UTF-8.
    @discardableResult
    public mutating func finish() -> Int? {
        if firstInvalidOffset == nil && !pending.isEmpty {
            firstInvalidOffset = bytesSeen - pending.count
            pending.removeAll()
        }
        return firstInvalidOffset
    }
}

/// Repairs UTF-8 that arrives in chunks: the streaming form of `replacingInvalidUTF8(_:)`.
///
/// The concatenated output of `process(_:into:)` over all chunks followed by `finish(into:)` equals
/// `replacingInvalidUTF8` of the concatenated input, however the input is split. A character cut by a chunk
/// boundary (at most 3 bytes) is carried over to the next call.
public struct UTF8StreamRepairer: Sendable {
    private var pending: [UInt8] = []

    /// A repairer at the start of a stream.
    public init() {}

    /// Appends the repaired form of `chunk` to `output`, holding back an incomplete character at its end.
    public mutating func process(_ chunk: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        guard let p = chunk.baseAddress, chunk.count > 0 else { return }
        var i = 0
        if !pending.isEmpty {
            let (check, joined) = checkStraddling(pending, chunk)
            switch check {
            case .valid(let len):
                output.append(contentsOf: joined[..<len])
                i = len - pending.count
            case .invalid(let len):
                // The pending bytes are a valid prefix, so the maximal subpart covers all of them (len ≥ count).
                appendReplacement(&output)
                i = len - pending.count
            case .truncated:
                pending = joined
                return
            }
            pending.removeAll(keepingCapacity: true)
        }
        if let tail = appendRepairing(p, from: i, end: chunk.count, to: &output) {
            pending = Array(UnsafeBufferPointer(rebasing: chunk[tail...]))
        }
    }

    /// Ends the input: a character left incomplete by the end of input becomes one U+FFFD.
    public mutating func finish(into output: inout [UInt8]) {
        if !pending.isEmpty {
            appendReplacement(&output)
            pending.removeAll()
        }
    }
}
