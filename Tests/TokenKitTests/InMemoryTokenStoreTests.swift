import Testing
import TokenKit
import TokenKitTesting

struct InMemoryTokenStoreTests {
    @Test(arguments: TokenStoreConformance.Check.allCases)
    func conformance(_ check: TokenStoreConformance.Check) async throws {
        try await TokenStoreConformance(makeStore: { InMemoryTokenStore() }, openSecondHandle: { $0 }).run(check)
    }
}

/// The conformance suite proves something only if a store that breaks the contract fails it: each
/// defect of `ReferenceStore` must fail the checks named here, and a store with no defect passes
/// them all (so the failures come from the defects, not from the reference store).
struct ConformanceSuiteTests {
    static func suite(_ defects: Set<ReferenceStore.Defect>) -> TokenStoreConformance {
        TokenStoreConformance(
            makeStore: { ReferenceStore(defects: defects) },
            openSecondHandle: { ($0 as! ReferenceStore).secondHandle() }
        )
    }

    @Test(arguments: TokenStoreConformance.Check.allCases)
    func referenceStorePasses(_ check: TokenStoreConformance.Check) async throws {
        try await Self.suite([]).run(check)
    }

    @Test(
        arguments: [
            (ReferenceStore.Defect.ignoresNames, TokenStoreConformance.Check.nameUniquenessOnInsert),
            (.ignoresNames, .concurrentInsertsOfOneName),
            (.ignoresNames, .rename),
            (.roundsDatesToSeconds, .subSecondDatesRoundTrip),
            (.roundsDatesToSeconds, .everyFieldRoundTrips),
            (.ignoresLineage, .rotationLineage),
            (.ignoresLineage, .revokeByID),
            (.skipsInputChecks, .inputLimits),
            (.acceptsAnyHasher, .hasherIdentity),
            (.acceptsForeignLineage, .identityIsKept),
            (.rotationDropsScopes, .rotation),
            (.isolatedHandles, .twoHandles),
            (.isolatedHandles, .hasherIdentity),
            (.staleImmediateLookups, .rename),
            (.staleImmediateLookups, .twoHandles),
            (.immediateFromUnrefreshedCache, .insertAndLookUp),
            (.immediateFromUnrefreshedCache, .twoHandles),
        ]
    )
    func brokenStoreFails(_ defect: ReferenceStore.Defect, _ check: TokenStoreConformance.Check) async throws {
        await #expect(throws: TokenStoreConformance.Failure.self) { try await Self.suite([defect]).run(check) }
    }

    @Test func everyDefectFailsTheWholeSuite() async {
        for defect in ReferenceStore.Defect.allCases {
            await #expect(throws: TokenStoreConformance.Failure.self, "defect \(defect)") {
                try await Self.suite([defect]).runAll()
            }
        }
    }
}
