import Testing
import TokenKit
import TokenKitPostgres
import TokenKitTesting

/// The whole TokenStore contract, with two instances (two pools, two change feeds) on one schema
/// as the two handles.
@Suite(
    .enabled(if: TestDatabase.isConfigured, "set TOKENKIT_POSTGRES_URL (Scripts/postgres-cluster.sh run swift test)")
)
struct ConformanceTests {
    @Test(arguments: TokenStoreConformance.Check.allCases)
    func conformance(_ check: TokenStoreConformance.Check) async throws {
        try await TestDatabase.withStores { stores in
            try await TokenStoreConformance(
                makeStore: { stores[0] },
                openSecondHandle: { _ in stores[1] },
                validationStaleness: TestDatabase.configuration.maximumStaleness
            ).run(check)
        }
    }

    /// Without a cache every validation asks the database: the store still keeps the contract,
    /// and then without any staleness.
    @Test(arguments: [TokenStoreConformance.Check.twoHandles, .revokeByName, .rotationLineage, .recordUse])
    func conformanceWithoutCache(_ check: TokenStoreConformance.Check) async throws {
        var configuration = TestDatabase.configuration
        configuration.cacheCapacity = 0
        try await TestDatabase.withStores(configuration: configuration) { stores in
            try await TokenStoreConformance(makeStore: { stores[0] }, openSecondHandle: { _ in stores[1] }).run(check)
        }
    }
}
