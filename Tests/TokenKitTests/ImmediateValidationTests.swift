import Foundation
import Testing
import TokenKit
import TokenKitTesting

/// `TokenManager.validateImmediately(authorization:…)`: the same answers and records as
/// `validate(authorization:…)` when nothing needs waiting, and `nil`, having done nothing, when
/// something does.
@Suite struct ImmediateValidationTests {
    /// A store that answers look-ups at once: TokenKit's own index, and a third party's
    /// `immediateRecord(forDigest:)`.
    enum StoreKind: CaseIterable, Sendable {
        case inMemory, file, thirdParty

        func make(in directory: TemporaryDirectory) throws -> any TokenStore {
            switch self {
            case .inMemory: InMemoryTokenStore()
            case .file: try FileTokenStore(path: directory.file("tokens.tkstore"))
            case .thirdParty: ReferenceStore()
            }
        }
    }

    /// Two managers over one store, each with its own audit sink: one validates at once, the other
    /// awaits, so that their answers and audits can be compared.
    struct Pair {
        let store: any TokenStore
        let clock = ManualClock()
        let immediateAudit = RecordingAuditSink()
        let awaitedAudit = RecordingAuditSink()
        let immediate: TokenManager
        let awaited: TokenManager

        init(_ store: any TokenStore) {
            self.store = store
            let warning = Duration.seconds(7 * 86_400)
            immediate = TokenManager(
                store: store,
                configuration: .init(expiryWarningWindow: warning, clock: clock, auditSink: immediateAudit)
            )
            awaited = TokenManager(
                store: store,
                configuration: .init(expiryWarningWindow: warning, clock: clock, auditSink: awaitedAudit)
            )
        }
    }

    /// Runs `body` while `manager.run()` runs.
    func whileRunning(_ manager: TokenManager, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.run() }
            while !manager.health.isRunning { try await Task.sleep(for: .milliseconds(1)) }
            try await body()
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    @Test(arguments: StoreKind.allCases)
    func answersAsValidateDoesWhenNothingNeedsWaiting(kind: StoreKind) async throws {
        let directory = TemporaryDirectory()
        let pair = Pair(try kind.make(in: directory))
        let issued = try await pair.immediate.create(owner: "alice", name: "deploy", scopes: ["read"])
        let expiring = try await pair.immediate.create(owner: "alice", name: "soon", expiry: .after(.seconds(3_600)))
        let office = try await pair.immediate.create(
            owner: "alice",
            name: "office",
            allowedNetworks: [try IPNetwork(parsing: "192.0.2.0/24")]
        )
        let revoked = try await pair.immediate.create(owner: "alice", name: "old")
        try await pair.immediate.revoke(owner: "alice", name: "old")
        _ = try await pair.awaited.list(owner: "alice")  // binds the second manager's hasher
        let unknown = TokenFormat.default.generate()
        let inside = IPAddress("192.0.2.7")
        let outside = IPAddress("198.51.100.7")
        let all = Set(AuthorizationCredentials.Scheme.allCases)
        let cases:
            [(header: String?, schemes: Set<AuthorizationCredentials.Scheme>, scopes: Set<String>, from: IPAddress?)] =
                [
                    ("Bearer \(issued.secret)", all, [], nil),
                    ("Bearer \(issued.secret)", all, ["read"], inside),
                    ("Bearer \(issued.secret)", all, ["write"], nil),
                    ("Bearer \(issued.secret)", [.cpanel], [], nil),
                    ("cpanel alice:\(issued.secret)", [.cpanel, .whm], [], nil),
                    ("cpanel bob:\(issued.secret)", all, [], outside),
                    ("Bearer \(expiring.secret)", all, [], nil),
                    ("Bearer \(office.secret)", all, [], inside),
                    ("Bearer \(office.secret)", all, [], outside),
                    ("Bearer \(office.secret)", all, [], nil),
                    ("Bearer \(revoked.secret)", all, [], nil),
                    ("Bearer \(unknown)", all, [], inside),
                    ("Bearer not-a-token", all, [], nil),
                    ("Basic YWxpY2U6c2VjcmV0", all, [], nil),
                    (nil, all, [], outside),
                ]
        pair.immediateAudit.removeAll()
        try await whileRunning(pair.immediate) { () async throws in
            for (header, schemes, scopes, address) in cases {
                let immediate = try pair.immediate.validateImmediately(
                    authorization: header,
                    accepting: schemes,
                    requiring: scopes,
                    from: address
                )
                let awaited = try await pair.awaited.validate(
                    authorization: header,
                    accepting: schemes,
                    requiring: scopes,
                    from: address
                )
                #expect(immediate != nil, "\(header ?? "no header") needed waiting")
                #expect(immediate == awaited, "\(header ?? "no header")")
            }
        }
        // The same events, whole: kind, owner, token, reason, detail, address and time.
        #expect(pair.immediateAudit.events == pair.awaitedAudit.events)
        #expect(pair.immediateAudit.events.filter { $0.kind == .validationFailed }.count == 10)
        #expect(pair.immediateAudit.events.contains { $0.kind == .expiringSoon })
    }

