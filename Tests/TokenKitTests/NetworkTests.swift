import Testing
import TokenKit

struct IPAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1", IPAddress.Family.ipv4),
        ("0.0.0.0", "0.0.0.0", .ipv4),
        ("255.255.255.255", "255.255.255.255", .ipv4),
        ("2001:db8::1", "2001:db8::1", .ipv6),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1", .ipv6),
        ("::", "::", .ipv6),
        ("::1", "::1", .ipv6),
        ("::ffff:192.0.2.1", "192.0.2.1", .ipv4),
    ])
    func parses(text: String, canonical: String, family: IPAddress.Family) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == canonical)
        #expect(address.family == family)
    }

    @Test(arguments: [
        "", " 192.0.2.1", "192.0.2.1 ", "192.0.2", "192.0.2.256", "192.0.2.1.5", "01.2.3.4", "1.2.3.4\0",
        "fe80::1%eth0", "[::1]", "2001:db8:::1", "2001:db8::1::2", "g::1", "localhost", "1.2.3.4/32",
        String(repeating: "1", count: 100),
    ])
    func rejects(_ text: String) {
        #expect(IPAddress(text) == nil)
    }
}

struct IPNetworkTests {
    @Test(arguments: [
        ("192.0.2.0/24", "192.0.2.0/24"),
        ("192.0.2.7", "192.0.2.7/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("::/0", "::/0"),
        ("2001:db8::1", "2001:db8::1/128"),
        ("::ffff:192.0.2.0/120", "192.0.2.0/24"),
    ])
    func parses(text: String, canonical: String) throws {
        #expect(try IPNetwork(parsing: text).description == canonical)
    }

    @Test(arguments: [
        "", "/24", "192.0.2.0/", "192.0.2.0/33", "192.0.2.0/-1", "192.0.2.0/+8", "192.0.2.0/ 8",
        "192.0.2.1/24", "2001:db8::/129", "2001:db8::1/32", "192.0.2.0/24/8", "::ffff:192.0.2.0/64", "nonsense",
        "192.0.2.0/0024",
    ])
    func rejects(_ text: String) {
        #expect(throws: TokenKitError.self) { try IPNetwork(parsing: text) }
        #expect(IPNetwork(text) == nil)
    }

    @Test func theNetworkContainingAnAddress() throws {
        func network(_ address: String, _ prefixLength: Int) throws -> String {
            try IPNetwork(containing: IPAddress(address)!, prefixLength: prefixLength).description
        }
        #expect(try network("192.0.2.77", 24) == "192.0.2.0/24")
        #expect(try network("2001:db8:1:2:3::1", 64) == "2001:db8:1:2::/64")
        #expect(try network("2001:db8::1", 128) == "2001:db8::1/128")
        #expect(try network("10.1.2.3", 0) == "0.0.0.0/0")
        #expect(throws: TokenKitError.self) { try IPNetwork(containing: IPAddress("10.1.2.3")!, prefixLength: 33) }
        #expect(throws: TokenKitError.self) { try IPNetwork(containing: IPAddress("::1")!, prefixLength: -1) }
    }

    @Test func hostBitsErrorSuggestsTheNetwork() {
        #expect {
            try IPNetwork(parsing: "10.1.2.3/8")
        } throws: { error in
            let error = error as? TokenKitError
            return error?.code == .invalidNetwork && error?.message.contains("10.0.0.0/8") == true
        }
    }

    @Test(arguments: [
        ("192.0.2.0/24", "192.0.2.0", true),
        ("192.0.2.0/24", "192.0.2.255", true),
        ("192.0.2.0/24", "192.0.3.0", false),
        ("192.0.2.0/24", "::ffff:192.0.2.9", true),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("0.0.0.0/0", "2001:db8::1", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("2001:db8::/33", "2001:db8:8000::1", false),
        ("2001:db8::1", "2001:db8::1", true),
        ("2001:db8::1", "2001:db8::2", false),
        ("::/0", "192.0.2.1", false),
        ("10.0.0.0/31", "10.0.0.1", true),
        ("10.0.0.0/31", "10.0.0.2", false),
    ])
    func contains(network: String, address: String, expected: Bool) throws {
        let network = try IPNetwork(parsing: network)
        let address = try #require(IPAddress(address))
        #expect(network.contains(address) == expected)
    }
}
