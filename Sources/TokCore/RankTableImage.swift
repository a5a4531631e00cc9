#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `RankTable` as one flat byte image, so a vocabulary parsed once can be loaded again by copying memory
/// instead of decoding base64 and hashing every token (o200k: about 45 ms to parse, a few ms from the image).
///
/// Layout (little-endian, every section 8-byte aligned): 12 header words — magic, format version, source
/// fingerprint, source length, key count, slot capacity, rank limit, longest key, arena bytes, filter words,
/// payload checksum, spanning-filter words — then the slots, the arena, key starts, key lengths, the presence
/// filter and the bitset of `SpanningTokenFilter` (so a process that cuts pieces does not spend ~5 ms building it).
/// An image is only accepted whole: right magic and fingerprint, consistent sizes, matching checksum, and every
/// slot and key inside its table, so a truncated or damaged file is refused, never trusted. A file forged to pass
/// the checksum is still held to the indices: no lookup reads outside the image or probes without end, and every
/// slot's rank has a token unless the file was also made to collide a 64-bit sum (`VocabularyCache` also asks for
/// all 256 single bytes, as a `.tiktoken` file must have); which token has which rank cannot be checked without
/// the vocabulary file, which is what the cache spares.
extension RankTable {
    static let imageMagic: UInt64 = 0x3154_4B4E_4152_4B54   // "TKRANKT1"
    static let imageVersion: UInt64 = 3
    static let imageHeaderWords = 12

    /// The table's image, tagged with the fingerprint and length of the file it was parsed from.
    public func image(sourceFingerprint: UInt64, sourceLength: Int) -> [UInt8] {
        let arenaBytes = Int(arenaCount)
        let filterWords = 1 << (RankTable.filterBits - 6)
        let spanning = spanningBits.map { ($0, spanningWords) } ?? {
            let f = SpanningTokenFilter(table: self)
            return (f.bits, f.words)
        }()
        defer { if spanningBits == nil { spanning.0.deallocate() } }
        let sections = [capacity * 16, arenaBytes, rankLimit * 4, rankLimit * 4, filterWords * 8, spanning.1 * 8]
        let total = RankTable.imageHeaderWords * 8 + sections.reduce(0) { $0 + RankTable.padded($1) }
        var out = [UInt8](repeating: 0, count: total)
        out.withUnsafeMutableBytes { buf in
            let raw = buf.baseAddress!
            var off = RankTable.imageHeaderWords * 8
            for (src, n) in [(UnsafeRawPointer(slots), sections[0]), (UnsafeRawPointer(arena), sections[1]),
                                 (UnsafeRawPointer(keyStart), sections[2]), (UnsafeRawPointer(keyLength), sections[3]),
                                 (UnsafeRawPointer(filter), sections[4]), (UnsafeRawPointer(spanning.0), sections[5])] {
                (raw + off).copyMemory(from: src, byteCount: n)
                off += RankTable.padded(n)
            }
            let payload = UnsafeRawBufferPointer(start: raw + RankTable.imageHeaderWords * 8, count: total - RankTable.imageHeaderWords * 8)
            let header: [UInt64] = [RankTable.imageMagic, RankTable.imageVersion, sourceFingerprint, UInt64(sourceLength),
                                    UInt64(count), UInt64(capacity), UInt64(rankLimit), UInt64(maxKeyLength),
                                    UInt64(arenaBytes), UInt64(filterWords), Fingerprint64.of(payload), UInt64(spanning.1)]
            for (i, w) in header.enumerated() { raw.storeBytes(of: w.littleEndian, toByteOffset: i * 8, as: UInt64.self) }
        }
        return out
    }

