// swift-tools-version:6.0
import PackageDescription

// PostgresTokenStore: TokenKit's tokens in PostgreSQL, shared by every server instance, validated
// from memory and kept fresh with LISTEN/NOTIFY. Its own package (postgres-nio), so that TokenKit
// itself keeps no dependencies.

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "TokenKitPostgres",
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "TokenKitPostgres", targets: ["TokenKitPostgres"])
    ],
    dependencies: [
        .package(name: "TokenKit", path: "../.."),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "TokenKitPostgres",
            dependencies: [
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokenKitPostgresTests",
            dependencies: [
                "TokenKitPostgres",
                .product(name: "TokenKitTesting", package: "TokenKit"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
