import Foundation
import PostgresNIO
import Testing
import TokenKit

@testable import TokenKitPostgres

struct ChangeMessageTests {
    @Test func payloadsRoundTrip() throws {
        let digests = (0..<3).map { _ in TokenDigest(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })! }
        for message in [ChangeMessage.forget(digests), .forgetAll, .heartbeat(instance: "abc", sequence: 42)] {
            #expect(ChangeMessage(payload: message.payload) == message)
        }
        #expect(ChangeMessage(payload: "f nothex") == nil)
        #expect(ChangeMessage(payload: "") == nil)
    }

    @Test func manyDigestsAreSplitWithinThePayloadLimitOrForgetAll() {
        let digests = (0..<250).map { _ in TokenDigest(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })! }
        let payloads = ChangeMessage.payloads(forChanged: digests)
        #expect(payloads.count == 3)
        #expect(payloads.allSatisfy { $0.utf8.count < 8000 })
        let named = payloads.flatMap { payload -> [TokenDigest] in
            guard case .forget(let digests) = ChangeMessage(payload: payload) else { return [] }
            return digests
        }
        #expect(named == digests)
        let many = Array(repeating: digests[0], count: ChangeMessage.maximumNamedDigests + 1)
        #expect(ChangeMessage.payloads(forChanged: many) == ["*"])
        #expect(ChangeMessage.payloads(forChanged: []) == [])
    }
}

struct TokenCacheTests {
    let record = TokenRecord(
        id: TokenID.random(),
        owner: "alice",
        name: "ci",
        createdAt: Date(timeIntervalSince1970: 1_800_000_000),
        expiresAt: nil,
        digest: TokenDigest(bytes: Array(repeating: 7, count: 32))!
    )

    @Test func staleUntilAHeartbeatConfirmsAndAgainAfterTheBound() {
        let cache = TokenCache(capacity: 10)
        let now = ContinuousClock.now
        guard case .stale = cache.lookup(record.digest, now: now) else {
            Issue.record("fresh before any heartbeat")
            return
        }
        cache.confirmFresh(until: now + .seconds(1))
        guard case .miss = cache.lookup(record.digest, now: now) else {
            Issue.record("not fresh after a heartbeat")
            return
        }
        guard case .stale = cache.lookup(record.digest, now: now + .seconds(1)) else {
            Issue.record("fresh past the bound")
            return
        }
    }

    @Test func aLookUpThatCrossedAForgetIsNotKept() {
        let cache = TokenCache(capacity: 10)
        let now = ContinuousClock.now
        cache.confirmFresh(until: now + .seconds(60))
        guard case .miss(let epoch) = cache.lookup(record.digest, now: now) else {
            Issue.record("no miss")
            return
        }
        cache.forget([record.digest])  // a notification arrived while the database answered
        cache.fill(record.digest, record, epoch: epoch)
        #expect(cache.count == 0)
        guard case .miss(let next) = cache.lookup(record.digest, now: now) else {
            Issue.record("no miss")
            return
        }
        cache.fill(record.digest, record, epoch: next)
        guard case .hit(let hit) = cache.lookup(record.digest, now: now) else {
            Issue.record("not kept")
            return
        }
        #expect(hit == record)
        // An absence is kept as well, and forgotten like a record.
        let unknown = TokenDigest(bytes: Array(repeating: 9, count: 32))!
        guard case .miss(let epoch3) = cache.lookup(unknown, now: now) else {
            Issue.record("no miss")
            return
        }
        cache.fill(unknown, nil, epoch: epoch3)
        guard case .hit(nil) = cache.lookup(unknown, now: now) else {
            Issue.record("absence not kept")
            return
        }
        cache.forget([unknown])
        guard case .miss = cache.lookup(unknown, now: now) else {
            Issue.record("absence not forgotten")
            return
        }
    }

    @Test func theOldestIsForgottenFirstAndCapacityZeroKeepsNothing() {
        let cache = TokenCache(capacity: 2)
        cache.confirmFresh(until: .now + .seconds(60))
        let records = (0..<3).map { index in
            TokenRecord(
                id: TokenID.random(),
                owner: "a",
                name: "n\(index)",
                createdAt: Date(timeIntervalSince1970: 0),
                expiresAt: nil,
                digest: TokenDigest(bytes: Array(repeating: UInt8(index), count: 32))!
            )
        }
        for record in records { cache.fill(record.digest, record, epoch: 0) }
        #expect(cache.count == 2)
        guard case .miss = cache.lookup(records[0].digest, now: .now) else {
            Issue.record("oldest kept")
            return
        }
        // A record forgotten and kept again does not leave a stale slot that evicts it early.
        let churn = TokenCache(capacity: 2)
        churn.confirmFresh(until: .now + .seconds(60))
        churn.fill(records[0].digest, records[0], epoch: 0)
        churn.forget([records[0].digest])
        churn.fill(records[0].digest, records[0], epoch: 1)
        churn.fill(records[1].digest, records[1], epoch: 1)
        guard case .hit = churn.lookup(records[0].digest, now: .now) else {
            Issue.record("evicted by a stale slot")
            return
        }
        guard case .hit = churn.lookup(records[1].digest, now: .now) else {
            Issue.record("not kept")
            return
        }

        let off = TokenCache(capacity: 0)
        off.confirmFresh(until: .now + .seconds(60))
        off.fill(records[0].digest, records[0], epoch: 0)
        #expect(off.count == 0)
    }
}

