import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TokenKit

/// Turns TokenKit's errors into HTTP answers, by the table in TokenKit's article *Errors and HTTP
/// statuses*, and gives every 401 its `WWW-Authenticate` challenge.
///
/// Add it to the router, or to a group, before the routes it covers:
///
/// ```swift
/// router.add(middleware: TokenErrorMiddleware())
/// ```
///
/// - A ``TokenKit/TokenKitError`` answers its code's ``TokenKit/TokenKitError/Code/suggestedHTTPStatus``:
///   400 for input a client can correct, 404 for a token that does not exist, 409 for a conflict,
///   503 when storage is unavailable, 500 for the server's own misconfiguration. The body holds
///   the stable code and the error's message; for a 5xx the message is a generic one, and the
///   error itself goes to the request's logger, as a client cannot act on a file path.
/// - ``TokenKit/AuthenticationFailure`` (`validate(authorization:).authenticated()` in a handler)
///   and every other 401 — `IsAuthenticatedMiddleware`'s, `requireIdentity()`'s — answer one
///   and the same 401 (its body in ``format``, its challenge ``challenge``), so a client cannot
///   tell one refusal from another.
/// - A 403 — `AuthorizationPolicyMiddleware`'s, or a token without a scope the authenticator
///   requires — answers in the same format with `WWW-Authenticate: Bearer error="insufficient_scope"`;
///   the 429 of a throttled client likewise, keeping its `Retry-After`.
/// - Every other error passes through unchanged.
///
/// Bodies never hold a secret: TokenKit's errors carry none.
public struct TokenErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The `WWW-Authenticate` value sent with a 401 that has none. Default: `Bearer`.
    public let challenge: String
    /// How bodies are written. Default: ``TokenErrorBodyFormat/json``.
    public let format: TokenErrorBodyFormat

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - challenge: The `WWW-Authenticate` value for a 401, such as `Bearer realm="api"`.
    ///   - format: How bodies are written.
    ///   - context: The request context type (for type inference only).
    public init(
        challenge: String = "Bearer",
        format: TokenErrorBodyFormat = .json,
        context: Context.Type = Context.self
    ) {
        self.challenge = challenge
        self.format = format
    }

    /// Runs the rest of the chain and answers the errors described in the type's documentation.
    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as TokenKitError {
            return response(for: error, logger: context.logger)
        } catch is AuthenticationFailure {
            return unauthorized(keeping: [:])
        } catch let error as any HTTPResponseError where error.status == .unauthorized {
            let original = try error.response(from: request, context: context)
            return unauthorized(keeping: original.headers)
        } catch let error as any HTTPResponseError
            where error.status == .forbidden || error.status == .tooManyRequests
        {
            let original = try error.response(from: request, context: context)
            return refusal(error.status, keeping: original.headers)
        }
    }

    /// The answer for a TokenKit error.
    func response(for error: TokenKitError, logger: Logger) -> Response {
        let status = HTTPResponse.Status(code: error.code.suggestedHTTPStatus)
        let message: String
        switch status.kind {
        case .serverError:
            logger.error(
                "TokenKit error",
                metadata: [
                    "token.error.code": "\(error.code)",
                    "token.error.message": "\(LogText.escaped(error.message))",
                ]
            )
            message =
                status == .serviceUnavailable
                ? "The token store is unavailable; try again later."
                : "The server could not complete the request."
        default:
            message = error.message
        }
        return answer(status: status, code: error.code.rawValue, message: message, headers: [:])
    }

    /// The one answer for every 401: the body of ``format``, the challenge, and `headers` (those of
    /// the error being replaced) but for its content headers.
    func unauthorized(keeping headers: HTTPFields) -> Response {
        var kept = headers
        kept[.contentType] = nil
        kept[.contentLength] = nil
        if kept[.wwwAuthenticate] == nil { kept[.wwwAuthenticate] = challenge }
        return answer(
            status: .unauthorized,
            code: "unauthorized",
            message: format.isJSON ? AuthenticationFailure().description : "Unauthorized",
            headers: kept,
            bare: true
        )
    }

    /// A 403 (a scope missing) or 429 (a throttled client) in this middleware's body format; a
    /// 403 gets the challenge with `error="insufficient_scope"` (RFC 6750), a 429 keeps its
    /// `Retry-After`.
    func refusal(_ status: HTTPResponse.Status, keeping headers: HTTPFields) -> Response {
        var kept = headers
        kept[.contentType] = nil
        kept[.contentLength] = nil
        if status == .forbidden {
            if kept[.wwwAuthenticate] == nil { kept[.wwwAuthenticate] = "\(challenge) error=\"insufficient_scope\"" }
            return answer(
                status: status,
                code: "insufficient_scope",
                message: "The API token does not grant the scopes this request requires.",
                headers: kept
            )
        }
        return answer(
            status: status,
            code: "too_many_requests",
            message: "Too many failed authentication attempts; retry later.",
            headers: kept
        )
    }

    private func answer(
        status: HTTPResponse.Status,
        code: String,
        message: String,
        headers: HTTPFields,
        bare: Bool = false
    ) -> Response {
        var headers = headers
        let body: ByteBuffer
        if format.isJSON {
            headers[.contentType] = "application/json; charset=utf-8"
            // `try?` is safe: two strings always encode; an empty body is only the type's fallback.
            let data = (try? Self.encoder.encode(ErrorBody(error: .init(code: code, message: message)))) ?? Data()
            body = ByteBuffer(bytes: data)
        } else {
            headers[.contentType] = "text/plain; charset=utf-8"
            body = ByteBuffer(string: bare ? "\(message)\n" : "\(message) [\(code)]\n")
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// `{"error":{"code":…,"message":…}}`.
private struct ErrorBody: Encodable {
    struct Detail: Encodable {
        let code: String
        let message: String
    }

    let error: Detail
}
