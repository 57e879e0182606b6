import Foundation
import Testing
import TokenKitTesting

@testable import TokenKit

/// Issue 4's features, each on both backends and across a reopen of the file store.
struct UpdateTests {
    @Test(arguments: Backend.allCases)
    func updatesExpiryScopesAndNetworks(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let issued = try await fixture.manager.create(owner: "alice", name: "ci", scopes: ["read"])
        let network = try IPNetwork(parsing: "192.0.2.0/24")
        let updated = try await fixture.manager.update(
            owner: "alice",
            name: "ci",
            expiry: .after(.seconds(3_600)),
            scopes: ["read", "write"],
            allowedNetworks: [network]
        )
        #expect(updated.token.expiresAt == fixture.now + 3_600)
        #expect(updated.token.scopes == ["read", "write"])
        #expect(updated.token.allowedNetworks == [network])
        #expect(fixture.audit.events.last?.kind == .updated)

        try await fixture.reopen()
        let inside = try #require(IPAddress("192.0.2.9"))
        #expect(try await fixture.manager.validate(issued.secret, requiring: ["write"], from: inside).record != nil)
        #expect(
            try await fixture.manager.validate(issued.secret, from: IPAddress("198.51.100.1"))
                == .rejected(.addressNotAllowed)
        )
        fixture.clock.advance(by: .seconds(3_600))
        #expect(try await fixture.manager.validate(issued.secret, from: inside) == .rejected(.expired))
    }

    @Test(arguments: Backend.allCases)
    func nilArgumentsChangeNothingAndBadOnesChangeNothingEither(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let issued = try await fixture.manager.create(owner: "alice", name: "ci", scopes: ["read"])
        let unchanged = try await fixture.manager.update(owner: "alice", name: "ci")
        #expect(unchanged.token == issued.record)
        let past = await tokenKitError {
            try await fixture.manager.update(owner: "alice", name: "ci", expiry: .at(fixture.now - 1))
        }
        #expect(past?.code == .expiryInPast)
        let scope = await tokenKitError {
            try await fixture.manager.update(owner: "alice", name: "ci", scopes: ["bad scope"])
        }
        #expect(scope?.code == .invalidScope)
        let networks = try (0...100).map { try IPNetwork(parsing: "10.1.0.\($0)") }
        let tooMany = await tokenKitError {
            try await fixture.manager.update(owner: "alice", name: "ci", allowedNetworks: networks)
        }
        #expect(tooMany?.code == .tooManyNetworks)
        let missing = await tokenKitError { try await fixture.manager.update(owner: "alice", name: "nope", scopes: []) }
        #expect(missing?.code == .tokenNotFound)
        try await fixture.reopen()
        #expect(try await fixture.manager.list(owner: "alice") == [issued.record])
    }

    @Test func updatesFollowTheExpiryPolicy() async throws {
        let policy = try ExpiryPolicy(
            allowsNeverExpiring: false,
            defaultLifetime: .seconds(86_400),
            maximumLifetime: .seconds(7 * 86_400)
        )
        let fixture = try BackendFixture(.memory) { .init(expiryPolicy: policy, clock: $0, auditSink: $1) }
        _ = try await fixture.manager.create(owner: "alice", name: "ci")
        let never = await tokenKitError { try await fixture.manager.update(owner: "alice", name: "ci", expiry: .never) }
        #expect(never?.code == .neverExpiringRefused)
        let long = await tokenKitError {
            try await fixture.manager.update(owner: "alice", name: "ci", expiry: .after(.seconds(8 * 86_400)))
        }
        #expect(long?.code == .lifetimeTooLong)
    }
}

struct RotationTests {
    @Test(arguments: Backend.allCases)
    func zeroGraceRevokesTheOldSecretAtOnce(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let old = try await fixture.manager.create(owner: "alice", name: "ci", scopes: ["read"])
        let new = try await fixture.manager.rotate(owner: "alice", name: "ci").issued
        #expect(new.secret != old.secret)
        #expect(new.record.id != old.record.id)
        #expect(new.record.name == "ci" && new.record.scopes == ["read"])
        #expect(new.record.expiresAt == old.record.expiresAt)
        #expect(try await fixture.manager.validate(old.secret) == .rejected(.revoked))
        #expect(try await fixture.manager.validate(new.secret).record?.id == new.record.id)
        let event = try #require(fixture.audit.events.first { $0.kind == .rotated })
        #expect(event.tokenID == new.record.id && event.previousTokenID == old.record.id)
        #expect(!String(describing: event).contains(new.secret))
    }

