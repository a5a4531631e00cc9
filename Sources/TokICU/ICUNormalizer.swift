// Implementation-only: see ICUWordBreakPreTokenizer.swift.
@_implementationOnly import CICU
import TokCore

/// Unicode normalization (NFC, NFKC, NFD, NFKD) of UTF-8 text with ICU's `unorm2`.
///
/// Text that is ASCII, or that ICU's quick check already finds normalized, is returned unchanged without any
/// conversion; everything else goes UTF-8 → UTF-16 → `unorm2_normalize` → UTF-8.
public struct ICUNormalizer: TextNormalizer, Sendable {
    /// A Unicode normalization form (UAX #15).
    public enum Form: String, Sendable, CaseIterable {
        /// Canonical composition.
        case nfc
        /// Compatibility composition (folds ligatures, full-width forms, circled digits, …).
        case nfkc
        /// Canonical decomposition.
        case nfd
        /// Compatibility decomposition.
        case nfkd
    }

    /// Why normalization failed.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        /// The kinds of failure.
        public enum Kind: Sendable, Equatable {
            /// The input is not well-formed UTF-8; the payload is the offset of the first ill-formed sequence.
            case invalidUTF8(offset: Int)
            /// The input is too long for ICU's 32-bit string lengths.
            case inputTooLarge
            /// ICU reported an error; the payload is its name.
            case icu(String)
        }
        /// What went wrong.
        public let kind: Kind
        public var description: String {
            switch kind {
            case .invalidUTF8(let offset): return "cannot normalize: invalid UTF-8 at byte \(offset)"
            case .inputTooLarge: return "cannot normalize: more than 64 MiB of text with no place to cut it into pieces normalized alone"
            case .icu(let name): return "cannot normalize: ICU error \(name)"
            }
        }
    }

    /// The normalization form applied by `normalize(_:)`.
    public let form: Form

    /// A normalizer to `form`. ICU's normalizer instance is fetched on first use, not here.
    public init(_ form: Form) {
        self.form = form
    }

    /// The form's name, `nfc`, `nfkc`, `nfd` or `nfkd` (for the sidecar and messages).
    public var name: String { form.rawValue }

    /// ICU string lengths are `int32_t`; NFKD can expand a UTF-16 unit up to 18-fold.
    private static let maximumInput = Int(Int32.max) / 32

    /// Returns the normalized form of `utf8`, which must be well-formed UTF-8.
    ///
    /// Throws `Failure` for ill-formed UTF-8 (repair it first with `replacingInvalidUTF8` if that is wanted), for
    /// text of more than about 64 MiB with no place to cut it into pieces normalized alone
    /// (`InertCharacters.isNormalizationPlace`), or if ICU fails.
    public func normalize(_ utf8: UnsafeBufferPointer<UInt8>) throws -> [UInt8] {
        guard let src = utf8.baseAddress, utf8.count > 0 else { return [] }
        // Every form leaves ASCII alone.
        if Self.isASCII(utf8) { return Array(utf8) }
        if let offset = firstInvalidUTF8Offset(utf8) { throw Failure(kind: .invalidUTF8(offset: offset)) }
        if utf8.count > Self.maximumInput {
            // ICU's lengths are 32-bit: normalize pieces that end at such places, each within the limit.
            let inert = inertCharacters, boundaries = boundaryBeforeCharacters
            var result: [UInt8] = []
            var start = 0
            while start < utf8.count {
                var end = utf8.count
                if start + Self.maximumInput < utf8.count {
                    guard let place = InertCharacters.lastNormalizationPlace(src, from: start + 1, below: start + Self.maximumInput + 1,
                                                                             utf8.count, inert: inert, boundaryBefore: boundaries)
                    else { throw Failure(kind: .inputTooLarge) }
                    end = place
                }
                result += try normalize(UnsafeBufferPointer(rebasing: utf8[start..<end]))
                start = end
            }
            return result
        }

        var status = U_ZERO_ERROR
        guard let normalizer = instance(&status), status.rawValue <= U_ZERO_ERROR.rawValue else {
            throw Self.icuFailure(status)
        }
        // UTF-16 never needs more code units than UTF-8 has bytes.
        let utf16 = try [UInt16](unsafeUninitializedCapacity: utf8.count) { buffer, count in
            var length: Int32 = 0
            _ = cicu_strFromUTF8(buffer.baseAddress, Int32(utf8.count), &length,
                                 UnsafeRawPointer(src).assumingMemoryBound(to: CChar.self), Int32(utf8.count), &status)
            guard status.rawValue <= U_ZERO_ERROR.rawValue else { throw Self.icuFailure(status) }
            count = Int(length)
        }
        let normalized: [UInt16]? = try utf16.withUnsafeBufferPointer { u in
            let n = Int32(u.count)
            if cicu_unorm2_spanQuickCheckYes(normalizer, u.baseAddress, n, &status) == n
                && status.rawValue <= U_ZERO_ERROR.rawValue {
                return nil
            }
            status = U_ZERO_ERROR
            var capacity = u.count + u.count / 2 + 16
            while true {
                var needed: Int32 = 0
                let out = try [UInt16](unsafeUninitializedCapacity: capacity) { buffer, count in
                    needed = cicu_unorm2_normalize(normalizer, u.baseAddress, n, buffer.baseAddress,
                                                   Int32(capacity), &status)
                    count = status == U_BUFFER_OVERFLOW_ERROR || status.rawValue > U_ZERO_ERROR.rawValue
                        ? 0 : Int(needed)
                    if status != U_BUFFER_OVERFLOW_ERROR && status.rawValue > U_ZERO_ERROR.rawValue {
                        throw Self.icuFailure(status)
                    }
                }
                if status != U_BUFFER_OVERFLOW_ERROR { return out }
                status = U_ZERO_ERROR
                capacity = Int(needed)
            }
        }
        guard let normalized else { return Array(utf8) }  // the quick check found it already normalized
        return try normalized.withUnsafeBufferPointer { u in
            // A UTF-16 code unit becomes at most 3 UTF-8 bytes.
            try [UInt8](unsafeUninitializedCapacity: u.count * 3) { buffer, count in
                var length: Int32 = 0
                let dst = UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                _ = cicu_strToUTF8(dst, Int32(u.count * 3), &length, u.baseAddress, Int32(u.count), &status)
                guard status.rawValue <= U_ZERO_ERROR.rawValue else { throw Self.icuFailure(status) }
                count = Int(length)
            }
        }
    }

    /// Returns the normalized form of `string`.
    public func normalize(_ string: String) throws -> String {
        var s = string
        let bytes = try s.withUTF8 { try normalize($0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The BMP characters ICU's normalizer for this form finds inert (`unorm2_isInert`), computed once per form
    /// and process (about 65,000 queries).
    public var inertCharacters: InertCharacters? {
        switch form {
        case .nfc: return Self.inertNFC
        case .nfkc: return Self.inertNFKC
        case .nfd: return Self.inertNFD
        case .nfkd: return Self.inertNFKD
        }
    }

    /// The BMP characters before which ICU's normalizer for this form always has a boundary
    /// (`unorm2_hasBoundaryBefore`: a string can be normalized in portions before and from such a character),
    /// computed once per form and process.
    public var boundaryBeforeCharacters: InertCharacters? {
        switch form {
        case .nfc: return Self.boundaryNFC
        case .nfkc: return Self.boundaryNFKC
        case .nfd: return Self.boundaryNFD
        case .nfkd: return Self.boundaryNFKD
        }
    }

    private static let boundaryNFC = ICUNormalizer(.nfc).computeSet(cicu_unorm2_hasBoundaryBefore)
    private static let boundaryNFKC = ICUNormalizer(.nfkc).computeSet(cicu_unorm2_hasBoundaryBefore)
    private static let boundaryNFD = ICUNormalizer(.nfd).computeSet(cicu_unorm2_hasBoundaryBefore)
    private static let boundaryNFKD = ICUNormalizer(.nfkd).computeSet(cicu_unorm2_hasBoundaryBefore)

    private static let inertNFC = ICUNormalizer(.nfc).computeSet(cicu_unorm2_isInert)
    private static let inertNFKC = ICUNormalizer(.nfkc).computeSet(cicu_unorm2_isInert)
    private static let inertNFD = ICUNormalizer(.nfd).computeSet(cicu_unorm2_isInert)
    private static let inertNFKD = ICUNormalizer(.nfkd).computeSet(cicu_unorm2_isInert)

    /// The BMP characters for which `property` (`unorm2_isInert`, `unorm2_hasBoundaryBefore`) is true for this form.
    private func computeSet(_ property: (OpaquePointer?, UChar32) -> UBool) -> InertCharacters? {
        var status = U_ZERO_ERROR
        guard let normalizer = instance(&status), status.rawValue <= U_ZERO_ERROR.rawValue else { return nil }
        return InertCharacters { property(normalizer, UChar32(bitPattern: $0)) != 0 }
    }

    private func instance(_ status: inout UErrorCode) -> OpaquePointer? {
        switch form {
        case .nfc: return cicu_unorm2_getNFCInstance(&status)
        case .nfkc: return cicu_unorm2_getNFKCInstance(&status)
        case .nfd: return cicu_unorm2_getNFDInstance(&status)
        case .nfkd: return cicu_unorm2_getNFKDInstance(&status)
        }
    }

    private static func icuFailure(_ status: UErrorCode) -> Failure {
        Failure(kind: .icu(String(cString: cicu_errorName(status))))
    }

    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let raw = UnsafeRawBufferPointer(bytes)
        var i = 0
        var acc: UInt64 = 0
        while i + 8 <= raw.count {
            acc |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < raw.count {
            acc |= UInt64(raw[i])
            i += 1
        }
        return acc & 0x8080_8080_8080_8080 == 0
    }
}
