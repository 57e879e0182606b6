import Vapor

/// Answers every error as one line of plain text, as cPanel and uapi-server do — a refused token
/// gets exactly `Unauthorized\n` with `WWW-Authenticate: Bearer` — in place of Vapor's JSON
/// `ErrorMiddleware`. The status and headers are the `AbortError`'s (``TokenKitVapor`` throws
/// `TokenAbortError`s); any other error is a 500 whose details go to the log only.
///
/// An event-loop `Middleware`, not an `AsyncMiddleware`: it wraps every request, and an
/// `AsyncMiddleware` would start a task for each.
struct PlainTextErrorMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).recover { error in
            // At the error's own level: refusals at debug (TokenKit's audit log has them), server
            // errors with their causes.
            request.logger.report(error: error)
            var status = HTTPResponseStatus.internalServerError
            var headers = HTTPHeaders()
            var reason = status.reasonPhrase
            if let abort = error as? any AbortError {
                (status, headers, reason) = (abort.status, abort.headers, abort.reason)
            }
            headers.replaceOrAdd(name: .contentType, value: "text/plain; charset=utf-8")
            return Response(status: status, headers: headers, body: .init(string: reason + "\n"))
        }
    }
}
