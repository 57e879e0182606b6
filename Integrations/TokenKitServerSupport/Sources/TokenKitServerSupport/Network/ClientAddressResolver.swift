import TokenKit

/// Finds the client's address for IP allow-lists and throttling: the connection's peer, unless the
/// peer is a trusted proxy, in which case the address that proxy reports.
///
/// The forwarding header is believed only when the peer is in ``trustedProxies`` — anyone can send
/// one — and only the header the proxies write (``header``): a proxy that writes `X-Forwarded-For`
/// passes a client's own `Forwarded` through untouched, so reading both would let a client choose
/// its address. Behind a chain of trusted proxies the list is read from the right (the hop nearest
/// this server) past every trusted address; the first untrusted one is the client. A hop that is
/// not an address (`unknown`, an obfuscated identifier, a `Forwarded` element without `for=`)
/// leaves the client unknown (`nil`), so a token with an allow-list is refused rather than matched
/// against a proxy's address.
public struct ClientAddressResolver: Sendable {
    /// The header trusted proxies write.
    public enum ForwardingHeader: Sendable {
        /// `X-Forwarded-For: client, proxy1, …`, as nginx, HAProxy and most load balancers write it.
        case xForwardedFor
        /// `Forwarded: for=client, for=proxy1` (RFC 7239).
        case forwarded
    }

    /// The proxies whose forwarding header is believed.
    public let trustedProxies: [IPNetwork]
    /// The header they write; the other is ignored.
    public let header: ForwardingHeader

    /// Creates a resolver.
    ///
    /// - Parameters:
    ///   - trustedProxies: The proxies whose forwarding header is believed; empty (the default)
    ///     believes none and uses the peer's address.
    ///   - header: The header those proxies write. Default: `X-Forwarded-For`.
    public init(trustedProxies: [IPNetwork] = [], header: ForwardingHeader = .xForwardedFor) {
        self.trustedProxies = trustedProxies
        self.header = header
    }

    /// The client's address.
    ///
    /// - Parameters:
    ///   - peer: The connection's remote address, or `nil` when unknown.
    ///   - forwarded: Every `Forwarded` header value, in the order received.
    ///   - xForwardedFor: Every `X-Forwarded-For` header value, in the order received.
    public func clientAddress(peer: IPAddress?, forwarded: [String], xForwardedFor: [String]) -> IPAddress? {
        guard let peer, isTrusted(peer) else { return peer }
        let hops: [Substring?]
        switch header {
        case .xForwardedFor: hops = xForwardedFor.flatMap { $0.split(separator: ",").map(Optional.some) }
        case .forwarded: hops = forwarded.flatMap { Self.forwardedFor($0) }
        }
        guard !hops.isEmpty else { return peer }
        var client = peer
        for hop in hops.reversed() {
            guard let hop, let address = IPAddress(socketAddressText: String(hop.trimmingWhitespace())) else {
                return nil
            }
            client = address
            if !isTrusted(address) { return address }
        }
        return client
    }

    private func isTrusted(_ address: IPAddress) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// The `for=` value of each element of a `Forwarded` header value, in order; `nil` for an
    /// element without one (a hop whose client is unknown).
    static func forwardedFor(_ value: String) -> [Substring?] {
        value.split(separator: ",").map { element in
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
