import HTTPTypes
import Hummingbird
import HummingbirdAuth
import TokenKit
import TokenKitServerSupport

/// A hummingbird-auth authenticator for TokenKit tokens: a request with a valid token in its
/// `Authorization` header gets the token's record as `context.identity`.
///
/// ```swift
/// router.group("api")
///     .add(middleware: TokenAuthenticator(manager: manager))
///     .add(middleware: IsAuthenticatedMiddleware())
///     .get("whoami") { _, context in try context.requireIdentity().owner }
/// ```
///
/// As every hummingbird-auth authenticator does, it answers nothing by itself when the token is
/// refused: it leaves `identity` empty and lets the request go on, so that another authenticator
/// may try, and `IsAuthenticatedMiddleware` (or `AuthorizationPolicyMiddleware`) answers 401.
/// Put ``TokenErrorMiddleware`` in front to give that 401 its `WWW-Authenticate` challenge.
/// Whatever the reason — no header, a scheme not accepted, a malformed, unknown, expired,
/// revoked, disabled or idle token, the wrong user, an address outside the token's allow-list —
/// the client learns nothing more; the manager's audit sink records the reason.
///
/// It throws, and so stops the request, in three cases:
/// - the client has failed too often (with a ``TokenKitServerSupport/FailedAuthenticationThrottle``):
///   `HTTPError` 429 with `Retry-After`, before its token is even checked;
/// - the token is valid but lacks a scope given as `requiring`: `HTTPError` 403;
/// - the store cannot be read: the ``TokenKit/TokenKitError`` (503 through ``TokenErrorMiddleware``).
///
/// The client's address, for allow-lists and throttling, is the connection's remote address when
/// the context conforms to `RemoteAddressRequestContext` (as ``TokenRequestContext`` does). The
/// forwarding header the proxies write (`X-Forwarded-For` by default, or `Forwarded`) is believed
/// only when that peer is one of the `trustedProxies`.
public struct TokenAuthenticator<Context: AuthRequestContext<TokenRecord>>: AuthenticatorMiddleware {
    /// The validated token's record.
    public typealias Identity = TokenRecord

    /// The flow that checks each request: throttle, client address, validation, metrics.
    public let authenticator: TokenRequestAuthenticator
    /// The scopes every request through this middleware needs; a valid token without them is
    /// answered 403. Empty by default: use ``TokenScopePolicy`` for per-route scopes.
    public let requiredScopes: Set<String>

    /// Creates an authenticator.
    ///
    /// - Parameters:
    ///   - manager: The manager that validates tokens.
    ///   - schemes: The `Authorization` schemes accepted: `.bearer` (`Bearer TOKEN`, the default),
    ///     `.cpanel` and `.whm` (`cpanel USER:TOKEN`, where the token must belong to `USER`).
    ///   - scopes: The scopes every request needs (a token with no scopes has full access).
    ///   - trustedProxies: The proxies whose forwarding header is believed. Empty by default: the
    ///     client is the connection's peer.
    ///   - forwardingHeader: The header those proxies write — `X-Forwarded-For` (the default) or
    ///     `Forwarded`; the other is ignored, so that a client cannot choose its address.
    ///   - throttle: Throttling of clients that keep failing, or `nil` (the default) for none.
    ///     Share one throttle between the authenticators of a server.
    ///   - metrics: swift-metrics counters to update, or `nil`.
    ///   - context: The request context type (for type inference only).
    public init(
        manager: TokenManager,
        schemes: Set<AuthorizationCredentials.Scheme> = [.bearer],
        requiring scopes: Set<String> = [],
        trustedProxies: [IPNetwork] = [],
        forwardingHeader: ClientAddressResolver.ForwardingHeader = .xForwardedFor,
        throttle: FailedAuthenticationThrottle? = nil,
        metrics: TokenMetrics? = nil,
        context: Context.Type = Context.self
    ) {
        self.init(
            TokenRequestAuthenticator(
                manager: manager,
                schemes: schemes,
                throttle: throttle,
                metrics: metrics,
                addresses: ClientAddressResolver(trustedProxies: trustedProxies, header: forwardingHeader)
            ),
            requiring: scopes
        )
    }

    /// Creates an authenticator running a configured flow, which may be shared with other
    /// authenticators (and with a Vapor app in the same process).
    ///
    /// - Parameters:
    ///   - authenticator: The flow to run for each request.
    ///   - scopes: The scopes every request needs.
    ///   - context: The request context type (for type inference only).
    public init(
        _ authenticator: TokenRequestAuthenticator,
        requiring scopes: Set<String> = [],
        context: Context.Type = Context.self
    ) {
        self.authenticator = authenticator
        self.requiredScopes = scopes
    }

    /// Returns the record of the request's valid token, or `nil` when the request carries none.
    ///
    /// - Throws: `HTTPError` 429 (with `Retry-After`) for a throttled client, `HTTPError` 403 for a
    ///   valid token without a required scope, and ``TokenKit/TokenKitError`` when the store cannot
    ///   be read.
    public func authenticate(request: Request, context: Context) async throws -> TokenRecord? {
        // Another authenticator has already identified the client: nothing to check, nothing to
        // count against it.
        if let identity = context.identity { return identity }
        // Forwarding headers matter only behind a trusted proxy: skip reading them otherwise.
        let behindProxies = !authenticator.addresses.trustedProxies.isEmpty
        let outcome = try await authenticator.authenticate(
            authorization: request.headers[.authorization],
            peer: Self.peerAddress(of: context),
            forwarded: behindProxies ? request.headers[values: .forwarded] : [],
            xForwardedFor: behindProxies ? request.headers[values: .xForwardedFor] : [],
            requiring: requiredScopes
        )
        switch outcome {
        case .authenticated(let record):
            return record
        case .refused(let reason) where reason == .missingScope:
            throw HTTPError(.forbidden, message: "The API token does not grant the scopes this request requires.")
        case .refused:
            return nil
        case .throttled(let retryAfter):
            let seconds = TokenRequestAuthenticator.retryAfterSeconds(retryAfter)
            throw HTTPError(
                .tooManyRequests,
                headers: [.retryAfter: String(seconds)],
                message: "Too many failed authentication attempts; retry after \(seconds) seconds."
            )
        }
    }

    /// The connection's remote address, when the context records it.
    static func peerAddress(of context: Context) -> IPAddress? {
        guard let remote = (context as? any RemoteAddressRequestContext)?.remoteAddress else { return nil }
        return IPAddress(remote)
    }
}

extension HTTPField.Name {
    /// `Forwarded` (RFC 7239).
    static let forwarded = HTTPField.Name("Forwarded")!
    /// `X-Forwarded-For`, the de facto header proxies write.
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
