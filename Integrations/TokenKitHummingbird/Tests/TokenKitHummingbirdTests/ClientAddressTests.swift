import HTTPTypes
import Hummingbird
import HummingbirdAuth
import HummingbirdTesting
import NIOCore
import Testing
import TokenKit
import TokenKitHummingbird
import TokenKitTesting

/// Allow-listed tokens, the connection's address, and trusted proxies' forwarding headers. The
/// addresses are documentation ranges (RFC 5737, RFC 3849): the proxies are 192.0.2.0/24, the
/// token is allowed from 203.0.113.0/24, and 198.51.100.9 is a stranger.
struct ClientAddressTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let peer: String?
        var xForwardedFor: String? = nil
        var forwarded: String? = nil
        let accepted: Bool
    }

    static let cases: [Case] = [
        Case(testDescription: "the client itself", peer: "203.0.113.7", accepted: true),
        Case(testDescription: "the client as IPv4-mapped IPv6", peer: "::ffff:203.0.113.7", accepted: true),
        Case(testDescription: "a stranger", peer: "198.51.100.9", accepted: false),
        Case(testDescription: "an unknown peer", peer: nil, accepted: false),
        Case(
            testDescription: "a trusted proxy's X-Forwarded-For",
            peer: "192.0.2.10",
            xForwardedFor: "203.0.113.7",
            accepted: true
        ),
        Case(
            testDescription: "a Forwarded header the proxies do not write (ignored)",
            peer: "192.0.2.10",
            forwarded: "for=203.0.113.7;proto=https",
            accepted: false
        ),
        Case(
            testDescription: "a client's own Forwarded passed through beside X-Forwarded-For",
            peer: "192.0.2.10",
            xForwardedFor: "203.0.113.7",
            forwarded: "for=198.51.100.9",
            accepted: true
        ),
        Case(
            testDescription: "a chain of trusted proxies",
            peer: "192.0.2.10",
            xForwardedFor: "203.0.113.7, 192.0.2.11",
            accepted: true
        ),
        Case(
            testDescription: "a client's forged hop behind a trusted proxy",
            peer: "192.0.2.10",
            xForwardedFor: "203.0.113.7, 198.51.100.9",
            accepted: false
        ),
        Case(
            testDescription: "an untrusted peer's X-Forwarded-For",
            peer: "198.51.100.9",
            xForwardedFor: "203.0.113.7",
            accepted: false
        ),
        Case(
            testDescription: "an untrusted peer's Forwarded",
            peer: "198.51.100.9",
            forwarded: "for=203.0.113.7",
            accepted: false
        ),
        Case(
            testDescription: "a trusted proxy that hides the client",
            peer: "192.0.2.10",
            forwarded: "for=unknown",
            accepted: false
        ),
    ]

    @Test(arguments: cases)
    func anAllowListedTokenIsCheckedAgainstTheRealClient(_ test: Case) async throws {
        let fixture = Fixture()
        let secret = try await fixture.token(allowedNetworks: ["203.0.113.0/24"])
        var headers = HTTPFields.auth("Bearer \(secret)", peer: test.peer)
        if let value = test.xForwardedFor { headers[.xForwardedFor] = value }
        if let value = test.forwarded { headers[.forwarded] = value }
        try await makeApplication(fixture, trustedProxies: ["192.0.2.0/24"]).test(.router) { [headers] client in
            let response = try await client.execute(uri: "/api/whoami", method: .get, headers: headers)
            #expect(response.status == (test.accepted ? .ok : .unauthorized))
        }
        if !test.accepted {
            #expect(fixture.audit.events.last?.rejection == .addressNotAllowed)
        }
    }

    /// Over a real connection, through ``TokenRequestContext``: the peer is the loopback address.
    @Test func theConnectionsAddressComesFromTheChannel() async throws {
        let fixture = Fixture()
        let loopback = ["127.0.0.0/8", "::1/128"]
        let local = try await fixture.token(name: "local", allowedNetworks: loopback)
        let remote = try await fixture.token(name: "remote", allowedNetworks: ["203.0.113.0/24"])
        let proxies = try loopback.map { try IPNetwork(parsing: $0) }
        let router = Router(context: TokenRequestContext.self)
        router.add(middleware: TokenErrorMiddleware())
        router.group("direct")
            .add(middleware: TokenAuthenticator(manager: fixture.manager))
            .add(middleware: IsAuthenticatedMiddleware())
            .get { _, context in try context.requireIdentity().name }
        router.group("proxied")
            .add(middleware: TokenAuthenticator(manager: fixture.manager, trustedProxies: proxies))
            .add(middleware: IsAuthenticatedMiddleware())
            .get { _, context in try context.requireIdentity().name }
        try await Application(router: router).test(.live) { client in
            let forwarded: HTTPFields = [.authorization: "Bearer \(remote)", .xForwardedFor: "203.0.113.7"]
            let local = try await client.execute(uri: "/direct", method: .get, headers: .auth("Bearer \(local)"))
            #expect(local.status == .ok)
            let remote = try await client.execute(uri: "/direct", method: .get, headers: .auth("Bearer \(remote)"))
            #expect(remote.status == .unauthorized)
            let untrusted = try await client.execute(uri: "/direct", method: .get, headers: forwarded)
            #expect(untrusted.status == .unauthorized)
            let trusted = try await client.execute(uri: "/proxied", method: .get, headers: forwarded)
            #expect(trusted.status == .ok)
            #expect(String(buffer: trusted.body) == "remote")
        }
    }

    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8::1", "2001:db8::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("::1", "::1"),
    ])
    func socketAddressesConvert(socket: String, expected: String) throws {
        let address = try SocketAddress(ipAddress: socket, port: 443)
        #expect(IPAddress(address)?.description == expected)
        #expect(IPAddress(address)?.family == (expected.contains(":") ? .ipv6 : .ipv4))
    }

    @Test func aUnixSocketHasNoIPAddress() throws {
        let path = "/tmp/tokenkit-hummingbird-test.sock"
        #expect(IPAddress(try SocketAddress(unixDomainSocketPath: path)) == nil)
    }
}
