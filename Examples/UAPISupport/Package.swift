// swift-tools-version:6.0
import PackageDescription

// What the two cPanel-compatible example servers share, free of any web framework: the UAPI
// `Tokens` module (cPanel's functions, result object and messages) and the servers' command line,
// with a file store or PostgreSQL (TokenKitPostgres).
// Examples/uapi-server puts it on Hummingbird, Examples/vapor-server on Vapor.

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "UAPISupport",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "UAPISupport", targets: ["UAPISupport"])
    ],
    dependencies: [
        .package(name: "TokenKit", path: "../.."),
        .package(name: "TokenKitServerSupport", path: "../../Integrations/TokenKitServerSupport"),
        .package(name: "TokenKitPostgres", path: "../../Integrations/TokenKitPostgres"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "UAPISupport",
            dependencies: [
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "TokenKitServerSupport", package: "TokenKitServerSupport"),
                .product(name: "TokenKitPostgres", package: "TokenKitPostgres"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UAPISupportTests",
            dependencies: [
                "UAPISupport",
                .product(name: "TokenKitTesting", package: "TokenKit"),
                .product(name: "TokenKitPostgres", package: "TokenKitPostgres"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