    @Test(arguments: Backend.allCases)
    func theOldSecretWorksUntilTheGracePeriodEnds(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let old = try await fixture.manager.create(owner: "alice", name: "ci")
        let new = try await fixture.manager.rotate(owner: "alice", name: "ci", grace: .seconds(3_600)).issued
        try await fixture.reopen()
        fixture.clock.advance(by: .seconds(3_599))
        #expect(try await fixture.manager.validate(old.secret).record?.id == old.record.id)
        #expect(try await fixture.manager.validate(new.secret).record?.id == new.record.id)
        fixture.clock.advance(by: .seconds(1))
        #expect(try await fixture.manager.validate(old.secret) == .rejected(.revoked))
        #expect(try await fixture.manager.validate(new.secret).record != nil)
    }

    /// Rotating during a grace period rotates the newest token; the first old secret keeps its own
    /// deadline, the second gets a new one.
    @Test(arguments: Backend.allCases)
    func rotatingDuringAGracePeriod(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let first = try await fixture.manager.create(owner: "alice", name: "ci")
        let second = try await fixture.manager.rotate(owner: "alice", name: "ci", grace: .seconds(3_600)).issued
        fixture.clock.advance(by: .seconds(600))
        let third = try await fixture.manager.rotate(owner: "alice", name: "ci", grace: .seconds(3_600)).issued
        try await fixture.reopen()
        for secret in [first.secret, second.secret, third.secret] {
            #expect(try await fixture.manager.validate(secret).record != nil)
        }
        fixture.clock.advance(by: .seconds(3_000))  // the first grace period has ended
        #expect(try await fixture.manager.validate(first.secret) == .rejected(.revoked))
        #expect(try await fixture.manager.validate(second.secret).record != nil)
        fixture.clock.advance(by: .seconds(600))  // and now the second
        #expect(try await fixture.manager.validate(second.secret) == .rejected(.revoked))
        #expect(try await fixture.manager.validate(third.secret).record?.id == third.record.id)
        let holders = try await fixture.manager.list(owner: "alice", including: TokenStatus.all).filter(\.holdsName)
        #expect(holders.map(\.id) == [third.record.id])
    }

    /// Revoking, disabling or narrowing a token by name during a rotation's grace period applies to
    /// the rotated-out secret too: an operator revoking a leaked token is not exposed for the grace.
    @Test(arguments: Backend.allCases)
    func byNameChangesReachTheRotatedOutSecret(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let old = try await fixture.manager.create(owner: "alice", name: "ci", scopes: ["read", "write"])
        let rotation = try await fixture.manager.rotate(owner: "alice", name: "ci", grace: .seconds(3_600))
        #expect(rotation.previous.id == old.record.id)
        #expect(rotation.previousSecretValidUntil == fixture.now + 3_600)
        #expect(rotation.issued.record.lineageID == old.record.id)

        let narrowed = try await fixture.manager.update(owner: "alice", name: "ci", scopes: ["read"])
        #expect(narrowed.predecessors.map(\.id) == [old.record.id])
        #expect(try await fixture.manager.validate(old.secret, requiring: ["write"]) == .rejected(.missingScope))

        try await fixture.manager.disable(owner: "alice", name: "ci")
        #expect(try await fixture.manager.validate(old.secret) == .rejected(.disabled))
        try await fixture.manager.enable(owner: "alice", name: "ci")
        #expect(try await fixture.manager.validate(old.secret).record != nil)

        let revoked = try await fixture.manager.revoke(owner: "alice", name: "ci")
        #expect(revoked.records.map(\.id) == [rotation.issued.record.id, old.record.id])
        try await fixture.reopen()
        #expect(try await fixture.manager.validate(old.secret) == .rejected(.revoked))
        #expect(try await fixture.manager.validate(rotation.issued.secret) == .rejected(.revoked))
        let events = fixture.audit.events.filter { $0.kind == .revoked }
        #expect(Set(events.compactMap(\.tokenID)) == [rotation.issued.record.id, old.record.id])
    }

    @Test(arguments: Backend.allCases)
    func deletingByNameDeletesTheRotatedOutSecret(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let old = try await fixture.manager.create(owner: "alice", name: "ci")
        _ = try await fixture.manager.rotate(owner: "alice", name: "ci", grace: .seconds(3_600))
        let deleted = try await fixture.manager.delete(owner: "alice", name: "ci")
        #expect(deleted.predecessors.map(\.id) == [old.record.id])
        #expect(try await fixture.manager.validate(old.secret) == .rejected(.unknown))
        #expect(try await fixture.manager.list(owner: "alice", including: TokenStatus.all).isEmpty)
    }

