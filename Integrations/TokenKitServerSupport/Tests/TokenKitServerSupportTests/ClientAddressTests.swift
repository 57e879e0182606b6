import Testing
import TokenKit
import TokenKitServerSupport

struct ClientAddressTests {
    let proxy = IPAddress("10.0.0.5")
    let resolver = ClientAddressResolver(trustedProxies: [try! IPNetwork(parsing: "10.0.0.0/8")])

    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"),
        ("192.0.2.1:8080", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("\"[2001:db8::1]:443\"", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
    ])
    func parsesSocketAddresses(_ text: String, _ expected: String) {
        #expect(IPAddress(socketAddressText: text) == IPAddress(expected))
    }

    @Test(arguments: ["unknown", "_hidden", "", "[2001:db8::1", "300.1.1.1"])
    func refusesWhatIsNotAnAddress(_ text: String) {
        #expect(IPAddress(socketAddressText: text) == nil)
    }

    @Test func anUntrustedPeersHeadersAreIgnored() {
        let peer = IPAddress("198.51.100.7")
        #expect(resolver.clientAddress(peer: peer, forwarded: [], xForwardedFor: ["192.0.2.1"]) == peer)
        #expect(resolver.clientAddress(peer: peer, forwarded: ["for=192.0.2.1"], xForwardedFor: []) == peer)
        #expect(
            ClientAddressResolver().clientAddress(peer: proxy, forwarded: [], xForwardedFor: ["192.0.2.1"]) == proxy
        )
    }

    @Test func aTrustedProxysHeaderNamesTheClient() {
        let client = IPAddress("192.0.2.1")
        #expect(resolver.clientAddress(peer: proxy, forwarded: [], xForwardedFor: ["192.0.2.1"]) == client)
        // A client can prepend anything; the right-most untrusted hop is the one the proxy saw.
        let spoofed = resolver.clientAddress(peer: proxy, forwarded: [], xForwardedFor: ["203.0.113.9, 192.0.2.1"])
        #expect(spoofed == client)
        // Chains of trusted proxies are walked past.
        #expect(resolver.clientAddress(peer: proxy, forwarded: [], xForwardedFor: ["192.0.2.1", "10.1.1.1"]) == client)
        #expect(resolver.clientAddress(peer: proxy, forwarded: [], xForwardedFor: []) == proxy)
    }

    /// Only the header the proxies write is read: a client's own `Forwarded`, passed through by a
    /// proxy that writes `X-Forwarded-For`, changes nothing.
    @Test func onlyTheConfiguredHeaderIsRead() {
        let client = IPAddress("192.0.2.1")
        let forged = ["for=198.51.100.99", "for=unknown", "proto=http"]
        for value in forged {
            #expect(resolver.clientAddress(peer: proxy, forwarded: [value], xForwardedFor: ["192.0.2.1"]) == client)
        }
        let viaForwarded = ClientAddressResolver(trustedProxies: resolver.trustedProxies, header: .forwarded)
        let forwarded = ["for=192.0.2.60;proto=http;by=203.0.113.43", "For=\"[2001:db8:cafe::17]:4711\""]
        #expect(
            viaForwarded.clientAddress(peer: proxy, forwarded: forwarded, xForwardedFor: ["198.51.100.1"])
                == IPAddress("2001:db8:cafe::17")
        )
        #expect(viaForwarded.clientAddress(peer: proxy, forwarded: ["for=unknown"], xForwardedFor: []) == nil)
        #expect(viaForwarded.clientAddress(peer: proxy, forwarded: ["proto=https"], xForwardedFor: []) == nil)
    }
}
