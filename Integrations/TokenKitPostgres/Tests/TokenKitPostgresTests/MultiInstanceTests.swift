import Foundation
import PostgresNIO
import Testing
import TokenKit

@testable import TokenKitPostgres

/// Several instances on one database behave as one system.
@Suite(
    .enabled(if: TestDatabase.isConfigured, "set TOKENKIT_POSTGRES_URL (Scripts/postgres-cluster.sh run swift test)")
)
struct MultiInstanceTests {
    @Test func concurrentCreatesOfOneNameThroughTwoStoresHaveExactlyOneWinner() async throws {
        try await TestDatabase.withStores { stores in
            let managers = stores.map { TokenManager(store: $0) }
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for attempt in 0..<40 {
                    let manager = managers[attempt % 2]
                    group.addTask {
                        do {
                            _ = try await manager.create(owner: "alice", name: "race", expiry: .never)
                            return true
                        } catch let error as TokenKitError where error.code == .duplicateName {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.count(where: { $0 }) == 1)
            #expect(try await managers[1].list(owner: "alice").count == 1)
        }
    }

    @Test func aRevokeThroughOneInstanceIsRefusedByTheOtherWithinTheBound() async throws {
        try await TestDatabase.withStores { stores in
            let a = TokenManager(store: stores[0])
            let b = TokenManager(store: stores[1])
            var delays: [Duration] = []
            for round in 0..<10 {
                let issued = try await a.create(owner: "alice", name: "t\(round)", expiry: .never)
                // Validated through B, so that B holds it in memory.
                try await TestDatabase.validateUntilCached(issued, manager: b, store: stores[1])
                _ = try await a.revoke(owner: "alice", name: "t\(round)")
                let revokedAt = ContinuousClock.now
                while try await b.validate(issued.secret).record != nil {
                    #expect(ContinuousClock.now - revokedAt < TestDatabase.configuration.maximumStaleness)
                    try await Task.sleep(for: .microseconds(200))
                }
                delays.append(ContinuousClock.now - revokedAt)
            }
            let worst = delays.max()!
            print(
                "revocation reached the other instance after at most \(worst) (bound \(TestDatabase.configuration.maximumStaleness))"
            )
            #expect(worst < TestDatabase.configuration.maximumStaleness)
        }
    }

    @Test func aTokenMadeThroughOneInstanceWorksAtOnceOnTheOther() async throws {
        try await TestDatabase.withStores { stores in
            let issued = try await TokenManager(store: stores[0]).create(owner: "bob", name: "new", expiry: .never)
            #expect(try await TokenManager(store: stores[1]).validate(issued.secret).record?.id == issued.record.id)
        }
    }

    @Test func anAbsenceKeptInMemoryIsForgottenWhenTheTokenIsCreatedElsewhere() async throws {
        try await TestDatabase.withStores { stores in
            let record = TokenRecord(
                id: TokenID.random(),
                owner: "frank",
                name: "late",
                createdAt: Date(timeIntervalSince1970: 1_800_000_000),
                expiresAt: nil,
                digest: TokenDigest(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })!
            )
            // B looks the digest up before the token exists, and keeps the absence. A look-up
            // while the feed is briefly stale (a loaded machine) keeps nothing, so B looks again.
            let deadline = ContinuousClock.now + .seconds(10)
            while true {
                #expect(try await stores[1].record(forDigest: record.digest) == nil)
                if case .hit(nil) = stores[1].cache.lookup(record.digest, now: .now) { break }
                try #require(ContinuousClock.now < deadline, "the absence was not kept within 10 seconds")
                try await Task.sleep(for: .milliseconds(2))
            }
            try await stores[0].insert(record, maximumLiveTokensPerOwner: nil)
            let inserted = ContinuousClock.now
            while try await stores[1].record(forDigest: record.digest) == nil {
                try #require(ContinuousClock.now - inserted < TestDatabase.configuration.maximumStaleness)
                try await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    @Test func migrationsByInstancesStartingAtOnceApplyOnce() async throws {
        try await TestDatabase.withStores(count: 4, waitForFreshness: false) { stores in
            // withStores migrated through the first store; the schema is reset here so that all
            // four race from nothing.
            let schema = stores[0].schema
            try await stores[0].session.withConnection("test") { connection in
                for table in [schema.tokens, schema.metadata, schema.migrations] {
                    try await stores[0].session.execute("DROP TABLE \(unescaped: table)", on: connection)
                }
            }
            let versions = try await withThrowingTaskGroup(of: Int.self) { group in
                for store in stores { group.addTask { try await store.migrate() } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(versions == Array(repeating: schema.latestVersion, count: 4).map(Int.init))
            let applied = try await stores[1].session.withConnection("test") { connection in
                try await connection.query(
                    "SELECT count(*) FROM \(unescaped: schema.migrations)",
                    logger: TestDatabase.logger
                )
                .decode(Int64.self).reduce(0, +)
            }
            #expect(applied == Int64(schema.migrationList.count))
            // And the tables work.
            let issued = try await TokenManager(store: stores[2]).create(owner: "carol", name: "x", expiry: .never)
            #expect(try await TokenManager(store: stores[3]).validate(issued.secret).record != nil)
        }
    }

    @Test func aConnectionLostMidTransactionWritesNothing() async throws {
        var configuration = TestDatabase.configuration
        // Between the rotation's two writes, the server ends this connection's session.
        configuration.afterFirstWriteOfRotation = { connection in
            try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())", logger: TestDatabase.logger)
        }
        try await TestDatabase.withStores(count: 1, configuration: configuration) { stores in
            let manager = TokenManager(store: stores[0])
            let issued = try await manager.create(owner: "dave", name: "deploy", expiry: .never)
            await #expect(throws: TokenKitError.self) {
                _ = try await manager.rotate(owner: "dave", name: "deploy")
            }
            // Nothing of the rotation was written: the old token is not revoked, no new one exists.
            let records = try await stores[0].records(owner: "dave")
            #expect(records == [issued.record])
            #expect(try await manager.validate(issued.secret).record?.id == issued.record.id)
        }
    }

    @Test func anUnknownNotificationForgetsEverything() async throws {
        try await TestDatabase.withStores(count: 1) { stores in
            let issued = try await TokenManager(store: stores[0]).create(owner: "erin", name: "x", expiry: .never)
            try await TestDatabase.validateUntilCached(
                issued,
                manager: TokenManager(store: stores[0]),
                store: stores[0]
            )
            let channel = stores[0].schema.channel
            try await stores[0].session.withConnection("test") { connection in
                try await stores[0].session.execute(
                    "SELECT pg_notify(\(channel), 'v2 something new')",
                    on: connection
                )
            }
            let deadline = ContinuousClock.now + .seconds(5)
            while stores[0].cache.count > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
            #expect(stores[0].cache.count == 0)
        }
    }
}
