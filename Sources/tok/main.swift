import TokCore
import TokICU
import TokIO
print("tok: icu \(icuVersion) zstd \(zstdVersion)")