    @Test func rotationRefusesANegativeGraceAndUnknownTokens() async throws {
        let fixture = try BackendFixture(.memory)
        _ = try await fixture.manager.create(owner: "alice", name: "ci")
        let negative = await tokenKitError {
            _ = try await fixture.manager.rotate(owner: "alice", name: "ci", grace: .seconds(-1))
        }
        #expect(negative?.code == .invalidGracePeriod)
        let missing = await tokenKitError { _ = try await fixture.manager.rotate(owner: "alice", name: "nope") }
        #expect(missing?.code == .tokenNotFound)
    }

    @Test func rotationCanSetANewExpiry() async throws {
        let fixture = try BackendFixture(.memory)
        _ = try await fixture.manager.create(owner: "alice", name: "ci", expiry: .after(.seconds(60)))
        let new = try await fixture.manager.rotate(owner: "alice", name: "ci", expiry: .after(.seconds(86_400))).issued
        #expect(new.record.expiresAt == fixture.now + 86_400)
    }
}

struct DisableTests {
    @Test(arguments: Backend.allCases)
    func disabledTokensAreKeptListedAndRefusedUntilEnabled(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let issued = try await fixture.manager.create(owner: "alice", name: "ci")
        try await fixture.manager.disable(owner: "alice", name: "ci")
        try await fixture.reopen()
        #expect(try await fixture.manager.validate(issued.secret) == .rejected(.disabled))
        let listed = try await fixture.manager.list(owner: "alice")
        #expect(listed.map { $0.status(at: fixture.now) } == [.disabled])
        #expect(try await fixture.manager.list(owner: "alice", including: [.active]).isEmpty)
        try await fixture.manager.enable(owner: "alice", name: "ci")
        try await fixture.reopen()
        #expect(try await fixture.manager.validate(issued.secret).record != nil)
        let toggles: Set<TokenAuditEvent.Kind> = [.disabled, .enabled]
        let kinds = fixture.audit.events.map(\.kind).filter { toggles.contains($0) }
        #expect(kinds == [.disabled, .enabled])
    }
}

struct IdleExpiryTests {
    @Test(arguments: Backend.allCases)
    func tokensUnusedForTooLongAreRefused(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend) {
            .init(lastUsedInterval: .seconds(60), maximumIdleTime: .seconds(30 * 86_400), clock: $0, auditSink: $1)
        }
        let used = try await fixture.manager.create(owner: "alice", name: "used")
        let unused = try await fixture.manager.create(owner: "alice", name: "unused")
        fixture.clock.advance(by: .seconds(20 * 86_400))
        #expect(try await fixture.manager.validate(used.secret).record != nil)
        try await fixture.reopen()
        fixture.clock.advance(by: .seconds(20 * 86_400))
        // 40 days after creation; "used" was last used 20 days ago.
        #expect(try await fixture.manager.validate(used.secret).record != nil)
        #expect(try await fixture.manager.validate(unused.secret) == .rejected(.idle))
        #expect(fixture.audit.events.last?.rejection == .idle)
    }
}

struct ExpiryWarningTests {
    @Test(arguments: Backend.allCases)
    func queryFindsTokensExpiringInTheWindowAcrossOwners(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let day = 86_400
        _ = try await fixture.manager.create(owner: "alice", name: "soon", expiry: .after(.seconds(3 * day)))
        _ = try await fixture.manager.create(owner: "bob", name: "sooner", expiry: .after(.seconds(1 * day)))
        _ = try await fixture.manager.create(owner: "alice", name: "later", expiry: .after(.seconds(30 * day)))
        _ = try await fixture.manager.create(owner: "alice", name: "never", expiry: .never)
        _ = try await fixture.manager.create(owner: "carol", name: "revoked", expiry: .after(.seconds(2 * day)))
        try await fixture.manager.revoke(owner: "carol", name: "revoked")
        try await fixture.reopen()
        let expiring = try await fixture.manager.tokensExpiring(within: .seconds(7 * day))
        #expect(expiring.map(\.name) == ["sooner", "soon"])
    }

