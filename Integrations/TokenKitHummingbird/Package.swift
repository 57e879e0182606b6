// swift-tools-version:6.0
import PackageDescription

// TokenKit for Hummingbird 2: a hummingbird-auth authenticator, a scope policy, an error
// middleware, a swift-service-lifecycle service for the manager's background work, and the route
// for GitHub's secret-scanning reports. Its own package, so that TokenKit itself keeps no
// dependencies; use it by path or publish it as its own repository.

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "TokenKitHummingbird",
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "TokenKitHummingbird", targets: ["TokenKitHummingbird"])
    ],
    dependencies: [
        .package(name: "TokenKit", path: "../.."),
        .package(path: "../TokenKitServerSupport"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // Tests only: they sign secret-scanning reports with keys of their own.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .target(
            name: "TokenKitHummingbird",
            dependencies: [
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "TokenKitServerSupport", package: "TokenKitServerSupport"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokenKitHummingbirdTests",
            dependencies: [
                .product(name: "TokenKitServerSupportTesting", package: "TokenKitServerSupport"),
                "TokenKitHummingbird",
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "TokenKitTesting", package: "TokenKit"),
                .product(name: "TokenKitServerSupport", package: "TokenKitServerSupport"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
