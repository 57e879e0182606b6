import Foundation
import Testing
import TokenKit
import TokenKitTesting

struct TokenManagerLifecycleTests {
    @Test func createListRenameValidateRevoke() async throws {
        let fixture = ManagerFixture()
        let manager = fixture.manager
        let issued = try await manager.create(owner: "alice", name: "ci", expiry: .after(.seconds(86_400)))
        #expect(issued.record.owner == "alice")
        #expect(issued.record.name == "ci")
        #expect(issued.record.createdAt == fixture.now)
        #expect(issued.record.expiresAt == fixture.now + 86_400)
        #expect(issued.record.digest == SHA256Hasher().digest(of: issued.secret))
        try TokenFormat.default.validate(issued.secret)

        #expect(try await manager.list(owner: "alice").map(\.name) == ["ci"])
        #expect(try await manager.list(owner: "bob").isEmpty)

        let renamed = try await manager.rename(owner: "alice", name: "ci", to: "deploy")
        #expect(renamed.name == "deploy")
        #expect(renamed.id == issued.record.id)
        #expect(try await manager.validate(issued.secret).record?.name == "deploy")

        try await manager.revoke(owner: "alice", name: "deploy")
        #expect(try await manager.validate(issued.secret) == .rejected(.revoked))
        #expect(try await manager.list(owner: "alice").isEmpty)
        #expect(try await manager.list(owner: "alice", including: [.revoked]).map(\.name) == ["deploy"])
    }

    @Test func onlyTheDigestIsStored() async throws {
        let fixture = ManagerFixture()
        let issued = try await fixture.manager.create(owner: "alice", name: "ci")
        let stored = try #require(fixture.store.record(id: issued.record.id))
        #expect(!String(describing: stored).contains(issued.secret))
        #expect(!String(reflecting: stored).contains(issued.secret))
        #expect(stored.digest == SHA256Hasher().digest(of: issued.secret))
    }

    @Test func defaultExpiryIsOneYear() async throws {
        let fixture = ManagerFixture()
        let issued = try await fixture.manager.create(owner: "alice", name: "ci")
        #expect(issued.record.expiresAt == fixture.now + 365 * 86_400)
        let forever = try await fixture.manager.create(owner: "alice", name: "forever", expiry: .never)
        #expect(forever.record.expiresAt == nil)
    }

    @Test func listFiltersByStatus() async throws {
        let fixture = ManagerFixture()
        let manager = fixture.manager
        _ = try await manager.create(owner: "alice", name: "short", expiry: .after(.seconds(60)))
        fixture.clock.advance(by: .seconds(1))
        _ = try await manager.create(owner: "alice", name: "long")
        fixture.clock.advance(by: .seconds(1))
        _ = try await manager.create(owner: "alice", name: "gone")
        try await manager.revoke(owner: "alice", name: "gone")
        fixture.clock.advance(by: .seconds(120))
        #expect(try await manager.list(owner: "alice").map(\.name) == ["long"])
        #expect(try await manager.list(owner: "alice", including: [.expired]).map(\.name) == ["short"])
        #expect(try await manager.list(owner: "alice", including: [.revoked]).map(\.name) == ["gone"])
        #expect(
            try await manager.list(owner: "alice", including: TokenStatus.all).map(\.name) == ["short", "long", "gone"]
        )
    }

    @Test func revokeAllRevokesOnlyThatOwner() async throws {
        let fixture = ManagerFixture()
        let manager = fixture.manager
        let a = try await manager.create(owner: "alice", name: "a")
        let b = try await manager.create(owner: "alice", name: "b")
        let bobs = try await manager.create(owner: "bob", name: "a")
        let revoked = try await manager.revokeAll(owner: "alice")
        #expect(Set(revoked.map(\.id)) == [a.record.id, b.record.id])
        #expect(try await manager.validate(a.secret) == .rejected(.revoked))
        #expect(try await manager.validate(b.secret) == .rejected(.revoked))
        #expect(try await manager.validate(bobs.secret).record != nil)
        #expect(try await manager.revokeAll(owner: "alice").isEmpty)
    }

    @Test func revokedNameCanBeReused() async throws {
        let fixture = ManagerFixture()
        let first = try await fixture.manager.create(owner: "alice", name: "ci")
        try await fixture.manager.revoke(owner: "alice", name: "ci")
        let second = try await fixture.manager.create(owner: "alice", name: "ci")
        #expect(first.record.id != second.record.id)
        #expect(try await fixture.manager.validate(first.secret) == .rejected(.revoked))
        #expect(try await fixture.manager.validate(second.secret).record?.id == second.record.id)
    }

    @Test func expiredTokensKeepTheirNameAndCanBeRevokedAndRenamed() async throws {
        let fixture = ManagerFixture()
        _ = try await fixture.manager.create(owner: "alice", name: "ci", expiry: .after(.seconds(10)))
        fixture.clock.advance(by: .seconds(11))
        let error = await tokenKitError { _ = try await fixture.manager.create(owner: "alice", name: "ci") }
        #expect(error?.code == .duplicateName)
        try await fixture.manager.rename(owner: "alice", name: "ci", to: "old-ci")
        try await fixture.manager.revoke(owner: "alice", name: "old-ci")
    }
}

