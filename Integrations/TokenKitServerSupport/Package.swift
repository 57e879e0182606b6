// swift-tools-version:6.0
import PackageDescription

// The glue both framework adapters share, written once: the request authentication flow, client
// addresses behind trusted proxies, failed-authentication throttling, swift-log audit logging,
// swift-metrics counters, and GitHub's secret-scanning endpoint (signatures with swift-crypto). Its own package, so that TokenKit itself keeps no dependencies.

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "TokenKitServerSupport",
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "TokenKitServerSupport", targets: ["TokenKitServerSupport"]),
        // For adapters' tests: GitHub's published secret-scanning sample and a signing test key.
        .library(name: "TokenKitServerSupportTesting", targets: ["TokenKitServerSupportTesting"]),
    ],
    dependencies: [
        .package(name: "TokenKit", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .target(
            name: "TokenKitServerSupport",
            dependencies: [
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TokenKitServerSupportTesting",
            dependencies: [
                "TokenKitServerSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokenKitServerSupportTests",
            dependencies: [
                "TokenKitServerSupport",
                "TokenKitServerSupportTesting",
                .product(name: "TokenKitTesting", package: "TokenKit"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
