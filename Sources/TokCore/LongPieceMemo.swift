/// Tokens of recently merged long pieces (longer than the piece cache's keys), so that a piece that recurs, such
/// as a line of box drawing or dashes, a long identifier or a run of indentation, is merged once.
///
/// Open addressing over a fixed number of slots, keys and ids in two arenas. It never grows: when the slots are
/// half full or an arena is full it forgets everything and starts again, which bounds its memory (about 3 MB)
/// whatever the input.
struct LongPieceMemo: ~Copyable {
    private struct Slot {
        var hash: UInt64
        var keyStart: UInt32
        var keyLength: UInt32
        var idStart: UInt32
        var idCount: UInt32
    }

    private static let slotCount = 4096
    private static let keyCapacity = 1 << 21
    private static let idCapacity = 1 << 18
    /// Longer pieces are not kept (each would take a large share of the arena).
    static let maxKeyLength = 4096

    private let slots: UnsafeMutablePointer<Slot>
    private let keys: UnsafeMutablePointer<UInt8>
    private let ids: UnsafeMutablePointer<UInt32>
    private var used = 0, keyEnd = 0, idEnd = 0

    init() {
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: Slot(hash: 0, keyStart: 0, keyLength: 0, idStart: 0, idCount: 0), count: Self.slotCount)
        keys = .allocate(capacity: Self.keyCapacity)
        ids = .allocate(capacity: Self.idCapacity)
    }

    deinit { slots.deallocate(); keys.deallocate(); ids.deallocate() }

    /// Forgets every piece.
    mutating func removeAll() {
        if used == 0 { return }
        slots.update(repeating: Slot(hash: 0, keyStart: 0, keyLength: 0, idStart: 0, idCount: 0), count: Self.slotCount)
        used = 0; keyEnd = 0; idEnd = 0
    }

    /// Appends the tokens of `p[0..<n]` to `out` and returns true if the piece is known.
    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ n: Int, hash: UInt64, into out: inout TokenBuffer) -> Bool {
        var i = Int(truncatingIfNeeded: hash) & (Self.slotCount - 1)
        while true {
            let s = slots[i]
            if s.keyLength == 0 { return false }
            if s.hash == hash && Int(s.keyLength) == n && ByteKey.equal(keys + Int(s.keyStart), p, n) {
                let c = Int(s.idCount)
                let dst = out.reserveTail(c)
                dst.update(from: ids + Int(s.idStart), count: c)
                out.didAppend(c)
                return true
            }
            i = (i + 1) & (Self.slotCount - 1)
        }
    }

    /// Remembers that `p[0..<n]` (not yet known) encodes to `tokens`.
    mutating func insert(_ p: UnsafePointer<UInt8>, _ n: Int, hash: UInt64, tokens: UnsafeBufferPointer<UInt32>) {
        guard n <= Self.maxKeyLength, tokens.count <= Self.idCapacity / 4 else { return }
        if 2 * (used + 1) > Self.slotCount || keyEnd + n > Self.keyCapacity || idEnd + tokens.count > Self.idCapacity {
            removeAll()
        }
        var i = Int(truncatingIfNeeded: hash) & (Self.slotCount - 1)
        while slots[i].keyLength != 0 { i = (i + 1) & (Self.slotCount - 1) }
        (keys + keyEnd).update(from: p, count: n)
        (ids + idEnd).update(from: tokens.baseAddress!, count: tokens.count)
        slots[i] = Slot(hash: hash, keyStart: UInt32(keyEnd), keyLength: UInt32(n), idStart: UInt32(idEnd),
                        idCount: UInt32(tokens.count))
        keyEnd += n; idEnd += tokens.count; used += 1
    }
}
