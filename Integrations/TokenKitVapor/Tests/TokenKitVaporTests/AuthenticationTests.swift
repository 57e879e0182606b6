import Testing
import TokenKit
import TokenKitTesting
import TokenKitVapor
import Vapor

struct AuthenticationTests {
    @Test func validBearerTokenIsServed() async throws {
        try await TestApplication.run { test in
            let issued = try await test.manager.create(owner: "alice", name: "deploy")
            let response = try await test.send("/bearer", authorization: "Bearer \(issued.secret)")
            #expect(response.status == .ok)
            #expect(response.body == "alice/deploy")
        }
    }

    @Test(arguments: ["cpanel", "whm"])
    func validCPanelTokenIsServed(scheme: String) async throws {
        try await TestApplication.run { test in
            let issued = try await test.manager.create(owner: "alice", name: "deploy")
            let response = try await test.send("/cpanel", authorization: "\(scheme) alice:\(issued.secret)")
            #expect(response.status == .ok)
            #expect(response.body == "alice/deploy")
        }
    }

    @Test func chainedAuthenticatorsEachAcceptTheirScheme() async throws {
        try await TestApplication.run { test in
            let issued = try await test.manager.create(owner: "alice", name: "deploy")
            #expect(try await test.send("/either", authorization: "Bearer \(issued.secret)").status == .ok)
            #expect(try await test.send("/either", authorization: "cpanel alice:\(issued.secret)").status == .ok)
        }
    }

    /// Every way a token can fail, with the reason the audit log must record.
    enum Refusal: String, CaseIterable, CustomStringConvertible {
        case missing, malformed, unknown, expired, revoked, disabled
        case cpanelOnBearerRoute, bearerOnCPanelRoute, wrongUser

        var description: String { rawValue }

        var auditedReason: RejectionReason {
            switch self {
            case .missing: .missingCredentials
            case .malformed: .malformed
            case .cpanelOnBearerRoute, .bearerOnCPanelRoute: .schemeNotAccepted
            case .unknown: .unknown
            case .expired: .expired
            case .revoked: .revoked
            case .disabled: .disabled
            case .wrongUser: .wrongOwner
            }
        }
    }

    @Test(arguments: Refusal.allCases)
    func refusedTokenGets401WithChallenge(refusal: Refusal) async throws {
        try await TestApplication.run { test in
            let manager = test.manager
            let issued = try await manager.create(owner: "alice", name: "deploy", expiry: .after(.seconds(3_600)))
            let secret = issued.secret
            let (path, authorization): (String, String?)
            switch refusal {
            case .missing:
                (path, authorization) = ("/bearer", nil)
            case .malformed:
                (path, authorization) = ("/bearer", "Bearer tk_nonsense")
            case .unknown:
                let stranger = try await TokenManager(store: InMemoryTokenStore()).create(owner: "alice", name: "x")
                (path, authorization) = ("/bearer", "Bearer \(stranger.secret)")
            case .expired:
                test.clock.advance(by: .seconds(3_601))
                (path, authorization) = ("/bearer", "Bearer \(secret)")
            case .revoked:
                try await manager.revoke(owner: "alice", name: "deploy")
                (path, authorization) = ("/bearer", "Bearer \(secret)")
            case .disabled:
                try await manager.disable(owner: "alice", name: "deploy")
                (path, authorization) = ("/bearer", "Bearer \(secret)")
            case .cpanelOnBearerRoute:
                (path, authorization) = ("/bearer", "cpanel alice:\(secret)")
            case .bearerOnCPanelRoute:
                (path, authorization) = ("/cpanel", "Bearer \(secret)")
            case .wrongUser:
                (path, authorization) = ("/cpanel", "cpanel bob:\(secret)")
            }

            let response = try await test.send(path, authorization: authorization)

            #expect(response.status == .unauthorized)
            #expect(response.headers.first(name: .wwwAuthenticate) == "Bearer")
            #expect(!response.body.contains(refusal.auditedReason.code), "the reason stays out of the response")
            #expect(test.failureLog("token.reason") == ["\(refusal.auditedReason)"])
        }
    }

    @Test func storeFailureAnswers503WithoutDetails() async throws {
        try await TestApplication.run(provider: .store(FailingTokenStore())) { test in
            let response = try await test.send("/bearer", authorization: "Bearer \(try await validLookingSecret())")
            #expect(response.status == .serviceUnavailable)
            #expect(!response.body.contains(FailingTokenStore.path))
            #expect(test.logText.contains { $0.contains(FailingTokenStore.path) }, "the details are in the log")
        }
    }

    /// A well-formed token the test's store has never seen.
    private func validLookingSecret() async throws -> String {
        try await TokenManager(store: InMemoryTokenStore()).create(owner: "alice", name: "x").secret
    }
}
