// swift-tools-version:6.0
import PackageDescription

// TokenKit for Vapor 4: authenticators, a scope guard, errors as `AbortError`, `app.tokens`
// configuration with a lifecycle handler, and the route for GitHub's secret-scanning reports. Its
// own package, so that TokenKit itself keeps no dependencies: use it by path, or publish this folder
// as its own repository.

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "TokenKitVapor",
    // `Mutex` (Synchronization) needs these Apple platform versions, as TokenKit does.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "TokenKitVapor", targets: ["TokenKitVapor"])
    ],
    dependencies: [
        .package(name: "TokenKit", path: "../.."),
        .package(path: "../TokenKitServerSupport"),
        .package(url: "https://github.com/vapor/vapor", from: "4.122.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Tests only: they sign secret-scanning reports with keys of their own, and send a chunked
        // body over a real connection.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .target(
            name: "TokenKitVapor",
            dependencies: [
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "TokenKitServerSupport", package: "TokenKitServerSupport"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokenKitVaporTests",
            dependencies: [
                .product(name: "TokenKitServerSupportTesting", package: "TokenKitServerSupport"),
                "TokenKitVapor",
                .product(name: "TokenKitTesting", package: "TokenKit"),
                .product(name: "TokenKitServerSupport", package: "TokenKitServerSupport"),
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
