// swift-tools-version:6.0
import PackageDescription

// TokenKit's benchmarks, side by side with what a Swift team would pick instead: swift-crypto's
// SHA-256, SQLite, and a PostgreSQL store that queries on every validation. A separate package, so that TokenKit itself stays dependency-free.
let package = Package(
    name: "TokenKitBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TokenKit", path: ".."),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(name: "TokenKitPostgres", path: "../Integrations/TokenKitPostgres"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The system's SQLite (Debian: libsqlite3-dev).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // glibc's malloc.h, for malloc_trim.
        .systemLibrary(name: "CMalloc"),
        .executableTarget(
            name: "tokenkit-bench",
            dependencies: [
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "TokenKitPostgres", package: "TokenKitPostgres"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                "CSQLite",
                "CMalloc",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
