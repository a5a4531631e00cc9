@_implementationOnly import CICU
import TokCore

/// The version of the system ICU library, e.g. "72.1".
public var icuVersion: String {
    var v: UVersionInfo = (0, 0, 0, 0)
    cicu_getVersion(&v)
    return "\(v.0).\(v.1)"
}