struct TokenManagerErrorTests {
    @Test func duplicateNameOnCreateUsesCPanelWording() async {
        let fixture = ManagerFixture()
        _ = try? await fixture.manager.create(owner: "alice", name: "ci")
        let error = await tokenKitError { _ = try await fixture.manager.create(owner: "alice", name: "ci") }
        #expect(error?.code == .duplicateName)
        #expect(error?.message == "A conflicting API token with the name \"ci\" already exists.")
    }

    @Test func duplicateNameOnRenameUsesCPanelWording() async throws {
        let fixture = ManagerFixture()
        _ = try await fixture.manager.create(owner: "alice", name: "a")
        _ = try await fixture.manager.create(owner: "alice", name: "b")
        let error = await tokenKitError { try await fixture.manager.rename(owner: "alice", name: "a", to: "b") }
        #expect(error?.code == .duplicateName)
        #expect(error?.message == "An API token with the name \"b\" already exists.")
        #expect(Set(try await fixture.manager.list(owner: "alice").map(\.name)) == ["a", "b"])
    }

    @Test func renameToTheSameNameIsRejected() async throws {
        let fixture = ManagerFixture()
        _ = try await fixture.manager.create(owner: "alice", name: "a")
        let error = await tokenKitError { try await fixture.manager.rename(owner: "alice", name: "a", to: "a") }
        #expect(error?.code == .sameName)
    }

    @Test func unknownTokenUsesCPanelWording() async {
        let fixture = ManagerFixture()
        let rename = await tokenKitError { try await fixture.manager.rename(owner: "alice", name: "nope", to: "x") }
        let revoke = await tokenKitError { try await fixture.manager.revoke(owner: "alice", name: "nope") }
        #expect(rename?.message == "The API token \"nope\" does not exist.")
        #expect(revoke?.code == .tokenNotFound)
    }

    @Test func revokingTwiceFindsNoToken() async throws {
        let fixture = ManagerFixture()
        _ = try await fixture.manager.create(owner: "alice", name: "a")
        try await fixture.manager.revoke(owner: "alice", name: "a")
        let error = await tokenKitError { try await fixture.manager.revoke(owner: "alice", name: "a") }
        #expect(error?.code == .tokenNotFound)
    }

    @Test func pastExpiryIsRejected() async {
        let fixture = ManagerFixture()
        let error = await tokenKitError {
            _ = try await fixture.manager.create(owner: "alice", name: "a", expiry: .at(fixture.now - 1))
        }
        #expect(error?.code == .expiryInPast)
        #expect(error?.message == "The API token's expiration date must be a future date.")
    }

    @Test func policyRefusals() async throws {
        let policy = try ExpiryPolicy(
            allowsNeverExpiring: false,
            defaultLifetime: .seconds(86_400),
            maximumLifetime: .seconds(7 * 86_400)
        )
        let fixture = ManagerFixture(expiryPolicy: policy)
        let never = await tokenKitError {
            _ = try await fixture.manager.create(owner: "alice", name: "a", expiry: .never)
        }
        #expect(never?.code == .neverExpiringRefused)
        let tooLong = await tokenKitError {
            _ = try await fixture.manager.create(owner: "alice", name: "a", expiry: .after(.seconds(8 * 86_400)))
        }
        #expect(tooLong?.code == .lifetimeTooLong)
        #expect(try await fixture.manager.list(owner: "alice", including: TokenStatus.all).isEmpty)
    }

