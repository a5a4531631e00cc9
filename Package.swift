// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "tok",
    platforms: [.macOS(.v15)],   // Synchronization.Mutex
    products: [
        .library(name: "TokCore", targets: ["TokCore"]),
        .library(name: "TokICU", targets: ["TokICU"]),
        .library(name: "TokIO", targets: ["TokIO"]),
        .library(name: "TokTrain", targets: ["TokTrain"]),
        .library(name: "TokMetrics", targets: ["TokMetrics"]),
        .executable(name: "tok", targets: ["tok"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries. ICU renames its symbols per version with macros Swift cannot import,
        // so CICU's header wraps each entry point we use in a static inline function.
        .systemLibrary(name: "CICU", path: "Sources/CICU", pkgConfig: "icu-i18n",
                       providers: [.apt(["libicu-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),

        // 64-byte class bitmasks with SIMD intrinsics (a header of static inline functions, no library).
        .target(name: "CByteClasses"),
        // glibc's mallopt, for the CLI's memory bound (malloc.h is not in Swift's Glibc module).
        .target(name: "CMalloc"),
        // Vocabularies, scanners, encoders, decoders, file formats: Swift, plus CByteClasses. No system libraries.
        .target(name: "TokCore", dependencies: ["CByteClasses"]),
        // ICU regex, word break and normalization. Must never import Foundation (ICU type clash).
        // Every file imports CICU with `@_implementationOnly import CICU` (an `internal import` is not enough in
        // debug builds), so no client (the CLI, XCTest, which pull in Foundation's own ICU) ever loads the CICU
        // module: the two ICUs' C types clash inside one Swift module. Only ICU handles (OpaquePointer) may be
        // stored in TokICU's types.
        .target(name: "TokICU", dependencies: ["TokCore", "CICU"]),
        // Input sources (files, stdin, zstd), atomic output files.
        .target(name: "TokIO", dependencies: ["TokCore", "CZstd"]),

        // Corpus reading, pre-token counting and vocabulary training, with their file formats.
        .target(name: "TokTrain", dependencies: ["TokCore", "TokICU", "TokIO"]),
        // Tokenizer metrics (compression, fertility, parity, purity, morphology, information) and their reports.
        .target(name: "TokMetrics", dependencies: ["CByteClasses", "TokCore", "TokICU", "TokIO", "TokTrain"]),

        .executableTarget(name: "tok", dependencies: [
            "CMalloc", "TokCore", "TokICU", "TokIO", "TokTrain", "TokMetrics",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Helpers shared by the test targets (a seeded generator, a pre-tokenizer that can fail).
        .target(name: "TokTestSupport", dependencies: ["TokCore"], path: "Tests/TokTestSupport"),
        .testTarget(name: "TokCoreTests", dependencies: ["TokCore", "TokTestSupport"]),
        .testTarget(name: "TokICUTests", dependencies: ["TokICU", "TokCore", "TokTestSupport"]),
        .testTarget(name: "TokIOTests", dependencies: ["TokIO", "TokCore", "TokICU", "TokTestSupport"]),
        .testTarget(name: "TokTrainTests", dependencies: ["TokTrain", "TokCore", "TokIO", "TokTestSupport"]),
        .testTarget(name: "TokMetricsTests", dependencies: ["TokMetrics", "TokCore", "TokICU", "TokTrain", "TokTestSupport"]),
    ]
)
