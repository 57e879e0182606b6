import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import HummingbirdTesting
import NIOCore
import Testing
import TokenKit
import TokenKitHummingbird
import TokenKitTesting

struct TokenAuthenticatorTests {
    /// The one body every refused request gets from ``TokenErrorMiddleware``'s JSON format.
    static let unauthorizedBody =
        #"{"error":{"code":"unauthorized","message":"Authentication failed: the API token is not valid."}}"#

    @Test func aValidBearerTokenIsTheIdentity() async throws {
        let fixture = Fixture()
        let secret = try await fixture.token()
        try await makeApplication(fixture).test(.router) { client in
            let response = try await client.execute(
                uri: "/api/whoami",
                method: .get,
                headers: .auth("Bearer \(secret)")
            )
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "alice")
        }
    }

    @Test(arguments: ["cpanel", "whm", "CPANEL"])
    func cPanelSchemesNameTheOwner(scheme: String) async throws {
        let fixture = Fixture()
        let secret = try await fixture.token()
        try await makeApplication(fixture).test(.router) { client in
            let response = try await client.execute(
                uri: "/cpanel/whoami",
                method: .get,
                headers: .auth("\(scheme) alice:\(secret)")
            )
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "alice")
        }
    }

    /// Every way a request can fail to authenticate.
    enum Refusal: String, CaseIterable, Sendable {
        case missing
        case empty
        case malformed
        case unknown
        case expired
        case revoked
        case disabled
        case wrongScheme
        case schemeNotAccepted
        case wrongUser
    }

    @Test(arguments: Refusal.allCases)
    func everyRefusalIsTheSame401WithAChallenge(refusal: Refusal) async throws {
        let fixture = Fixture()
        let secret = try await fixture.token(expiry: .after(.seconds(86_400)))
        var uri = "/api/whoami"
        var authorization: String? = "Bearer \(secret)"
        let reason: RejectionReason
        switch refusal {
        case .missing:
            authorization = nil
            reason = .missingCredentials
        case .empty:
            authorization = "  "
            reason = .missingCredentials
        case .malformed:
            authorization = "Bearer tk_notAToken"
            reason = .malformed
        case .unknown:
            let stranger = try await TokenManager(store: InMemoryTokenStore()).create(owner: "alice", name: "ci")
            authorization = "Bearer \(stranger.secret)"
            reason = .unknown
        case .expired:
            fixture.clock.advance(by: .seconds(2 * 86_400))
            reason = .expired
        case .revoked:
            try await fixture.manager.revoke(owner: "alice", name: "ci")
            reason = .revoked
        case .disabled:
            try await fixture.manager.disable(owner: "alice", name: "ci")
            reason = .disabled
        case .wrongScheme:
            authorization = "Basic \(secret)"
            reason = .schemeNotAccepted
        case .schemeNotAccepted:
            authorization = "cpanel alice:\(secret)"  // the /api group takes Bearer only
            reason = .schemeNotAccepted
        case .wrongUser:
            uri = "/cpanel/whoami"
            authorization = "cpanel bob:\(secret)"
            reason = .wrongOwner
        }
        try await makeApplication(fixture).test(.router) { [uri, authorization] client in
            let response = try await client.execute(uri: uri, method: .get, headers: .auth(authorization))
            #expect(response.status == .unauthorized)
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            #expect(String(buffer: response.body) == Self.unauthorizedBody)
        }
        // The client learns nothing; the audit trail has the reason.
        #expect(fixture.audit.events.last?.kind == .validationFailed)
        #expect(fixture.audit.events.last?.rejection == reason)
    }

    @Test func aRefusedTokenLeavesTheRequestToTheNextAuthenticator() async throws {
        let fixture = Fixture()
        let router = Router(context: TestContext.self)
        router.add(middleware: TokenAuthenticator(manager: fixture.manager))
        router.get("optional") { _, context in context.identity?.owner ?? "anonymous" }
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(uri: "/optional", method: .get, headers: .auth("Bearer tk_bad"))
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "anonymous")
        }
    }

    @Test func aScopePolicyAnswers403ForAMissingScope() async throws {
        let fixture = Fixture()
        let reader = try await fixture.token(name: "reader", scopes: ["dns:read"])
        let writer = try await fixture.token(name: "writer", scopes: ["dns:read", "dns:write"])
        let full = try await fixture.token(name: "full")
        try await makeApplication(fixture).test(.router) { client in
            let denied = try await client.execute(uri: "/dns/records", method: .get, headers: .auth("Bearer \(reader)"))
            #expect(denied.status == .forbidden)
            let allowed = try await client.execute(
                uri: "/dns/records",
                method: .get,
                headers: .auth("Bearer \(writer)")
            )
            #expect(allowed.status == .ok)
            #expect(String(buffer: allowed.body) == "writer")
            // No scopes is full access, as everywhere in TokenKit.
            let fullAccess = try await client.execute(
                uri: "/dns/records",
                method: .get,
                headers: .auth("Bearer \(full)")
            )
            #expect(fullAccess.status == .ok)
            let anonymous = try await client.execute(uri: "/dns/records", method: .get)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    @Test func scopesRequiredByTheAuthenticatorAnswer403AndAreAudited() async throws {
        let fixture = Fixture()
        let reader = try await fixture.token(name: "reader", scopes: ["dns:read"])
        let full = try await fixture.token(name: "full")
        try await makeApplication(fixture).test(.router) { client in
            let denied = try await client.execute(
                uri: "/strict/records",
                method: .get,
                headers: .auth("Bearer \(reader)")
            )
            #expect(denied.status == .forbidden)
            #expect(fixture.audit.events.last?.rejection == .missingScope)
            let allowed = try await client.execute(
                uri: "/strict/records",
                method: .get,
                headers: .auth("Bearer \(full)")
            )
            #expect(allowed.status == .ok)
        }
    }

    @Test func aScopePolicyHasTokenKitSemanticsAndComposes() async throws {
        let policy = TokenScopePolicy("dns:write", "dns:read")
        #expect(policy.scopes == ["dns:write", "dns:read"])
        let request = Request(
            head: .init(method: .get, scheme: "http", authority: "localhost", path: "/"),
            body: .init(buffer: ByteBuffer())
        )
        let record = TokenRecord.fixture(scopes: ["dns:read"])
        #expect(try await !policy.isAuthorized(identity: record, request: request))
        #expect(try await TokenScopePolicy("dns:read").isAuthorized(identity: record, request: request))
        #expect(try await TokenScopePolicy([]).isAuthorized(identity: record, request: request))
        #expect(try await TokenScopePolicy().isAuthorized(identity: .fixture(scopes: []), request: request))
        let either = anyOf {
            TokenScopePolicy("dns:write")
            TokenScopePolicy("dns:read")
        }
        #expect(try await either.isAuthorized(identity: record, request: request))
    }
}
