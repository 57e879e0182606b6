import Testing
import TokenKit
import TokenKitVapor
import Vapor

struct AuthorizationTests {
    @Test func tokenWithoutTheScopeGets403() async throws {
        try await TestApplication.run { test in
            let issued = try await test.manager.create(owner: "alice", name: "reader", scopes: ["dns:read"])
            let response = try await test.send("/scoped", authorization: "Bearer \(issued.secret)")
            #expect(response.status == .forbidden)
            #expect(response.headers.first(name: .wwwAuthenticate) == #"Bearer error="insufficient_scope""#)
        }
    }

    @Test func tokenWithTheScopeIsServed() async throws {
        try await TestApplication.run { test in
            let issued = try await test.manager.create(owner: "alice", name: "writer", scopes: ["dns:write"])
            #expect(try await test.send("/scoped", authorization: "Bearer \(issued.secret)").status == .ok)
        }
    }

    @Test func tokenWithoutScopesHasFullAccess() async throws {
        try await TestApplication.run { test in
            let issued = try await test.manager.create(owner: "alice", name: "full")
            #expect(try await test.send("/scoped", authorization: "Bearer \(issued.secret)").status == .ok)
            #expect(try await test.send("/audited-scope", authorization: "Bearer \(issued.secret)").status == .ok)
        }
    }

    @Test func unauthenticatedRequestOnAScopedRouteGets401() async throws {
        try await TestApplication.run { test in
            let response = try await test.send("/scoped")
            #expect(response.status == .unauthorized)
            #expect(response.headers.first(name: .wwwAuthenticate) == "Bearer")
        }
    }

    @Test func scopeRequiredByTheAuthenticatorIsAuditedAndGets403() async throws {
        try await TestApplication.run { test in
            let issued = try await test.manager.create(owner: "alice", name: "reader", scopes: ["dns:read"])
            let response = try await test.send("/audited-scope", authorization: "Bearer \(issued.secret)")
            #expect(response.status == .forbidden)
            #expect(test.failureLog("token.reason") == ["missing_scope"])
        }
    }
}
