import NIOCore
import TokenKit
import TokenKitServerSupport

extension IPAddress {
    /// The IP address of a connection's endpoint, as SwiftNIO reports it (`channel.remoteAddress`,
    /// or `RemoteAddressRequestContext.remoteAddress` in Hummingbird).
    ///
    /// An IPv4 address mapped into IPv6 (`::ffff:192.0.2.1`, as a dual-stack listener reports IPv4
    /// clients) becomes the IPv4 address, so that IPv4 allow-lists match it.
    ///
    /// - Parameter socketAddress: The endpoint's address.
    /// - Returns: `nil` for a Unix domain socket, which has no IP address.
    public init?(_ socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4, .v6:
            guard let text = socketAddress.ipAddress, let address = IPAddress(socketAddressText: text) else {
                return nil
            }
            self = address
        case .unixDomainSocket:
            return nil
        }
    }
}
