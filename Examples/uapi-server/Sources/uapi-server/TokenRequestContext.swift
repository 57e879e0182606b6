import Hummingbird
import NIOCore
import TokenKit

/// A request context that can carry the token a request was authenticated with.
///
/// Copy this protocol and ``TokenAuthenticationMiddleware`` into your own server to protect its
/// routes with TokenKit.
protocol TokenAuthenticatedContext: RequestContext {
    /// The record of the token that authenticated the request, set by
    /// ``TokenAuthenticationMiddleware``.
    var token: TokenRecord? { get set }
    /// The client's address, for tokens with an allow-list.
    var clientAddress: IPAddress? { get }
}

/// This server's request context.
struct TokenRequestContext: TokenAuthenticatedContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    var token: TokenRecord?
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    var clientAddress: IPAddress? {
        remoteAddress?.ipAddress.flatMap(IPAddress.init)
    }
}
