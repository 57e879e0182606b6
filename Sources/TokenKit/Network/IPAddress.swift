#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An IPv4 or IPv6 address, as a client presents it when a token is validated.
///
/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are stored as the IPv4 address they carry, so
/// a dual-stack server matches them against IPv4 allow-lists.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address family.
    public enum Family: Hashable, Sendable {
        /// A 32-bit IPv4 address.
        case ipv4
        /// A 128-bit IPv6 address.
        case ipv6

        var bitCount: Int { self == .ipv4 ? 32 : 128 }
    }

    /// The address's family.
    public let family: Family
    /// The address bits, most significant first. An IPv4 address uses the low 32 bits of `low`.
    let high: UInt64
    let low: UInt64

    init(family: Family, high: UInt64, low: UInt64) {
        self.family = family
        self.high = high
        self.low = low
    }

    /// Whether this is an IPv6 address in the IPv4-mapped range (`::ffff:0:0/96`). Parsing turns
    /// those into IPv4 addresses, so only the memberwise initialiser makes one.
    var isIPv4MappedIPv6: Bool { family == .ipv6 && high == 0 && low >> 32 == 0xffff }

    /// Parses an address in the usual text forms: `192.0.2.1`, `2001:db8::1`, `::ffff:192.0.2.1`.
    ///
    /// - Returns: `nil` for anything else, including zone ids (`fe80::1%eth0`), IPv4 with leading
    ///   zeros, surrounding space and brackets.
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= 45, !text.utf8.contains(0) else { return nil }
        if text.utf8.contains(UInt8(ascii: ":")) {
            var bytes = in6_addr()
            guard inet_pton(AF_INET6, text, &bytes) == 1 else { return nil }
            let words = withUnsafeBytes(of: &bytes) { raw in
                (
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                )
            }
            if IPAddress(family: .ipv6, high: words.0, low: words.1).isIPv4MappedIPv6 {
                self.init(family: .ipv4, high: 0, low: words.1 & 0xffff_ffff)
            } else {
                self.init(family: .ipv6, high: words.0, low: words.1)
            }
        } else {
            var bytes = in_addr()
            guard inet_pton(AF_INET, text, &bytes) == 1 else { return nil }
            self.init(family: .ipv4, high: 0, low: UInt64(UInt32(bigEndian: bytes.s_addr)))
        }
    }

    /// The address in its canonical text form (RFC 5952 for IPv6).
    public var description: String {
        switch family {
        case .ipv4:
            return (0..<4).map { String((low >> UInt64(24 - 8 * $0)) & 0xff) }.joined(separator: ".")
        case .ipv6:
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { buffer in
                buffer.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
                buffer.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count)) != nil else { return "::" }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
