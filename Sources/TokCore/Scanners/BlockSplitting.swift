// Pre-tokenization 64 bytes at a time.
//
// On ASCII text the piece boundaries of the standard patterns follow from the classes of a few neighbouring bytes,
// so a scanner can find every piece start of a 64-byte window with shifts and ands of class masks
// (`ASCIIBlockClasses`) instead of walking the pieces one by one. Whatever a window cannot decide (non-ASCII
// bytes, white space that may go on past the window, long digit runs) is "hard": starts before the first hard
// byte are kept, and the scalar scanner takes over from the last of them until it is past the hard byte.
// BlockScannerTests checks every block splitter against its scalar scanner, and ScannerVsICUTests against ICU.

/// A scanner with a 64-byte window function alongside its scalar `pieceEnd`.
protocol BlockPieceScanner: PieceScanner {
    /// The piece starts in the window `i ..< i + 64` (a piece starts at `i`, and `i + 64 <= s.n`) that are
    /// certain, as a mask without bit 0, and the offset in the window of the first hard byte (64 if none). Every
    /// start below the hard byte is in the mask.
    func windowStarts(_ s: ScanText, _ i: Int) -> (committed: UInt64, hard: Int)
}

extension BlockPieceScanner {
    /// Appends all piece ends of `text` to `ends`; see `forEachBlockBatch`.
    @inline(__always)
    func splitBlocks(_ text: UnsafeBufferPointer<UInt8>, into ends: inout [Int]) {
        forEachBlockBatch(text) { ends.append(contentsOf: $0) }
    }

    /// Calls `body` with the piece ends of `text` in batches of at least 512 (but the last), using 64-byte
    /// windows where the text allows and `pieceEnd` elsewhere.
    @inline(__always)
    func forEachBlockBatch(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<Int>) -> Void) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        let s = ScanText(base, text.count)
        let batch = 512
        // Room for a batch, a window's starts past it, and the eight-at-a-time writes past those.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: batch + 64 + 8) { buf in
            let out = buf.baseAddress!
            var k = 0
            var i = 0
            // How far to go scalar when a window starts with non-ASCII text: doubled while that keeps happening
            // (text in other scripts), back to the minimum after a window that worked.
            var stretch = 16
            while i < s.n {
                // Scalar pieces up to and past `stop`.
                var stop = i
                if i &+ 64 <= s.n && s.p[i] < 0x80 {
                    let (committed, hard) = windowStarts(s, i)
                    if committed != 0 {
                        // Eight starts at a time, written whether or not there are that many (the ones past the
                        // count are overwritten later), so that the loop's exit is not a branch on every start:
                        // text puts an unpredictable number of pieces in a window (about 13 in English prose).
                        var c = committed
                        let count = c.nonzeroBitCount
                        var w = out + k
                        while true {
                            for j in 0..<8 {
                                w[j] = i &+ c.trailingZeroBitCount
                                c &= c &- 1
                            }
                            if c == 0 { break }
                            w += 8
                        }
                        k &+= count
                        i &+= 63 &- committed.leadingZeroBitCount
                        stretch = 16
                        if k >= batch {
                            body(UnsafeBufferPointer(start: out, count: k))
                            k = 0
                        }
                        continue
                    }
                    // A hard byte early in the window: go scalar until past it.
                    stop &+= hard
                    if hard < 4 {
                        stop &+= stretch
                        stretch = min(stretch &* 2, 1024)
                    }
                } else {
                    stop &+= stretch
                }
                repeat {
                    i = pieceEnd(s, i)
                    out[k] = i
                    k &+= 1
                } while i <= stop && i < s.n && k < batch
                if k >= batch {
                    body(UnsafeBufferPointer(start: out, count: k))
                    k = 0
                }
            }
            if k > 0 { body(UnsafeBufferPointer(start: out, count: k)) }
        }
    }
}

// Window rules the cl100k family and o200k share.

/// Piece starts of digit runs in a window (`\p{N}{1,3}`: a piece every three digits from the start of each run,
/// up to the seventh digit), and the tenth digit of a run, which is hard.
@inline(__always)
func windowDigitStarts(_ D: UInt64) -> (starts: UInt64, tenth: UInt64) {
    let pD = D << 1
    let runD = D & ~pD
    let threeD = D & pD & (pD << 1)
    let fourthD = (runD << 3) & threeD
    let seventhD = (fourthD << 3) & threeD
    return (runD | fourthD | seventhD, (seventhD << 3) & threeD)
}

/// Piece starts inside white-space runs: after a run's last CR/LF (`\s*[\r\n]`), and at a run's last character if
/// white space comes before it (`\s+(?!\S)` leaves the last one to what follows).
@inline(__always)
func windowWhitespaceStarts(_ W: UInt64, _ N: UInt64) -> UInt64 {
    // Positions of a run with a CR/LF at or after them in the same run, by doubling steps.
    var toNL = N, w = W
    toNL |= (toNL >> 1) & w; w &= w >> 1
    toNL |= (toNL >> 2) & w; w &= w >> 2
    toNL |= (toNL >> 4) & w; w &= w >> 4
    toNL |= (toNL >> 8) & w; w &= w >> 8
    toNL |= (toNL >> 16) & w; w &= w >> 16
    toNL |= (toNL >> 32) & w
    let afterLastNL = W & ~toNL & (toNL << 1)
    let lastW = W & ~N & ~(W >> 1) & (W << 1)
    return afterLastNL | lastW
}

/// The first hard offset of a window: the first non-ASCII byte or tenth digit of a run, moved back to the start
/// of a white-space run right before it or before the window's end (the run may go on: non-ASCII white space,
/// more CR/LFs).
@inline(__always)
func windowHardOffset(nonASCII: UInt64, tenthDigit: UInt64, whitespace W: UInt64) -> Int {
    var hard = (nonASCII | tenthDigit).trailingZeroBitCount
    if hard > 0 && (W >> UInt64(hard &- 1)) & 1 != 0 {
        let nonWhiteBelow = ~W & windowBitsBelow(hard)
        hard = 64 &- nonWhiteBelow.leadingZeroBitCount
    }
    return hard
}

/// The mask of window offsets below `k` (`0 <= k`): every offset when `k` is 64 or more.
@inline(__always)
func windowBitsBelow(_ k: Int) -> UInt64 { k >= 64 ? ~0 : (1 << UInt64(k)) &- 1 }
