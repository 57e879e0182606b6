import TokenKit
import Vapor

/// Authenticates requests by an `Authorization: Bearer TOKEN` header and logs in an
/// ``AuthenticatedToken``: Vapor's `BearerAuthenticator`, backed by TokenKit.
///
/// ```swift
/// let api = app.grouped(TokenBearerAuthenticator(), TokenGuardMiddleware(requiring: ["reports:read"]))
/// api.get("whoami") { req in try req.auth.require(AuthenticatedToken.self).owner }
/// ```
///
/// It behaves as ``TokenAuthenticator`` does with the `Bearer` scheme alone: a refused request goes
/// on unauthenticated (a guard answers 401), a throttled client gets 429 with `Retry-After`, every
/// refusal is audited — a request without the header, or with another scheme, included — and the
/// header is parsed once, by TokenKit, rather than by Vapor and then again by TokenKit.
public struct TokenBearerAuthenticator: BearerAuthenticator {
    /// The scopes a token needs to be accepted; empty (the default) accepts any valid token. See
    /// ``TokenAuthenticator/scopes``.
    public let scopes: Set<String>

    /// Creates the authenticator.
    ///
    /// - Parameter scopes: The scopes a token needs; empty (the default) for none.
    public init(requiring scopes: Set<String> = []) {
        self.scopes = scopes
    }

    /// Validates the request's `Authorization` header as a bearer token.
    ///
    /// This replaces `BearerAuthenticator`'s default, which skips a request without a `Bearer`
    /// header: here that request is refused and audited like any other, and the whole header goes
    /// to TokenKit unparsed. As with ``TokenAuthenticator``, a token TokenKit can answer for at
    /// once is validated on the request's event loop, without a task.
    ///
    /// - Parameter request: The request.
    /// - Returns: A future that fails with ``TokenAbortError`` with 429 for a throttled client, or
    ///   with the store error's status (usually 503) when the store cannot be read. Never for a
    ///   refused token.
    public func authenticate(request: Request) -> EventLoopFuture<Void> {
        request.authenticateToken(
            authorization: request.headers.first(name: .authorization),
            accepting: [.bearer],
            requiring: scopes
        )
    }

    /// Validates a bearer token that Vapor has already taken from the header.
    ///
    /// ``authenticate(request:)`` does not call this; it is here for code that holds a
    /// `BearerAuthorization` of its own.
    ///
    /// - Parameters:
    ///   - bearer: The token.
    ///   - request: The request to log the token in on.
    /// - Returns: A future that fails as ``authenticate(request:)``'s does.
    public func authenticate(bearer: BearerAuthorization, for request: Request) -> EventLoopFuture<Void> {
        request.authenticateToken(
            authorization: "Bearer \(bearer.token)",
            accepting: [.bearer],
            requiring: scopes
        )
    }
}
