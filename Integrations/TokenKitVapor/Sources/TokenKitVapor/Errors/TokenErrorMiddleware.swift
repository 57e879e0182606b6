import TokenKit
import Vapor

/// Turns the errors TokenKit throws in your handlers into ``TokenAbortError``s, so that Vapor's
/// `ErrorMiddleware` answers them with the right status instead of 500.
///
/// A handler that renames a token gets 409 for a duplicate name and 404 for a token that does not
/// exist; one that calls `validate(authorization:).authenticated()` itself gets 401 with
/// `WWW-Authenticate: Bearer` for a refused token. Add it after Vapor's `ErrorMiddleware` (which
/// `app.middleware` starts with), so that it sits inside it:
///
/// ```swift
/// app.middleware.use(TokenErrorMiddleware())
/// app.post("tokens", ":name", "rename") { req in
///     let token = try req.auth.require(AuthenticatedToken.self)
///     try await req.application.tokens.manager.rename(
///         owner: token.owner, name: req.parameters.get("name")!, to: try req.query.get(at: "to"))
///     return HTTPStatus.noContent
/// }
/// ```
///
/// The table is ``TokenAbortError``'s: 400 for input a client can correct, 404, 409, and 503 when
/// storage is unavailable — whose details go to the log, never to the client.
public struct TokenErrorMiddleware: Middleware {
    /// Creates the middleware.
    public init() {}

    /// Passes the request on and translates a ``TokenKit/TokenKitError`` or
    /// ``TokenKit/AuthenticationFailure`` thrown further in; other errors pass through unchanged.
    /// It adds no task to the request: the translation runs on the request's event loop.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - next: The rest of the chain.
    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).flatMapErrorThrowing { error in
            switch error {
            case let error as TokenKitError: throw TokenAbortError(error)
            case let failure as AuthenticationFailure: throw TokenAbortError(failure)
            default: throw error
            }
        }
    }
}
