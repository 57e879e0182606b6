/// An IPv4 or IPv6 network in CIDR notation, one entry of a token's allow-list.
///
/// `192.0.2.0/24` and `2001:db8::/32` are networks; a bare address is the network of that address
/// alone (`/32` or `/128`).
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    /// The network's first address.
    public let address: IPAddress
    /// How many leading bits of an address must match ``address``.
    public let prefixLength: Int

    /// Creates a network from an address and a prefix length.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidNetwork`` when the prefix
    ///   length is out of range for the family, or the address has bits set beyond it.
    public init(address: IPAddress, prefixLength: Int) throws(TokenKitError) {
        guard (0...address.family.bitCount).contains(prefixLength) else {
            throw TokenKitError(
                .invalidNetwork,
                "The prefix length /\(prefixLength) is out of range for \(address): use 0 to \(address.family.bitCount)."
            )
        }
        let mask = Self.mask(prefixLength, family: address.family)
        guard address.high & ~mask.high == 0, address.low & ~mask.low == 0 else {
            let base = IPAddress(family: address.family, high: address.high & mask.high, low: address.low & mask.low)
            throw TokenKitError(
                .invalidNetwork,
                "\(address)/\(prefixLength) has host bits set; did you mean \(base)/\(prefixLength)?"
            )
        }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// The network of `prefixLength` bits that contains `address`: `192.0.2.77` and 24 give
    /// `192.0.2.0/24`, `2001:db8::1` and 64 give `2001:db8::/64`.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidNetwork`` when the prefix
    ///   length is out of range for the address's family.
    public init(containing address: IPAddress, prefixLength: Int) throws(TokenKitError) {
        guard (0...address.family.bitCount).contains(prefixLength) else {
            // The designated initialiser says what is wrong.
            try self.init(address: address, prefixLength: prefixLength)
            return
        }
        let mask = Self.mask(prefixLength, family: address.family)
        try self.init(
            address: IPAddress(family: address.family, high: address.high & mask.high, low: address.low & mask.low),
            prefixLength: prefixLength
        )
    }

    /// Parses `ADDRESS` or `ADDRESS/PREFIX`.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidNetwork`` that quotes the
    ///   text and says what is wrong.
    public init(parsing text: String) throws(TokenKitError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else {
            throw TokenKitError(
                .invalidNetwork,
                "\"\(text.prefix(64))\" is not an IP address or CIDR range; use a form like 192.0.2.0/24 or 2001:db8::/32."
            )
        }
        guard parts.count == 2 else {
            try self.init(address: address, prefixLength: address.family.bitCount)
            return
        }
        let digits = parts[1]
        guard (1...3).contains(digits.count), digits.utf8.allSatisfy({ (48...57).contains($0) }),
            var prefixLength = Int(digits)
        else {
            throw TokenKitError(
                .invalidNetwork,
                "\"\(text.prefix(64))\" has no valid prefix length after \"/\"; use a number such as /24."
            )
        }
        // An IPv4-mapped IPv6 network (::ffff:192.0.2.0/120) is the IPv4 network it maps.
        if address.family == .ipv4 && parts[0].contains(":") {
            guard prefixLength >= 96 else {
                throw TokenKitError(
                    .invalidNetwork,
                    "\"\(text.prefix(64))\" mixes IPv4-mapped and other IPv6 addresses."
                )
            }
            prefixLength -= 96
        }
        try self.init(address: address, prefixLength: prefixLength)
    }

    /// Parses `ADDRESS` or `ADDRESS/PREFIX`, returning `nil` when the text is not a network.
    public init?(_ description: String) {
        do {
            try self.init(parsing: description)
        } catch {
            return nil
        }
    }

    /// Whether `address` lies in this network. An IPv4 address never lies in an IPv6 network.
    public func contains(_ address: IPAddress) -> Bool {
        guard address.family == self.address.family else { return false }
        let mask = Self.mask(prefixLength, family: address.family)
        return address.high & mask.high == self.address.high && address.low & mask.low == self.address.low
    }

    /// The network in CIDR notation, such as `192.0.2.0/24`.
    public var description: String { "\(address)/\(prefixLength)" }

    private static func mask(_ prefixLength: Int, family: IPAddress.Family) -> (high: UInt64, low: UInt64) {
        let bits = family == .ipv4 ? prefixLength + 96 : prefixLength
        let high: UInt64 = bits >= 64 ? .max : (bits == 0 ? 0 : .max << UInt64(64 - bits))
        let low: UInt64 = bits <= 64 ? 0 : (bits >= 128 ? .max : .max << UInt64(128 - bits))
        return family == .ipv4 ? (0, low & 0xffff_ffff) : (high, low)
    }
}

extension [IPNetwork] {
    /// Whether one of the networks contains `address`: what ``TokenRecord/allows(_:)`` and the
    /// index's validation check for a non-empty allow-list and a known address.
    @inline(__always)
    func allow(_ address: IPAddress) -> Bool {
        contains { $0.contains(address) }
    }
}