    /// The table stored in the image file at `path`, or nil if the file is missing or is not a whole, undamaged
    /// image of a vocabulary file with this fingerprint and length.
    ///
    /// The file is mapped read-only rather than read: copying o200k's 8.7 MB image into fresh memory cost 4-15 ms
    /// (the kernel zeroes every page before the copy, and huge pages first need compacting), the mapping under 1 ms,
    /// with no measurable change in encoding speed. Images are only ever written whole to a temporary file and
    /// renamed into place, never changed in place, so the bytes checked here stay as they were for the life of the
    /// process; only someone truncating or overwriting a cache file by hand while tok runs could disturb them (the
    /// risk git takes with its mapped pack files).
    ///
    /// Anything but a regular file is refused without waiting (a FIFO put in its place would block the open), and
    /// the header is read and checked against the file's size before anything is mapped (a huge file in its place
    /// would be mapped and read whole).
    public init?(imageFile path: String, sourceFingerprint: UInt64, sourceLength: Int) {
        guard let (fd, fileSize) = FileBytes.openRegularFile(path) else { return nil }
        defer { close(fd) }
        var header = [UInt64](repeating: 0, count: RankTable.imageHeaderWords)
        let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        guard got == RankTable.imageHeaderWords * 8,
              RankTable.imageSize(header: { UInt64(littleEndian: header[$0]) }, sourceFingerprint: sourceFingerprint,
                                  sourceLength: sourceLength) == fileSize else { return nil }
        let size = fileSize
#if os(Linux)
        let flags = MAP_PRIVATE | MAP_POPULATE   // every page is checked at once anyway: map them in one call
#else
        let flags = MAP_PRIVATE
#endif
        if let map = mmap(nil, size, PROT_READ, flags, fd, 0), map != MAP_FAILED {
            let storage = Storage { munmap(map, size) }
            self.init(image: UnsafeRawBufferPointer(start: map, count: size), storage: storage,
                      sourceFingerprint: sourceFingerprint, sourceLength: sourceLength)
            return
        }
        // A file system that cannot map files: read it.
        let copy = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        let storage = Storage { copy.deallocate() }
        guard FileBytes.readFully(fd, copy, size) == size else { return nil }
        self.init(image: UnsafeRawBufferPointer(start: copy, count: size), storage: storage,
                  sourceFingerprint: sourceFingerprint, sourceLength: sourceLength)
    }

    /// The table stored in `image` (copied), or nil if the image is not a whole, undamaged image of a vocabulary
    /// file with this fingerprint and length.
    public init?(image: UnsafeRawBufferPointer, sourceFingerprint: UInt64, sourceLength: Int) {
        guard let base = image.baseAddress, image.count > 0 else { return nil }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: image.count, alignment: 64)
        copy.copyMemory(from: base, byteCount: image.count)
        let storage = Storage { copy.deallocate() }
        self.init(image: UnsafeRawBufferPointer(start: copy, count: image.count), storage: storage,
                  sourceFingerprint: sourceFingerprint, sourceLength: sourceLength)
    }

    /// Points the table into `image`, which `storage` keeps alive; the image must be 8-byte aligned.
    init?(image: UnsafeRawBufferPointer, storage: Storage, sourceFingerprint: UInt64, sourceLength: Int) {
        let hw = RankTable.imageHeaderWords
        guard let raw = image.baseAddress, image.count >= hw * 8, Int(bitPattern: raw) & 7 == 0 else { return nil }
        func word(_ i: Int) -> UInt64 { UInt64(littleEndian: raw.load(fromByteOffset: i * 8, as: UInt64.self)) }
        guard RankTable.imageSize(header: word, sourceFingerprint: sourceFingerprint,
                                  sourceLength: sourceLength) == image.count else { return nil }
        let filterWords = 1 << (RankTable.filterBits - 6)
        let spanningWords = word(11)
        let n = word(4), capacity = word(5), rankLimit = word(6), maxKey = word(7), arenaBytes = word(8)
        let sections = RankTable.imageSections(header: word)
        let payload = UnsafeRawBufferPointer(start: raw + hw * 8, count: image.count - hw * 8)

        // The sections are read in place. The arena is followed by at least the key-start section, so the
        // 8-byte loads lookups may make at a key's end stay inside the image.
        var off = hw * 8
        var starts: [UnsafeMutableRawPointer] = []
        for len in sections {
            starts.append(UnsafeMutableRawPointer(mutating: raw + off))
            off += RankTable.padded(len)
        }
        let slots = starts[0].assumingMemoryBound(to: Slot.self)
        let arena = starts[1].assumingMemoryBound(to: UInt8.self)
        let keyStart = starts[2].assumingMemoryBound(to: UInt32.self)
        let keyLength = starts[3].assumingMemoryBound(to: UInt32.self)
        let filter = starts[4].assumingMemoryBound(to: UInt64.self)
        let mask: UInt32 = arenaBytes < 1 << 24 ? 0xFF : .max
        let shape = ImageShape(slots: slots, capacity: Int(capacity), keyStart: keyStart, keyLength: keyLength,
                               rankLimit: Int(rankLimit), keys: Int(n), maxKey: maxKey, arenaBytes: arenaBytes, mask: mask)
        // The checksum rules out damage, the index checks a forged file. Running the two side by side on two threads
        // made `tok encode -t o200k_base /dev/null` slower on a two-vCPU VM (19-20 ms against 17-18: waking a thread
        // cost more than the 2-3 ms it saved), so they run one after the other.
        guard Fingerprint64.of(payload) == word(10), shape.isSound() else { return nil }
        self.storage = storage
        self.slots = slots; self.capacity = Int(capacity); self.arena = arena
        self.keyStart = keyStart; self.keyLength = keyLength; self.filter = filter
        self.spanningBits = starts[5].assumingMemoryBound(to: UInt64.self)
        self.spanningWords = Int(spanningWords)
        self.rankLimit = Int(rankLimit); self.count = Int(n); self.maxKeyLength = Int(maxKey)
        self.arenaCount = Int(arenaBytes)
        self.tagLengthMask = mask
    }

    static func padded(_ n: Int) -> Int { (n + 7) & ~7 }

    /// The size in bytes of the image whose header words `word(0..<12)` gives, or nil when the header is not one
    /// of this format, of a vocabulary file with this fingerprint and length, with sizes in their ranges.
    static func imageSize(header word: (Int) -> UInt64, sourceFingerprint: UInt64, sourceLength: Int) -> Int? {
        let filterWords = 1 << (RankTable.filterBits - 6)
        guard sourceLength >= 0, word(0) == RankTable.imageMagic, word(1) == RankTable.imageVersion, word(2) == sourceFingerprint,
              word(3) == UInt64(sourceLength), word(9) == UInt64(filterWords) else { return nil }
        // The spanning filter's length: a power of two, as `SpanningTokenFilter` sizes it.
        let spanningWords = word(11)
        guard spanningWords >= 64, spanningWords <= 1 << 26, spanningWords & (spanningWords - 1) == 0 else { return nil }
        let limitCap: UInt64 = 1 << 40
        let n = word(4), capacity = word(5), rankLimit = word(6), maxKey = word(7), arenaBytes = word(8)
        guard n > 0, n < limitCap, capacity > n, capacity < limitCap, rankLimit >= 1, rankLimit < limitCap,
              arenaBytes < limitCap, maxKey > 0, maxKey <= arenaBytes else { return nil }
        return imageHeaderWords * 8 + imageSections(header: word).reduce(0, { $0 + RankTable.padded($1) })
    }

    /// The lengths of the image's sections (before padding), in order, from header words that `imageSize` accepts.
    static func imageSections(header word: (Int) -> UInt64) -> [Int] {
        [Int(word(5)) * 16, Int(word(8)), Int(word(6)) * 4, Int(word(6)) * 4, (1 << (RankTable.filterBits - 6)) * 8,
         Int(word(11)) * 8]
    }
}

