import TokenKit
import TokenKitVapor
import UAPISupport
import Vapor

/// cPanel's UAPI `Tokens` module at `/execute/Tokens/:function`, by GET (query string) or POST
/// (form body), for the user of the `cpanel USER:TOKEN` or `whm USER:TOKEN` header.
struct UAPIController: RouteCollection {
    let module: UAPITokensModule

    func boot(routes: any RoutesBuilder) throws {
        let tokens = routes.grouped("execute", "Tokens")
            .grouped(TokenAuthenticator(accepting: [.cpanel, .whm]), TokenGuardMiddleware())
        tokens.get(":function", use: call)
        tokens.on(
            .POST,
            ":function",
            body: .collect(maxSize: ByteCount(value: FormParameters.maximumBodySize)),
            use: call
        )
    }

    /// Runs the function and answers cPanel's result object with HTTP 200, failures included.
    @Sendable
    func call(_ request: Request) async throws -> Response {
        let user = try request.auth.require(AuthenticatedToken.self).owner
        let body = request.method == .POST ? request.body.string : nil
        let result = try await module.call(
            request.parameters.get("function") ?? "",
            user: user,
            parameters: FormParameters.decode(query: request.url.query, body: body)
        )
        return Response(
            status: .ok,
            headers: ["Content-Type": UAPIResult.contentType],
            body: .init(data: result.body)
        )
    }
}
