// swift-tools-version:6.0
import PackageDescription

// A Swift server that speaks cPanel's UAPI Tokens API, with TokenKit behind it. Its own package, so
// that TokenKit itself stays dependency-free.
let package = Package(
    name: "uapi-server",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TokenKit", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "uapi-server",
            dependencies: [
                .product(name: "TokenKit", package: "TokenKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
