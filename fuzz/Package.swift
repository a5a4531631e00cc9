// swift-tools-version: 6.0
// libFuzzer targets for tok. A separate package so that the main package's build and tests never see them:
// build and run them with fuzz/run.sh, which passes the sanitizer flags they need.
import PackageDescription

let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]   // the harnesses keep global mutable state, as libFuzzer callbacks do

func fuzzTarget(_ name: String, _ libraries: [String]) -> Target {
    .executableTarget(name: name,
                      dependencies: ["FuzzSupport"] + libraries.map { .product(name: $0, package: "tok") },
                      swiftSettings: v5)
}

let targets = [
    fuzzTarget("FuzzEncode", ["TokCore", "TokIO"]),
    fuzzTarget("FuzzScanners", ["TokCore", "TokICU"]),
    fuzzTarget("FuzzDecode", ["TokCore", "TokIO"]),
    fuzzTarget("FuzzUTF8", ["TokCore"]),
    fuzzTarget("FuzzJSON", ["TokCore"]),
    fuzzTarget("FuzzTiktoken", ["TokCore"]),
    fuzzTarget("FuzzImage", ["TokCore"]),
    fuzzTarget("FuzzCorpus", ["TokCore", "TokIO", "TokTrain"]),
]

let package = Package(
    name: "tok-fuzz",
    platforms: [.macOS(.v15)],
    products: targets.map { .executable(name: $0.name, targets: [$0.name]) },
    dependencies: [.package(name: "tok", path: "..")],
    targets: targets + [
        .target(name: "FuzzSupport", dependencies: [.product(name: "TokCore", package: "tok")], swiftSettings: v5),
    ]
)
