import Testing
import TokenKit
import TokenKitTesting

struct InMemoryTokenStoreTests {
    @Test(arguments: TokenStoreConformance.Check.allCases)
    func conformance(_ check: TokenStoreConformance.Check) async throws {
        try await TokenStoreConformance { InMemoryTokenStore() }.run(check)
    }

    /// A store that breaks the contract must fail the suite, or the suite proves nothing.
    @Test func suiteCatchesABrokenStore() async throws {
        let suite = TokenStoreConformance { NameBlindStore() }
        await #expect(throws: TokenStoreConformance.Failure.self) { try await suite.run(.nameUniquenessOnInsert) }
        await #expect(throws: TokenStoreConformance.Failure.self) { try await suite.run(.concurrentInsertsOfOneName) }
        await #expect(throws: TokenStoreConformance.Failure.self) { try await suite.runAll() }
    }
}
