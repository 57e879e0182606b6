import ArgumentParser
import TokenKit
import TokenKitServerSupport
import TokenKitVapor
import UAPISupport
import UnixSignals
import Vapor

/// A Swift server on Vapor that speaks cPanel's UAPI Tokens API, backed by a TokenKit file store or
/// PostgreSQL:
/// the same API, answers and command line as `uapi-server` (Hummingbird).
@main
struct VaporServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vapor-server",
        abstract:
            "Serve cPanel's UAPI Tokens functions and /api/whoami on Vapor over a TokenKit file store or PostgreSQL."
    )

    @OptionGroup var options: ServerOptions

    /// GitHub's secret-scanning public-keys document; enables `POST /secret-scanning/github`.
    @ArgumentParser.Option(
        help: .init(
            "GitHub's secret-scanning public-keys document (https://api.github.com/meta/public_keys/secret_scanning): enables POST /secret-scanning/github; SIGHUP reloads it.",
            valueName: "file"
        )
    )
    var secretScanningKeys: String?

    func run() async throws {
        // The keys are read before anything starts: a file that does not read is a startup error.
        let keys = try secretScanningKeys.map { path throws(TokenKitError) in try SecretScanningKeys(path: path) }
        // Vapor parses a command line of its own (`serve --hostname … --port …`). This one is
        // ArgumentParser's, shared with uapi-server, so Vapor is handed only its `serve` command
        // and takes the address from `app.http.server.configuration`.
        let executable = CommandLine.arguments.first ?? "vapor-server"
        let environment = Environment(name: "production", arguments: [executable, "serve"])
        let level: Logger.Level = Environment.process.LOG_LEVEL ?? .info
        LoggingSystem.bootstrap { label in ConsoleLogger(label: label, console: Terminal(), level: level) }

        // The store (for PostgreSQL: its pool and change feed) outlives the application: the
        // manager's last write at shutdown still reaches it.
        try await options.withStore(logger: Logger(label: "vapor-server")) { store in
            let app = try await Application.make(environment)
            do {
                try configure(app, store: store)
                if let keys {
                    // POST /secret-scanning/github, outside the token-protected routes: GitHub signs
                    // its reports. SIGHUP reloads the keys; trapped now, so that one sent at startup
                    // ends nothing.
                    app.tokens.registerSecretScanning(keys: keys)
                    let hangups = await UnixSignalsSequence(trapping: .sighup)
                    app.lifecycle.use(SecretScanningKeysReloader(keys: keys, hangups: hangups, logger: app.logger))
                }
                try await app.execute()  // Until SIGINT or SIGTERM.
            } catch {
                // Shutting down after a failed start: the failure being reported is the one that matters.
                try? await app.asyncShutdown()
                throw error
            }
            // Stops the manager's background work after writing pending last-used times, and the
            // wait for SIGHUPs.
            try await app.asyncShutdown()
        }
    }

    private func configure(_ app: Application, store: any TokenStore) throws {
        app.http.server.configuration.hostname = options.host
        app.http.server.configuration.port = options.port
        try app.tokens.use(
            .store(store),
            options: Application.Tokens.Options(
                schemes: [.cpanel, .whm],
                trustedProxies: try options.trustedProxies(),
                throttle: options.throttle()?.configuration
            )
        )
        // No per-request log line (a flood of bad tokens must not flood the log: TokenKit's audit
        // log aggregates those), and errors as plain text, as cPanel and uapi-server answer them.
        app.middleware = Middlewares()
        app.middleware.use(PlainTextErrorMiddleware())
        app.middleware.use(TokenErrorMiddleware())

        app.get("health") { _ in "OK\n" }
        try app.register(collection: UAPIController(module: UAPITokensModule(manager: app.tokens.manager)))
        let api = app.grouped("api").grouped(TokenBearerAuthenticator(), TokenGuardMiddleware())
        api.get("whoami") { request -> WhoAmI in
            WhoAmI(try request.auth.require(AuthenticatedToken.self))
        }
        // `/health` behind a token: what authentication alone costs, for the overhead benchmark.
        api.get("health") { _ in "OK\n" }
    }
}

/// `GET /api/whoami`'s answer: who the Bearer token belongs to.
struct WhoAmI: Content {
    let owner: String
    let name: String
    let scopes: [String]

    init(_ token: AuthenticatedToken) {
        owner = token.owner
        name = token.name
        scopes = token.scopes.sorted()
    }
}
