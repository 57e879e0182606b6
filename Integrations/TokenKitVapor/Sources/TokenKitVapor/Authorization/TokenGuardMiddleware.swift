import TokenKit
import Vapor

/// Lets a request through only when an authenticator before it logged in an
/// ``AuthenticatedToken`` that grants every scope this route needs.
///
/// - No token: 401 with `WWW-Authenticate: Bearer` (``TokenAbortError/unauthorized``), whatever the
///   reason — missing, malformed, unknown, expired, revoked, disabled, wrong user, wrong scheme,
///   address not allowed — so a client learns nothing about why. The reason is in the audit log.
/// - A valid token without a scope the route needs: 403 with
///   `WWW-Authenticate: Bearer error="insufficient_scope"` (``TokenAbortError/insufficientScope``).
///
/// Scopes follow TokenKit's rule, unlike a plain "has every scope" check: a token with no scopes
/// has full access.
///
/// ```swift
/// let dns = app.grouped(TokenBearerAuthenticator(), TokenGuardMiddleware(requiring: ["dns:write"]))
/// dns.post("zones", ":zone", "records") { req in … }
/// ```
///
/// A scope refused here is not in the audit log, since the token itself was valid. To audit it as
/// a ``TokenKit/RejectionReason/missingScope`` refusal, give the authenticator the scopes as well:
/// `TokenBearerAuthenticator(requiring: ["dns:write"])`.
public struct TokenGuardMiddleware: Middleware {
    /// The scopes every request through this middleware needs; empty for none.
    public let scopes: Set<String>

    /// Creates the guard.
    ///
    /// - Parameter scopes: The scopes every request needs; empty (the default) only requires a
    ///   valid token.
    public init(requiring scopes: Set<String> = []) {
        self.scopes = scopes
    }

    /// Passes the request on, or fails with ``TokenAbortError`` with 401 or 403; on the request's
    /// event loop, without a task.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - next: The rest of the chain.
    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        if let token = request.auth.get(AuthenticatedToken.self) {
            guard token.grants(scopes) else {
                return request.eventLoop.makeFailedFuture(TokenAbortError.insufficientScope)
            }
            return next.respond(to: request)
        }
        if request.tokenRefusal == .missingScope {
            return request.eventLoop.makeFailedFuture(TokenAbortError.insufficientScope)
        }
        return request.eventLoop.makeFailedFuture(TokenAbortError.unauthorized)
    }
}
