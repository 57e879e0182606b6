// swift-tools-version:6.0
import PackageDescription

// TokenKit's benchmarks, side by side with what a Swift team would pick instead: swift-crypto's
// SHA-256 and SQLite. A separate package, so that TokenKit itself stays dependency-free.
let package = Package(
    name: "TokenKitBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TokenKit", path: ".."),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // The system's SQLite (Debian: libsqlite3-dev).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .executableTarget(
            name: "tokenkit-bench",
            dependencies: [
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "Crypto", package: "swift-crypto"),
                "CSQLite",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