    @Test func validationWarnsOncePerTokenAndExpiry() async throws {
        let fixture = try BackendFixture(.memory) {
            .init(expiryWarningWindow: .seconds(7 * 86_400), clock: $0, auditSink: $1)
        }
        let issued = try await fixture.manager.create(owner: "alice", name: "ci", expiry: .after(.seconds(10 * 86_400)))
        _ = try await fixture.manager.validate(issued.secret)
        #expect(!fixture.audit.events.contains { $0.kind == .expiringSoon })
        fixture.clock.advance(by: .seconds(4 * 86_400))
        for _ in 0..<5 { _ = try await fixture.manager.validate(issued.secret) }
        #expect(fixture.audit.events.count { $0.kind == .expiringSoon } == 1)
        // A new expiry date is a new warning window.
        try await fixture.manager.update(owner: "alice", name: "ci", expiry: .after(.seconds(3 * 86_400)))
        _ = try await fixture.manager.validate(issued.secret)
        #expect(fixture.audit.events.count { $0.kind == .expiringSoon } == 2)
    }
}

struct DeleteAndPurgeTests {
    @Test(arguments: Backend.allCases)
    func deleteByNameAndByID(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let expired = try await fixture.manager.create(owner: "alice", name: "expired", expiry: .after(.seconds(10)))
        let revoked = try await fixture.manager.create(owner: "alice", name: "revoked")
        try await fixture.manager.revoke(owner: "alice", name: "revoked")
        fixture.clock.advance(by: .seconds(11))
        try await fixture.manager.delete(owner: "alice", name: "expired")
        try await fixture.manager.delete(id: revoked.record.id)
        try await fixture.reopen()
        #expect(try await fixture.manager.list(owner: "alice", including: TokenStatus.all).isEmpty)
        #expect(try await fixture.manager.validate(expired.secret) == .rejected(.unknown))
        let missing = await tokenKitError { try await fixture.manager.delete(id: revoked.record.id) }
        #expect(missing?.code == .tokenNotFound)
        #expect(fixture.audit.events.count { $0.kind == .deleted } == 2)
    }

    @Test(arguments: Backend.allCases)
    func purgeRemovesTokensDeadForLongerThanTheRetention(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let day = 86_400
        _ = try await fixture.manager.create(owner: "alice", name: "old-expired", expiry: .after(.seconds(day)))
        _ = try await fixture.manager.create(owner: "bob", name: "old-revoked")
        try await fixture.manager.revoke(owner: "bob", name: "old-revoked")
        fixture.clock.advance(by: .seconds(40 * day))
        _ = try await fixture.manager.create(owner: "alice", name: "new-revoked")
        try await fixture.manager.revoke(owner: "alice", name: "new-revoked")
        let live = try await fixture.manager.create(owner: "alice", name: "live")
        let purged = try await fixture.manager.purge(olderThan: .seconds(30 * day))
        #expect(Set(purged.map(\.name)) == ["old-expired", "old-revoked"])
        try await fixture.reopen()
        let left = try await fixture.manager.list(owner: "alice", including: TokenStatus.all).map(\.name)
        #expect(Set(left) == ["new-revoked", "live"])
        #expect(try await fixture.manager.list(owner: "bob", including: TokenStatus.all).isEmpty)
        #expect(try await fixture.manager.validate(live.secret).record != nil)
    }

    @Test func purgeLetsTheFileStoreCompact() async throws {
        let directory = TemporaryDirectory()
        let path = directory.file("tokens")
        let clock = ManualClock()
        let store = try FileTokenStore(path: path, options: .init(compactionThreshold: 30))
        let manager = TokenManager(store: store, configuration: .init(clock: clock))
        for index in 0..<40 {
            _ = try await manager.create(owner: "alice", name: "t\(index)", expiry: .after(.seconds(60)))
        }
        _ = try await manager.create(owner: "alice", name: "keeper", expiry: .never)
        clock.advance(by: .seconds(3_600))
        #expect(try await manager.purge(olderThan: .seconds(60)).count == 40)
        try await store.waitUntilIdle()
        #expect(store.logEntryCount == 1)
        #expect(try FileTokenStore(path: path).count == 1)
    }
}

struct FileStoreUsageTests {
    /// 100,000 validations of one token within one interval produce one write, on the file store too.
    @Test func oneWriteForManyValidations() async throws {
        let directory = TemporaryDirectory()
        let store = try FileTokenStore(path: directory.file("tokens"))
        let manager = TokenManager(store: store, configuration: .init(clock: ManualClock()))
        let issued = try await manager.create(owner: "alice", name: "busy")
        let commitsBefore = store.commitCount
        for _ in 0..<100_000 {
            _ = try await manager.validate(issued.secret)
        }
        try await manager.flushUsage()
        #expect(store.commitCount == commitsBefore + 1)
        #expect(try store.record(id: issued.record.id)?.lastUsedAt != nil)
    }
}
