// swift-tools-version:6.0
import PackageDescription

// A Swift server that speaks cPanel's UAPI Tokens API on Vapor, with TokenKit behind it through
// TokenKitVapor: the same API and command line as Examples/uapi-server (Hummingbird). Its own
// package, so that TokenKit itself stays dependency-free.

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "vapor-server",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TokenKit", path: "../.."),
        .package(name: "TokenKitServerSupport", path: "../../Integrations/TokenKitServerSupport"),
        .package(name: "TokenKitVapor", path: "../../Integrations/TokenKitVapor"),
        .package(name: "UAPISupport", path: "../UAPISupport"),
        .package(url: "https://github.com/vapor/vapor", from: "4.122.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // UnixSignals: SIGHUP reloads GitHub's secret-scanning keys.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "vapor-server",
            dependencies: [
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "TokenKitServerSupport", package: "TokenKitServerSupport"),
                .product(name: "TokenKitVapor", package: "TokenKitVapor"),
                .product(name: "UAPISupport", package: "UAPISupport"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        )
    ],
    swiftLanguageModes: [.v6]
)
