// swift-tools-version:6.0
import PackageDescription

// TokenKit's benchmarks: a separate package so that the library itself stays dependency-free.
let package = Package(
    name: "TokenKitBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TokenKit", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "tokenkit-bench",
            dependencies: [.product(name: "TokenKit", package: "TokenKit")]
        )
    ],
    swiftLanguageModes: [.v6]
)
