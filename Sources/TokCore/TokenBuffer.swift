/// A growable buffer of token ids that encoders append to without Swift `Array`'s per-append uniqueness and
/// capacity checks. Not thread-safe; each encoding task owns one.
public struct TokenBuffer: ~Copyable {
    @usableFromInline var base: UnsafeMutablePointer<UInt32>
    @usableFromInline var capacity: Int
    @usableFromInline var _count: Int
    /// Whether `base` belongs to the buffer (else to the caller, see `init(writingInto:)`).
    @usableFromInline var ownsStorage: Bool
    /// Number of ids held.
    public var count: Int { _count }

    /// An empty buffer with room for `capacity` ids (at least 16) in storage of its own.
    public init(capacity: Int = 1024) {
        self.capacity = max(capacity, 16)
        self.base = .allocate(capacity: self.capacity)
        self._count = 0
        self.ownsStorage = true
    }

    /// A buffer that writes into the caller's memory until it is full, and then moves to its own storage (see
    /// `wroteInPlace`). Lets `Tokenizer.encode(bytes:)` encode straight into the array it returns: copying 12 MB
    /// of ids out of a buffer took about 2% of encoding 10 MB of text.
    public init(writingInto storage: UnsafeMutableBufferPointer<UInt32>) {
        precondition(storage.count >= 16, "a borrowed TokenBuffer needs room for 16 ids")
        self.base = storage.baseAddress!
        self.capacity = storage.count
        self._count = 0
        self.ownsStorage = false
    }

    /// Whether every id is still in the memory given to `init(writingInto:)`.
    public var wroteInPlace: Bool { !ownsStorage }

    deinit { if ownsStorage { base.deallocate() } }

    /// Appends one id, growing the storage when full.
    @inlinable @inline(__always)
    public mutating func append(_ id: UInt32) {
        if _count == capacity { grow(_count + 1) }
        base[_count] = id
        _count &+= 1
    }

    /// Makes room for `n` more ids and returns the pointer to write them at; call `didAppend(n)` afterwards.
    @inlinable @inline(__always)
    public mutating func reserveTail(_ n: Int) -> UnsafeMutablePointer<UInt32> {
        if count + n > capacity { grow(count + n) }
        return base + count
    }

    /// Counts the `n` ids written at the pointer `reserveTail(n)` returned.
    @inlinable @inline(__always)
    public mutating func didAppend(_ n: Int) { _count &+= n }

    /// Appends `ids`.
    public mutating func append(contentsOf ids: UnsafeBufferPointer<UInt32>) {
        guard let src = ids.baseAddress, ids.count > 0 else { return }
        reserveTail(ids.count).update(from: src, count: ids.count)
        didAppend(ids.count)
    }

    /// Out of line: inlined at every append it made the encoder's hot loop several times larger.
    @usableFromInline @inline(never)
    mutating func grow(_ needed: Int) {
        var c = capacity * 2
        while c < needed { c *= 2 }
        let nb = UnsafeMutablePointer<UInt32>.allocate(capacity: c)
        nb.moveInitialize(from: base, count: count)
        if ownsStorage { base.deallocate() }
        ownsStorage = true
        base = nb
        capacity = c
    }

    /// Drops the ids from index `n` on (`0 <= n <= count`).
    @inlinable @inline(__always)
    public mutating func removeLast(from n: Int) {
        precondition(n >= 0 && n <= _count, "TokenBuffer.removeLast(from:) past the ids held")
        _count = n
    }

    /// Drops all ids, keeping the storage.
    public mutating func removeAll() { _count = 0 }

    /// The ids held, valid until the next mutation.
    public var ids: UnsafeBufferPointer<UInt32> { UnsafeBufferPointer(start: base, count: count) }

    /// A copy of the ids as an array.
    public var array: [UInt32] { Array(ids) }

    /// Ends the buffer and hands its storage over without copying: the ids are the buffer's first `count`
    /// elements, and the caller must deallocate `baseAddress`.
    public consuming func takeStorage() -> UnsafeMutableBufferPointer<UInt32> {
        precondition(ownsStorage, "takeStorage on a buffer that writes into borrowed memory")
        let storage = UnsafeMutableBufferPointer(start: base, count: _count)
        discard self
        return storage
    }
}
