import TokenKit

extension IPAddress {
    /// Parses an address as servers and proxies write it: `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`,
    /// `[2001:db8::1]:443`, or `"[2001:db8::1]"` in quotes (as `Forwarded` writes it). An IPv4
    /// address mapped into IPv6 (`::ffff:192.0.2.1`, as a dual-stack socket reports IPv4 peers)
    /// becomes the IPv4 address, so that IPv4 allow-lists match it.
    public init?(socketAddressText text: String) {
        var host = Substring(text)
        if host.hasPrefix("\""), host.hasSuffix("\""), host.count >= 2 {
            host = host.dropFirst().dropLast()
        }
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            host = host[host.index(after: host.startIndex)..<close]
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            host = host[..<colon]  // IPv4 with a port
        }
        let lowered = host.lowercased()
        if lowered.hasPrefix("::ffff:"), lowered.contains("."),
            let mapped = IPAddress(String(lowered.dropFirst("::ffff:".count)))
        {
            self = mapped
            return
        }
        guard let address = IPAddress(String(host)) else { return nil }
        self = address
    }
}
