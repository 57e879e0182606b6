import TokenKit
import Vapor

/// Authenticates requests by the token in their `Authorization` header — cPanel's
/// `cpanel USER:TOKEN` and `whm USER:TOKEN` by default, or any schemes you choose — and logs in an
/// ``AuthenticatedToken``.
///
/// Like Vapor's own authenticators it never answers a refused request itself: the request goes on
/// unauthenticated, so that another authenticator may try and a ``TokenGuardMiddleware`` (or
/// `AuthenticatedToken.guardMiddleware()`) answers 401. A client over the failed-authentication
/// limit gets 429 with `Retry-After` at once, and a store that cannot be read answers 503.
///
/// ```swift
/// let uapi = app.grouped("execute", "Tokens")
///     .grouped(TokenAuthenticator(), TokenGuardMiddleware())
/// uapi.get(":function") { req in … }
/// ```
///
/// The header is parsed once, by ``TokenKit/TokenManager``, which audits every refusal (a missing
/// header and a scheme not accepted included); the request's client address comes from the
/// connection, or from `Forwarded`/`X-Forwarded-For` when the peer is a trusted proxy
/// (``Vapor/Application/Tokens/Options/trustedProxies``). A request that is already authenticated
/// is passed on untouched. Configure TokenKit first with `app.tokens.use(_:configuration:options:)`.
public struct TokenAuthenticator: RequestAuthenticator {
    /// The `Authorization` schemes accepted, or `nil` for the application's
    /// ``Vapor/Application/Tokens/Options/schemes``.
    public let schemes: Set<AuthorizationCredentials.Scheme>?
    /// The scopes a token needs to be accepted. A token without them is refused with
    /// ``TokenKit/RejectionReason/missingScope`` (audited), which ``TokenGuardMiddleware`` answers
    /// with 403. Empty (the default) accepts any valid token.
    public let scopes: Set<String>

    /// Creates the authenticator.
    ///
    /// - Parameters:
    ///   - schemes: The `Authorization` schemes accepted; `nil` (the default) takes the
    ///     application's ``Vapor/Application/Tokens/Options/schemes`` (`cpanel` and `whm` unless
    ///     you change them).
    ///   - scopes: The scopes a token needs; empty (the default) for none.
    public init(accepting schemes: Set<AuthorizationCredentials.Scheme>? = nil, requiring scopes: Set<String> = []) {
        self.schemes = schemes
        self.scopes = scopes
    }

    /// Validates the request's `Authorization` header and logs in an ``AuthenticatedToken`` when
    /// the token is valid.
    ///
    /// A token TokenKit can answer for at once is validated on the request's event loop, without
    /// a task: once the application has booted (its lifecycle handler runs the manager) and the
    /// manager's first validation has bound its hasher, over an in-memory or file store, or a
    /// PostgreSQL store serving from memory. Otherwise one task awaits the store.
    ///
    /// - Parameter request: The request.
    /// - Returns: A future that fails with ``TokenAbortError`` with 429 for a throttled client, or
    ///   with the store error's status (usually 503) when the store cannot be read. Never for a
    ///   refused token.
    public func authenticate(request: Request) -> EventLoopFuture<Void> {
        let schemes = self.schemes ?? request.application.tokens.options.schemes
        return request.authenticateToken(
            authorization: request.headers.first(name: .authorization),
            accepting: schemes,
            requiring: scopes
        )
    }
}