    @Test func perOwnerCap() async throws {
        let fixture = ManagerFixture(maximumLiveTokensPerOwner: 2)
        _ = try await fixture.manager.create(owner: "alice", name: "a")
        _ = try await fixture.manager.create(owner: "alice", name: "b", expiry: .after(.seconds(5)))
        let error = await tokenKitError { _ = try await fixture.manager.create(owner: "alice", name: "c") }
        #expect(error?.code == .tokenLimitReached)
        _ = try await fixture.manager.create(owner: "bob", name: "c")
        fixture.clock.advance(by: .seconds(6))
        _ = try await fixture.manager.create(owner: "alice", name: "c")
        try await fixture.manager.revoke(owner: "alice", name: "a")
        _ = try await fixture.manager.create(owner: "alice", name: "d")
    }

    static let badInputs: [(String, String, Set<String>, [String], TokenKitError.Code)] = [
        ("", "a", [], [], .invalidOwner),
        ("al:ice", "a", [], [], .invalidOwner),
        ("al\nice", "a", [], [], .invalidOwner),
        (String(repeating: "o", count: 256), "a", [], [], .invalidOwner),
        ("alice", "", [], [], .invalidName),
        ("alice", "bad name", [], [], .invalidName),
        ("alice", String(repeating: "n", count: 51), [], [], .invalidName),
        ("alice", "a", [""], [], .invalidScope),
        ("alice", "a", ["has space"], [], .invalidScope),
        ("alice", "a", [String(repeating: "s", count: 65)], [], .invalidScope),
        ("alice", "a", Set((0...100).map { "s\($0)" }), [], .invalidScope),
        ("alice", "a", [], (0...100).map { "10.0.\($0 / 256).\($0 % 256)" }, .tooManyNetworks),
    ]

    @Test(arguments: badInputs)
    func refusesBadInput(
        owner: String,
        name: String,
        scopes: Set<String>,
        networks: [String],
        code: TokenKitError.Code
    )
        async throws
    {
        let fixture = ManagerFixture()
        let parsed = try networks.map { try IPNetwork(parsing: $0) }
        let error = await tokenKitError {
            _ = try await fixture.manager.create(owner: owner, name: name, scopes: scopes, allowedNetworks: parsed)
        }
        #expect(error?.code == code)
        #expect(error?.message.isEmpty == false)
        #expect(fixture.store.count == 0)
    }

    @Test func exactlyOneHundredNetworksAreAllowed() async throws {
        let fixture = ManagerFixture()
        let networks = try (0..<100).map { try IPNetwork(parsing: "10.0.0.\($0)") }
        let issued = try await fixture.manager.create(owner: "alice", name: "a", allowedNetworks: networks)
        #expect(issued.record.allowedNetworks.count == 100)
    }
}

