import Hummingbird
import TokenKit

/// Lets a request through only with a valid token in its `Authorization` header, and puts the
/// token's record in the context for the handlers.
///
/// Every failure — no header, another scheme, a malformed, unknown, expired, revoked or disabled
/// token, the wrong user, an address outside the allow-list, a missing scope — gets the same bare
/// HTTP 401, as cPanel answers, so a client learns nothing about why. The manager's audit sink
/// records the reason.
///
/// ```swift
/// router.group("api")
///     .add(middleware: TokenAuthenticationMiddleware(manager: manager, schemes: [.bearer]))
///     .get("whoami") { _, context in context.token!.owner }
/// ```
struct TokenAuthenticationMiddleware<Context: TokenAuthenticatedContext>: RouterMiddleware {
    let manager: TokenManager
    /// The schemes accepted: `.cpanel`/`.whm` (`USER:TOKEN`) or `.bearer`.
    let schemes: Set<AuthorizationCredentials.Scheme>
    /// The scopes every request through this middleware needs.
    var requiredScopes: Set<String> = []

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization],
            let credentials = try? AuthorizationCredentials(parsing: header),
            schemes.contains(credentials.scheme)
        else { return Self.unauthorized }
        let result = try await manager.validate(
            authorization: header,
            requiring: requiredScopes,
            from: context.clientAddress
        )
        guard case .valid(let record) = result else { return Self.unauthorized }
        var context = context
        context.token = record
        return try await next(request, context)
    }

    /// The one answer for every failed authentication, with the challenge HTTP requires on a 401.
    static var unauthorized: Response {
        Response(
            status: .unauthorized,
            headers: [.contentType: "text/plain; charset=utf-8", .wwwAuthenticate: "Bearer"],
            body: .init(byteBuffer: ByteBuffer(string: "Unauthorized\n"))
        )
    }
}
