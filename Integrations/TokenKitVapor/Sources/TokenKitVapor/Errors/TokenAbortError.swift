import TokenKit
import TokenKitServerSupport
import Vapor

/// TokenKit's answers as a Vapor `AbortError`: what the authenticators, the guard and
/// ``TokenErrorMiddleware`` throw, and what Vapor's `ErrorMiddleware` turns into a response.
///
/// | Error | Status | Headers | Reason sent |
/// | --- | --- | --- | --- |
/// | ``unauthorized`` (every rejected token, ``TokenKit/AuthenticationFailure``) | 401 | `WWW-Authenticate: Bearer` | `Unauthorized` |
/// | ``insufficientScope`` | 403 | `WWW-Authenticate: Bearer error="insufficient_scope"` | `Forbidden` |
/// | ``tooManyRequests(retryAfter:)`` | 429 | `Retry-After: SECONDS` | `Too Many Requests` |
/// | ``TokenKit/TokenKitError`` with a 4xx ``TokenKit/TokenKitError/Code/suggestedHTTPStatus`` | 400, 404, 409 | | the error's message |
/// | ``TokenKit/TokenKitError`` with a 5xx status | 500, 503 | | the status's phrase only |
///
/// Nothing sent to the client names a secret or tells why a token was refused (that is in the
/// audit log). A server error's message and cause can name paths, so they go to the log only, as
/// ``possibleCauses``. Refusals log at `debug` — TokenKit's audit log already records each one,
/// aggregated under a flood — client errors at `info` and server errors at `error`.
public struct TokenAbortError: AbortError, DebuggableError, Sendable {
    /// The HTTP status.
    public let status: HTTPResponseStatus
    /// Headers for the response: the challenge of a 401 or 403, or `Retry-After`.
    public let headers: HTTPHeaders
    /// What the client is told.
    public let reason: String
    /// A stable code for logs: `unauthorized`, `insufficient_scope`, `too_many_requests`, or the
    /// ``TokenKit/TokenKitError/Code`` text.
    public let identifier: String
    /// For a server error, the ``TokenKit/TokenKitError`` and its cause, for the log only.
    public let possibleCauses: [String]
    /// The level Vapor's `ErrorMiddleware` logs this error at.
    public let logLevel: Logger.Level

    private init(
        status: HTTPResponseStatus,
        headers: HTTPHeaders = [:],
        reason: String? = nil,
        identifier: String,
        possibleCauses: [String] = [],
        logLevel: Logger.Level
    ) {
        self.status = status
        self.headers = headers
        self.reason = reason ?? status.reasonPhrase
        self.identifier = identifier
        self.possibleCauses = possibleCauses
        self.logLevel = logLevel
    }

    /// 401 with `WWW-Authenticate: Bearer`: the one answer for every refused or missing token.
    public static let unauthorized = TokenAbortError(
        status: .unauthorized,
        headers: ["WWW-Authenticate": "Bearer"],
        identifier: "unauthorized",
        logLevel: .debug
    )

    /// 403 with `WWW-Authenticate: Bearer error="insufficient_scope"` (RFC 6750): a valid token that
    /// lacks a scope the request needs.
    public static let insufficientScope = TokenAbortError(
        status: .forbidden,
        headers: ["WWW-Authenticate": #"Bearer error="insufficient_scope""#],
        identifier: "insufficient_scope",
        logLevel: .debug
    )

    /// 429 with `Retry-After` in whole seconds, rounded up: a client that failed to authenticate
    /// too often.
    ///
    /// - Parameter retryAfter: How long the client must wait.
    public static func tooManyRequests(retryAfter: Duration) -> TokenAbortError {
        TokenAbortError(
            status: .tooManyRequests,
            headers: ["Retry-After": "\(TokenRequestAuthenticator.retryAfterSeconds(retryAfter))"],
            identifier: "too_many_requests",
            logLevel: .debug
        )
    }

    /// The answer for a TokenKit error, by its code's
    /// ``TokenKit/TokenKitError/Code/suggestedHTTPStatus``.
    ///
    /// - Parameter error: The error a manager or a store threw.
    public init(_ error: TokenKitError) {
        let status = HTTPResponseStatus(statusCode: error.code.suggestedHTTPStatus)
        if status.code >= 500 {
            var causes = [error.description]
            if let underlying = error.underlyingError { causes.append("Caused by: \(underlying)") }
            self.init(status: status, identifier: error.code.rawValue, possibleCauses: causes, logLevel: .error)
        } else {
            self.init(status: status, reason: error.message, identifier: error.code.rawValue, logLevel: .info)
        }
    }

    /// The answer for ``TokenKit/ValidationResult/authenticated()``'s failure: ``unauthorized``.
    ///
    /// - Parameter failure: The failure.
    public init(_ failure: AuthenticationFailure) {
        self = .unauthorized
    }
}
