// Compares tok's BPE encoder, in every state it can be in, with ReferenceBPE on cl100k_base, o200k_base and
// llama3, and checks that decoding gives the input back.
@testable import TokCore   // for the encoder's chunk-retry limit, an internal tuning knob
import TokIO
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

/// One vocabulary's encoders. Each holds different cached state, and all must give the reference's ids.
struct Encoders {
    let name: String
    let reference: ReferenceBPE
    let warm: Tokenizer                   // has seen a multilingual corpus sample, so its learned decisions are made
    let persistent: TokenEncoder          // one encoder reused for every input, its caches growing
    let retry0: TokenEncoder              // chunk retry limits 0 and 1: junction failures fall back to whole-piece merging
    let retry1: TokenEncoder
    let cleared: Tokenizer                // its own model; its caches are cleared every 300 inputs
    var fresh: Tokenizer                  // rebuilt every 100 inputs, so it starts with nothing learned
}

func copy(_ t: Tokenizer) -> Tokenizer {
    Tokenizer(name: t.name, ranks: t.ranks, pattern: t.pattern, preTokenizer: t.preTokenizer, specialTokens: t.specialTokens)
}

func encode(_ encoder: TokenEncoder, _ bytes: [UInt8]) -> [UInt32] {
    var out = TokenBuffer(capacity: 16)
    bytes.withUnsafeBufferPointer { encoder.encodeOrdinary($0, into: &out) }
    return out.array
}

/// The first 300 KB of the multilingual corpus.
func corpusSample() -> [UInt8] {
    let path = repositoryPath() + "/corpora/multilingual.txt.zst"
    do {
        let source = try InputSource(path: path)
        defer { source.close() }
        var out = [UInt8](repeating: 0, count: 300_000)
        var filled = 0
        while filled < out.count {
            let n = try out.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if n == 0 { break }
            filled += n
        }
        return Array(out.prefix(filled))
    } catch {
        fail("cannot read \(path): \(error)")
    }
}

nonisolated(unsafe) var vocabularies: [Encoders] = {
    // Loading builds rank images; keep them out of the user's cache unless told otherwise.
    setenv("TOK_CACHE_DIR", repositoryPath() + "/fuzz/.build/tok-cache", 0)
    let sample = corpusSample()
    return ["cl100k_base", "o200k_base", "llama3"].map { name in
        let path = repositoryPath() + "/vocabularies/\(name).tiktoken"
        let warm: Tokenizer
        do { warm = try Tokenizer.load(contentsOf: path, name: name) } catch { fail("cannot load \(path): \(error)") }
        _ = try! warm.encode(bytes: sample)
        let persistent = warm.makeEncoder()
        _ = encode(persistent, sample)
        let cleared = copy(warm)
        _ = try! cleared.encode(bytes: sample)
        let retry0 = warm.makeEncoder(), retry1 = warm.makeEncoder()
        retry0.bpe.chunkRetryLimit = 0
        retry1.bpe.chunkRetryLimit = 1
        return Encoders(name: name, reference: ReferenceBPE(path: path), warm: warm, persistent: persistent,
                        retry0: retry0, retry1: retry1, cleared: cleared, fresh: copy(warm))
    }
}()

nonisolated(unsafe) var iteration = 0

func checkEncoders(_ bytes: [UInt8]) {
    iteration += 1
    let text = String(validating: bytes, as: UTF8.self)
    for k in vocabularies.indices {
        let v = vocabularies[k]
        // The reference uses tok's pre-tokenizer: the scanners have their own target, FuzzScanners.
        var ends: [Int] = []
        bytes.withUnsafeBufferPointer { v.warm.preTokenizer.split($0, into: &ends) }
        var want: [UInt32] = []
        var start = 0
        for end in ends {
            want += v.reference.encode(Array(bytes[start..<end])).map { UInt32($0) }
            start = end
        }
        func compare(_ label: String, _ got: [UInt32]) {
            guard got != want else { return }
            var i = 0
            while i < min(got.count, want.count) && got[i] == want[i] { i += 1 }
            fail("\(v.name) \(label): ids differ from the reference at token \(i) (\(got.count) ids, reference \(want.count))\n"
                 + " got:       \(got[max(0, i - 3)..<min(got.count, i + 8)])\n"
                 + " reference: \(want[max(0, i - 3)..<min(want.count, i + 8)])\n input: \(hex(bytes.prefix(400)))")
        }
        let ids = try! v.warm.encode(bytes: bytes)
        compare("warm", ids)
        compare("persistent encoder", encode(v.persistent, bytes))
        compare("retry limit 0", encode(v.retry0, bytes))
        compare("retry limit 1", encode(v.retry1, bytes))
        if iteration % 300 == 0 { v.cleared.clearCaches() }
        compare("cleared", try! v.cleared.encode(bytes: bytes))
        if iteration % 100 == 0 { vocabularies[k].fresh = copy(v.warm) }
        compare("fresh", try! vocabularies[k].fresh.encode(bytes: bytes))
        // A new encoder on the warm model: empty caches, learned decisions kept. Every tenth input, for speed.
        if iteration % 10 == 0 { compare("new encoder", encode(v.warm.makeEncoder(), bytes)) }
        check((try? v.warm.decode(ids)) == bytes, "\(v.name): decode(encode(x)) != x for \(hex(bytes))")
        if let text {
            check(v.warm.count(text) == want.count, "\(v.name): count differs from the reference for \(hex(bytes))")
            check(try! v.warm.encode(text) == want, "\(v.name): encode(String) differs from the reference for \(hex(bytes))")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = expandInput(UnsafeBufferPointer(start: data, count: size), cap: 8192)
    if !bytes.isEmpty { checkEncoders(bytes) }
    return 0
}

@_cdecl("FuzzEncode_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = vocabularies.count   // load before the first input, whose time counts against -timeout
    return runFuzzer(argc, argv, { fuzz($0, $1) })
}
