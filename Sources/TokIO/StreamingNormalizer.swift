import TokCore

/// Normalizes text that arrives in chunks, for a stretch too long to hold and normalize whole (a line of Thai
/// without spaces under a vocabulary trained on NFKC text): each chunk's bytes are normalized up to the last place
/// where normalizing the two sides alone gives the normalized whole cut there, and the rest waits for the next.
///
/// Such places (`InertCharacters.isNormalizationPlace`): between two ASCII characters, next to a character the
/// normalizer leaves unchanged and never joins with a neighbour (the places `SafeCut` trusts under a normalizer
/// too), or before one that never joins with what precedes it (ICU's `hasBoundaryBefore`: any ASCII character,
/// most starters). Text with no such place (a megabyte of combining marks) waits until one comes or the input ends.
final class StreamingNormalizer {
    let normalizer: any TextNormalizer
    let inert: InertCharacters?
    let boundaryBefore: InertCharacters?
    /// Bytes after the last such place, not normalized yet.
    private var pending = GrowableBytes(capacity: 1 << 16)
    /// The offset of `pending`'s first byte in the bytes fed.
    private(set) var pendingStart: Int
    /// No place at or after index 1 and before this one in `pending`: a later search starts here.
    private var searchedTo = 1

    /// A normalizer whose first byte fed will be at offset `start` (offsets name bytes to `discard`).
    init(_ normalizer: any TextNormalizer, start: Int) {
        self.normalizer = normalizer
        inert = normalizer.inertCharacters
        boundaryBefore = normalizer.boundaryBeforeCharacters
        pendingStart = start
    }

    /// Appends `chunk` (well-formed UTF-8 so far, though it may end inside a character) and writes the
    /// normalized text up to the last such place to `out`; all of it when `final`.
    func feed(_ chunk: UnsafeBufferPointer<UInt8>, final: Bool, into out: inout GrowableBytes) throws {
        pending.append(chunk)
        guard pending.count > 0 else { return }
        // A LF joins with nothing after it (no composition starts with it, and as a starter it bounds canonical
        // reordering), so text that ends with one is normalized whole: a line that has come is not held back until
        // the next one starts (`tail -f log | tok encode --lines` under a normalizing vocabulary).
        let n = final || pending.base[pending.count - 1] == 0x0A ? pending.count : lastPlace()
        guard n > 0 else { return }
        let normalized = try normalizer.normalize(UnsafeBufferPointer(start: pending.base, count: n))
        normalized.withUnsafeBufferPointer { out.append($0) }
        let rest = pending.count - n
        if rest > 0 { pending.base.update(from: pending.base + n, count: rest) }
        pending.count = rest
        pendingStart += n
        searchedTo = 1
    }

    /// Forgets the bytes fed from offset `offset` on (where the input turned out not to be UTF-8).
    func discard(from offset: Int) {
        pending.count = max(0, min(pending.count, offset - pendingStart))
        searchedTo = min(searchedTo, max(1, pending.count))
    }

    /// The last place in `pending`, or 0. A place is judged by whole characters around it; the last 3 bytes
    /// may end inside one, so they are searched again once more bytes come.
    private func lastPlace() -> Int {
        let count = pending.count
        if let place = InertCharacters.lastNormalizationPlace(pending.base, from: searchedTo, below: count, count,
                                                              inert: inert, boundaryBefore: boundaryBefore) {
            return place
        }
        searchedTo = max(1, count - 3)
        return 0
    }
}