struct PostgresURLTests {
    @Test func parsesEveryPart() throws {
        let url = try PostgresURL(parsing: "postgres://app:p%40ss@db.internal:6543/tokens?sslmode=require")
        #expect(url.host == "db.internal")
        #expect(url.port == 6543)
        #expect(url.username == "app")
        #expect(url.password == "p@ss")
        #expect(url.database == "tokens")
        #expect(url.tls == .require)
        #expect(!url.description.contains("p@ss"))
        let plain = try PostgresURL(parsing: "postgresql://app@127.0.0.1/tokens")
        #expect(plain.port == 5432 && plain.password == nil && plain.tls == .disable)
    }

    @Test(arguments: [
        "mysql://a@b/c", "postgres://b/c", "postgres://a@b", "postgres://a@b/", "postgres://a@b/c?sslmode=maybe",
        "postgres://a@b:0/c", "not a url",
    ])
    func refusesWhatIsNotAPostgresURL(_ text: String) {
        #expect(throws: TokenKitError.self) { try PostgresURL(parsing: text) }
    }

    @Test func refusesAConfigurationOutOfRange() {
        let client = PostgresClientStub.client
        #expect(throws: TokenKitError.self) {
            try PostgresTokenStore(client: client, configuration: .init(schema: "Public; DROP"))
        }
        #expect(throws: TokenKitError.self) {
            try PostgresTokenStore(client: client, configuration: .init(maximumStaleness: .zero))
        }
        #expect(throws: TokenKitError.self) {
            try PostgresTokenStore(client: client, configuration: .init(cacheCapacity: -1))
        }
    }
}

/// A client that is never run: for checks that need no database.
enum PostgresClientStub {
    static let client = PostgresClient(
        configuration: .init(
            host: "127.0.0.1",
            port: 1,
            username: "nobody",
            password: nil,
            database: "none",
            tls: .disable
        )
    )
}

/// Fails the run when CI asked for the PostgreSQL tests but they could not run.
@Test func serverIsConfiguredWhenRequired() {
    if ProcessInfo.processInfo.environment["TOKENKIT_POSTGRES_REQUIRED"] == "1" {
        #expect(
            TestDatabase.isConfigured,
            "TOKENKIT_POSTGRES_REQUIRED=1 but TOKENKIT_POSTGRES_URL is missing or does not parse"
        )
        #expect(
            TestDatabase.clusterScript != nil,
            "TOKENKIT_POSTGRES_REQUIRED=1 but TOKENKIT_POSTGRES_CLUSTER is missing"
        )
    }
}

struct TokenStoreLocationTests {
    @Test func anOptionWinsOverTheEnvironmentsOtherVariable() throws {
        let environment = ["TOKENKIT_STORE": "/env/store", "TOKENKIT_POSTGRES_URL": "postgres://env@db/env"]
        guard
            case .file(let path) = try TokenStoreLocation(store: "/opt/store", postgres: nil, environment: environment)
        else {
            Issue.record("--store did not choose a file")
            return
        }
        #expect(path == "/opt/store")
        guard
            case .postgres(let url) = try TokenStoreLocation(
                store: nil,
                postgres: "postgres://a@b/c",
                environment: environment
            )
        else {
            Issue.record("--postgres did not choose PostgreSQL")
            return
        }
        #expect(url.database == "c")
    }

    @Test func theEnvironmentAloneChoosesWhenItNamesOne() throws {
        guard
            case .file(let path) = try TokenStoreLocation(
                store: nil,
                postgres: nil,
                environment: ["TOKENKIT_STORE": "/s"]
            )
        else {
            Issue.record("TOKENKIT_STORE did not choose a file")
            return
        }
        #expect(path == "/s")
        let url = ["TOKENKIT_POSTGRES_URL": "postgres://a@b/d", "TOKENKIT_STORE": ""]
        guard case .postgres(let chosen) = try TokenStoreLocation(store: nil, postgres: nil, environment: url) else {
            Issue.record("TOKENKIT_POSTGRES_URL (and an empty TOKENKIT_STORE) did not choose PostgreSQL")
            return
        }
        #expect(chosen.database == "d")
    }

    @Test(
        arguments: [
            ("/a", "postgres://a@b/c", [:]),
            (nil, nil, [:]),
            (nil, nil, ["TOKENKIT_STORE": "/s", "TOKENKIT_POSTGRES_URL": "postgres://a@b/c"]),
            ("", "", [:]),
            (nil, "mysql://a@b/c", [:]),
        ] as [(String?, String?, [String: String])]
    )
    func refusesBothNeitherOrABadURL(store: String?, postgres: String?, environment: [String: String]) {
        #expect(throws: TokenKitError.self) {
            try TokenStoreLocation(store: store, postgres: postgres, environment: environment)
        }
    }
}