struct TokenManagerValidationTests {
    @Test func malformedTokensAreRejectedWithoutAStoreLookUp() async throws {
        let fixture = ManagerFixture()
        for text in [
            "", "garbage", "tk_" + String(repeating: "0", count: 49), String(repeating: "x", count: 1_000_000),
        ] {
            #expect(try await fixture.manager.validate(text) == .rejected(.malformed))
        }
        #expect(fixture.audit.events.allSatisfy { $0.kind == .validationFailed && $0.rejection == .malformed })
        #expect(
            fixture.audit.events.map(\.detail) == ["wrong_prefix", "wrong_prefix", "checksum_mismatch", "wrong_prefix"]
        )
    }

    @Test func unknownWellFormedToken() async throws {
        let fixture = ManagerFixture()
        #expect(try await fixture.manager.validate(TokenFormat.default.generate()) == .rejected(.unknown))
    }

    @Test func expiry() async throws {
        let fixture = ManagerFixture()
        let issued = try await fixture.manager.create(owner: "alice", name: "a", expiry: .after(.seconds(60)))
        fixture.clock.advance(by: .seconds(59))
        #expect(try await fixture.manager.validate(issued.secret).record != nil)
        fixture.clock.advance(by: .seconds(1))
        #expect(try await fixture.manager.validate(issued.secret) == .rejected(.expired))
    }

    @Test func scopes() async throws {
        let fixture = ManagerFixture()
        let limited = try await fixture.manager.create(owner: "alice", name: "a", scopes: ["tokens:read", "dns"])
        let full = try await fixture.manager.create(owner: "alice", name: "b")
        #expect(try await fixture.manager.validate(limited.secret, requiring: ["dns"]).record != nil)
        #expect(try await fixture.manager.validate(limited.secret, requiring: ["dns", "tokens:read"]).record != nil)
        #expect(try await fixture.manager.validate(limited.secret, requiring: ["email"]) == .rejected(.missingScope))
        #expect(try await fixture.manager.validate(full.secret, requiring: ["email", "dns"]).record != nil)
    }

    @Test func allowedNetworks() async throws {
        let fixture = ManagerFixture()
        let networks = try [IPNetwork(parsing: "192.0.2.0/24"), IPNetwork(parsing: "2001:db8::/32")]
        let issued = try await fixture.manager.create(owner: "alice", name: "a", allowedNetworks: networks)
        let inside = try #require(IPAddress("192.0.2.77"))
        let inside6 = try #require(IPAddress("2001:db8::5"))
        let mapped = try #require(IPAddress("::ffff:192.0.2.1"))
        let outside = try #require(IPAddress("198.51.100.1"))
        #expect(try await fixture.manager.validate(issued.secret, from: inside).record != nil)
        #expect(try await fixture.manager.validate(issued.secret, from: inside6).record != nil)
        #expect(try await fixture.manager.validate(issued.secret, from: mapped).record != nil)
        #expect(try await fixture.manager.validate(issued.secret, from: outside) == .rejected(.addressNotAllowed))
        #expect(try await fixture.manager.validate(issued.secret) == .rejected(.addressNotAllowed))
        let anywhere = try await fixture.manager.create(owner: "alice", name: "b")
        #expect(try await fixture.manager.validate(anywhere.secret, from: outside).record != nil)
        #expect(try await fixture.manager.validate(anywhere.secret).record != nil)
    }

    @Test func ownerNamedByTheHeaderMustOwnTheToken() async throws {
        let fixture = ManagerFixture()
        let issued = try await fixture.manager.create(owner: "alice", name: "a")
        #expect(try await fixture.manager.validate(authorization: "cpanel alice:\(issued.secret)").record != nil)
        #expect(try await fixture.manager.validate(authorization: "WHM alice:\(issued.secret)").record != nil)
        #expect(try await fixture.manager.validate(authorization: "  Bearer \(issued.secret) ").record != nil)
        #expect(
            try await fixture.manager.validate(authorization: "cpanel bob:\(issued.secret)") == .rejected(.wrongOwner)
        )
        #expect(
            try await fixture.manager.validate(authorization: "Basic \(issued.secret)") == .rejected(.schemeNotAccepted)
        )
        #expect(try await fixture.manager.validate(authorization: "cpanel \(issued.secret)") == .rejected(.malformed))
        let wrongOwnerEvent = fixture.audit.events.first { $0.rejection == .wrongOwner }
        #expect(wrongOwnerEvent?.owner == "alice")
        #expect(wrongOwnerEvent?.detail == "claimed owner \"bob\"")
    }

    @Test func everyRejectionBecomesTheSameAuthenticationFailure() async throws {
        let fixture = ManagerFixture()
        let valid = try await fixture.manager.create(owner: "alice", name: "a")
        #expect(try await fixture.manager.validate(valid.secret).authenticated().id == valid.record.id)
        let reasons: [RejectionReason] = [
            .malformed, .unknown, .expired, .revoked, .addressNotAllowed, .missingScope, .wrongOwner,
        ]
        var failures: [String] = []
        for reason in reasons {
            do {
                _ = try ValidationResult.rejected(reason).authenticated()
            } catch {
                #expect(error.httpStatus == 401)
                failures.append(error.description)
            }
        }
        #expect(failures.count == reasons.count)
        #expect(Set(failures).count == 1)
        #expect(!failures[0].contains("expired") && !failures[0].contains("revoked"))
    }

    /// A store remembers the hasher its digests were made with: a manager with another key is
    /// refused with an error naming both, instead of finding every token unknown.
    @Test func aStoreRefusesAnotherHasher() async throws {
        let store = InMemoryTokenStore()
        let peppered = ManagerFixture(hasher: HMACSHA256Hasher(key: Array("server secret".utf8)), store: store)
        let issued = try await peppered.manager.create(owner: "alice", name: "a")
        #expect(try await peppered.manager.validate(issued.secret).record != nil)
        let plain = ManagerFixture(store: store)
        let mismatch = await tokenKitError { _ = try await plain.manager.validate(issued.secret) }
        #expect(mismatch?.code == .hasherMismatch)
        #expect(mismatch?.message.contains("hmac-sha256") == true && mismatch?.message.contains("sha256") == true)
        let otherKey = ManagerFixture(hasher: HMACSHA256Hasher(key: Array("another secret".utf8)), store: store)
        #expect(await tokenKitError { _ = try await otherKey.manager.list(owner: "alice") }?.code == .hasherMismatch)
        let sameKey = ManagerFixture(hasher: HMACSHA256Hasher(key: Array("server secret".utf8)), store: store)
        #expect(try await sameKey.manager.validate(issued.secret).record != nil)
    }
}

