import Foundation
import Hummingbird
import HummingbirdAuth
import TokenKit
import TokenKitHummingbird
import TokenKitServerSupport
import UAPISupport

/// The server's routes:
///
/// - `GET /health`: no authentication (the benchmarks' baseline);
/// - `GET|POST /execute/Tokens/FUNCTION`: cPanel's UAPI `Tokens` module, for
///   `Authorization: cpanel USER:TOKEN` (or `whm`);
/// - `GET /api/whoami`: the token's owner, name and scopes, for `Authorization: Bearer TOKEN`;
/// - `GET /api/health`: `/health` behind the same Bearer authentication (the benchmarks' measure
///   of what authentication alone costs);
/// - `POST /secret-scanning/github`, with `--secret-scanning-keys`: GitHub's secret-scanning
///   reports, authenticated by their signature, not a token; a leaked token is revoked at once.
///
/// Every authentication failure gets the same bare 401 with `WWW-Authenticate: Bearer`, as cPanel
/// answers; the audit log records why.
struct UAPIRoutes: Sendable {
    /// cPanel's UAPI `Tokens` functions.
    let tokens: UAPITokensModule
    /// Authentication for `/execute`: `cpanel`/`whm USER:TOKEN`.
    let cpanel: TokenRequestAuthenticator
    /// Authentication for `/api`: `Bearer TOKEN`.
    let bearer: TokenRequestAuthenticator
    /// GitHub's secret-scanning endpoint, or `nil` when it is not enabled.
    let secretScanning: SecretScanningEndpoint?

    func router() -> Router<TokenRequestContext> {
        let router = Router(context: TokenRequestContext.self)
        router.add(middleware: TokenErrorMiddleware(format: .plainText))
        router.get("health") { _, _ in Self.json(["status": "ok"]) }
        router.group("execute/Tokens")
            .add(middleware: TokenAuthenticator(cpanel))
            .add(middleware: IsAuthenticatedMiddleware())
            .get(":function", use: execute)
            .post(":function", use: execute)
        let api = router.group("api")
            .add(middleware: TokenAuthenticator(bearer))
            .add(middleware: IsAuthenticatedMiddleware())
        api.get("whoami") { _, context in
            let token = try context.requireIdentity()
            return Self.json(["owner": token.owner, "name": token.name, "scopes": token.scopes.sorted()])
        }
        // `/health` behind a token: what authentication alone costs, for the overhead benchmark.
        api.get("health") { _, _ in Self.json(["status": "ok"]) }
        if let secretScanning {
            router.addSecretScanningRoute(endpoint: secretScanning)
        }
        return router
    }

    /// Runs one UAPI function with the query string's and, for POST, the form body's parameters.
    @Sendable func execute(_ request: Request, context: TokenRequestContext) async throws -> Response {
        let user = try context.requireIdentity().owner
        var body: String?
        if request.method == .post {
            var request = request
            body = String(buffer: try await request.collectBody(upTo: FormParameters.maximumBodySize))
        }
        let result = try await tokens.call(
            context.parameters.get("function") ?? "",
            user: user,
            parameters: FormParameters.decode(query: request.uri.query, body: body)
        )
        return Response(
            status: .ok,
            headers: [.contentType: UAPIResult.contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: result.body))
        )
    }

    /// A 200 response whose body is `object` as JSON with sorted keys.
    static func json(_ object: [String: any Sendable]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
