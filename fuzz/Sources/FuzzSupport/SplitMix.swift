/// SplitMix64: a deterministic generator, so that the random choices a harness makes (chunk splits, separators)
/// depend only on the input and a saved crash reproduces.
public struct SplitMix: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// FNV-1a of the input, to seed a SplitMix.
public func seedOf(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for x in bytes { h = (h ^ UInt64(x)) &* 0x100_0000_01B3 }
    return h
}