struct TokenManagerAuditTests {
    /// A client that swaps user and token (`cpanel TOKEN:alice`) must not put its secret in the
    /// audit log as the claimed owner.
    @Test func aSwappedHeaderKeepsTheSecretOutOfTheLog() async throws {
        let fixture = ManagerFixture()
        let issued = try await fixture.manager.create(owner: "alice", name: "ci")
        for header in ["cpanel \(issued.secret):alice", "cpanel \(issued.secret):\(issued.secret)"] {
            #expect(try await fixture.manager.validate(authorization: header).record == nil)
        }
        #expect(try await fixture.manager.validate(issued.secret, owner: issued.secret) == .rejected(.wrongOwner))
        let logged = fixture.audit.events.map(String.init(describing:)).joined(separator: "\n")
        #expect(fixture.audit.events.count(where: { $0.kind == .validationFailed }) == 3)
        #expect(!logged.contains(issued.secret))
    }

    @Test func eventsForEachOperationNeverHoldTheSecret() async throws {
        let fixture = ManagerFixture()
        let manager = fixture.manager
        let issued = try await manager.create(owner: "alice", name: "ci", scopes: ["read"])
        try await manager.rename(owner: "alice", name: "ci", to: "deploy")
        _ = try await manager.validate(issued.secret, requiring: ["write"])
        try await manager.revoke(owner: "alice", name: "deploy")
        _ = try await manager.validate(issued.secret)

        let events = fixture.audit.events
        #expect(events.map(\.kind) == [.created, .renamed, .validationFailed, .revoked, .validationFailed])
        #expect(events[1].previousName == "ci" && events[1].tokenName == "deploy")
        #expect(events[2].rejection == .missingScope)
        #expect(events[4].rejection == .revoked)
        #expect(events.allSatisfy { $0.tokenID == issued.record.id && $0.owner == "alice" && $0.time == fixture.now })
        let digestHex = issued.record.digest.hex
        for event in events {
            for text in [String(describing: event), String(reflecting: event)] {
                #expect(!text.contains(issued.secret))
                #expect(!text.contains(String(issued.secret.dropFirst(3).prefix(20))))
                #expect(!text.contains(digestHex))
            }
        }
    }

    @Test func failedValidationOfAnUnknownTokenNamesNoOwner() async throws {
        let fixture = ManagerFixture()
        let address = try #require(IPAddress("203.0.113.5"))
        _ = try await fixture.manager.validate(TokenFormat.default.generate(), from: address)
        let event = try #require(fixture.audit.events.first)
        #expect(event.rejection == .unknown)
        #expect(event.owner == nil && event.tokenID == nil)
        #expect(event.address == address)
    }

    @Test func revokeAllEmitsOneEventPerToken() async throws {
        let fixture = ManagerFixture()
        _ = try await fixture.manager.create(owner: "alice", name: "a")
        _ = try await fixture.manager.create(owner: "alice", name: "b")
        fixture.audit.removeAll()
        try await fixture.manager.revokeAll(owner: "alice")
        #expect(fixture.audit.events.map(\.kind) == [.revoked, .revoked])
        #expect(Set(fixture.audit.events.compactMap(\.tokenName)) == ["a", "b"])
    }
}

struct IssuedTokenRedactionTests {
    @Test func secretIsRedactedEverywhereButItsProperty() async throws {
        let fixture = ManagerFixture()
        let issued = try await fixture.manager.create(owner: "alice", name: "ci")
        var dumped = ""
        dump(issued, to: &dumped)
        let renderings = [String(describing: issued), String(reflecting: issued), "\(issued)", dumped, "\([issued])"]
        for text in renderings {
            #expect(!text.contains(issued.secret), "leaked in: \(text)")
            #expect(text.contains("<redacted>"))
        }
        #expect(issued.secret.hasPrefix("tk_"))
    }
}
