import Hummingbird
import HummingbirdAuth
import NIOCore
import TokenKit

/// A ready-made request context for routes protected by ``TokenAuthenticator``: it carries the
/// validated token as hummingbird-auth's `identity` and the connection's remote address, which
/// the authenticator reads for tokens with an IP allow-list.
///
/// ```swift
/// let router = Router(context: TokenRequestContext.self)
/// ```
///
/// Your own context works as well: conform it to `AuthRequestContext` with `TokenRecord` as its
/// `Identity`, and to `RemoteAddressRequestContext` if your tokens have allow-lists.
public struct TokenRequestContext: AuthRequestContext, RemoteAddressRequestContext {
    /// Hummingbird's own per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The token that authenticated the request, set by ``TokenAuthenticator``; `nil` until then.
    public var identity: TokenRecord?
    /// The connection's remote address: the client, or the last proxy in front of this server.
    public let remoteAddress: SocketAddress?

    /// Creates the context for a request arriving on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.remoteAddress = source.channel.remoteAddress
    }
}
