// swift-tools-version:6.0
import PackageDescription

// `tokenctl`: cPanel's "Manage API Tokens" screens as a command-line tool over a FileTokenStore
// or a PostgreSQL database (TokenKitPostgres).
// Its own package, so that TokenKit itself stays dependency-free.
let package = Package(
    name: "tokenctl",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TokenKit", path: "../.."),
        .package(name: "TokenKitPostgres", path: "../../Integrations/TokenKitPostgres"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "tokenctl",
            dependencies: [
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "TokenKitPostgres", package: "TokenKitPostgres"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "tokenctlTests", dependencies: ["tokenctl"]),
    ],
    swiftLanguageModes: [.v6]
)