/// The parts of an image that lookups and decoding follow as indices, to be checked before they are trusted.
struct ImageShape {
    let slots: UnsafePointer<RankTable.Slot>
    let capacity: Int
    let keyStart: UnsafePointer<UInt32>
    let keyLength: UnsafePointer<UInt32>
    let rankLimit: Int
    let keys: Int
    let maxKey: UInt64
    let arenaBytes: UInt64
    let mask: UInt32

    /// Whether every index stays inside its table. The checksum rules out damage, not a forged file.
    func isSound() -> Bool {
        // Both passes accumulate without branching on the entries (and so vectorize): 3.3 ms for o200k with a
        // branch and an early exit per entry, before.
        var count = 0
        var wrongKey: UInt64 = 0
        var presentSum: UInt64 = 0
        for r in 0..<rankLimit {
            let s = UInt64(keyStart[r]), l = UInt64(keyLength[r])
            let present: UInt64 = s != UInt64(UInt32.max) ? 1 : 0
            var wrong: UInt64 = l == 0 ? 1 : 0
            wrong |= l > maxKey ? 1 : 0
            wrong |= s &+ l > arenaBytes ? 1 : 0
            wrongKey |= wrong & present
            count &+= Int(present)
            presentSum &+= Self.scramble(UInt64(r)) & (0 &- present)
        }
        guard wrongKey == 0, count == keys else { return false }
        let limit = UInt64(rankLimit)
        if mask == 0xFF {
            // A slot's tag holds its key's arena offset and length, which lookups follow without looking at the
            // rank's own entries: check those bounds in one sequential pass (matching each slot against
            // `keyStart`/`keyLength` costs two cache misses per slot, 1-2 ms for o200k), with no branch on whether
            // a slot is used (about half are, at random). Only a capped length, where lookups do read `keyLength`,
            // needs the rank's entry: those few slots get a second pass.
            // The slots' ranks are those of the present keys, each once: the same count, and the same sum of
            // scrambled ranks (equal sums of different sets would take a file made to collide), so no slot answers
            // with a rank that has no token.
            var used = 0
            var bad: UInt64 = 0
            var capped: UInt64 = 0
            var slotSum: UInt64 = 0
            for i in 0..<capacity {
                let s = slots[i]
                let occupied: UInt64 = s.tag != 0 ? 1 : 0
                let length = UInt64(s.tag & 0xFF), start = UInt64(s.tag >> 8)
                var wrong: UInt64 = UInt64(s.rank) >= limit ? 1 : 0
                wrong |= length == 0 ? 1 : 0
                wrong |= start &+ length > arenaBytes ? 1 : 0
                used &+= Int(occupied)
                bad |= wrong & occupied
                capped |= length == 0xFF ? occupied : 0
                slotSum &+= Self.scramble(UInt64(s.rank)) & (0 &- occupied)
            }
            guard bad == 0, used == keys, slotSum == presentSum else { return false }
            if capped != 0 {
                for i in 0..<capacity where slots[i].tag & 0xFF == 0xFF {
                    let s = slots[i]
                    if UInt64(s.tag >> 8) &+ UInt64(keyLength[Int(s.rank)]) > arenaBytes { return false }
                }
            }
            return true
        }
        // Every used slot is checked against its rank's entries; and there must be as many as keys, so that some
        // slot is empty and a lookup of a missing key ends.
        var used = 0
        for i in 0..<capacity where slots[i].tag != 0 {
            let s = slots[i]
            if UInt64(s.rank) >= limit || keyStart[Int(s.rank)] == .max { return false }
            if s.tag != RankTable.tag(length: Int(keyLength[Int(s.rank)]), start: Int(keyStart[Int(s.rank)]), mask: mask) { return false }
            used += 1
        }
        return used == keys
    }

