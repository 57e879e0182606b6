import Testing
import TokenKit
import TokenKitServerSupport
import TokenKitVapor
import Vapor
import VaporTesting

/// Tokens with an IP allow-list, reached directly and through proxies.
struct ClientAddressTests {
    private static let office = try! IPNetwork(parsing: "203.0.113.0/24")

    private static func options(
        trusting proxies: [String],
        header: ClientAddressResolver.ForwardingHeader = .xForwardedFor
    ) throws -> Application.Tokens.Options {
        Application.Tokens.Options(
            trustedProxies: try proxies.map { try IPNetwork(parsing: $0) },
            forwardingHeader: header
        )
    }

    private static func officeToken(_ test: TestApplication) async throws -> String {
        try await test.manager.create(owner: "alice", name: "office", allowedNetworks: [office]).secret
    }

    @Test(arguments: ["203.0.113.7", "::ffff:203.0.113.7"])
    func allowListedPeerIsServed(peer: String) async throws {
        try await TestApplication.run { test in
            let secret = try await Self.officeToken(test)
            let response = try await test.send("/bearer", from: peer, authorization: "Bearer \(secret)")
            #expect(response.status == .ok)
        }
    }

    @Test func peerOutsideTheAllowListGets401() async throws {
        try await TestApplication.run { test in
            let secret = try await Self.officeToken(test)
            let response = try await test.send("/bearer", from: "198.51.100.1", authorization: "Bearer \(secret)")
            #expect(response.status == .unauthorized)
        }
    }

    @Test(arguments: [
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Forwarded-For", "192.0.2.99, 203.0.113.7"),
        ("Forwarded", "for=203.0.113.7;proto=https"),
    ])
    func allowListedClientIsServedThroughATrustedProxy(header: String, value: String) async throws {
        let written: ClientAddressResolver.ForwardingHeader = header == "Forwarded" ? .forwarded : .xForwardedFor
        try await TestApplication.run(options: try Self.options(trusting: ["10.0.0.0/8"], header: written)) { test in
            let secret = try await Self.officeToken(test)
            let response = try await test.send(
                "/bearer",
                from: "10.1.2.3",
                authorization: "Bearer \(secret)",
                headers: [header: value]
            )
            #expect(response.status == .ok)
        }
    }

    /// Proxies that write `X-Forwarded-For` pass a client's own `Forwarded` through: it is ignored.
    @Test func aClientsOwnForwardedIsIgnoredBehindAnXForwardedForProxy() async throws {
        try await TestApplication.run(options: try Self.options(trusting: ["10.0.0.0/8"])) { test in
            let secret = try await Self.officeToken(test)
            let response = try await test.send(
                "/bearer",
                from: "10.1.2.3",
                authorization: "Bearer \(secret)",
                headers: ["Forwarded": "for=203.0.113.7"]
            )
            #expect(response.status == .unauthorized)
        }
    }

    @Test(arguments: ["X-Forwarded-For", "Forwarded"])
    func forwardingHeaderFromAnUntrustedPeerIsIgnored(header: String) async throws {
        try await TestApplication.run(options: try Self.options(trusting: ["10.0.0.0/8"])) { test in
            let secret = try await Self.officeToken(test)
            let value = header == "Forwarded" ? "for=203.0.113.7" : "203.0.113.7"
            let response = try await test.send(
                "/bearer",
                from: "198.51.100.1",
                authorization: "Bearer \(secret)",
                headers: [header: value]
            )
            #expect(response.status == .unauthorized)
            #expect(test.failureLog("token.reason") == ["address_not_allowed"])
            #expect(test.failureLog("client.address") == ["198.51.100.1"])
        }
    }

    @Test func trustedProxyOverARealConnection() async throws {
        // A live server on loopback: the peer comes from the socket, as in production.
        try await TestApplication.run(options: try Self.options(trusting: ["127.0.0.0/8", "::1/128"])) { test in
            let secret = try await Self.officeToken(test)
            var headers = HTTPHeaders()
            headers.add(name: .authorization, value: "Bearer \(secret)")
            headers.add(name: .xForwardedFor, value: "203.0.113.7")
            let tester = try test.app.testing(method: .running(hostname: "127.0.0.1", port: 0))
            let response = try await tester.sendRequest(.GET, "/bearer", headers: headers)
            #expect(response.status == .ok)
            headers.replaceOrAdd(name: .xForwardedFor, value: "198.51.100.1")
            #expect(try await tester.sendRequest(.GET, "/bearer", headers: headers).status == .unauthorized)
        }
    }
}
