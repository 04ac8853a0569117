// swift-tools-version: 6.0
import PackageDescription

/// lfosa — open-set image annotation with active learning (LfOSA, CVPR 2022).
///
/// Module map (what each may import) is in README.md, section "Architecture".
let package = Package(
    name: "lfosa",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lfosa", targets: ["lfosa"]),
        .library(name: "LfosaNumerics", targets: ["LfosaNumerics"]),
        .library(name: "LfosaEngine", targets: ["LfosaEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C libraries: one module map + shim header each; nothing else imports C.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CNcursesw", pkgConfig: "ncursesw", providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Hand-written C kernels where OpenBLAS has none (bfloat16 GEMM on Intel AMX tiles).
        .target(name: "LfosaKernels"),
        // Pure numeric core: tensors, layers, losses, optimisers, serialisation.
        .target(name: "LfosaNumerics", dependencies: ["CBLAS", "LfosaKernels"],
                swiftSettings: [.swiftLanguageMode(.v5),
                                .unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        // Open-set engine: detector, classifier, GMM, strategies, loop, metrics. Pure.
        .target(name: "LfosaEngine", dependencies: ["LfosaNumerics"]),
        // Image decoding/encoding and dataset sources.
        .target(name: "LfosaData", dependencies: ["CPNG", "CTurboJPEG", "CZlib"]),
        // SQLite label store.
        .target(name: "LfosaStore", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // Terminal front end: cell grid screens + ncurses backend.
        .target(name: "LfosaTerminal", dependencies: ["CNcursesw"]),
        // Command-line commands (a library so tests can drive the whole tool).
        .target(name: "LfosaCLI", dependencies: [
            "LfosaNumerics", "LfosaEngine", "LfosaData", "LfosaStore", "LfosaTerminal",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "lfosa", dependencies: ["LfosaCLI"]),

        .testTarget(name: "LfosaNumericsTests", dependencies: ["LfosaNumerics"]),
        .testTarget(name: "LfosaEngineTests", dependencies: ["LfosaEngine"]),
        .testTarget(name: "LfosaDataTests", dependencies: ["LfosaData"]),
        .testTarget(name: "LfosaStoreTests", dependencies: ["LfosaStore"]),
        .testTarget(name: "LfosaTerminalTests", dependencies: ["LfosaTerminal"]),
        .testTarget(name: "LfosaCLITests", dependencies: ["LfosaCLI"]),
    ]
)
