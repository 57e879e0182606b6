// swift-tools-version:6.0
import PackageDescription

// TokenKit promises its users no package dependencies: only the Swift toolchain's own modules
// (Foundation, Synchronization, Testing) and C targets of its own. Examples and benchmarks that need other packages live in
// their own packages under Examples/ and Benchmarks/ and depend on this one by path.

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "TokenKit",
    // `Mutex` (Synchronization) needs these Apple platform versions.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "TokenKit", targets: ["TokenKit"]),
        .library(name: "TokenKitTesting", targets: ["TokenKitTesting"]),
    ],
    targets: [
        .target(
            name: "TokenKit",
            dependencies: ["CTokenKitSHA256", "CTokenKitCRC32", "CTokenKitFileStatus", "CTokenKitRandom"],
            swiftSettings: swiftSettings
        ),
        // SHA-256 in the processor's own instructions (x86-64 SHA extensions, arm64 SHA-2), chosen
        // at run time; TokenKit falls back to its portable Swift code without them.
        .target(name: "CTokenKitSHA256"),
        // CRC-32 in the processor's own instructions (x86-64 carry-less multiplication, arm64
        // CRC32), chosen at run time, for the checksums of the file store's pages and batches.
        .target(name: "CTokenKitCRC32"),
        // A file's identity and size without its times (statx on Linux): reading the times makes
        // the next commit's sync also commit the file system's journal.
        .target(name: "CTokenKitFileStatus"),
        // Random bytes from the system's CSPRNG, a whole token's worth in one system call.
        .target(name: "CTokenKitRandom"),
        .target(name: "TokenKitTesting", dependencies: ["TokenKit"], swiftSettings: swiftSettings),

        // Examples
        .executableTarget(
            name: "tokenkit-demo",
            dependencies: ["TokenKit"],
            path: "Examples/Demo",
            swiftSettings: swiftSettings
        ),

        // Run under valgrind by .ci/allocation-check to prove hashing allocates nothing per token.
        .executableTarget(
            name: "tokenkit-allocation-check",
            dependencies: ["TokenKit"],
            path: "Tests/AllocationCheck",
            swiftSettings: swiftSettings
        ),

        // A separate process for the file store's crash and multi-process tests.
        .executableTarget(
            name: "tokenkit-store-helper",
            dependencies: ["TokenKit"],
            path: "Tests/StoreHelper",
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "TokenKitTests",
            dependencies: ["TokenKit", "TokenKitTesting", "tokenkit-store-helper"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
