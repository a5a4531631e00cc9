// Checks tok's hand-written scanners for the standard patterns: on any bytes, their three interfaces (split,
// forEachBatch, a pieceEnd walk) agree; on valid text, they split exactly as ICU's regex engine does with the
// pattern they implement.
import TokCore
import TokICU
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

/// The code points ICU leaves unassigned but tok's class tables give a class: tok's tables follow a newer Unicode
/// than the system's ICU, and the two rightly split these differently, so they are left out of the comparison.
let unicodeVersionDifference: [Bool] = {
    // ICU suffixes its symbols with its major version; look the function up rather than link one version.
    guard let icu = dlopen("libicuuc.so", RTLD_NOW),
          let symbol = (50...99).lazy.compactMap({ dlsym(icu, "u_charType_\($0)") }).first
    else { fail("cannot find u_charType in libicuuc.so") }
    typealias CharType = @convention(c) (Int32) -> Int8
    let charType = unsafeBitCast(symbol, to: CharType.self)
    let unassigned: Int8 = 0   // U_UNASSIGNED
    var differs = [Bool](repeating: false, count: 0x110000)
    for cp in 0..<0x110000 where !(0xD800...0xDFFF).contains(cp) {
        differs[cp] = charType(Int32(cp)) == unassigned && UnicodeCharacterClass(codePoint: UInt32(cp)) != []
    }
    return differs
}()

struct ScannerPair { let pattern: StandardPattern; let scanner: StandardScanner; let icu: ICURegexPreTokenizer }

let pairs: [ScannerPair] = StandardPattern.allCases.map {
    ScannerPair(pattern: $0, scanner: $0.scanner, icu: try! ICURegexPreTokenizer(pattern: $0.patternString))
}

func split(_ preTokenizer: any PreTokenizer, _ bytes: [UInt8]) -> [Int] {
    var ends: [Int] = []
    bytes.withUnsafeBufferPointer { preTokenizer.split($0, into: &ends) }
    return ends
}

func checkInterfaces(_ bytes: [UInt8]) {
    for pair in pairs {
        let ends = split(pair.scanner, bytes)
        var batched: [Int] = []
        bytes.withUnsafeBufferPointer { p in pair.scanner.forEachBatch(p) { batched.append(contentsOf: $0) } }
        check(ends == batched, "\(pair.pattern): split != forEachBatch on \(hex(bytes))")
        var walked: [Int] = []
        bytes.withUnsafeBufferPointer { p in
            var start = 0
            while start < p.count {
                let end = pair.scanner.pieceEnd(in: p, from: start)
                check(end > start, "\(pair.pattern): pieceEnd makes no progress at \(start) on \(hex(bytes))")
                walked.append(end)
                start = end
            }
        }
        check(ends == walked, "\(pair.pattern): split != pieceEnd walk on \(hex(bytes))\n split: \(ends)\n walk:  \(walked)")
    }
}

func checkAgainstICU(_ bytes: [UInt8]) {
    var scalars = String.UnicodeScalarView()
    for u in String(decoding: bytes, as: UTF8.self).unicodeScalars where !unicodeVersionDifference[Int(u.value)] {
        scalars.append(u)
    }
    let text = Array(String(scalars).utf8)
    for pair in pairs {
        // ICU gives up on some inputs (its backtracking limits); there is nothing to compare then.
        guard let want = try? PreTokenizationFailure.catching({ split(pair.icu, text) }) else { continue }
        let got = split(pair.scanner, text)
        guard got != want else { continue }
        var k = 0
        while k < min(got.count, want.count) && got[k] == want[k] { k += 1 }
        let start = k == 0 ? 0 : got[k - 1]
        func pieces(_ ends: [Int]) -> String {
            var s = start
            return ends[k...].prefix(6).map { e in defer { s = e }; return "[\(hex(text[s..<e]))]" }.joined(separator: " ")
        }
        fail("\(pair.pattern): scanner != ICU at byte \(start)\n scanner: \(pieces(got))\n ICU:     \(pieces(want))\n input: \(hex(text))")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = expandInput(UnsafeBufferPointer(start: data, count: size), cap: 16384)
    if !bytes.isEmpty {
        checkInterfaces(bytes)
        checkAgainstICU(bytes)
    }
    return 0
}

@_cdecl("FuzzScanners_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = unicodeVersionDifference.count   // build before the first input, whose time counts against -timeout
    _ = pairs.count
    return runFuzzer(argc, argv, { fuzz($0, $1) })
}
