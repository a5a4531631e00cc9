import CZstd
import TokCore

/// The version of the zstd library tok was linked with, e.g. "1.5.4".
public var zstdVersion: String {
    let n = Int(ZSTD_versionNumber())
    return "\(n / 10000).\(n / 100 % 100).\(n % 100)"
}
