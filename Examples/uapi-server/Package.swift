// swift-tools-version:6.0
import PackageDescription

// A Swift server that speaks cPanel's UAPI Tokens API, with TokenKit behind it: Hummingbird through
// the TokenKitHummingbird adapter, and the UAPI module and command line shared with
// Examples/vapor-server through UAPISupport. Its own package, so that TokenKit itself stays
// dependency-free.

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "uapi-server",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TokenKit", path: "../.."),
        .package(path: "../../Integrations/TokenKitServerSupport"),
        .package(path: "../../Integrations/TokenKitHummingbird"),
        .package(path: "../UAPISupport"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "uapi-server",
            dependencies: [
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "TokenKitServerSupport", package: "TokenKitServerSupport"),
                .product(name: "TokenKitHummingbird", package: "TokenKitHummingbird"),
                .product(name: "UAPISupport", package: "UAPISupport"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        )
    ],
    swiftLanguageModes: [.v6]
)
