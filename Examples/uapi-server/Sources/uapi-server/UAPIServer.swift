import ArgumentParser
import Foundation
import Hummingbird
import Logging
import TokenKit

/// A Swift server that speaks cPanel's UAPI Tokens API, backed by a TokenKit file store.
@main
struct UAPIServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uapi-server",
        abstract: "Serve cPanel's UAPI Tokens functions and /api/whoami over a TokenKit file store."
    )

    @Option(help: "The token store file (default: $TOKENKIT_STORE).") var store: String?
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (cPanel's is 2083; this server speaks plain HTTP).") var port = 2083

    func run() async throws {
        guard let path = store ?? ProcessInfo.processInfo.environment["TOKENKIT_STORE"], !path.isEmpty else {
            throw ValidationError("Give --store PATH or set TOKENKIT_STORE.")
        }
        var logger = Logger(label: "uapi-server")
        logger.logLevel = .info
        let manager = TokenManager(
            store: try FileTokenStore(path: path),
            configuration: .init(auditSink: LoggingAuditSink(logger: logger))
        )

        let router = Router(context: TokenRequestContext.self)
        let tokens = TokensModule(manager: manager)
        router.group("execute/Tokens")
            .add(middleware: TokenAuthenticationMiddleware(manager: manager, schemes: [.cpanel, .whm]))
            .get(":function", use: tokens.handle)
            .post(":function", use: tokens.handle)
        router.group("api")
            .add(middleware: TokenAuthenticationMiddleware(manager: manager, schemes: [.bearer]))
            .get("whoami") { _, context -> Response in
                guard let token = context.token else {
                    return TokenAuthenticationMiddleware<TokenRequestContext>.unauthorized
                }
                return JSONResponse.make(["owner": token.owner, "name": token.name, "scopes": token.scopes.sorted()])
            }

        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port)),
            logger: logger
        )
        // The manager's background work runs beside the server: last-used writes on their interval
        // and store maintenance. When the server stops (SIGINT/SIGTERM), cancelling it writes what
        // is still pending before the process exits.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.run() }
            try await app.runService()
            group.cancelAll()
            try await group.waitForAll()
        }
    }
}