    /// A rank's summand in the comparison of slot ranks with present ranks: shifts and exclusive ors, which
    /// vectorize with the baseline x86-64 instructions (a 64-bit multiply does not, and made the check 47% dearer).
    @inline(__always)
    static func scramble(_ r: UInt64) -> UInt64 { r ^ (r << 21) ^ (r << 42) }
}

/// A fast 64-bit fingerprint of bytes (four multiply-xor lanes over 8-byte words), to recognise a vocabulary
/// file and to detect damage in a table image. Not cryptographic.
public enum Fingerprint64 {
    /// The fingerprint of `bytes` in one piece.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = Hasher()
        h.combine(bytes)
        return h.finish()
    }

    /// The fingerprint of bytes that arrive in pieces: every piece but the last must be a multiple of 32 bytes.
    public struct Hasher {
        var a: UInt64 = 0x9E37_79B9_7F4A_7C15, b: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        var c: UInt64 = 0x1656_67B1_9E37_79F9, d: UInt64 = 0x27D4_EB2F_1656_67C5
        var count = 0
        var tail: UInt64 = 0
        var tailBytes = 0
        var finished = false

        /// A hasher that has seen no bytes.
        public init() {}

        @inline(__always)
        static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
            let x = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
            return x ^ (x >> 32)
        }

        /// Adds the next piece; one that is not a multiple of 32 bytes must be the last.
        public mutating func combine(_ bytes: UnsafeRawBufferPointer) {
            precondition(!finished, "Fingerprint64.Hasher: only the last piece may be shorter than a multiple of 32 bytes")
            count += bytes.count
            guard let p = bytes.baseAddress else { return }
            let n = bytes.count
            var i = 0
            while i + 32 <= n {
                a = Self.mix(a, p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                b = Self.mix(b, p.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
                c = Self.mix(c, p.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
                d = Self.mix(d, p.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
                i += 32
            }
            if i < n { finished = true }
            while i < n {
                tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << UInt64(8 * tailBytes)
                i += 1
                tailBytes += 1
                if tailBytes == 8 { a = Self.mix(a, tail); tail = 0; tailBytes = 0 }
            }
        }

        /// The fingerprint of everything combined.
        public func finish() -> UInt64 {
            let h = Self.mix(Self.mix(Self.mix(Self.mix(UInt64(count), a), b), c), d)
            return Self.mix(h, tail)
        }
    }
}
