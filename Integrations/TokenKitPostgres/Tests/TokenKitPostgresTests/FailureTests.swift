import Foundation
import Testing
import TokenKit

@testable import TokenKitPostgres

/// What instances do when PostgreSQL restarts or stops: each test runs a server of its own.
@Suite(
    .enabled(
        if: TestDatabase.clusterScript != nil,
        "set TOKENKIT_POSTGRES_CLUSTER (Scripts/postgres-cluster.sh run swift test)"
    ),
    .serialized,
    .timeLimit(.minutes(2))
)
struct FailureTests {
    @Test func afterARestartTheFeedRecoversAndLaterRevocationsStillPropagate() async throws {
        try await PrivateServer.with { server in
            try await TestDatabase.withStores(url: server.url) { stores in
                let a = TokenManager(store: stores[0])
                let b = TokenManager(store: stores[1])
                let issued = try await a.create(owner: "alice", name: "deploy", expiry: .never)
                #expect(try await b.validate(issued.secret).record != nil)

                try await server.stop()
                try await server.restart()
                // The feed reconnects on its own and proves its freshness again.
                try await TestDatabase.waitUntilServingFromMemory(stores[1], within: .seconds(30))
                try await TestDatabase.waitUntilServingFromMemory(stores[0], within: .seconds(30))
                try await TestDatabase.validateUntilCached(issued, manager: b, store: stores[1])

                _ = try await a.revoke(owner: "alice", name: "deploy")
                let revokedAt = ContinuousClock.now
                while try await b.validate(issued.secret).record != nil {
                    try #require(ContinuousClock.now - revokedAt < TestDatabase.configuration.maximumStaleness)
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
        }
    }

    @Test func whenTheServerStopsValidationsFailClosedOnceTheBoundHasPassed() async throws {
        try await PrivateServer.with { server in
            try await TestDatabase.withStores(url: server.url) { stores in
                let manager = TokenManager(store: stores[1])
                let issued = try await TokenManager(store: stores[0]).create(owner: "bob", name: "ci", expiry: .never)
                try await TestDatabase.validateUntilCached(issued, manager: manager, store: stores[1])

                try await server.stop()
                let stoppedAt = ContinuousClock.now
                try await Task.sleep(for: TestDatabase.configuration.maximumStaleness)
                #expect(!stores[1].isServingFromMemory)
                // The cached token is not accepted any more, and the database cannot answer: a
                // storage error, within the query timeout.
                let error = await #expect(throws: TokenKitError.self) {
                    _ = try await manager.validate(issued.secret)
                }
                #expect(error?.code == .storageFailure)
                #expect(
                    ContinuousClock.now - stoppedAt < TestDatabase.configuration.maximumStaleness
                        + TestDatabase.configuration.queryTimeout + .seconds(1)
                )

                // Back up: validations work again.
                try await server.restart()
                try await TestDatabase.waitUntilServingFromMemory(stores[1], within: .seconds(30))
                #expect(try await manager.validate(issued.secret).record != nil)
            }
        }
    }
}