    @Test func aValidUseIsWrittenByRun() async throws {
        let store = InMemoryTokenStore()
        let manager = TokenManager(store: store, configuration: .init(lastUsedInterval: .milliseconds(10)))
        let issued = try await manager.create(owner: "alice", name: "deploy")
        try await whileRunning(manager) { () async throws in
            #expect(try manager.validateImmediately(authorization: "Bearer \(issued.secret)")?.record != nil)
        }
        // run() wrote the use before it returned.
        #expect(try await store.record(id: issued.record.id)?.lastUsedAt != nil)
    }

    @Test func needsWaitingBeforeTheHasherIsBound() async throws {
        let store = InMemoryTokenStore()
        let issued = try await TokenManager(store: store).create(owner: "alice", name: "deploy")
        let audit = RecordingAuditSink()
        let manager = TokenManager(store: store, configuration: .init(auditSink: audit))
        try await whileRunning(manager) { () async throws in
            #expect(try manager.validateImmediately(authorization: "Bearer \(issued.secret)") == nil)
            #expect(try manager.validateImmediately(authorization: nil) == nil)
            // The awaited call binds it; then the manager answers at once.
            #expect(try await manager.validate(authorization: "Bearer \(issued.secret)").record != nil)
            #expect(try manager.validateImmediately(authorization: "Bearer \(issued.secret)")?.record != nil)
        }
        #expect(audit.events.isEmpty)
    }

    @Test func needsWaitingWhenRunIsNotRunning() async throws {
        let fixture = ManagerFixture()
        let issued = try await fixture.manager.create(owner: "alice", name: "deploy")
        fixture.audit.removeAll()
        #expect(try fixture.manager.validateImmediately(authorization: "Bearer \(issued.secret)") == nil)
        #expect(try fixture.manager.validateImmediately(authorization: "Bearer nope") == nil)
        #expect(fixture.audit.events.isEmpty)
        #expect(fixture.manager.health.pendingUses == 0)
    }

    @Test func needsWaitingWhenTheStoreCannotAnswerAtOnce() async throws {
        // CountingStore does not implement immediateRecord(forDigest:): every look-up waits.
        let store = CountingStore()
        let audit = RecordingAuditSink()
        let manager = TokenManager(store: store, configuration: .init(auditSink: audit))
        let issued = try await manager.create(owner: "alice", name: "deploy")
        audit.removeAll()
        try await whileRunning(manager) { () async throws in
            #expect(try manager.validateImmediately(authorization: "Bearer \(issued.secret)") == nil)
            #expect(try manager.validateImmediately(authorization: "Bearer \(TokenFormat.default.generate())") == nil)
            #expect(audit.events.isEmpty)
            #expect(manager.health.pendingUses == 0)
            // What needs no store is still answered at once.
            #expect(try manager.validateImmediately(authorization: nil) == .rejected(.missingCredentials))
            #expect(try manager.validateImmediately(authorization: "Bearer x") == .rejected(.malformed))
        }
        #expect(audit.events.map(\.rejection) == [.missingCredentials, .malformed])
    }
}
