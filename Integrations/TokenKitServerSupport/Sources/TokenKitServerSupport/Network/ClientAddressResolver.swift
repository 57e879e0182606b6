import TokenKit

/// Finds the client's address for IP allow-lists and throttling: the connection's peer, unless the
/// peer is a trusted proxy, in which case the address that proxy reports.
///
/// `Forwarded` (RFC 7239) and `X-Forwarded-For` are believed only when the peer is in
/// ``trustedProxies``: anyone can send those headers. Behind a chain of trusted proxies the list is
/// read from the right (the hop nearest this server) past every trusted address; the first
/// untrusted one is the client. `Forwarded` wins when both are present. A hop that is not an
/// address (`unknown`, an obfuscated identifier) leaves the client unknown (`nil`), so a token
/// with an allow-list is refused rather than matched against a proxy's address.
public struct ClientAddressResolver: Sendable {
    /// The proxies whose forwarding headers are believed.
    public let trustedProxies: [IPNetwork]

    /// Creates a resolver.
    ///
    /// - Parameter trustedProxies: The proxies whose forwarding headers are believed; empty (the
    ///   default) believes none and uses the peer's address.
    public init(trustedProxies: [IPNetwork] = []) {
        self.trustedProxies = trustedProxies
    }

    /// The client's address.
    ///
    /// - Parameters:
    ///   - peer: The connection's remote address, or `nil` when unknown.
    ///   - forwarded: Every `Forwarded` header value, in the order received.
    ///   - xForwardedFor: Every `X-Forwarded-For` header value, in the order received.
    public func clientAddress(peer: IPAddress?, forwarded: [String], xForwardedFor: [String]) -> IPAddress? {
        guard let peer, isTrusted(peer) else { return peer }
        let hops: [Substring]
        if !forwarded.isEmpty {
            hops = forwarded.flatMap { Self.forwardedFor($0) }
        } else {
            hops = xForwardedFor.flatMap { $0.split(separator: ",") }
        }
        guard !hops.isEmpty else { return peer }
        var client = peer
        for hop in hops.reversed() {
            guard let address = IPAddress(socketAddressText: String(hop.trimmingWhitespace())) else { return nil }
            client = address
            if !isTrusted(address) { return address }
        }
        return client
    }

    private func isTrusted(_ address: IPAddress) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// The `for=` value of each element of a `Forwarded` header value, in order (an element
    /// without one contributes nothing).
    static func forwardedFor(_ value: String) -> [Substring] {
        value.split(separator: ",").compactMap { element in
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingWhitespace().lowercased() == "for" else { continue }
                return parts[1].trimmingWhitespace()
            }
            return nil
        }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
